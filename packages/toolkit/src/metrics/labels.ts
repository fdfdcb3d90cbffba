// Label maps → per-class binary masks, counted in one pass.
//
// Each label map is first turned into small integer codes: 0 for value 0
// (background), 1 for any other value no class asks for (including non-integer
// values and NaN), 2.. for the labels the classes use. A class (a label, or a
// region = a set of labels as in nnU-Net's region-based training) is then a
// membership table over codes, so one confusion matrix over codes gives
// TP/FP/FN/TN of every class, and one pass gives every class's bounding box.
import type { Dims } from './edt.js';
import { type Box, emptyBox, unionBox } from './surface.js';

/** Arrays a label map may come in. */
export type LabelArray = ArrayLike<number> | BigInt64Array | BigUint64Array;

/** A class: one label value, or a region (the union of several label values). */
export type ClassSpec = number | readonly number[];

/** nnU-Net's key for a label or region: "1", or "(1, 2)" for a region. */
export function classKey(c: ClassSpec): string {
  if (typeof c === 'number') return String(c);
  return c.length === 1 ? String(c[0]) : `(${c.join(', ')})`;
}

export function classLabels(c: ClassSpec): number[] {
  return typeof c === 'number' ? [c] : [...c];
}

export function checkClassSpec(c: ClassSpec, what: string): void {
  const ls = classLabels(c);
  if (ls.length === 0) throw new Error(`${what}: a class (region) must list at least one label`);
  for (const l of ls) {
    if (!Number.isInteger(l) || l < 0 || l > 0x7fffffff) throw new Error(`${what}: labels must be non-negative integers, got ${l}`);
  }
}

/** Code of "any nonzero value no class names". */
export const OTHER_CODE = 1;

export interface LabelCoding {
  /** Label value → code (codes 2..). */
  codeOf: Map<number, number>;
  /** Number of codes, including 0 (background) and 1 (other nonzero). */
  numCodes: number;
}

export function makeCoding(classes: readonly ClassSpec[]): LabelCoding {
  const values = [...new Set(classes.flatMap(classLabels))].filter((v) => v !== 0).sort((a, b) => a - b);
  const codeOf = new Map<number, number>();
  values.forEach((v, i) => codeOf.set(v, i + 2));
  codeOf.set(0, 0);
  return { codeOf, numCodes: values.length + 2 };
}

/** Membership table over codes for one class. Label 0 in a class means background voxels. */
export function membership(c: ClassSpec, coding: LabelCoding): Uint8Array {
  const m = new Uint8Array(coding.numCodes);
  for (const l of classLabels(c)) m[coding.codeOf.get(l) ?? OTHER_CODE] = 1;
  return m;
}

/** Membership of "any nonzero label" (the foreground of a binarised map). */
export function foregroundMembership(coding: LabelCoding): Uint8Array {
  const m = new Uint8Array(coding.numCodes).fill(1);
  m[0] = 0;
  return m;
}

/** Converts a label map to codes (Uint8 when they fit, else Uint16). */
export function encodeLabels(data: LabelArray, coding: LabelCoding): Uint8Array | Uint16Array {
  const n = data.length;
  const out = coding.numCodes <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  let maxLabel = 0;
  for (const v of coding.codeOf.keys()) if (v > maxLabel) maxLabel = v;
  // Dense lookup for the usual small label values; a Map for the rest.
  const tableSize = Math.min(maxLabel + 1, 1 << 16);
  const table = new Uint16Array(tableSize).fill(OTHER_CODE);
  for (const [v, code] of coding.codeOf) if (v < tableSize) table[v] = code;
  table[0] = 0;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) {
      const v = Number(data[i]);
      out[i] = v >= 0 && v < tableSize ? table[v] : (v === 0 ? 0 : coding.codeOf.get(v) ?? OTHER_CODE);
    }
    return out;
  }
  const d = data as ArrayLike<number>;
  const isInt = d instanceof Uint8Array || d instanceof Int8Array || d instanceof Uint16Array || d instanceof Int16Array || d instanceof Int32Array || d instanceof Uint32Array;
  for (let i = 0; i < n; i++) {
    const v = d[i];
    if (v === 0) { out[i] = 0; continue; }
    if (v >= 0 && v < tableSize && (isInt || Number.isInteger(v))) out[i] = table[v];
    else out[i] = Number.isInteger(v) ? coding.codeOf.get(v) ?? OTHER_CODE : OTHER_CODE;
  }
  return out;
}

