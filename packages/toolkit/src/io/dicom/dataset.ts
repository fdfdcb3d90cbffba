// Reading one DICOM file into a dataset: Part 10 meta header, the data set's
// real encoding, deflate, gzip, and errors that name the file and the element.
//
// Element parsing is dicom-parser's; the file-level decisions are ours because
// real files disagree with their headers: a dataset written implicit VR under
// an explicit transfer syntax (pydicom warns and reads it), files without the
// 128-byte preamble or without any meta group (pydicom's `force=True`), a meta
// group that lacks (0002,0010). We sniff the first data element to find the
// actual VR mode and byte order, exactly once, before handing the bytes over.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import type * as DP from 'dicom-parser';
import { TAG, UID, sopClassName, tagLabel, transferSyntaxName } from './tags.js';

const require = createRequire(import.meta.url);
const dicomParser = require('dicom-parser') as typeof DP & {
  DataSet: new (parser: DP.ByteArrayParser, bytes: Uint8Array, elements: Record<string, DP.Element>) => DP.DataSet;
  ByteStream: new (parser: DP.ByteArrayParser, bytes: Uint8Array, position: number) => DP.ByteStream;
};

/** Errors from the DICOM readers; `file` is the offending file (or folder). */
export class DicomError extends Error {
  override name = 'DicomError';
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
  }
}

/** The largest inflated dataset we accept from a deflated or gzipped file. */
const MAX_INFLATED_BYTES = 2 ** 31;

const VRS = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV']);

/** A parsed DICOM data set with strict, named accessors. */
export class DicomDataset {
  constructor(
    readonly file: string,
    readonly raw: DP.DataSet,
    /** Transfer syntax of the pixel data (declared, or inferred when the meta group lacks it). */
    readonly transferSyntax: string,
    readonly bigEndian: boolean,
    readonly warnings: string[],
  ) {}

  has(tag: string): boolean {
    const el = this.raw.elements[tag];
    return el !== undefined;
  }

  element(tag: string): DP.Element | undefined {
    return this.raw.elements[tag];
  }

  /** Raw value bytes of an element (a view), checked against the file's end. */
  bytes(tag: string): Uint8Array | undefined {
    const el = this.raw.elements[tag];
    if (!el) return undefined;
    const arr = this.raw.byteArray as Uint8Array;
    if (el.dataOffset + el.length > arr.length) {
      throw new DicomError(this.file, `${tagLabel(tag)} declares ${el.length} bytes at offset ${el.dataOffset} but the file ends at ${arr.length}: the file is truncated`);
    }
    return arr.subarray(el.dataOffset, el.dataOffset + el.length);
  }

  /** Text value with trailing padding removed (multi-valued values keep their backslashes). */
  text(tag: string): string | undefined {
    const b = this.bytes(tag);
    if (!b || b.length === 0) return undefined;
    const utf8 = (this.raw.string(TAG.SpecificCharacterSet) ?? '').includes('ISO_IR 192');
    const s = Buffer.from(b.buffer, b.byteOffset, b.length).toString(utf8 ? 'utf8' : 'latin1');
    return s.replace(/[\0 ]+$/, '').replace(/^ +/, '');
  }

  /** Values of a multi-valued string element, each trimmed. */
  strings(tag: string): string[] {
    const t = this.text(tag);
    if (t === undefined) return [];
    return t.split('\\').map((v) => v.trim());
  }

  /** First value of a string element. */
  str(tag: string): string | undefined {
    const v = this.strings(tag)[0];
    return v === undefined || v === '' ? undefined : v;
  }

