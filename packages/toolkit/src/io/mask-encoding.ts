// Mask encodings: how the pixel values of a 2D mask file map to class labels.
//
// Public 2D datasets encode masks in many ways (inverted binary masks,
// 0/128/255 grey levels, lossy JPEG masks that need a threshold, colour
// keys). The encoding is DATA, declared in a config as a JSON object, never
// code, so a dataset description can carry it and a wrong one fails loudly:
// any pixel value the encoding does not expect is an error that names the
// file and lists the unexpected values.
//
//   { kind: 'values', map: { '255': 0, '128': 1, '0': 2 }, tolerance?: 0 }
//       each listed grey value → its label; others are errors
//   { kind: 'channels', channels: [{ name: 'disc', values: [128, 0] }, { name: 'cup', values: [0] }], background?: [255] }
//       one 0/1 output channel per entry (multi-label, e.g. disc ⊇ cup); with
//       `background`, values outside every list and the background are errors
//   { kind: 'threshold', at: 128, invert?: false }   label 1 where value ≥ at (< at when inverted)
//   { kind: 'invert', at?: 128 }                     label 1 where value < at (0 marks the organ)
//   { kind: 'colors', map: { '255,0,0': 1, '0,0,0': 0 }, tolerance?: 0 }   RGB colour → label
//   { kind: 'labels', max?: 255 }                    values already are labels; checked ≤ max
//
// Colour masks whose channels are all equal (fundus masks saved as RGB) are
// read through one channel; threshold encodings reduce colour with PIL's
// convert('L') luma, so JPEG colour masks threshold as in PIL.
import { Volume, type VoxelArray } from './volume.js';

export type MaskEncoding =
  | { kind: 'values'; map: Record<string, number>; tolerance?: number }
  | { kind: 'channels'; channels: { name: string; values: number[] }[]; background?: number[]; tolerance?: number }
  | { kind: 'threshold'; at: number; invert?: boolean }
  | { kind: 'invert'; at?: number }
  | { kind: 'colors'; map: Record<string, number>; tolerance?: number }
  | { kind: 'labels'; max?: number };

/** Ready-made encodings for the public datasets the seeds use (all in the config format). */
export const MASK_ENCODINGS = {
  /** DoFE / UST-RUN fundus masks: 255 background, 128 rim, 0 cup → channels disc (rim ∪ cup) and cup. */
  fundusDiscCup: { kind: 'channels', background: [255], channels: [{ name: 'disc', values: [128, 0] }, { name: 'cup', values: [0] }] },
  /** The same fundus masks as exclusive classes: 0 background, 1 rim, 2 cup. */
  fundusRimCup: { kind: 'values', map: { '255': 0, '128': 1, '0': 2 } },
  /** SAML / UST-RUN prostate slices: 0 = prostate, 255 = background. */
  prostateZeroIsOrgan: { kind: 'values', map: { '0': 1, '255': 0 } },
  /** Plain binary masks stored as 0/255. */
  binary255: { kind: 'values', map: { '0': 0, '255': 1 } },
  /** Lossy JPEG masks (Kvasir-SEG, NPC T2WI): foreground where value ≥ 128. */
  jpegThreshold: { kind: 'threshold', at: 128 },
} as const satisfies Record<string, MaskEncoding>;

export type MaskEncodingName = keyof typeof MASK_ENCODINGS;

const KINDS = ['values', 'channels', 'threshold', 'invert', 'colors', 'labels'];

function fail(where: string, msg: string): never {
  throw new Error(`mask encoding${where ? ` ${where}` : ''}: ${msg}`);
}

function isLabel(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255;
}

function checkNumber(v: unknown, key: string, where: string, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(where, `"${key}" must be a number${min > -Infinity ? ` ≥ ${min}` : ''}, got ${JSON.stringify(v)}`);
  return v;
}

function checkKeys(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(where, `unknown key "${k}" for kind "${String(o.kind)}" (allowed: ${allowed.join(', ')})`);
}

/**
 * Validates an encoding from a config (or resolves a MASK_ENCODINGS name);
 * errors name the bad key and what is allowed.
 */
