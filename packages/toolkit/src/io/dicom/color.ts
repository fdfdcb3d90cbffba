// Photometric conversions applied after decoding: YBR_FULL(_422) → RGB,
// PALETTE COLOR → RGB through the palette lookup tables, MONOCHROME1 inversion.
import type { DicomDataset } from './dataset.js';
import { DicomError } from './dataset.js';
import { TAG, tagLabel } from './tags.js';

export type SampleArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/**
 * YCbCr (full range, ITU-R BT.601) to RGB in place, pixel-interleaved samples.
 * Same coefficients and rounding as pydicom's convert_color_space (floor of
 * x + 0.5, clipped), with the chroma offset at half the sample range.
 */
export function ybrFullToRgb(data: SampleArray, bitsStored: number): void {
  const half = 2 ** (bitsStored - 1);
  const max = 2 ** bitsStored - 1;
  const gCb = (-0.114 * 1.772) / 0.587;
  const gCr = (-0.299 * 1.402) / 0.587;
  const clip = (v: number): number => {
    const r = Math.floor(v + 0.5);
    return r < 0 ? 0 : r > max ? max : r;
  };
  for (let i = 0; i + 2 < data.length; i += 3) {
    const y = data[i];
    const cb = data[i + 1] - half;
    const cr = data[i + 2] - half;
    data[i] = clip(y + 1.402 * cr);
    data[i + 1] = clip(y + gCb * cb + gCr * cr);
    data[i + 2] = clip(y + 1.772 * cb);
  }
}

/**
 * Expands native YBR_FULL_422 (each pair of pixels stored as Y1 Y2 Cb Cr) to
 * full-resolution pixel-interleaved YBR. `src` holds rows × ceil(columns/2) × 4 samples per frame.
 */
export function expandYbr422<T extends SampleArray>(src: T, rows: number, columns: number, frames: number, make: (n: number) => T): T {
  const out = make(frames * rows * columns * 3);
  const pairs = Math.ceil(columns / 2);
  let s = 0;
  let o = 0;
  for (let f = 0; f < frames; f++) {
    for (let r = 0; r < rows; r++) {
      for (let p = 0; p < pairs; p++, s += 4) {
        const y1 = src[s], y2 = src[s + 1], cb = src[s + 2], cr = src[s + 3];
        out[o++] = y1; out[o++] = cb; out[o++] = cr;
        if (2 * p + 1 < columns) {
          out[o++] = y2; out[o++] = cb; out[o++] = cr;
        }
      }
    }
  }
  return out;
}

interface Lut {
  first: number;
  table: Uint16Array;
  bits: number;
}

function lutWords(ds: DicomDataset, tag: string): Uint16Array | undefined {
  const b = ds.bytes(tag);
  if (!b) return undefined;
  const n = b.length >> 1;
  const out = new Uint16Array(n);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, !ds.bigEndian);
  return out;
}

/** Expands Segmented Palette Color LUT Data (PS3.3 C.7.9.2): discrete, linear and indirect segments. */
export function expandSegmentedLut(words: Uint16Array, file: string, label: string): number[] {
  const out: number[] = [];
  const run = (start: number, end: number, depth: number): void => {
    if (depth > 4) throw new DicomError(file, `${label}: indirect segments nest too deeply`);
    let i = start;
    while (i < end) {
      const op = words[i];
      const len = words[i + 1];
      if (i + 2 > end) throw new DicomError(file, `${label}: truncated segment at word ${i}`);
      if (op === 0) {
        if (i + 2 + len > end) throw new DicomError(file, `${label}: discrete segment overruns the data`);
        for (let k = 0; k < len; k++) out.push(words[i + 2 + k]);
        i += 2 + len;
      } else if (op === 1) {
        if (out.length === 0) throw new DicomError(file, `${label}: linear segment has no preceding value`);
        const y0 = out[out.length - 1];
        const y1 = words[i + 2];
        for (let k = 1; k <= len; k++) out.push(Math.round(y0 + ((y1 - y0) * k) / len));
        i += 3;
      } else if (op === 2) {
        const offset = words[i + 2] | (words[i + 3] << 16);
        // Replays `len` segments starting at word `offset`.
        let j = offset;
        for (let s = 0; s < len; s++) {
          const o2 = words[j];
          const l2 = words[j + 1];
          const size = o2 === 0 ? 2 + l2 : o2 === 1 ? 3 : 4;
          run(j, j + size, depth + 1);
          j += size;
        }
        i += 4;
      } else {
        throw new DicomError(file, `${label}: unknown segment opcode ${op}`);
      }
      if (out.length > 65536) throw new DicomError(file, `${label}: expands past 65536 entries`);
    }
  };
  run(0, words.length, 0);
  return out;
}

