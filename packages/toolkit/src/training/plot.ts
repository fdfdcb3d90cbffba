// A PNG of the training curves (train loss, validation score) drawn from the
// JSONL log, so a run folder can be judged at a glance without Python.
// Deliberately small: a raster canvas, axis ticks, polylines, a 3×5 font.
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../io/atomic.js';
import type { LogRecord } from './log.js';

// 3×5 glyphs, rows top to bottom, 3 bits per row (MSB = left).
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 1, 1], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], '-': [0, 0, 7, 0, 0], '+': [0, 2, 7, 2, 0], ' ': [0, 0, 0, 0, 0], ':': [0, 2, 0, 2, 0], '(': [1, 2, 2, 2, 1], ')': [4, 2, 2, 2, 4],
  a: [0, 7, 5, 7, 5], b: [4, 4, 7, 5, 7], c: [0, 7, 4, 4, 7], d: [1, 1, 7, 5, 7], e: [7, 4, 7, 4, 7], g: [7, 4, 5, 5, 7],
  i: [2, 0, 2, 2, 2], k: [4, 5, 6, 5, 5], l: [4, 4, 4, 4, 7], m: [5, 7, 7, 5, 5], n: [0, 6, 5, 5, 5], o: [0, 7, 5, 5, 7],
  p: [7, 5, 7, 4, 4], r: [0, 6, 4, 4, 4], s: [7, 4, 7, 1, 7], t: [4, 7, 4, 4, 3], u: [0, 5, 5, 5, 7], v: [0, 5, 5, 5, 2],
  w: [5, 5, 7, 7, 5], x: [5, 5, 2, 5, 5], y: [5, 5, 7, 1, 7], h: [4, 4, 7, 5, 5], f: [3, 4, 6, 4, 4],
};

type RGB = [number, number, number];

class Canvas {
  readonly png: PNG;
  constructor(readonly w: number, readonly h: number) {
    this.png = new PNG({ width: w, height: h });
    this.png.data.fill(255);
  }
  px(x: number, y: number, c: RGB): void {
    x = Math.round(x); y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    const i = (y * this.w + x) * 4;
    this.png.data[i] = c[0]; this.png.data[i + 1] = c[1]; this.png.data[i + 2] = c[2]; this.png.data[i + 3] = 255;
  }
  line(x0: number, y0: number, x1: number, y1: number, c: RGB): void {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let i = 0; i <= n; i++) this.px(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, c);
  }
  text(x: number, y: number, s: string, c: RGB, scale = 2): void {
    for (const ch of s.toLowerCase()) {
      const g = GLYPHS[ch] ?? GLYPHS[' '];
      g.forEach((row, r) => { for (let b = 0; b < 3; b++) if (row & (4 >> b)) for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) this.px(x + b * scale + dx, y + r * scale + dy, c); });
      x += 4 * scale;
    }
  }
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

interface Series { name: string; points: [number, number][]; color: RGB }

function panel(cv: Canvas, x0: number, y0: number, w: number, h: number, title: string, series: Series[], maxStep: number): void {
  const pts = series.flatMap((s) => s.points);
  cv.text(x0, y0 - 16, title, [0, 0, 0]);
  const left = x0 + 60;
  const bottom = y0 + h - 20;
  cv.line(left, y0, left, bottom, [0, 0, 0]);
  cv.line(left, bottom, x0 + w, bottom, [0, 0, 0]);
  if (!pts.length) { cv.text(left + 10, y0 + h / 2, 'no data', [128, 128, 128]); return; }
  let lo = Math.min(...pts.map((p) => p[1]));
  let hi = Math.max(...pts.map((p) => p[1]));
  if (hi - lo < 1e-12) { hi += 0.5; lo -= 0.5; }
  const sx = (s: number) => left + ((x0 + w - left) * s) / Math.max(maxStep, 1);
  const sy = (v: number) => bottom - ((bottom - y0) * (v - lo)) / (hi - lo);
  for (let t = 0; t <= 4; t++) {
    const v = lo + ((hi - lo) * t) / 4;
    cv.line(left - 4, sy(v), left, sy(v), [0, 0, 0]);
    cv.text(x0, sy(v) - 5, fmt(v), [60, 60, 60]);
    const s = (maxStep * t) / 4;
    cv.line(sx(s), bottom, sx(s), bottom + 4, [0, 0, 0]);
    cv.text(sx(s) - 8, bottom + 6, fmt(Math.round(s)), [60, 60, 60]);
  }
  series.forEach((s, k) => {
    for (let i = 1; i < s.points.length; i++) cv.line(sx(s.points[i - 1][0]), sy(s.points[i - 1][1]), sx(s.points[i][0]), sy(s.points[i][1]), s.color);
    if (s.points.length === 1) cv.px(sx(s.points[0][0]), sy(s.points[0][1]), s.color);
    cv.text(x0 + w - 150, y0 + 4 + k * 14, s.name, s.color);
  });
}

const COLORS: RGB[] = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189], [255, 127, 14]];

/** Renders loss (and any other train values) and validation curves to a PNG, written atomically. */
export function plotTrainingCurves(records: readonly LogRecord[], file: string, options: { totalSteps?: number } = {}): void {
  const train = records.filter((r) => r.kind === 'train');
  const val = records.filter((r) => r.kind === 'validation');
  const maxStep = options.totalSteps ?? Math.max(1, ...records.map((r) => r.step));
  const numeric = (rs: readonly LogRecord[], skip: string[]) => [...new Set(rs.flatMap((r) => Object.keys(r)))].filter((k) => !skip.includes(k) && rs.some((r) => typeof r[k] === 'number'));
  const trainKeys = numeric(train, ['step', 'lr', 'stepMs', 'dataWaitMs', 'dataWaitFraction']).slice(0, 5);
  const valKeys = numeric(val, ['step', 'best']).slice(0, 5);
  const series = (rs: readonly LogRecord[], keys: string[]): Series[] => keys.map((k, i) => ({ name: k, color: COLORS[i % COLORS.length], points: rs.filter((r) => typeof r[k] === 'number').map((r) => [r.step, r[k] as number]) }));
  const cv = new Canvas(900, 520);
  panel(cv, 20, 30, 860, 210, 'training', series(train, trainKeys), maxStep);
  panel(cv, 20, 290, 860, 210, 'validation', series(val, valKeys), maxStep);
  writeFileAtomic(file, PNG.sync.write(cv.png));
}