export function parseMaskEncoding(x: unknown, where = ''): MaskEncoding {
  if (typeof x === 'string') {
    if (Object.hasOwn(MASK_ENCODINGS, x)) return MASK_ENCODINGS[x as MaskEncodingName] as unknown as MaskEncoding;
    fail(where, `unknown name ${JSON.stringify(x)} (known: ${Object.keys(MASK_ENCODINGS).join(', ')})`);
  }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(where, `expected an object with "kind" or a name, got ${JSON.stringify(x)}`);
  const o = x as Record<string, unknown>;
  if (!KINDS.includes(o.kind as string)) fail(where, `"kind" must be one of ${KINDS.join(', ')}, got ${JSON.stringify(o.kind)}`);
  const tol = (): number | undefined => (o.tolerance === undefined ? undefined : checkNumber(o.tolerance, 'tolerance', where, 0));
  switch (o.kind) {
    case 'values':
    case 'colors': {
      checkKeys(o, ['kind', 'map', 'tolerance'], where);
      if (typeof o.map !== 'object' || o.map === null || Array.isArray(o.map) || Object.keys(o.map).length === 0) fail(where, '"map" must be a non-empty object of pixel value → label');
      const map: Record<string, number> = {};
      for (const [k, v] of Object.entries(o.map as Record<string, unknown>)) {
        const parts = k.split(',').map((s) => s.trim());
        if (parts.length !== (o.kind === 'colors' ? 3 : 1) || parts.some((p) => p === '' || !Number.isFinite(Number(p)))) {
          fail(where, `"map" key ${JSON.stringify(k)} must be ${o.kind === 'colors' ? 'an "r,g,b" triple' : 'a number'}`);
        }
        if (!isLabel(v)) fail(where, `"map" value for ${JSON.stringify(k)} must be an integer label 0-255, got ${JSON.stringify(v)}`);
        map[k] = v;
      }
      return { kind: o.kind, map, tolerance: tol() };
    }
    case 'channels': {
      checkKeys(o, ['kind', 'channels', 'background', 'tolerance'], where);
      if (!Array.isArray(o.channels) || o.channels.length === 0) fail(where, '"channels" must be a non-empty array of { name, values }');
      const channels = (o.channels as unknown[]).map((c, i) => {
        const e = c as { name?: unknown; values?: unknown };
        if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || !e.name) fail(where, `"channels[${i}].name" must be a non-empty string`);
        if (!Array.isArray(e.values) || e.values.length === 0) fail(where, `"channels[${i}].values" must be a non-empty array of pixel values`);
        return { name: e.name, values: (e.values as unknown[]).map((v, j) => checkNumber(v, `channels[${i}].values[${j}]`, where)) };
      });
      let background: number[] | undefined;
      if (o.background !== undefined) {
        if (!Array.isArray(o.background)) fail(where, '"background" must be an array of pixel values');
        background = (o.background as unknown[]).map((v, j) => checkNumber(v, `background[${j}]`, where));
      }
      return { kind: 'channels', channels, background, tolerance: tol() };
    }
    case 'threshold': {
      checkKeys(o, ['kind', 'at', 'invert'], where);
      if (o.invert !== undefined && typeof o.invert !== 'boolean') fail(where, `"invert" must be true or false, got ${JSON.stringify(o.invert)}`);
      return { kind: 'threshold', at: checkNumber(o.at, 'at', where), invert: o.invert as boolean | undefined };
    }
    case 'invert':
      checkKeys(o, ['kind', 'at'], where);
      return { kind: 'invert', at: o.at === undefined ? undefined : checkNumber(o.at, 'at', where) };
    default: {
      checkKeys(o, ['kind', 'max'], where);
      if (o.max !== undefined && !isLabel(o.max)) fail(where, `"max" must be an integer label 0-255, got ${JSON.stringify(o.max)}`);
      return { kind: 'labels', max: o.max as number | undefined };
    }
  }
}

export interface DecodeMaskOptions {
  /** File named in errors; default vol.meta.source. */
  file?: string;
  /** The image the mask belongs to: its dims must match the mask's. */
  like?: Volume;
}

