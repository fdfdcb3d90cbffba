// Reusable result charts: a metric against the label budget (mean ± std over
// seeds), a metric per federated round per site, and per-case distributions
// per class. Each has a `...Spec` (the Vega-Lite spec) and a `plot...` that
// renders it to `<name>.png` + `<name>.svg`.
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, renderChart, type RenderedChart } from './render.js';
import { formatValue } from './training-curves.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
/** Vega's tableau10, the default categorical scheme, for charts that extend it. */
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const LEGEND = { orient: 'right', symbolType: 'stroke', symbolStrokeWidth: 3, symbolSize: 200, symbolOpacity: 1 };

function topLevel(title: string, subtitle: string | undefined, body: Record<string, unknown>): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: subtitle ? { text: title, subtitle } : { text: title },
    config: CHART_CONFIG,
    padding: 12,
    ...body,
  } as unknown as TopLevelSpec; // bodies are plain objects; vega-lite reports mistakes as warnings
}

function finite(v: number, what: string, i: number): number {
  if (!Number.isFinite(v)) throw new Error(`plot: ${what} of point ${i} is ${v}; expected a finite number`);
  return v;
}

// ---------------------------------------------------------------- label budget

/** One finished run: `value` of the metric for `method` trained with `budget` labels (one seed). */
export interface BudgetPoint { method: string; budget: number; value: number; seed?: number | string }
export interface BudgetSummary { method: string; budget: number; mean: number; std: number; n: number }

/** Mean and sample standard deviation (n - 1; 0 for a single seed) per method and budget. */
export function summariseBudget(points: readonly BudgetPoint[]): BudgetSummary[] {
  const groups = new Map<string, { method: string; budget: number; values: number[] }>();
  points.forEach((p, i) => {
    const key = `${p.method}\u0000${p.budget}`;
    const g = groups.get(key) ?? groups.set(key, { method: p.method, budget: finite(p.budget, 'budget', i), values: [] }).get(key)!;
    g.values.push(finite(p.value, 'value', i));
  });
  return [...groups.values()].map(({ method, budget, values }) => {
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
    return { method, budget, mean, std, n };
  }).sort((a, b) => a.method.localeCompare(b.method) || a.budget - b.budget);
}

export interface BudgetChartOptions {
  /** Metric name for the y axis, e.g. "Dice". */
  metric: string;
  /** x axis title; default "labelled cases". */
  budgetTitle?: string;
  title?: string;
  /** Log-scaled budget axis (budgets that double: 1, 2, 4, 8, ...). */
  logBudget?: boolean;
}

/** Line chart of the mean metric per budget, one line per method, error bars of ± one std over seeds. */
export function budgetCurveSpec(points: readonly BudgetPoint[], opts: BudgetChartOptions): TopLevelSpec {
  const rows = summariseBudget(points).map((s) => ({ ...s, lo: s.mean - s.std, hi: s.mean + s.std }));
  const seeds = Math.max(0, ...rows.map((r) => r.n));
  const budgets = [...new Set(rows.map((r) => r.budget))].sort((a, b) => a - b);
  const x = {
    field: 'budget', type: 'quantitative', title: opts.budgetTitle ?? 'labelled cases',
    scale: opts.logBudget ? { type: 'log' } : { zero: false, nice: false, padding: 16 },
    axis: { values: budgets.length <= 12 ? budgets : undefined, format: '~g' },
  };
  const color = { field: 'method', type: 'nominal', title: 'method', legend: LEGEND };
  return topLevel(opts.title ?? `${opts.metric} vs label budget`, seeds > 1 ? `mean ± std over up to ${seeds} seeds` : undefined, {
    width: 620, height: 340,
    data: { values: rows },
    layer: [
      { mark: { type: 'errorbar', ticks: { size: 8 }, thickness: 1.5 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: opts.metric, scale: { zero: false } }, y2: { field: 'hi' }, color } },
      { mark: { type: 'line', strokeWidth: 2, point: { size: 45, filled: true } }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: opts.metric }, color } },
    ],
  });
}

export function plotBudgetCurves(points: readonly BudgetPoint[], pngFile: string, opts: BudgetChartOptions): Promise<RenderedChart> {
  return renderChart(budgetCurveSpec(points, opts), pngFile);
}

// ---------------------------------------------------------------- federated rounds

/** The metric of `site` (a hospital) after federated round `round`. */
export interface RoundPoint { round: number; site: string; value: number }

