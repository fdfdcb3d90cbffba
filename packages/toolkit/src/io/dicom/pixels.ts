// Pixel Data → stored values: the Image Pixel module, native unpacking (1 to
// 32 bits, signed/unsigned, BitsStored masking and sign extension, planar
// configuration, byte order), encapsulated frames (basic/extended offset
// tables, fragments) for every supported transfer syntax, then photometric
// conversion to MONOCHROME2-or-RGB. Sizes are checked against the data before
// anything is allocated.
import type { DicomDataset } from './dataset.js';
import { DicomError } from './dataset.js';
import { TAG, UID, tagLabel, transferSyntaxName } from './tags.js';
import { type SampleArray, applyPalette, expandYbr422, invertMonochrome, ybrFullToRgb } from './color.js';
import { decodeRleFrame } from './rle.js';
import { type DecodedFrame, decodeJ2k, decodeJpeg, decodeJpegLs } from './codecs.js';

const HOST_LE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Refuse to decode images whose stored values would exceed this many bytes. */
export const MAX_DECODED_BYTES = 2 ** 32 - 1;

export interface PixelModule {
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: 0 | 1;
  planarConfiguration: 0 | 1;
  photometric: string;
  /** PixelData, FloatPixelData or DoubleFloatPixelData. */
  pixelTag: string;
}

export interface DecodedPixels {
  rows: number;
  columns: number;
  frames: number;
  /** 1 (MONOCHROME) or 3 (RGB, pixel-interleaved). */
  samples: number;
  /** frames × rows × columns × samples stored values (before Rescale Slope/Intercept). */
  data: SampleArray;
  /** 'MONOCHROME1', 'MONOCHROME2' or 'RGB' after conversion. */
  photometric: string;
  /** PhotometricInterpretation as found in the file. */
  sourcePhotometric: string;
  bitsStored: number;
  signed: boolean;
  transferSyntax: string;
  /** Notes about conversions applied (e.g. MONOCHROME1 inverted). */
  notes: string[];
}

export interface PixelOptions {
  /** Invert MONOCHROME1 images to MONOCHROME2 (default false: values as stored). */
  invertMonochrome1?: boolean;
  /** Decode only these 0-based frames (default all), in the order given. */
  frames?: readonly number[];
}

function requireUs(ds: DicomDataset, tag: string): number {
  const v = ds.us(tag);
  if (v === undefined) throw new DicomError(ds.file, `image lacks ${tagLabel(tag)}, required to decode its pixel data`);
  return v;
}

/** Number of frames: NumberOfFrames (IS), 1 when absent. */
export function numberOfFrames(ds: DicomDataset): number {
  const n = ds.number(TAG.NumberOfFrames);
  if (n === undefined) return 1;
  if (!Number.isInteger(n) || n < 0) throw new DicomError(ds.file, `${tagLabel(TAG.NumberOfFrames)} is ${n}, expected a non-negative integer`);
  return n === 0 ? 1 : n;
}

export function pixelTagOf(ds: DicomDataset): string | undefined {
  if (ds.has(TAG.PixelData)) return TAG.PixelData;
  if (ds.has(TAG.FloatPixelData)) return TAG.FloatPixelData;
  if (ds.has(TAG.DoubleFloatPixelData)) return TAG.DoubleFloatPixelData;
  return undefined;
}