function readLut(ds: DicomDataset, descTag: string, dataTag: string, segTag: string, pixelRepresentation: number): Lut {
  const desc = [ds.us(descTag, 0), ds.us(descTag, 1), ds.us(descTag, 2)];
  if (desc.some((v) => v === undefined)) throw new DicomError(ds.file, `PALETTE COLOR image lacks ${tagLabel(descTag)} (3 values expected)`);
  const entries = desc[0] === 0 ? 65536 : (desc[0] as number);
  let first = desc[1] as number;
  if (pixelRepresentation === 1 && first > 32767) first -= 65536;
  const nominal = desc[2] as number;
  const words = lutWords(ds, dataTag);
  if (words) {
    const raw = ds.bytes(dataTag) as Uint8Array;
    // 8-bit tables are usually packed two entries per word; the byte count tells.
    if (raw.length === entries || (nominal === 8 && raw.length === entries + 1)) {
      return { first, table: Uint16Array.from(raw.subarray(0, entries)), bits: 8 };
    }
    if (words.length < entries) throw new DicomError(ds.file, `${tagLabel(dataTag)} has ${words.length} entries, descriptor says ${entries}`);
    return { first, table: words.subarray(0, entries), bits: 16 };
  }
  const seg = lutWords(ds, segTag);
  if (seg) return { first, table: Uint16Array.from(expandSegmentedLut(seg, ds.file, tagLabel(segTag))), bits: nominal === 8 ? 8 : 16 };
  throw new DicomError(ds.file, `PALETTE COLOR image lacks ${tagLabel(dataTag)} and its segmented form`);
}

/** Maps palette indices to RGB (pixel-interleaved). 8-bit tables give uint8, 16-bit tables uint16 (like pydicom). */
export function applyPalette(ds: DicomDataset, indices: SampleArray, pixelRepresentation: number): Uint8Array | Uint16Array {
  const luts = [
    readLut(ds, TAG.RedPaletteLUTDescriptor, TAG.RedPaletteLUTData, TAG.SegmentedRedPaletteLUTData, pixelRepresentation),
    readLut(ds, TAG.GreenPaletteLUTDescriptor, TAG.GreenPaletteLUTData, TAG.SegmentedGreenPaletteLUTData, pixelRepresentation),
    readLut(ds, TAG.BluePaletteLUTDescriptor, TAG.BluePaletteLUTData, TAG.SegmentedBluePaletteLUTData, pixelRepresentation),
  ];
  const bits = Math.max(...luts.map((l) => l.bits));
  const out = bits === 8 ? new Uint8Array(indices.length * 3) : new Uint16Array(indices.length * 3);
  for (let c = 0; c < 3; c++) {
    const { first, table } = luts[c];
    const last = table.length - 1;
    for (let i = 0; i < indices.length; i++) {
      let k = indices[i] - first;
      if (k < 0) k = 0;
      else if (k > last) k = last;
      out[i * 3 + c] = table[k];
    }
  }
  return out;
}

/** MONOCHROME1 → MONOCHROME2 on stored values: v → (min + max) − v over the stored range. */
export function invertMonochrome(data: SampleArray, bitsStored: number, signed: boolean): void {
  const sum = signed ? -1 : 2 ** bitsStored - 1;
  for (let i = 0; i < data.length; i++) data[i] = sum - data[i];
}