/** One line per site over the rounds, plus the mean over sites (black, dashed) when there are several. */
export function federatedRoundsSpec(points: readonly RoundPoint[], opts: { metric: string; title?: string }): TopLevelSpec {
  points.forEach((p, i) => { finite(p.round, 'round', i); finite(p.value, 'value', i); });
  const byRound = new Map<number, number[]>();
  for (const p of points) (byRound.get(p.round) ?? byRound.set(p.round, []).get(p.round)!).push(p.value);
  const sites = new Set(points.map((p) => p.site)).size;
  const MEAN = 'mean over sites';
  const mean = [...byRound].sort((a, b) => a[0] - b[0]).map(([round, vs]) => ({ round, site: MEAN, kind: 'mean', value: vs.reduce((a, b) => a + b, 0) / vs.length }));
  const siteNames = [...new Set(points.map((p) => p.site))];
  const rows = [...points.map((p) => ({ ...p, kind: 'site' })), ...(sites > 1 ? mean : [])];
  const x = { field: 'round', type: 'quantitative', title: 'federated round', axis: { format: 'd', tickMinStep: 1 }, scale: { nice: false } };
  const y = { field: 'value', type: 'quantitative', title: opts.metric, scale: { zero: false } };
  // The mean over sites is in the legend too: black and dashed, after the sites' palette colours.
  const domain = sites > 1 ? [...siteNames, MEAN] : siteNames;
  const range = [...siteNames.map((_, i) => PALETTE[i % PALETTE.length]), '#222'];
  const color = { field: 'site', type: 'nominal', title: 'site', scale: { domain, range }, legend: LEGEND };
  const strokeDash = { field: 'kind', type: 'nominal', scale: { domain: ['site', 'mean'], range: [[1, 0], [6, 4]] }, legend: null };
  return topLevel(opts.title ?? `${opts.metric} per federated round`, `${sites} site${sites === 1 ? '' : 's'}`, {
    width: 620, height: 340,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2, point: { size: 36, filled: true } },
    encoding: { x, y, color, strokeDash },
  });
}

export function plotFederatedRounds(points: readonly RoundPoint[], pngFile: string, opts: { metric: string; title?: string }): Promise<RenderedChart> {
  return renderChart(federatedRoundsSpec(points, opts), pngFile);
}

// ---------------------------------------------------------------- per case

/** The metric of one case for one class (e.g. a row of per_case.csv). */
export interface CasePoint { case: string; class: string; value: number }

/**
 * Box plot per class (median, quartiles, whiskers to min/max) with every case
 * drawn as a point, spread sideways by a fixed jitter so reruns are identical.
 */
export function perCaseSpec(points: readonly CasePoint[], opts: { metric: string; title?: string }): TopLevelSpec {
  const classes = [...new Set(points.map((p) => p.class))];
  const seen = new Map<string, number>();
  const rows = points.map((p, i) => {
    const k = seen.get(p.class) ?? 0;
    seen.set(p.class, k + 1);
    // Golden-ratio sequence: evenly spread offsets in [-0.5, 0.5) without randomness.
    return { ...p, value: finite(p.value, 'value', i), jitter: ((k * 0.618034) % 1) - 0.5 };
  });
  const cases = new Set(points.map((p) => p.case)).size;
  const medians: Record<string, string> = {};
  for (const c of classes) {
    const vs = rows.filter((r) => r.class === c).map((r) => r.value).sort((a, b) => a - b);
    const m = vs.length % 2 ? vs[(vs.length - 1) / 2] : (vs[vs.length / 2 - 1] + vs[vs.length / 2]) / 2;
    medians[c] = `median ${formatValue(m)} (n=${vs.length})`;
  }
  // Two-line class labels: the name, then its median and case count.
  const labelExpr = `[datum.label, ${JSON.stringify(medians)}[datum.label]]`;
  const x = { field: 'class', type: 'nominal', title: null, sort: classes, axis: { labelAngle: 0, labelExpr, labelFontSize: 11, labelLineHeight: 15 } };
  const y = { field: 'value', type: 'quantitative', title: opts.metric, scale: { zero: false } };
  const color = { field: 'class', type: 'nominal', sort: classes, legend: null };
  return topLevel(opts.title ?? `${opts.metric} per case`, `${cases} case${cases === 1 ? '' : 's'}, ${classes.length} class${classes.length === 1 ? '' : 'es'}`, {
    width: Math.max(260, Math.min(760, 140 * classes.length)), height: 340,
    data: { values: rows },
    layer: [
      { mark: { type: 'boxplot', extent: 'min-max', size: 64, box: { opacity: 0.3 }, median: { color: '#111', strokeWidth: 2.5 }, rule: { color: '#777' }, ticks: { color: '#777', size: 20 } }, encoding: { x, y, color } },
      { mark: { type: 'point', filled: true, size: 30, opacity: 0.85, stroke: 'white', strokeWidth: 0.5 }, encoding: { x, y, color, xOffset: { field: 'jitter', type: 'quantitative', scale: { domain: [-1.3, 1.3] } } } },
    ],
  });
}

export function plotPerCase(points: readonly CasePoint[], pngFile: string, opts: { metric: string; title?: string }): Promise<RenderedChart> {
  return renderChart(perCaseSpec(points, opts), pngFile);
}
