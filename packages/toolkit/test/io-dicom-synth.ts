// Builds small DICOM files for tests: Part 10 (or raw) data sets in any of
// the native encodings, with sequences, so reader edge cases can be exercised
// without shipping binary fixtures.
import fs from 'node:fs';
import path from 'node:path';

export type Value = string | number[] | Uint8Array | Item[];
export type Item = El[];
/** [tag as 0xggggeeee, VR, value] */
export type El = [number, string, Value];

export interface EncodeOptions {
  transferSyntax?: string;
  /** Encode the data set implicit VR (default: explicit unless the transfer syntax is implicit). */
  implicit?: boolean;
  bigEndian?: boolean;
  /** Write the 128-byte preamble, DICM and the meta group (default true). */
  part10?: boolean;
  /** Omit (0002,0010) from the meta group. */
  omitTransferSyntax?: boolean;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'OV', 'SV', 'UV']);

function valueBytes(vr: string, v: Value, be: boolean, implicit: boolean): Uint8Array {
  if (v instanceof Uint8Array) return v.length % 2 ? concat([v, new Uint8Array(1)]) : v;
  if (typeof v === 'string') {
    let s = Buffer.from(v, 'latin1');
    if (s.length % 2) s = Buffer.concat([s, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
    return new Uint8Array(s);
  }
  if (vr === 'SQ') {
    const parts: Uint8Array[] = [];
    for (const item of v as Item[]) {
      const body = encodeElements(item, be, implicit);
      const head = new Uint8Array(8);
      const dv = new DataView(head.buffer);
      dv.setUint16(0, 0xfffe, !be);
      dv.setUint16(2, 0xe000, !be);
      dv.setUint32(4, body.length, !be);
      parts.push(head, body);
    }
    return concat(parts);
  }
  const nums = v as number[];
  const size = vr === 'US' || vr === 'SS' ? 2 : vr === 'FD' ? 8 : 4;
  const out = new Uint8Array(nums.length * size);
  const dv = new DataView(out.buffer);
  nums.forEach((n, i) => {
    if (vr === 'US') dv.setUint16(i * 2, n, !be);
    else if (vr === 'SS') dv.setInt16(i * 2, n, !be);
    else if (vr === 'UL') dv.setUint32(i * 4, n, !be);
    else if (vr === 'SL') dv.setInt32(i * 4, n, !be);
    else if (vr === 'FL') dv.setFloat32(i * 4, n, !be);
    else if (vr === 'FD') dv.setFloat64(i * 8, n, !be);
    else throw new Error(`synth: numeric VR ${vr} not supported`);
  });
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function encodeElements(els: El[], be: boolean, implicit: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [tag, vr, v] of [...els].sort((a, b) => a[0] - b[0])) {
    const data = valueBytes(vr, v, be, implicit);
    const group = tag >>> 16;
    const elem = tag & 0xffff;
    let head: Uint8Array;
    if (implicit) {
      head = new Uint8Array(8);
      const dv = new DataView(head.buffer);
      dv.setUint16(0, group, !be);
      dv.setUint16(2, elem, !be);
      dv.setUint32(4, data.length, !be);
    } else if (LONG_VRS.has(vr)) {
      head = new Uint8Array(12);
      const dv = new DataView(head.buffer);
      dv.setUint16(0, group, !be);
      dv.setUint16(2, elem, !be);
      head[4] = vr.charCodeAt(0);
      head[5] = vr.charCodeAt(1);
      dv.setUint32(8, data.length, !be);
    } else {
      head = new Uint8Array(8);
      const dv = new DataView(head.buffer);
      dv.setUint16(0, group, !be);
      dv.setUint16(2, elem, !be);
      head[4] = vr.charCodeAt(0);
      head[5] = vr.charCodeAt(1);
      dv.setUint16(6, data.length, !be);
    }
    parts.push(head, data);
  }
  return concat(parts);
}

/** Encapsulated pixel data element bytes (undefined length, empty offset table). */
export function encapsulate(frames: Uint8Array[], bot = false): Uint8Array {
  const item = (b: Uint8Array): Uint8Array => {
    const pad = b.length % 2 ? concat([b, new Uint8Array(1)]) : b;
    const h = new Uint8Array(8);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, 0xfffe, true);
    dv.setUint16(2, 0xe000, true);
    dv.setUint32(4, pad.length, true);
    return concat([h, pad]);
  };
  const items = frames.map(item);
  const offsets = new Uint8Array(bot ? 4 * frames.length : 0);
  if (bot) {
    let o = 0;
    items.forEach((it, i) => {
      new DataView(offsets.buffer).setUint32(4 * i, o, true);
      o += it.length;
    });
  }
  const head = new Uint8Array(12);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, 0x7fe0, true);
  dv.setUint16(2, 0x0010, true);
  head[4] = 0x4f; // 'O'
  head[5] = 0x42; // 'B'
  dv.setUint32(8, 0xffffffff, true);
  const end = new Uint8Array(8);
  const de = new DataView(end.buffer);
  de.setUint16(0, 0xfffe, true);
  de.setUint16(2, 0xe0dd, true);
  return concat([head, item(offsets), ...items, end]);
}