  /** Decimal/integer string values (DS, IS), strictly parsed; undefined when absent or empty. */
  numbers(tag: string): number[] | undefined {
    const vals = this.strings(tag);
    if (vals.length === 0 || vals.every((v) => v === '')) return undefined;
    return vals.map((v) => {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) {
        throw new DicomError(this.file, `${tagLabel(tag)} has value '${this.text(tag)}', expected number(s)`);
      }
      return n;
    });
  }

  number(tag: string): number | undefined {
    return this.numbers(tag)?.[0];
  }

  /** US value (unsigned 16-bit binary). */
  us(tag: string, index = 0): number | undefined {
    const el = this.raw.elements[tag];
    if (!el || el.length < 2 * (index + 1)) return undefined;
    this.bytes(tag);
    return this.raw.uint16(tag, index);
  }

  /** UL value (unsigned 32-bit binary). */
  ul(tag: string, index = 0): number | undefined {
    const el = this.raw.elements[tag];
    if (!el || el.length < 4 * (index + 1)) return undefined;
    this.bytes(tag);
    return this.raw.uint32(tag, index);
  }

  /** Items of a sequence (empty when absent). */
  sequence(tag: string): DicomDataset[] {
    const el = this.raw.elements[tag];
    if (!el || !el.items) return [];
    return el.items.filter((it) => it.dataSet).map((it) => new DicomDataset(this.file, it.dataSet as DP.DataSet, this.transferSyntax, this.bigEndian, this.warnings));
  }

  /** First item of a sequence. */
  item(tag: string): DicomDataset | undefined {
    return this.sequence(tag)[0];
  }
}

function parserFor(bigEndian: boolean): DP.ByteArrayParser {
  return bigEndian ? dicomParser.bigEndianByteArrayParser : dicomParser.littleEndianByteArrayParser;
}

function u16le(b: Uint8Array, p: number): number { return b[p] | (b[p + 1] << 8); }
function u32le(b: Uint8Array, p: number): number { return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 2 ** 24; }

/** Reads the explicit-VR little-endian group 0002 starting at `pos`; returns its end and elements. */
function readMetaGroup(bytes: Uint8Array, pos: number, file: string): { end: number; elements: Record<string, DP.Element> } {
  const elements: Record<string, DP.Element> = {};
  let p = pos;
  while (p + 8 <= bytes.length && u16le(bytes, p) === 0x0002) {
    const element = u16le(bytes, p + 2);
    const vr = String.fromCharCode(bytes[p + 4], bytes[p + 5]);
    if (!VRS.has(vr)) throw new DicomError(file, `malformed file meta header: element (0002,${element.toString(16).padStart(4, '0').toUpperCase()}) at offset ${p} has no valid VR`);
    let len: number;
    let dataOffset: number;
    if (['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV'].includes(vr)) {
      if (p + 12 > bytes.length) break;
      len = u32le(bytes, p + 8);
      dataOffset = p + 12;
    } else {
      len = u16le(bytes, p + 6);
      dataOffset = p + 8;
    }
    if (len === 0xffffffff || dataOffset + len > bytes.length) {
      throw new DicomError(file, `malformed file meta header: element (0002,${element.toString(16).padStart(4, '0').toUpperCase()}) declares ${len} bytes but the file ends at ${bytes.length}`);
    }
    const tag = `x0002${element.toString(16).padStart(4, '0')}`;
    elements[tag] = { tag, vr, length: len, dataOffset };
    p = dataOffset + len;
  }
  return { end: p, elements };
}

/**
 * Guesses how the data set at `pos` is encoded: explicit or implicit VR, and
 * byte order, from its first element (the group number of a data set's first
 * element is small, and explicit VR puts two upper-case letters at offset 4).
 */
function sniffEncoding(bytes: Uint8Array, pos: number, declaredBigEndian: boolean | undefined): { explicit: boolean; bigEndian: boolean } {
  if (pos + 8 > bytes.length) return { explicit: true, bigEndian: declaredBigEndian ?? false };
  const vr = String.fromCharCode(bytes[pos + 4], bytes[pos + 5]);
  const explicit = VRS.has(vr);
  const groupLE = u16le(bytes, pos);
  const groupBE = (bytes[pos] << 8) | bytes[pos + 1];
  let bigEndian = declaredBigEndian ?? false;
  // Only an explicit data set can be big endian (implicit big endian is retired).
  if (!explicit) bigEndian = false;
  else if (declaredBigEndian === undefined) bigEndian = groupLE > 0x00ff && groupBE <= 0x00ff;
  else if (declaredBigEndian && groupBE > 0x00ff && groupLE <= 0x00ff) bigEndian = false;
  else if (!declaredBigEndian && groupLE > 0x00ff && groupBE <= 0x00ff) bigEndian = true;
  return { explicit, bigEndian };
}