/** Confusion matrix over codes: conf[p * numCodes + g] = voxels with pred code p and reference code g. */
export function codeConfusion(pred: Uint8Array | Uint16Array, ref: Uint8Array | Uint16Array, numCodes: number): Float64Array {
  const conf = new Float64Array(numCodes * numCodes);
  const n = pred.length;
  if (numCodes <= 256) {
    // Int32 bins overflow only past 2^31 voxels; fine per chunk.
    const bins = new Int32Array(numCodes * numCodes);
    for (let i = 0; i < n; i++) bins[pred[i] * numCodes + ref[i]]++;
    for (let i = 0; i < bins.length; i++) conf[i] = bins[i];
  } else {
    for (let i = 0; i < n; i++) conf[pred[i] * numCodes + ref[i]]++;
  }
  return conf;
}

/** Bounding box of every code (boxes[code]). */
export function codeBoxes(codes: Uint8Array | Uint16Array, dims: Dims, numCodes: number): Box[] {
  const nd = dims.length;
  const [n0, n1, n2] = [dims[0], dims[1] ?? 1, dims[2] ?? 1];
  const lo = new Float64Array(numCodes * 3).fill(Infinity);
  const hi = new Float64Array(numCodes * 3).fill(-1);
  let idx = 0;
  for (let k = 0; k < n2; k++) {
    for (let j = 0; j < n1; j++) {
      for (let i = 0; i < n0; i++, idx++) {
        const c = codes[idx];
        if (c === 0) continue;
        const b = c * 3;
        if (i < lo[b]) lo[b] = i;
        if (i > hi[b]) hi[b] = i;
        if (j < lo[b + 1]) lo[b + 1] = j;
        if (j > hi[b + 1]) hi[b + 1] = j;
        if (k < lo[b + 2]) lo[b + 2] = k;
        if (k > hi[b + 2]) hi[b + 2] = k;
      }
    }
  }
  const boxes: Box[] = [];
  for (let c = 0; c < numCodes; c++) {
    const box = emptyBox(nd);
    if (hi[c * 3] >= 0) {
      for (let a = 0; a < nd; a++) { box.lo[a] = lo[c * 3 + a]; box.hi[a] = hi[c * 3 + a] + 1; }
      box.empty = false;
    }
    boxes.push(box);
  }
  return boxes;
}

/** Union of the boxes of the codes a membership table selects. */
export function classBox(boxes: readonly Box[], member: Uint8Array, nd: number): Box {
  let b = emptyBox(nd);
  for (let c = 0; c < member.length; c++) if (member[c]) b = unionBox(b, boxes[c]);
  return b;
}

/** The class mask inside `box`, as a compact 0/1 array. */
export function cropClassMask(codes: Uint8Array | Uint16Array, dims: Dims, box: Box, member: Uint8Array): Uint8Array {
  const [n0, n1] = [dims[0], dims[1] ?? 1];
  const c0 = box.hi[0] - box.lo[0];
  const c1 = dims.length > 1 ? box.hi[1] - box.lo[1] : 1;
  const c2 = dims.length > 2 ? box.hi[2] - box.lo[2] : 1;
  const l0 = box.lo[0];
  const l1 = dims.length > 1 ? box.lo[1] : 0;
  const l2 = dims.length > 2 ? box.lo[2] : 0;
  const out = new Uint8Array(c0 * c1 * c2);
  let o = 0;
  for (let k = 0; k < c2; k++) {
    for (let j = 0; j < c1; j++) {
      const base = l0 + n0 * (l1 + j + n1 * (l2 + k));
      for (let i = 0; i < c0; i++, o++) out[o] = member[codes[base + i]];
    }
  }
  return out;
}

/** TP/FP/FN/TN of a class from the code confusion matrix (voxels where `valid` is 0 excluded beforehand). */
export function classCounts(conf: Float64Array, numCodes: number, predMember: Uint8Array, refMember: Uint8Array): { tp: number; fp: number; fn: number; tn: number } {
  let tp = 0; let fp = 0; let fn = 0; let tn = 0;
  for (let p = 0; p < numCodes; p++) {
    for (let g = 0; g < numCodes; g++) {
      const v = conf[p * numCodes + g];
      if (v === 0) continue;
      const inP = predMember[p] === 1;
      const inG = refMember[g] === 1;
      if (inP && inG) tp += v;
      else if (inP) fp += v;
      else if (inG) fn += v;
      else tn += v;
    }
  }
  return { tp, fp, fn, tn };
}

/** Every distinct integer label value > 0 in a label map (for automatic class lists). */
export function labelsPresent(data: LabelArray): number[] {
  const seen = new Set<number>();
  const small = new Uint8Array(65536);
  const n = data.length;
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  for (let i = 0; i < n; i++) {
    const v = big ? Number((data as BigInt64Array)[i]) : (data as ArrayLike<number>)[i];
    if (v === 0) continue;
    if (v > 0 && v < 65536 && Number.isInteger(v)) small[v] = 1;
    else if (Number.isInteger(v) && v > 0) seen.add(v);
  }
  for (let v = 1; v < 65536; v++) if (small[v]) seen.add(v);
  return [...seen].sort((a, b) => a - b);
}