/** A whole file. `pixelElement` (raw element bytes, e.g. from encapsulate) is appended last. */
export function encodeDicom(els: El[], opts: EncodeOptions = {}, pixelElement?: Uint8Array): Uint8Array {
  const ts = opts.transferSyntax ?? '1.2.840.10008.1.2.1';
  const implicit = opts.implicit ?? ts === '1.2.840.10008.1.2';
  const be = opts.bigEndian ?? ts === '1.2.840.10008.1.2.2';
  const body = encodeElements(els, be, implicit);
  const data = pixelElement ? concat([body, pixelElement]) : body;
  if (opts.part10 === false) return data;
  const metaEls: El[] = [
    [0x00020001, 'OB', Uint8Array.from([0, 1])],
    [0x00020002, 'UI', '1.2.840.10008.5.1.4.1.1.7'],
    [0x00020003, 'UI', '1.2.3.4'],
  ];
  if (!opts.omitTransferSyntax) metaEls.push([0x00020010, 'UI', ts]);
  const metaBody = encodeElements(metaEls, false, false);
  const groupLen = encodeElements([[0x00020000, 'UL', [metaBody.length]]], false, false);
  const pre = new Uint8Array(132);
  pre.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concat([pre, groupLen, metaBody, data]);
}

/** Native pixel bytes of `values` at `bits` (8/16/32) in the given byte order. */
export function pixelBytes(values: number[], bits: 8 | 16 | 32, signed = false, be = false): Uint8Array {
  const out = new Uint8Array((values.length * bits) / 8);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (bits === 8) dv.setUint8(i, v & 0xff);
    else if (bits === 16 && signed) dv.setInt16(i * 2, v, !be);
    else if (bits === 16) dv.setUint16(i * 2, v, !be);
    else if (signed) dv.setInt32(i * 4, v, !be);
    else dv.setUint32(i * 4, v, !be);
  });
  return out;
}

/** The elements of a minimal single-frame CT slice (rows × cols), at `ipp`. */
export function ctSlice(opts: {
  rows: number;
  cols: number;
  pixels: number[];
  ipp?: number[];
  iop?: number[];
  spacing?: number[];
  series?: string;
  instance?: number;
  slope?: string;
  intercept?: string;
  bits?: 8 | 16 | 32;
  signed?: boolean;
  extra?: El[];
  sop?: string;
}): El[] {
  const bits = opts.bits ?? 16;
  const els: El[] = [
    [0x00080016, 'UI', opts.sop ?? '1.2.840.10008.5.1.4.1.1.2'],
    [0x00080018, 'UI', `1.2.3.${opts.instance ?? 1}`],
    [0x00080060, 'CS', 'CT'],
    [0x0008103e, 'LO', 'Synthetic'],
    [0x0020000d, 'UI', '1.2.3'],
    [0x0020000e, 'UI', opts.series ?? '1.2.3.9'],
    [0x00200011, 'IS', '7'],
    [0x00200013, 'IS', String(opts.instance ?? 1)],
    [0x00280002, 'US', [1]],
    [0x00280004, 'CS', 'MONOCHROME2'],
    [0x00280010, 'US', [opts.rows]],
    [0x00280011, 'US', [opts.cols]],
    [0x00280100, 'US', [bits]],
    [0x00280101, 'US', [bits]],
    [0x00280102, 'US', [bits - 1]],
    [0x00280103, 'US', [opts.signed ?? true ? 1 : 0]],
    [0x7fe00010, bits === 8 ? 'OB' : 'OW', pixelBytes(opts.pixels, bits, opts.signed ?? true)],
  ];
  if (opts.ipp) els.push([0x00200032, 'DS', opts.ipp.join('\\')]);
  if (opts.iop ?? opts.ipp) els.push([0x00200037, 'DS', (opts.iop ?? [1, 0, 0, 0, 1, 0]).join('\\')]);
  els.push([0x00280030, 'DS', (opts.spacing ?? [0.5, 0.75]).join('\\')]);
  if (opts.slope !== undefined) els.push([0x00281053, 'DS', opts.slope]);
  if (opts.intercept !== undefined) els.push([0x00281052, 'DS', opts.intercept]);
  for (const e of opts.extra ?? []) {
    const i = els.findIndex((x) => x[0] === e[0]);
    if (i >= 0) els[i] = e;
    else els.push(e);
  }
  return els;
}

export function writeTemp(dir: string, name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, bytes);
  return p;
}