function parseError(e: unknown): string {
  if (typeof e === 'string') return e.replace(/^dicomParser[.:]?\s*/, '');
  if (e && typeof e === 'object' && 'exception' in e) return parseError((e as { exception: unknown }).exception);
  if (e instanceof Error) return e.message;
  return String(e);
}

function lastElement(e: unknown): DP.Element | undefined {
  if (e && typeof e === 'object' && 'dataSet' in e) {
    const ds = (e as { dataSet?: DP.DataSet }).dataSet;
    const els = ds ? Object.values(ds.elements) : [];
    return els[els.length - 1];
  }
  return undefined;
}

export interface ParseOptions {
  /** Stop parsing at this tag (e.g. PixelData for a header-only scan). */
  untilTag?: string;
}

/** Parses DICOM bytes (Part 10, raw data set, deflated or gzipped) into a dataset. */
export function parseDicomBytes(input: Uint8Array, file: string, opts: ParseOptions = {}): DicomDataset {
  let bytes = input;
  const warnings: string[] = [];
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
    } catch (e) {
      throw new DicomError(file, `gzip-compressed file could not be decompressed: ${(e as Error).message}`);
    }
  }
  if (bytes.length < 8) throw new DicomError(file, `not a DICOM file: only ${bytes.length} bytes`);

  let pos = 0;
  let meta: Record<string, DP.Element> = {};
  const hasPreamble = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
  if (hasPreamble) {
    const m = readMetaGroup(bytes, 132, file);
    pos = m.end;
    meta = m.elements;
  } else if (u16le(bytes, 0) === 0x0002 && VRS.has(String.fromCharCode(bytes[4], bytes[5]))) {
    const m = readMetaGroup(bytes, 0, file);
    pos = m.end;
    meta = m.elements;
    warnings.push('no 128-byte preamble / DICM prefix before the file meta group');
  } else if (!looksLikeDataset(bytes)) {
    throw new DicomError(file, 'not a DICOM file: no DICM prefix at offset 128 and the first bytes are not a DICOM data element');
  } else {
    warnings.push('no file meta header (no DICM prefix): transfer syntax inferred from the data set encoding');
  }

  const tsEl = meta[TAG.TransferSyntaxUID];
  let declaredTs = tsEl ? Buffer.from(bytes.buffer, bytes.byteOffset + tsEl.dataOffset, tsEl.length).toString('latin1').replace(/[\0 ]+$/, '').trim() : undefined;
  if (declaredTs === '') declaredTs = undefined;
  if (hasPreamble && !declaredTs) warnings.push('file meta header lacks TransferSyntaxUID (0002,0010): inferred from the data set encoding');

  if (declaredTs === UID.DeflatedExplicitVRLittleEndian) {
    let inflated: Buffer;
    try {
      inflated = zlib.inflateRawSync(bytes.subarray(pos), { maxOutputLength: MAX_INFLATED_BYTES });
    } catch (e) {
      throw new DicomError(file, `deflated data set could not be inflated: ${(e as Error).message}`);
    }
    const whole = new Uint8Array(pos + inflated.length);
    whole.set(bytes.subarray(0, pos), 0);
    whole.set(inflated, pos);
    bytes = whole;
  }

  const declaredBigEndian = declaredTs === undefined ? undefined : declaredTs === UID.ExplicitVRBigEndian;
  const enc = sniffEncoding(bytes, pos, declaredBigEndian);
  let ts = declaredTs;
  const declaredExplicit = declaredTs === undefined ? undefined : declaredTs !== UID.ImplicitVRLittleEndian;
  if (declaredExplicit !== undefined && declaredExplicit !== enc.explicit) {
    warnings.push(`transfer syntax ${transferSyntaxName(declaredTs as string)} says ${declaredExplicit ? 'explicit' : 'implicit'} VR but the data set is encoded ${enc.explicit ? 'explicit' : 'implicit'} VR; read as found`);
  }
  if (declaredBigEndian !== undefined && declaredBigEndian !== enc.bigEndian) {
    warnings.push(`transfer syntax says ${declaredBigEndian ? 'big' : 'little'} endian but the data set is ${enc.bigEndian ? 'big' : 'little'} endian; read as found`);
  }
  if (ts === undefined) ts = enc.bigEndian ? UID.ExplicitVRBigEndian : enc.explicit ? UID.ExplicitVRLittleEndian : UID.ImplicitVRLittleEndian;

  const parser = parserFor(enc.bigEndian);
  const raw = new dicomParser.DataSet(parser, bytes, {});
  raw.warnings = [];
  if (pos < bytes.length) {
    const stream = new dicomParser.ByteStream(parser, bytes, pos);
    try {
      if (enc.explicit) {
        dicomParser.parseDicomDataSetExplicit(raw, stream, bytes.length, opts.untilTag ? { untilTag: opts.untilTag } : undefined);
      } else {
        dicomParser.parseDicomDataSetImplicit(raw, stream, bytes.length, { untilTag: opts.untilTag as string, vrCallback: implicitVr as (tag: string) => string });
      }
    } catch (e) {
      const last = lastElement(e) ?? Object.values(raw.elements).pop();
      const where = last ? ` (last element read: ${tagLabel(last.tag)} at offset ${last.dataOffset})` : '';
      let msg = parseError(e);
      if (/overrun|position|maxPosition|eof/i.test(msg)) msg = `truncated or malformed data set: ${msg}`;
      // Say what the file was meant to be, from the elements read before the failure.
      const partial = new DicomDataset(file, raw, declaredTs ?? '', enc.bigEndian, []);
      let what = '';
      try {
        const sop = partial.str(TAG.SOPClassUID);
        const modality = partial.str(TAG.Modality);
        if (sop || modality) what = ` [SOP class ${sopClassName(sop)}${modality ? `, Modality ${modality}` : ''}]`;
      } catch {
        // the partial data set may itself be unreadable
      }
      throw new DicomError(file, `${msg}${where}${what}`);
    }
  }
  // Merge the meta group so accessors see it (values are read from the same byte array).
  for (const [tag, el] of Object.entries(meta)) raw.elements[tag] = el;
  for (const w of raw.warnings ?? []) warnings.push(w);

  // Implicit VR parsing does not check declared lengths against the file's end.
  for (const el of Object.values(raw.elements)) {
    if (el.dataOffset + el.length > bytes.length && !(opts.untilTag && el.tag === opts.untilTag)) {
      throw new DicomError(file, `${tagLabel(el.tag)} declares ${el.length} bytes at offset ${el.dataOffset} but the file ends at ${bytes.length}: the file is truncated`);
    }
  }
  return new DicomDataset(file, raw, ts, enc.bigEndian, warnings);
}