export function readPixelModule(ds: DicomDataset): PixelModule {
  const pixelTag = pixelTagOf(ds);
  if (!pixelTag) throw new DicomError(ds.file, 'no Pixel Data (7FE0,0010) element');
  const rows = requireUs(ds, TAG.Rows);
  const columns = requireUs(ds, TAG.Columns);
  if (rows === 0 || columns === 0) throw new DicomError(ds.file, `image size is ${rows} rows × ${columns} columns, expected positive`);
  const isFloat = pixelTag !== TAG.PixelData;
  const bitsAllocated = isFloat ? (pixelTag === TAG.FloatPixelData ? 32 : 64) : requireUs(ds, TAG.BitsAllocated);
  if (![1, 8, 16, 32, 64].includes(bitsAllocated)) throw new DicomError(ds.file, `${tagLabel(TAG.BitsAllocated)} is ${bitsAllocated}, expected 1, 8, 16 or 32`);
  if (!isFloat && bitsAllocated === 64) throw new DicomError(ds.file, `${tagLabel(TAG.BitsAllocated)} is 64, only valid for Double Float Pixel Data`);
  const bitsStored = isFloat ? bitsAllocated : ds.us(TAG.BitsStored) ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw new DicomError(ds.file, `${tagLabel(TAG.BitsStored)} is ${bitsStored}, expected 1..${bitsAllocated} (BitsAllocated)`);
  let highBit = isFloat ? bitsAllocated - 1 : ds.us(TAG.HighBit) ?? bitsStored - 1;
  if (highBit < bitsStored - 1 || highBit >= bitsAllocated) highBit = bitsStored - 1;
  const pr = isFloat ? 1 : ds.us(TAG.PixelRepresentation) ?? 0;
  if (pr !== 0 && pr !== 1) throw new DicomError(ds.file, `${tagLabel(TAG.PixelRepresentation)} is ${pr}, expected 0 or 1`);
  const samplesPerPixel = ds.us(TAG.SamplesPerPixel) ?? 1;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) throw new DicomError(ds.file, `${tagLabel(TAG.SamplesPerPixel)} is ${samplesPerPixel}, expected 1 or 3`);
  const planar = samplesPerPixel > 1 ? ds.us(TAG.PlanarConfiguration) ?? 0 : 0;
  const photometric = (ds.str(TAG.PhotometricInterpretation) ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase();
  const frames = numberOfFrames(ds);
  const bytes = (rows * columns * samplesPerPixel * frames * bitsAllocated) / 8;
  if (bytes > MAX_DECODED_BYTES) {
    throw new DicomError(ds.file, `image of ${frames} frame(s) × ${rows} × ${columns} × ${samplesPerPixel} samples × ${bitsAllocated} bits would need ${bytes} bytes, over the ${MAX_DECODED_BYTES}-byte limit`);
  }
  return { rows, columns, frames, samplesPerPixel, bitsAllocated, bitsStored, highBit, pixelRepresentation: pr as 0 | 1, planarConfiguration: planar ? 1 : 0, photometric, pixelTag };
}

function allocFor(bitsAllocated: number, signed: boolean, isFloat: boolean, n: number): SampleArray {
  if (isFloat) return bitsAllocated === 32 ? new Float32Array(n) : new Float64Array(n);
  if (bitsAllocated <= 8) return signed ? new Int8Array(n) : new Uint8Array(n);
  if (bitsAllocated === 16) return signed ? new Int16Array(n) : new Uint16Array(n);
  return signed ? new Int32Array(n) : new Uint32Array(n);
}

/** Keeps bits [highBit-bitsStored+1, highBit] and sign-extends when signed, in place. */
function maskStored(data: SampleArray, pm: PixelModule): void {
  if (pm.pixelTag !== TAG.PixelData) return;
  const { bitsStored, highBit, bitsAllocated } = pm;
  const shift = highBit + 1 - bitsStored;
  if (bitsStored === bitsAllocated && shift === 0) return;
  const signed = pm.pixelRepresentation === 1;
  // bitsStored < 32 here, so the mask and the 32-bit bit operations are exact;
  // a negative (already sign-extended) input keeps its low bits under >>>.
  const mask = 2 ** bitsStored - 1;
  const half = 2 ** (bitsStored - 1);
  if (signed) {
    for (let i = 0; i < data.length; i++) data[i] = (((data[i] >>> shift) & mask) ^ half) - half;
  } else {
    for (let i = 0; i < data.length; i++) data[i] = (data[i] >>> shift) & mask;
  }
}

