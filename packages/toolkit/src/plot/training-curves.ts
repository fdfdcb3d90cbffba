// curves.png of a run folder: training scalars (loss and its components) on
// top, validation metrics below with the best-checkpoint step marked, so a run
// can be judged at a glance. Structural record type: plot/ sits below training/.
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, renderChart, type RenderedChart } from './render.js';

/** One line of a training log (training/log.ts writes these). */
export type CurveRecord = { step: number; kind: string } & Record<string, unknown>;

/** Bookkeeping columns of train records that are not curves. */
const TRAIN_SKIP = new Set(['step', 'kind', 'time', 'lr', 'stepMs', 'dataWaitMs', 'dataWaitFraction']);
const VAL_SKIP = new Set(['step', 'kind', 'time', 'best', 'score']);
/** More points than this get an exponential moving average drawn over the faint raw line. */
const SMOOTH_FROM = 50;
const MAX_POINTS = 120;

const WIDTH = 680;
const PANEL_HEIGHT = 150;

interface Row { step: number; series: string; value: number }

function numericKeys(records: readonly CurveRecord[], skip: Set<string>): string[] {
  const keys = new Set<string>();
  for (const r of records) for (const [k, v] of Object.entries(r)) if (!skip.has(k) && typeof v === 'number' && Number.isFinite(v)) keys.add(k);
  return [...keys];
}

function rows(records: readonly CurveRecord[], keys: readonly string[], rename: (k: string) => string = (k) => k): Row[] {
  const out: Row[] = [];
  for (const k of keys) {
    for (const r of records) {
      const v = r[k];
      if (typeof v === 'number' && Number.isFinite(v)) out.push({ step: r.step, series: rename(k), value: v });
    }
  }
  return out;
}

interface BandRow { step: number; series: string; lo: number; hi: number }

/**
 * Long noisy series are drawn as a debiased EMA (as TensorBoard does, so the
 * start is not pulled towards 0) over the faint raw values. Past MAX_POINTS
 * per series both are reduced to buckets (the raw values to a min-max band):
 * vega's cost grows with the number of data items, and the plot is ~700 px wide.
 */
function smoothAndRaw(data: readonly Row[]): { line: Row[]; raw: Row[]; band: BandRow[] } {
  const bySeries = new Map<string, Row[]>();
  for (const r of data) (bySeries.get(r.series) ?? bySeries.set(r.series, []).get(r.series)!).push(r);
  const line: Row[] = [];
  const raw: Row[] = [];
  const band: BandRow[] = [];
  for (const [series, rs] of bySeries) {
    // A window of ~1/40 of the run: smooth enough to read a trend, short enough to keep its shape.
    const weight = Math.min(0.98, Math.max(0.5, 1 - 40 / rs.length));
    const per = Math.ceil(rs.length / MAX_POINTS);
    if (per === 1) raw.push(...rs);
    let ema = 0;
    for (let i = 0; i < rs.length; i += per) {
      let lo = Infinity;
      let hi = -Infinity;
      const end = Math.min(rs.length, i + per);
      for (let j = i; j < end; j++) {
        ema = weight * ema + (1 - weight) * rs[j].value;
        lo = Math.min(lo, rs[j].value);
        hi = Math.max(hi, rs[j].value);
      }
      const step = rs[end - 1].step;
      line.push({ step, series, value: ema / (1 - weight ** end) });
      if (per > 1) band.push({ step, series, lo, hi });
    }
  }
  return { line, raw, band };
}

/** `dice_mean` -> `Dice`, `hd95_LV` -> `HD95`: the metric family for an axis title. */
function family(key: string): string {
  const head = key.split(/[_\s]/)[0];
  if (/^dice$/i.test(head)) return 'Dice';
  if (/^(hd\d*|assd|nsd|iou|asd)$/i.test(head)) return head.toUpperCase();
  return head;
}

/** The metric the score copies (the trainer logs `score` next to e.g. `dice_mean`), if any. */
function scoreName(val: readonly CurveRecord[], metricKeys: readonly string[]): string | undefined {
  const scored = val.filter((r) => typeof r.score === 'number');
  if (scored.length === 0) return undefined;
  return metricKeys.find((k) => scored.every((r) => r[k] === r.score));
}