/** Counts of the distinct values in `d` that `ok` rejects, most frequent first. */
function unexpectedValues(d: ArrayLike<number | bigint>, ok: (v: number) => boolean): [number, number][] {
  const counts = new Map<number, number>();
  for (let i = 0; i < d.length; i++) {
    const v = Number(d[i]);
    if (!ok(v)) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

function describeUnexpected(file: string, bad: [number, number][], expected: string): Error {
  const shown = bad.slice(0, 10).map(([v, c]) => `${v} (${c} px)`).join(', ');
  const total = bad.reduce((a, [, c]) => a + c, 0);
  return new Error(`mask ${file}: ${total} pixel(s) with values the encoding does not expect: ${shown}${bad.length > 10 ? `, and ${bad.length - 10} more values` : ''}; expected ${expected} (wrong encoding for this file, or add a tolerance for lossy JPEG masks)`);
}

/** The mask as one grey plane: equal colour channels collapse; `luma` reduces colour as PIL's convert('L'). */
function greyPlane(vol: Volume, file: string, luma: boolean): ArrayLike<number | bigint> {
  const n = vol.numVoxels;
  if (vol.channels === 1) return vol.data;
  if (vol.channels === 2) return vol.data.subarray(0, n) as VoxelArray; // grey + alpha
  const d = vol.data;
  if (luma) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor((Number(d[i]) * 19595 + Number(d[n + i]) * 38470 + Number(d[2 * n + i]) * 7471 + 0x8000) / 65536);
    return out;
  }
  for (let c = 1; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      if (d[i] !== d[c * n + i]) {
        throw new Error(`mask ${file}: colour mask whose channels differ (pixel ${i}: R = ${Number(d[i])}, ${'RGB'[c]} = ${Number(d[c * n + i])}); use a 'colors' or 'threshold' encoding`);
      }
    }
  }
  return d.subarray(0, n) as VoxelArray;
}

/**
 * A value → label lookup. Exact keys first; with a tolerance, the nearest
 * key within it. Returns -1 for values the encoding does not expect.
 */
function valueLookup(keys: number[], labels: number[], tolerance: number): (v: number) => number {
  const exact = new Map<number, number>();
  keys.forEach((k, i) => exact.set(k, labels[i]));
  return (v) => {
    const e = exact.get(v);
    if (e !== undefined) return e;
    if (tolerance <= 0) return -1;
    let best = -1;
    let bestD = Infinity;
    for (let i = 0; i < keys.length; i++) {
      const dd = Math.abs(v - keys[i]);
      if (dd <= tolerance && dd < bestD) { bestD = dd; best = labels[i]; }
    }
    return best;
  };
}

/** Applies `f` to every pixel, through a table for 8/16-bit data. */
function mapPixels(d: ArrayLike<number | bigint>, f: (v: number) => number, out: Uint8Array, file: string, expected: string): void {
  const small = d instanceof Uint8Array ? 256 : d instanceof Uint16Array ? 65536 : 0;
  if (small) {
    const lut = new Int16Array(small);
    for (let v = 0; v < small; v++) lut[v] = f(v);
    const a = d as Uint8Array | Uint16Array;
    let bad = false;
    for (let i = 0; i < a.length; i++) {
      const l = lut[a[i]];
      if (l < 0) bad = true;
      out[i] = l;
    }
    if (bad) throw describeUnexpected(file, unexpectedValues(a, (v) => lut[v] >= 0), expected);
    return;
  }
  let bad = false;
  for (let i = 0; i < d.length; i++) {
    const l = f(Number(d[i]));
    if (l < 0) bad = true;
    out[i] = l;
  }
  if (bad) throw describeUnexpected(file, unexpectedValues(d, (v) => f(v) >= 0), expected);
}

/**
 * Decodes a mask volume (from readImage2d or any reader) into a uint8 label
 * volume with the mask's geometry: one channel of class labels, or one 0/1
 * channel per entry for 'channels' encodings (meta.channelNames).
 */
