import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import {
  plotTrainingCurves, plotBudgetCurves, plotPerCase, plotFederatedRounds, summariseBudget, svgPathFor,
  renderChart, resvgFontOptions, trainingCurvesSpec,
  type CurveRecord, type RenderedChart,
} from '../src/plot/index.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-plottest-'));
  dirs.push(d);
  return d;
}

/** 200 logged steps with two loss terms; validation every 50 steps, best (0.8123) at step 150, not the last. */
function syntheticLog(): CurveRecord[] {
  const out: CurveRecord[] = [];
  const dice = new Map([[50, 0.41], [100, 0.72], [150, 0.8123], [200, 0.79]]);
  for (let step = 1; step <= 200; step++) {
    const loss = 0.9 * Math.exp(-step / 60) + 0.05 + 0.02 * Math.sin(step);
    out.push({ step, kind: 'train', time: '2026-01-01T00:00:00Z', lr: 0.01, stepMs: 12, dataWaitMs: 1, dataWaitFraction: 0.1, loss, loss_ce: loss * 0.4 });
    const d = dice.get(step);
    if (d !== undefined) out.push({ step, kind: 'validation', score: d, best: Math.max(d, 0.8123 * Number(step > 150)), dice_LV: d + 0.05, dice_RV: d - 0.05, dice_mean: d });
  }
  return out;
}

/** The lines of text in an SVG (each `<tspan>` of a multi-line label apart), unescaped enough for our labels. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)]
    .flatMap((m) => m[1].includes('<tspan') ? [...m[1].matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1]) : [m[1]])
    .map((t) => t.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
}

function svgSize(svg: string): [number, number] {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  assert.ok(m, 'the SVG has width and height');
  return [Number(m[1]), Number(m[2])];
}

/** Counts of near-black pixels (text, axes) and saturated pixels (coloured lines) in a PNG. */
function inkCounts(file: string): { width: number; height: number; dark: number; colour: number } {
  const png = PNG.sync.read(fs.readFileSync(file));
  let dark = 0;
  let colour = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
    if (r < 70 && g < 70 && b < 70) dark++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 90) colour++;
  }
  return { width: png.width, height: png.height, dark, colour };
}

function assertCleanRender(dir: string, png: string, r: RenderedChart): void {
  assert.deepEqual(r.warnings, [], 'vega-lite and vega accept the spec');
  assert.equal(r.svgFile, path.join(dir, `${path.parse(png).name}.svg`));
  assert.equal(fs.readFileSync(r.svgFile, 'utf8'), r.svg, 'the SVG is written beside the PNG');
  assert.deepEqual(Buffer.from(fs.readFileSync(png)), Buffer.from(r.png));
  const [w, h] = svgSize(r.svg);
  const ink = inkCounts(png);
  assert.equal(ink.width, Math.round(w * 2), 'PNG at 2x the SVG width');
  assert.equal(ink.height, Math.round(h * 2), 'PNG at 2x the SVG height');
  assert.ok(ink.dark > 2000, `text and axes are drawn (${ink.dark} dark pixels)`);
}

test('training curves: axis titles, legend, best point label, PNG at 2x beside its SVG', async () => {
  const dir = tmpDir();
  const png = path.join(dir, 'curves.png');
  const r = await plotTrainingCurves(syntheticLog(), png, { totalSteps: 250, title: 'tiny run' });
  assertCleanRender(dir, png, r);
  const t = texts(r.svg);
  for (const s of ['tiny run', 'step', 'training loss', 'validation Dice', 'loss', 'loss_ce', 'dice_mean', 'dice_LV', 'dice_RV']) {
    assert.ok(t.includes(s), `SVG text "${s}" in ${JSON.stringify(t.slice(0, 40))}`);
  }
  // The first maximum of `score`, named after the metric it copies.
  assert.ok(t.includes('best dice_mean 0.8123 @ step 150'), 'best point labelled with its step and value');
  // Bookkeeping columns are not curves.
  for (const s of ['lr', 'stepMs', 'dataWaitFraction', 'best', 'score']) assert.ok(!t.includes(s), `"${s}" is not plotted`);
  // Progress against the planned run, not just the steps done so far.
  assert.ok(t.some((s) => s.startsWith('step 200 of 250')), 'subtitle says how far the run is');
  const ink = inkCounts(png);
  assert.ok(ink.width >= 1600 && ink.width <= 2000 && ink.height >= 800 && ink.height <= 1200, `about 900x500 at 2x, got ${ink.width}x${ink.height}`);
  assert.ok(ink.colour > 3000, `coloured curves are drawn (${ink.colour} pixels)`);
  // Atomic writes leave only the two outputs.
  assert.deepEqual(fs.readdirSync(dir).sort(), ['curves.png', 'curves.svg']);
  // Redrawing over existing files (the trainer does, after every validation) works too.
  const again = await plotTrainingCurves(syntheticLog().slice(0, 120), png, { totalSteps: 250 });
  assert.ok(texts(again.svg).includes('best dice_mean 0.72 @ step 100'));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['curves.png', 'curves.svg']);
});

test('training curves: distances get their own panel; a score that copies no metric is called "score"', async () => {
  const dir = tmpDir();
  const log: CurveRecord[] = [
    { step: 10, kind: 'train', loss: 1 },
    { step: 20, kind: 'train', loss: 0.5 },
    { step: 20, kind: 'validation', score: 0.6, hd95_mean: 12.5, dice_LV: 0.7 },
    { step: 40, kind: 'validation', score: 0.55, hd95_mean: 9.5, dice_LV: 0.65 },
  ];
  const r = await plotTrainingCurves(log, path.join(dir, 'c.png'), {});
  assertCleanRender(dir, path.join(dir, 'c.png'), r);
  const t = texts(r.svg);
  for (const s of ['score', 'dice_LV', 'hd95_mean', 'validation HD95', 'best score 0.6 @ step 20']) assert.ok(t.includes(s), `SVG text "${s}"`);
});