export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

function empty(title: string, height: number): Record<string, unknown> {
  return {
    title: { text: title, fontSize: 12, fontWeight: 'bold', anchor: 'start', frame: 'group' },
    width: WIDTH, height,
    data: { values: [{ text: 'no data yet' }] },
    mark: { type: 'text', color: '#888', fontSize: 13 },
    encoding: { text: { field: 'text' } },
  };
}

function xEncoding(maxStep: number, withTitle: boolean): Record<string, unknown> {
  return { field: 'step', type: 'quantitative', title: withTitle ? 'step' : null, scale: { domain: [0, maxStep], nice: false }, axis: { format: 'd' } };
}

function linePanel(opts: { title: string; yTitle: string; legendTitle: string; data: Row[]; maxStep: number; xTitle: boolean; points: boolean; smooth?: boolean; emphasis?: string; extra?: Record<string, unknown>[] }): Record<string, unknown> {
  // Series in log order (the emphasised one first), not alphabetical.
  const order = [...new Set([...(opts.emphasis ? [opts.emphasis] : []), ...opts.data.map((r) => r.series)])];
  // Stroke symbols at full opacity: the legend would otherwise copy the faint band's look.
  const color = { field: 'series', type: 'nominal', title: opts.legendTitle, scale: { domain: order }, legend: { orient: 'right', symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3, symbolSize: 200 } };
  const x = xEncoding(opts.maxStep, opts.xTitle);
  const y = { field: 'value', type: 'quantitative', title: opts.yTitle, scale: { zero: false } };
  const layers: Record<string, unknown>[] = [];
  if (opts.smooth) {
    const { line, raw, band } = smoothAndRaw(opts.data);
    if (band.length > 0) layers.push({ data: { values: band }, mark: { type: 'area', opacity: 0.2, interpolate: 'monotone' }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: opts.yTitle, scale: { zero: false } }, y2: { field: 'hi' }, color } });
    if (raw.length > 0) layers.push({ data: { values: raw }, mark: { type: 'line', opacity: 0.3, strokeWidth: 1 }, encoding: { x, y, color } });
    layers.push({ data: { values: line }, mark: { type: 'line', strokeWidth: 2, interpolate: 'monotone' }, encoding: { x, y, color } });
  } else {
    const point = opts.points ? { size: 28, filled: true } : false;
    layers.push({ data: { values: opts.data }, mark: { type: 'line', strokeWidth: opts.emphasis ? 1.5 : 2, point }, encoding: { x, y, color } });
    if (opts.emphasis) {
      // The series that picks the best checkpoint, drawn over the per-class ones and heavier.
      const only = opts.data.filter((r) => r.series === opts.emphasis);
      layers.push({ data: { values: only }, mark: { type: 'line', strokeWidth: 3, point: opts.points ? { size: 40, filled: true } : false }, encoding: { x, y, color } });
    }
  }
  layers.push(...(opts.extra ?? []));
  return {
    title: { text: opts.title, fontSize: 12, fontWeight: 'bold', anchor: 'start', frame: 'group' },
    width: WIDTH, height: PANEL_HEIGHT,
    layer: layers,
  };
}

/**
 * The best-score marker: a dashed rule at its step, a ring on the point, and
 * "best NAME V @ step S" at the foot of the rule, where rising curves leave room.
 */
function bestLayers(step: number, value: number, maxStep: number, name: string): Record<string, unknown>[] {
  const d = { values: [{ step, value, label: `best ${name} ${formatValue(value)} @ step ${step}` }] };
  const right = step > maxStep * 0.6;
  const x = { field: 'step', type: 'quantitative' };
  return [
    { data: d, mark: { type: 'rule', strokeDash: [4, 3], color: '#555', strokeWidth: 1 }, encoding: { x } },
    { data: d, mark: { type: 'point', shape: 'circle', size: 150, filled: false, strokeWidth: 2, color: '#111' }, encoding: { x, y: { field: 'value', type: 'quantitative' } } },
    { data: d, mark: { type: 'text', align: right ? 'right' : 'left', baseline: 'bottom', dx: right ? -6 : 6, fontSize: 11, fontWeight: 'bold', color: '#111' }, encoding: { x, y: { value: PANEL_HEIGHT - 4 }, text: { field: 'label' } } },
  ];
}

