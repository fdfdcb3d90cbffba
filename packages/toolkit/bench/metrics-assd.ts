// How far apart the two ASSD formulas are on real cardiac label maps: pooled
// (Labelwise's default) against MedPy 0.4's mean of the two directed means.
//
// M&Ms (../shared/data/mnms: 4 cases × ED/ES, labels 1 LV, 2 MYO, 3 RV, as
// opposed to ACDC's 1 RV, 3 LV) has reference labels only, so the "predictions"
// are the other frame of the same case (a large, real disagreement) and four
// typical segmentation errors made on each reference: one-voxel in-plane
// erosion (under-segmentation), one-voxel in-plane dilation
// (over-segmentation), a two-voxel in-plane shift, and the class missed on its
// first and last slice (base/apex). Every class of every frame is one sample.
//
// usage: node packages/toolkit/dist/bench/metrics-assd.js [--data DIR] [--json FILE]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNifti } from '../src/io/nifti.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { assdMeanOfMeans, assdPooled } from '../src/metrics/binary.js';
import { surfaceDistances } from '../src/metrics/surface.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLASSES: Record<number, string> = { 1: 'LV', 2: 'MYO', 3: 'RV' };

interface Sample { scenario: string; case: string; frame: string; cls: string; pooled: number; meanOfMeans: number; nPred: number; nRef: number }

type Mask = Uint8Array;

function classMask(data: ArrayLike<number | bigint>, label: number): Mask {
  const m = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) m[i] = Math.round(Number(data[i])) === label ? 1 : 0;
  return m;
}

/** One in-plane step of 4-connected erosion (grow = false) or dilation (grow = true), slice by slice. */
function morph2d(m: Mask, [nx, ny, nz]: number[], grow: boolean): Mask {
  const out = new Uint8Array(m.length);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const i = x + nx * (y + ny * z);
    const nb = [x > 0 ? m[i - 1] : 0, x < nx - 1 ? m[i + 1] : 0, y > 0 ? m[i - nx] : 0, y < ny - 1 ? m[i + nx] : 0];
    out[i] = grow ? (m[i] || nb.some((v) => v) ? 1 : 0) : (m[i] && nb.every((v) => v) ? 1 : 0);
  }
  return out;
}

function shiftX(m: Mask, [nx, ny, nz]: number[], d: number): Mask {
  const out = new Uint8Array(m.length);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x + d < nx; x++) out[x + d + nx * (y + ny * z)] = m[x + nx * (y + ny * z)];
  return out;
}

/** The mask without its first and last occupied slice (a missed base and apex). */
function dropEndSlices(m: Mask, [nx, ny, nz]: number[]): Mask {
  const plane = nx * ny;
  const occupied: number[] = [];
  for (let z = 0; z < nz; z++) if (m.subarray(z * plane, (z + 1) * plane).some((v) => v)) occupied.push(z);
  const out = Uint8Array.from(m);
  if (occupied.length < 3) return out;
  for (const z of [occupied[0], occupied[occupied.length - 1]]) out.fill(0, z * plane, (z + 1) * plane);
  return out;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (v === undefined) throw new Error(`bench:metrics-assd: ${name} needs a value`);
    return v;
  };
  const dir = opt('--data') ?? process.env.LABELWISE_SHARED_DATA ?? path.resolve(here, '../../../../../shared/data');
  const mnms = path.join(dir.endsWith('mnms') ? dir : path.join(dir, 'mnms'));
  if (!fs.existsSync(mnms)) throw new Error(`bench:metrics-assd: M&Ms folder not found: ${mnms} (pass --data)`);
  const files = fs.readdirSync(mnms, { recursive: true }).map(String).filter((f) => f.endsWith('_gt.nii.gz')).sort();
  const samples: Sample[] = [];
  const add = (scenario: string, id: string, frame: string, cls: number, pred: Mask, ref: Mask, dims: number[], spacing: number[]) => {
    const d = surfaceDistances(pred, ref, dims, spacing);
    if (!d) return; // an empty mask: both formulas give the empty-mask value
    samples.push({ scenario, case: id, frame, cls: CLASSES[cls], pooled: assdPooled(d), meanOfMeans: assdMeanOfMeans(d), nPred: d.predToRef.length, nRef: d.refToPred.length });
  };
  for (const f of files) {
    const m = /([^/]+)_sa_(ED|ES)_gt\.nii\.gz$/.exec(f);
    if (!m) continue;
    const [, id, frame] = m;
    const ref = readNifti(path.join(mnms, f));
    const dims = [...ref.dims];
    const spacing = [...ref.spacing];
    const other = frame === 'ED' ? f.replace('_ED_gt', '_ES_gt') : null;
    const otherVol = other && fs.existsSync(path.join(mnms, other)) ? readNifti(path.join(mnms, other)) : null;
    for (const cls of [1, 2, 3]) {
      const r = classMask(ref.data, cls);
      if (otherVol) add('ES frame scored against ED', id, 'ED', cls, classMask(otherVol.data, cls), r, dims, spacing);
      add('1-voxel in-plane erosion', id, frame, cls, morph2d(r, dims, false), r, dims, spacing);
      add('1-voxel in-plane dilation', id, frame, cls, morph2d(r, dims, true), r, dims, spacing);
      add('2-voxel in-plane shift', id, frame, cls, shiftX(r, dims, 2), r, dims, spacing);
      add('first and last slice missed', id, frame, cls, dropEndSlices(r, dims), r, dims, spacing);
    }
  }
  const scenarios = [...new Set(samples.map((s) => s.scenario))];
  const lines = [
    '| pairs | n | median \\|pooled − mean of means\\| (mm) | max (mm) | max relative | median pooled ASSD (mm) |',
    '|---|---|---|---|---|---|',
  ];
  const row = (name: string, ss: Sample[]) => {
    const diff = ss.map((s) => Math.abs(s.pooled - s.meanOfMeans));
    const rel = ss.map((s) => Math.abs(s.pooled - s.meanOfMeans) / s.pooled);
    const worst = ss[diff.indexOf(Math.max(...diff))];
    lines.push(`| ${name} | ${ss.length} | ${median(diff).toFixed(3)} | ${Math.max(...diff).toFixed(3)} (${worst.case} ${worst.frame} ${worst.cls}) | ${(100 * Math.max(...rel)).toFixed(1)}% | ${median(ss.map((s) => s.pooled)).toFixed(2)} |`);
  };
  for (const sc of scenarios) row(sc, samples.filter((s) => s.scenario === sc));
  row('all', samples);
  console.log(`ASSD formulas on M&Ms (${files.length} label maps in ${mnms}), per class and case:\n`);
  console.log(lines.join('\n'));
  const json = opt('--json');
  if (json) writeFileAtomic(json, JSON.stringify({ data: mnms, samples }, null, 1) + '\n');
}

main();