test('training curves: an empty log and a log without validation still render', async () => {
  const dir = tmpDir();
  const empty = await plotTrainingCurves([], path.join(dir, 'empty.png'), {});
  assertCleanRender(dir, path.join(dir, 'empty.png'), empty);
  assert.equal(texts(empty.svg).filter((s) => s === 'no data yet').length, 2);

  const trainOnly = syntheticLog().filter((r) => r.kind === 'train').slice(0, 40);
  const r = await plotTrainingCurves(trainOnly, path.join(dir, 'train.png'), { totalSteps: 100 });
  assertCleanRender(dir, path.join(dir, 'train.png'), r);
  const t = texts(r.svg);
  assert.ok(t.includes('training loss'));
  assert.equal(t.filter((s) => s === 'no data yet').length, 1, 'only the validation panel is empty');
  assert.ok(!t.some((s) => s.startsWith('best ')), 'no best point without validation');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['empty.png', 'empty.svg', 'train.png', 'train.svg']);
});

test('budget curves: mean ± sample std over seeds, drawn with its title and methods', async () => {
  const points = [
    { method: 'supervised', budget: 3, value: 0.5, seed: 0 }, { method: 'supervised', budget: 3, value: 0.7, seed: 1 },
    { method: 'supervised', budget: 7, value: 0.8, seed: 0 },
    { method: 'BCP', budget: 3, value: 0.6, seed: 0 }, { method: 'BCP', budget: 3, value: 0.6, seed: 1 }, { method: 'BCP', budget: 7, value: 0.85, seed: 0 },
  ];
  const s = summariseBudget(points);
  const sup3 = s.find((r) => r.method === 'supervised' && r.budget === 3)!;
  assert.equal(sup3.n, 2);
  assert.ok(Math.abs(sup3.mean - 0.6) < 1e-12);
  assert.ok(Math.abs(sup3.std - Math.sqrt(0.02)) < 1e-12, 'sample std (n - 1)');
  assert.equal(s.find((r) => r.method === 'supervised' && r.budget === 7)!.std, 0, 'one seed: no spread');
  assert.throws(() => summariseBudget([{ method: 'x', budget: 1, value: Number.NaN }]), /value of point 0 is NaN/);

  const dir = tmpDir();
  const png = path.join(dir, 'budget.png');
  const r = await plotBudgetCurves(points, png, { metric: 'Dice', title: 'Dice vs labelled patients' });
  assertCleanRender(dir, png, r);
  const t = texts(r.svg);
  for (const x of ['Dice vs labelled patients', 'mean ± std over up to 2 seeds', 'labelled cases', 'Dice', 'supervised', 'BCP']) assert.ok(t.includes(x), `SVG text "${x}"`);
  assert.ok(inkCounts(png).colour > 1000);
});

test('per-case strip plot and federated rounds render with their titles', async () => {
  const dir = tmpDir();
  const cases = ['a', 'b', 'c'].flatMap((c, i) => [
    { case: c, class: 'LV', value: 0.9 - i * 0.05 },
    { case: c, class: 'RV', value: 0.7 + i * 0.05 },
  ]);
  const r = await plotPerCase(cases, path.join(dir, 'per_case.png'), { metric: 'Dice', title: 'Test Dice per case' });
  assertCleanRender(dir, path.join(dir, 'per_case.png'), r);
  const t = texts(r.svg);
  for (const x of ['Test Dice per case', '3 cases, 2 classes', 'LV', 'RV', 'median 0.85 (n=3)', 'median 0.75 (n=3)']) assert.ok(t.includes(x), `SVG text "${x}" in ${JSON.stringify(t)}`);

  const rounds = ['site A', 'site B'].flatMap((site, k) => [1, 2, 3].map((round) => ({ round, site, value: 0.5 + 0.1 * round - 0.05 * k })));
  const f = await plotFederatedRounds(rounds, path.join(dir, 'rounds.png'), { metric: 'Dice' });
  assertCleanRender(dir, path.join(dir, 'rounds.png'), f);
  for (const x of ['Dice per federated round', 'federated round', 'site A', 'site B', 'mean over sites']) assert.ok(texts(f.svg).includes(x), `SVG text "${x}"`);
  assert.equal(svgPathFor('/x/y/curves.png'), path.join('/x/y', 'curves.svg'));
});

test('without the DejaVu files the chart still renders, with system fonts', async () => {
  const fallback = resvgFontOptions(['/nonexistent/DejaVuSans.ttf']);
  assert.deepEqual(fallback, { loadSystemFonts: true });
  const dir = tmpDir();
  const png = path.join(dir, 'fallback.png');
  const r = await renderChart(trainingCurvesSpec(syntheticLog(), {}), png, { font: fallback });
  assert.deepEqual(r.warnings, []);
  assert.equal(inkCounts(png).width, r.width);
  // With no font at all resvg skips the text; it must still not throw.
  await renderChart(trainingCurvesSpec([], {}), path.join(dir, 'nofont.png'), { font: { loadSystemFonts: false } });
  assert.ok(fs.existsSync(path.join(dir, 'nofont.png')));
});