export function decodeMask(vol: Volume, encoding: MaskEncoding | MaskEncodingName | string, opts: DecodeMaskOptions = {}): Volume {
  const file = opts.file ?? (typeof vol.meta.source === 'string' ? vol.meta.source : '<mask>');
  const enc = parseMaskEncoding(encoding, typeof encoding === 'string' ? '' : `for ${file}`);
  if (opts.like && opts.like.dims.join(',') !== vol.dims.join(',')) {
    const src = typeof opts.like.meta.source === 'string' ? opts.like.meta.source : 'the image';
    throw new Error(`mask ${file}: size ${vol.dims.slice(0, 2).join('×')} (dims [${vol.dims.join(', ')}]) differs from ${src} (dims [${opts.like.dims.join(', ')}]); mismatched image/mask pair?`);
  }
  const n = vol.numVoxels;
  const meta: Record<string, unknown> = { ...vol.meta, source: file, maskEncoding: enc };
  delete meta.channelNames; // the image's channel names (R, G, B) do not describe labels
  if (enc.kind === 'colors') {
    if (vol.channels < 3) throw new Error(`mask ${file}: a 'colors' encoding needs an RGB mask, this one has ${vol.channels} channel(s)`);
    const keys = Object.keys(enc.map).map((k) => k.split(',').map(Number));
    const labels = Object.values(enc.map);
    const tol = enc.tolerance ?? 0;
    const out = new Uint8Array(n);
    const d = vol.data;
    const bad = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = Number(d[i]);
      const g = Number(d[n + i]);
      const b = Number(d[2 * n + i]);
      let best = -1;
      let bestD = Infinity;
      for (let k = 0; k < keys.length; k++) {
        const dd = Math.max(Math.abs(r - keys[k][0]), Math.abs(g - keys[k][1]), Math.abs(b - keys[k][2]));
        if (dd <= tol && dd < bestD) { bestD = dd; best = labels[k]; }
      }
      if (best < 0) {
        const key = `${r},${g},${b}`;
        bad.set(key, (bad.get(key) ?? 0) + 1);
      } else {
        out[i] = best;
      }
    }
    if (bad.size) {
      const list = [...bad].sort((a, b2) => b2[1] - a[1]);
      const shown = list.slice(0, 10).map(([v, c]) => `(${v}) ${c} px`).join(', ');
      throw new Error(`mask ${file}: colours the encoding does not expect: ${shown}${list.length > 10 ? `, and ${list.length - 10} more` : ''}; expected ${Object.keys(enc.map).map((k) => `(${k})`).join(', ')}`);
    }
    return new Volume({ data: out, dims: vol.dims, affine: vol.affine, meta });
  }

  const luma = enc.kind === 'threshold' || enc.kind === 'invert';
  const grey = greyPlane(vol, file, luma);
  if (enc.kind === 'channels') {
    const tol = enc.tolerance ?? 0;
    const out = new Uint8Array(n * enc.channels.length);
    enc.channels.forEach((ch, c) => {
      const member = valueLookup(ch.values, ch.values.map(() => 1), tol);
      const plane = out.subarray(c * n, (c + 1) * n);
      mapPixels(grey, (v) => (member(v) === 1 ? 1 : 0), plane, file, '');
    });
    if (enc.background) {
      const all = [...enc.background, ...enc.channels.flatMap((c) => c.values)];
      const known = valueLookup(all, all.map(() => 1), tol);
      const bad = unexpectedValues(grey, (v) => known(v) === 1);
      if (bad.length) throw describeUnexpected(file, bad, `values ${[...new Set(all)].join(', ')}`);
    }
    return new Volume({ data: out, dims: vol.dims, channels: enc.channels.length, affine: vol.affine, meta: { ...meta, channelNames: enc.channels.map((c) => c.name) } });
  }
  const out = new Uint8Array(n);
  if (enc.kind === 'values') {
    const keys = Object.keys(enc.map).map(Number);
    const f = valueLookup(keys, Object.values(enc.map), enc.tolerance ?? 0);
    mapPixels(grey, f, out, file, `values ${keys.join(', ')}${enc.tolerance ? ` (±${enc.tolerance})` : ''}`);
  } else if (enc.kind === 'threshold') {
    const { at, invert } = enc;
    mapPixels(grey, (v) => ((v >= at) !== Boolean(invert) ? 1 : 0), out, file, '');
  } else if (enc.kind === 'invert') {
    const at = enc.at ?? 128;
    mapPixels(grey, (v) => (v < at ? 1 : 0), out, file, '');
  } else {
    const max = enc.max ?? 255;
    mapPixels(grey, (v) => (Number.isInteger(v) && v >= 0 && v <= max ? v : -1), out, file, `integer labels 0..${max}`);
  }
  return new Volume({ data: out, dims: vol.dims, affine: vol.affine, meta });
}

/** Label counts of a decoded mask (per channel for multi-label masks): value → pixels. */
export function labelCounts(mask: Volume): Record<number, number>[] {
  const n = mask.numVoxels;
  const out: Record<number, number>[] = [];
  for (let c = 0; c < mask.channels; c++) {
    const counts: Record<number, number> = {};
    for (let i = c * n; i < (c + 1) * n; i++) {
      const v = Number(mask.data[i]);
      counts[v] = (counts[v] ?? 0) + 1;
    }
    out.push(counts);
  }
  return out;
}