/** Native (uncompressed) pixel bytes → stored values, frame-major, pixel-interleaved. */
function unpackNative(bytes: Uint8Array, pm: PixelModule, bigEndian: boolean, file: string, frameList: readonly number[]): SampleArray {
  const { rows, columns, samplesPerPixel: spp, bitsAllocated: ba } = pm;
  const isFloat = pm.pixelTag !== TAG.PixelData;
  const signed = pm.pixelRepresentation === 1;
  const ybr422 = pm.photometric === 'YBR_FULL_422' && spp === 3 && ba === 8;
  const perFrame = ybr422 ? rows * Math.ceil(columns / 2) * 4 : rows * columns * spp;
  const needBits = perFrame * pm.frames * ba;
  if (bytes.length * 8 < needBits) {
    throw new DicomError(file, `${tagLabel(pm.pixelTag)} holds ${bytes.length} bytes but ${pm.frames} frame(s) of ${rows} × ${columns} × ${spp} samples at ${ba} bits need ${Math.ceil(needBits / 8)}: the pixel data is truncated`);
  }
  const out = allocFor(ba, signed, isFloat, perFrame * frameList.length);
  if (ba === 1) {
    for (let fi = 0; fi < frameList.length; fi++) {
      const base = frameList[fi] * perFrame;
      for (let i = 0; i < perFrame; i++) {
        const bit = base + i;
        out[fi * perFrame + i] = (bytes[bit >> 3] >> (bit & 7)) & 1;
      }
    }
    return out;
  }
  const bpe = ba / 8;
  if (!bigEndian && HOST_LE) {
    // Same byte order as the host: copy the bytes straight into the output's memory.
    const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    for (let fi = 0; fi < frameList.length; fi++) {
      const src = frameList[fi] * perFrame * bpe;
      outBytes.set(bytes.subarray(src, src + perFrame * bpe), fi * perFrame * bpe);
    }
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const le = !bigEndian;
  for (let fi = 0; fi < frameList.length; fi++) {
    const src = frameList[fi] * perFrame * bpe;
    const dst = fi * perFrame;
    if (ba === 8) {
      for (let i = 0; i < perFrame; i++) out[dst + i] = signed ? dv.getInt8(src + i) : bytes[src + i];
    } else if (ba === 16) {
      if (signed) for (let i = 0; i < perFrame; i++) out[dst + i] = dv.getInt16(src + 2 * i, le);
      else for (let i = 0; i < perFrame; i++) out[dst + i] = dv.getUint16(src + 2 * i, le);
    } else if (ba === 32) {
      if (isFloat) for (let i = 0; i < perFrame; i++) out[dst + i] = dv.getFloat32(src + 4 * i, le);
      else if (signed) for (let i = 0; i < perFrame; i++) out[dst + i] = dv.getInt32(src + 4 * i, le);
      else for (let i = 0; i < perFrame; i++) out[dst + i] = dv.getUint32(src + 4 * i, le);
    } else {
      for (let i = 0; i < perFrame; i++) out[dst + i] = dv.getFloat64(src + 8 * i, le);
    }
  }
  return out;
}

interface Fragment {
  start: number;
  length: number;
  /** Offset of the item relative to the first fragment item (what offset tables hold). */
  offset: number;
}

/** Items of encapsulated pixel data: the basic offset table and the fragments. */
function readFragments(ds: DicomDataset, tag: string): { bot: number[]; fragments: Fragment[]; bytes: Uint8Array } {
  const el = ds.element(tag);
  const all = ds.raw.byteArray as Uint8Array;
  if (!el) throw new DicomError(ds.file, `no ${tagLabel(tag)}`);
  const end = Math.min(all.length, el.dataOffset + el.length);
  const dv = new DataView(all.buffer, all.byteOffset, all.length);
  let p = el.dataOffset;
  const items: { start: number; length: number; at: number }[] = [];
  while (p + 8 <= end) {
    const g = dv.getUint16(p, true);
    const e = dv.getUint16(p + 2, true);
    const len = dv.getUint32(p + 4, true);
    if (g === 0xfffe && e === 0xe0dd) break;
    if (g !== 0xfffe || e !== 0xe000) throw new DicomError(ds.file, `encapsulated ${tagLabel(tag)}: expected an item tag (FFFE,E000) at offset ${p}, found (${g.toString(16).toUpperCase().padStart(4, '0')},${e.toString(16).toUpperCase().padStart(4, '0')})`);
    if (len === 0xffffffff || p + 8 + len > all.length) throw new DicomError(ds.file, `encapsulated ${tagLabel(tag)}: item at offset ${p} declares ${len} bytes but the file ends at ${all.length}: the file is truncated`);
    items.push({ start: p + 8, length: len, at: p });
    p += 8 + len;
  }
  if (items.length === 0) throw new DicomError(ds.file, `encapsulated ${tagLabel(tag)} has no items (not even a basic offset table)`);
  const botItem = items[0];
  const bot: number[] = [];
  for (let i = 0; i + 4 <= botItem.length; i += 4) bot.push(dv.getUint32(botItem.start + i, true));
  const first = items.length > 1 ? items[1].at : 0;
  const fragments = items.slice(1).map((it) => ({ start: it.start, length: it.length, offset: it.at - first }));
  return { bot, fragments, bytes: all };
}

function concat(bytes: Uint8Array, frags: Fragment[]): Uint8Array {
  if (frags.length === 1) return bytes.subarray(frags[0].start, frags[0].start + frags[0].length);
  const total = frags.reduce((s, f) => s + f.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const f of frags) {
    out.set(bytes.subarray(f.start, f.start + f.length), o);
    o += f.length;
  }
  return out;
}

/** Ends with a JPEG/J2K end-of-image marker (FFD9), ignoring trailing zero padding. */
function endsWithEoi(bytes: Uint8Array, f: Fragment): boolean {
  let e = f.start + f.length - 1;
  while (e > f.start && bytes[e] === 0) e--;
  return e > f.start && bytes[e - 1] === 0xff && bytes[e] === 0xd9;
}

/** The compressed bytes of each frame of encapsulated pixel data. */
export function encapsulatedFrames(ds: DicomDataset, tag: string, nFrames: number): Uint8Array[] {
  const { bot, fragments, bytes } = readFragments(ds, tag);
  if (fragments.length === 0) throw new DicomError(ds.file, `encapsulated ${tagLabel(tag)} has no fragments`);
  // Extended Offset Table (7FE0,0001) + lengths (7FE0,0002), 64-bit.
  const eot = ds.bytes('x7fe00001');
  const eotLen = ds.bytes('x7fe00002');
  if (eot && eotLen && eot.length === nFrames * 8 && eotLen.length === nFrames * 8) {
    const dvo = new DataView(eot.buffer, eot.byteOffset, eot.length);
    const dvl = new DataView(eotLen.buffer, eotLen.byteOffset, eotLen.length);
    const firstAt = fragments[0].start - 8;
    return Array.from({ length: nFrames }, (_, i) => {
      const off = Number(dvo.getBigUint64(8 * i, true));
      const len = Number(dvl.getBigUint64(8 * i, true));
      const start = firstAt + off + 8;
      if (start + len > bytes.length) throw new DicomError(ds.file, `extended offset table entry ${i} points past the end of the file`);
      return bytes.subarray(start, start + len);
    });
  }
  if (bot.length === nFrames && nFrames > 0 && bot[0] === 0 && bot.every((v, i) => i === 0 || v > bot[i - 1])) {
    const out: Uint8Array[] = [];
    for (let i = 0; i < nFrames; i++) {
      const lo = bot[i];
      const hi = i + 1 < nFrames ? bot[i + 1] : Infinity;
      const frags = fragments.filter((f) => f.offset >= lo && f.offset < hi);
      if (frags.length === 0) throw new DicomError(ds.file, `basic offset table entry ${i} (${lo}) matches no fragment`);
      out.push(concat(bytes, frags));
    }
    return out;
  }
  if (fragments.length === nFrames) return fragments.map((f) => concat(bytes, [f]));
  if (nFrames === 1) return [concat(bytes, fragments)];
  if (fragments.length < nFrames) {
    throw new DicomError(ds.file, `encapsulated pixel data has ${fragments.length} fragment(s) for ${nFrames} frames and no usable offset table`);
  }
  // No offset table, more fragments than frames: a frame ends at a fragment ending in EOI.
  const out: Uint8Array[] = [];
  let cur: Fragment[] = [];
  for (const f of fragments) {
    cur.push(f);
    if (endsWithEoi(bytes, f)) {
      out.push(concat(bytes, cur));
      cur = [];
    }
  }
  if (cur.length) out.push(concat(bytes, cur));
  if (out.length !== nFrames) throw new DicomError(ds.file, `cannot split ${fragments.length} fragments into ${nFrames} frames (no offset table; found ${out.length} end-of-image markers)`);
  return out;
}

/** Copies decoded codec samples into the output, reconciling sign with PixelRepresentation. */
function placeDecoded(fr: DecodedFrame, pm: PixelModule, out: SampleArray, offset: number, file: string, frameNo: number): void {
  const n = pm.rows * pm.columns * pm.samplesPerPixel;
  if (fr.width !== pm.columns || fr.height !== pm.rows || fr.components !== pm.samplesPerPixel) {
    throw new DicomError(file, `frame ${frameNo + 1} decodes to ${fr.width} × ${fr.height} × ${fr.components} but the header says Columns ${pm.columns}, Rows ${pm.rows}, SamplesPerPixel ${pm.samplesPerPixel}`);
  }
  const src = fr.data;
  if (pm.pixelRepresentation === 1 && !fr.signed) {
    // Unsigned codestream, signed DICOM: reinterpret as two's complement of BitsStored bits.
    const bits = pm.bitsStored;
    const range = 2 ** bits;
    const half = range / 2;
    for (let i = 0; i < n; i++) {
      const v = src[i] % range;
      out[offset + i] = v >= half ? v - range : v;
    }
  } else {
    for (let i = 0; i < n; i++) out[offset + i] = src[i];
  }
}

function isJ2k(ts: string): boolean {
  return ts === UID.JPEG2000 || ts === UID.JPEG2000Lossless || ts === UID.HTJ2K || ts === UID.HTJ2KLossless || ts === UID.HTJ2KLosslessRPCL;
}

function isEncapsulated(ts: string): boolean {
  return ![UID.ImplicitVRLittleEndian, UID.ExplicitVRLittleEndian, UID.ExplicitVRBigEndian, UID.DeflatedExplicitVRLittleEndian].includes(ts as never);
}

/** Decodes the pixel data of one dataset to stored values. */
export function decodePixels(ds: DicomDataset, opts: PixelOptions = {}): DecodedPixels {
  const pm = readPixelModule(ds);
  const ts = ds.transferSyntax;
  const frameList = opts.frames ?? Array.from({ length: pm.frames }, (_, i) => i);
  for (const f of frameList) if (!Number.isInteger(f) || f < 0 || f >= pm.frames) throw new DicomError(ds.file, `frame index ${f} out of range [0, ${pm.frames})`);
  const el = ds.element(pm.pixelTag);
  const encapsulated = el !== undefined && el.hadUndefinedLength === true && isEncapsulated(ts);
  const signed = pm.pixelRepresentation === 1;
  const isFloat = pm.pixelTag !== TAG.PixelData;
  const perFrame = pm.rows * pm.columns * pm.samplesPerPixel;
  let data: SampleArray;
  const notes: string[] = [];
  // Frames whose decoder already turned YCbCr into RGB.
  let colourDone = false;

  if (!encapsulated) {
    if (el?.hadUndefinedLength) throw new DicomError(ds.file, `${tagLabel(pm.pixelTag)} is encapsulated but the transfer syntax ${transferSyntaxName(ts)} is native`);
    if (isEncapsulated(ts) && ts !== UID.EncapsulatedUncompressed) {
      throw new DicomError(ds.file, `transfer syntax ${transferSyntaxName(ts)} requires encapsulated pixel data but ${tagLabel(pm.pixelTag)} has a defined length`);
    }
    const bytes = ds.bytes(pm.pixelTag) as Uint8Array;
    data = unpackNative(bytes, pm, ds.bigEndian, ds.file, frameList);
    if (pm.photometric === 'YBR_FULL_422' && pm.samplesPerPixel === 3 && pm.bitsAllocated === 8) {
      data = expandYbr422(data as Uint8Array, pm.rows, pm.columns, frameList.length, (n) => new Uint8Array(n));
    } else if (pm.planarConfiguration === 1) {
      data = planarToPixel(data, pm, frameList.length);
    }
    maskStored(data, pm);
  } else {
    const frames = encapsulatedFrames(ds, pm.pixelTag, pm.frames);
    data = allocFor(pm.bitsAllocated, signed, isFloat, perFrame * frameList.length);
    const bytesPerSample = pm.bitsAllocated / 8;
    for (let fi = 0; fi < frameList.length; fi++) {
      const f = frameList[fi];
      const frame = frames[f];
      const what = `frame ${f + 1} (${transferSyntaxName(ts)})`;
      try {
        if (ts === UID.RLELossless) {
          if (pm.bitsAllocated === 1) throw new Error('1-bit RLE is not supported');
          const rle = decodeRleFrame(frame, pm.rows, pm.columns, pm.samplesPerPixel, bytesPerSample);
          const native = unpackNative(rle.bytes, { ...pm, frames: 1, planarConfiguration: 0, photometric: 'RGB' }, false, ds.file, [0]);
          data.set(native as never, fi * perFrame);
        } else if (ts === UID.EncapsulatedUncompressed) {
          const native = unpackNative(frame, { ...pm, frames: 1 }, false, ds.file, [0]);
          data.set((pm.planarConfiguration === 1 ? planarToPixel(native, pm, 1) : native) as never, fi * perFrame);
        } else if (isJ2k(ts)) {
          placeDecoded(decodeJ2k(frame), pm, data, fi * perFrame, ds.file, f);
        } else if (ts === UID.JPEGLSLossless || ts === UID.JPEGLSNearLossless) {
          placeDecoded(decodeJpegLs(frame), pm, data, fi * perFrame, ds.file, f);
        } else if (ts === UID.JPEGBaseline || ts === UID.JPEGExtended || ts === UID.JPEGLossless || ts === UID.JPEGLosslessSV1) {
          const fr = decodeJpeg(frame, pm.photometric, { width: pm.columns, height: pm.rows });
          if (fr.colorConverted) colourDone = true;
          placeDecoded(fr, pm, data, fi * perFrame, ds.file, f);
        } else {
          throw new Error(`transfer syntax ${transferSyntaxName(ts)} is not supported`);
        }
      } catch (e) {
        if (e instanceof DicomError) throw e;
        throw new DicomError(ds.file, `${what}: ${(e as Error).message}`);
      }
    }
    if (ts === UID.RLELossless || ts === UID.EncapsulatedUncompressed) maskStored(data, pm);
  }

  let photometric = pm.photometric;
  let samples = pm.samplesPerPixel;
  if (samples === 3) {
    if ((photometric === 'YBR_FULL' || photometric === 'YBR_FULL_422') && !colourDone) {
      ybrFullToRgb(data, pm.bitsStored);
      notes.push(`${photometric} converted to RGB`);
    } else if (photometric === 'YBR_RCT' || photometric === 'YBR_ICT') {
      // JPEG 2000 multi-component transforms are undone by OpenJPEG itself.
      if (!isJ2k(ts)) throw new DicomError(ds.file, `PhotometricInterpretation ${photometric} is only valid with JPEG 2000, not ${transferSyntaxName(ts)}`);
    } else if (photometric !== 'RGB' && !colourDone) {
      throw new DicomError(ds.file, `PhotometricInterpretation ${photometric} with 3 samples per pixel is not supported`);
    }
    photometric = 'RGB';
  } else if (photometric === 'PALETTE COLOR') {
    data = applyPalette(ds, data, pm.pixelRepresentation);
    samples = 3;
    photometric = 'RGB';
    notes.push('PALETTE COLOR mapped to RGB through the palette tables');
  } else if (photometric === 'MONOCHROME1' && opts.invertMonochrome1) {
    invertMonochrome(data, pm.bitsStored, signed);
    photometric = 'MONOCHROME2';
    notes.push('MONOCHROME1 inverted to MONOCHROME2');
  } else if (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
    if (samples === 1) photometric = 'MONOCHROME2';
  }
  return {
    rows: pm.rows,
    columns: pm.columns,
    frames: frameList.length,
    samples,
    data,
    photometric,
    sourcePhotometric: pm.photometric,
    bitsStored: pm.bitsStored,
    signed: signed || isFloat,
    transferSyntax: ts,
    notes,
  };
}

function planarToPixel(data: SampleArray, pm: PixelModule, frames: number): SampleArray {
  const px = pm.rows * pm.columns;
  const out = data.slice(0) as SampleArray;
  for (let f = 0; f < frames; f++) {
    const base = f * px * 3;
    for (let c = 0; c < 3; c++) for (let i = 0; i < px; i++) out[base + i * 3 + c] = data[base + c * px + i];
  }
  return out;
}