/** In implicit VR the parser must not mistake encapsulated pixel data for a sequence. */
function implicitVr(tag: string): string | undefined {
  return tag === TAG.PixelData || tag === TAG.FloatPixelData || tag === TAG.DoubleFloatPixelData ? 'OB' : undefined;
}

/** A raw data set starts with an element of a low group (0008 typically) in either byte order. */
function looksLikeDataset(bytes: Uint8Array): boolean {
  const gLE = u16le(bytes, 0);
  const gBE = (bytes[0] << 8) | bytes[1];
  const group = Math.min(gLE, gBE);
  if (group === 0 || group > 0x0010) return false;
  const vr = String.fromCharCode(bytes[4], bytes[5]);
  if (VRS.has(vr)) return true;
  // Implicit VR: a plausible 32-bit length that fits the file.
  const len = u32le(bytes, 4);
  return len === 0xffffffff || len < bytes.length;
}

/** Reads and parses one file. `.gz` content is detected by magic bytes, not the name. */
export function readDicomFile(file: string, opts: ParseOptions = {}): DicomDataset {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DicomError(file, err.code === 'ENOENT' ? 'file not found' : err.code === 'EISDIR' ? 'is a folder, expected a DICOM file' : `cannot read: ${err.message}`);
  }
  return parseDicomBytes(bytes, path.resolve(file), opts);
}