/** The Vega-Lite spec behind {@link plotTrainingCurves} (exported for tests and custom rendering). */
export function trainingCurvesSpec(records: readonly CurveRecord[], opts: { totalSteps?: number; title?: string } = {}): TopLevelSpec {
  const train = records.filter((r) => r.kind === 'train');
  const val = records.filter((r) => r.kind === 'validation');
  const maxStep = Math.max(1, opts.totalSteps ?? 0, ...records.map((r) => r.step));

  const trainData = rows(train, numericKeys(train, TRAIN_SKIP));
  const trainSteps = new Set(trainData.map((r) => r.step)).size;
  const trainPanel = trainData.length === 0
    ? empty('Training', PANEL_HEIGHT)
    : linePanel({ title: 'Training', yTitle: 'training loss', legendTitle: 'training', data: trainData, smooth: trainSteps > SMOOTH_FROM, maxStep, xTitle: false, points: trainSteps <= 2 });

  const metricKeys = numericKeys(val, VAL_SKIP);
  const scoreKey = scoreName(val, metricKeys);
  // Scores and Dice-like metrics share a [0, 1] axis; distances (HD95 in mm) get their own panel.
  const unit = (k: string) => val.every((r) => typeof r[k] !== 'number' || (r[k] as number) >= 0 && (r[k] as number) <= 1);
  const hasScore = val.some((r) => typeof r.score === 'number');
  const scoreLabel = scoreKey ?? 'score';
  const unitKeys = metricKeys.filter(unit);
  const otherKeys = metricKeys.filter((k) => !unit(k));
  const valData = [
    ...(hasScore && !scoreKey ? rows(val, ['score']) : []),
    ...rows(val, unitKeys),
  ];
  const yFamily = scoreKey ? family(scoreKey) : unitKeys.length > 0 && unitKeys.every((k) => family(k) === family(unitKeys[0])) ? family(unitKeys[0]) : 'score';

  let best: { step: number; value: number } | undefined;
  for (const r of val) {
    // First maximum, as the trainer keeps the first checkpoint reaching the best score.
    if (typeof r.score === 'number' && Number.isFinite(r.score) && (!best || r.score > best.value)) best = { step: r.step, value: r.score };
  }
  const panels: Record<string, unknown>[] = [trainPanel];
  panels.push(valData.length === 0
    ? empty('Validation', PANEL_HEIGHT)
    : linePanel({ title: 'Validation', yTitle: `validation ${yFamily}`, legendTitle: 'validation', data: valData, maxStep, xTitle: otherKeys.length === 0, points: true, emphasis: hasScore ? scoreLabel : undefined, extra: best ? bestLayers(best.step, best.value, maxStep, scoreLabel) : [] }));
  if (otherKeys.length > 0) {
    const fam = otherKeys.every((k) => family(k) === family(otherKeys[0])) ? family(otherKeys[0]) : 'metric';
    panels.push(linePanel({ title: 'Validation (other metrics)', yTitle: `validation ${fam}`, legendTitle: 'metric', data: rows(val, otherKeys), maxStep, xTitle: true, points: true }));
  }
  const lastTrain = train.length > 0 ? train[train.length - 1].step : 0;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: opts.title ?? 'Training curves', subtitle: `${lastTrain > 0 ? `step ${lastTrain} of ${maxStep}` : 'no training steps logged yet'}${best ? ` · best ${scoreLabel} ${formatValue(best.value)} at step ${best.step}` : ''}` },
    config: CHART_CONFIG,
    padding: 12,
    vconcat: panels,
    spacing: 18,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  } as unknown as TopLevelSpec; // sub-specs are built as plain objects; vega-lite reports mistakes as warnings
}

/**
 * Renders the training curves of `records` (a run's log.jsonl) to `pngFile`
 * and `<name>.svg` beside it, both written atomically.
 */
export async function plotTrainingCurves(records: readonly CurveRecord[], pngFile: string, opts: { totalSteps?: number; title?: string } = {}): Promise<RenderedChart> {
  return renderChart(trainingCurvesSpec(records, opts), pngFile);
}
