// Compressed-frame decoders: libjpeg-turbo (8-bit DCT JPEG), CharLS (JPEG-LS)
// and OpenJPEG (JPEG 2000, HTJ2K) as Emscripten WebAssembly modules from the
// @cornerstonejs codec packages, plus jpeg-lossless-decoder-js (JPEG process
// 14) and our own 12-bit DCT decoder.
//
// The wasm modules are instantiated synchronously (WebAssembly.Module +
// Emscripten's `instantiateWasm` hook) so the DICOM readers can stay
// synchronous. Each module is compiled once, lazily, on first use and reused;
// a module that traps is dropped and rebuilt on the next call.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { decodeJpegDct } from './jpeg-dct.js';

const require = createRequire(import.meta.url);

// The WebAssembly JS API (Node's global); declared here because the
// project's lib settings do not include the DOM typings that describe it.
interface WasmModule { readonly __wasmModule?: never }
interface WasmInstance { exports: unknown }
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => WasmInstance;
  RuntimeError: new (message?: string) => Error;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** What every decoder returns: interleaved samples, little-endian when > 8 bits. */
export interface DecodedFrame {
  width: number;
  height: number;
  components: number;
  /** Bits per sample as stored in the codestream (precision). */
  bitsPerSample: number;
  /** True when the codestream itself says its samples are signed (JPEG 2000 only). */
  signed: boolean;
  /** 8-bit samples in a Uint8Array, wider ones as 16-bit words in a Uint16Array (or Int16Array when signed). */
  data: Uint8Array | Uint16Array | Int16Array;
  /** True when the decoder converted YCbCr to RGB (libjpeg's colour transform). */
  colorConverted?: boolean;
}

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getInterleaveMode?(): number;
  delete(): void;
}

interface EmscriptenModule {
  [cls: string]: unknown;
  getExceptionMessage?: (ptr: number) => string | string[];
}

interface CodecSpec {
  pkg: string;
  cls: string;
}

const SPECS = {
  jpeg: { pkg: '@cornerstonejs/codec-libjpeg-turbo-8bit', cls: 'JPEGDecoder' },
  jpegls: { pkg: '@cornerstonejs/codec-charls', cls: 'JpegLSDecoder' },
  j2k: { pkg: '@cornerstonejs/codec-openjpeg', cls: 'J2KDecoder' },
} satisfies Record<string, CodecSpec>;
type CodecName = keyof typeof SPECS;

interface LoadedCodec {
  module: EmscriptenModule;
  /** Messages the C library printed during the last decode (OpenJPEG reports errors this way). */
  log: string[];
}

const loaded = new Map<CodecName, LoadedCodec>();
const compiled = new Map<CodecName, WasmModule>();

function loadCodec(name: CodecName): LoadedCodec {
  const have = loaded.get(name);
  if (have) return have;
  const spec = SPECS[name];
  let factory: (arg: object) => Promise<unknown>;
  let wasm = compiled.get(name);
  try {
    factory = require(`${spec.pkg}/decodewasmjs`) as (arg: object) => Promise<unknown>;
    if (!wasm) {
      wasm = new WA.Module(fs.readFileSync(require.resolve(`${spec.pkg}/decodewasm`)));
      compiled.set(name, wasm);
    }
  } catch (e) {
    throw new Error(`cannot load the ${spec.pkg} decoder: ${(e as Error).message}`);
  }
  const log: string[] = [];
  const compiledWasm: WasmModule = wasm;
  const arg: EmscriptenModule = {
    print: (s: string) => log.push(s),
    printErr: (s: string) => log.push(s),
    instantiateWasm(imports: object, done: (i: WasmInstance, m: WasmModule) => void) {
      const inst = new WA.Instance(compiledWasm, imports);
      done(inst, compiledWasm);
      return inst.exports;
    },
  };
  // The factory fills `arg` in place; with a synchronous instantiateWasm the
  // runtime (and the embind classes) are ready when it returns.
  void factory(arg).catch(() => undefined);
  if (typeof arg[spec.cls] !== 'function') throw new Error(`the ${spec.pkg} decoder did not initialise synchronously`);
  const codec = { module: arg, log };
  loaded.set(name, codec);
  return codec;
}

function exceptionText(codec: LoadedCodec, e: unknown): string {
  if (typeof e === 'number' && codec.module.getExceptionMessage) {
    try {
      const m = codec.module.getExceptionMessage(e);
      const s = Array.isArray(m) ? m.filter(Boolean).join(': ') : m;
      if (s) return s;
    } catch {
      // fall through
    }
  }
  if (e instanceof Error) return e.message;
  return codec.log.length ? codec.log.join('; ') : String(e);
}

function runWasm(name: CodecName, data: Uint8Array, what: string): DecodedFrame {
  const codec = loadCodec(name);
  codec.log.length = 0;
  const Ctor = codec.module[SPECS[name].cls] as new () => WasmDecoder;
  let dec: WasmDecoder | undefined;
  try {
    dec = new Ctor();
    dec.getEncodedBuffer(data.length).set(data);
    dec.decode();
    const info = dec.getFrameInfo();
    if (!info.width || !info.height || !info.componentCount) {
      throw new Error(codec.log.length ? codec.log.join('; ') : 'decoder produced no image');
    }
    const bytesPer = info.bitsPerSample > 8 ? 2 : 1;
    const n = info.width * info.height * info.componentCount;
    const out = dec.getDecodedBuffer();
    if (out.length < n * bytesPer) throw new Error(`decoder returned ${out.length} bytes, expected ${n * bytesPer}`);
    let bytes: Uint8Array = out.slice(0, n * bytesPer);
    // CharLS returns plane-by-plane samples for interleave mode 0 (none).
    if (name === 'jpegls' && info.componentCount > 1 && dec.getInterleaveMode && dec.getInterleaveMode() === 0) {
      bytes = planarToInterleaved(bytes, info.width * info.height, info.componentCount, bytesPer);
    }
    const signed = Boolean(info.isSigned);
    const data16 = bytesPer === 2 ? (signed ? new Int16Array(bytes.buffer, 0, n) : new Uint16Array(bytes.buffer, 0, n)) : bytes;
    return { width: info.width, height: info.height, components: info.componentCount, bitsPerSample: info.bitsPerSample, signed, data: data16 };
  } catch (e) {
    if (e instanceof WA.RuntimeError) loaded.delete(name); // the instance may be corrupt
    throw new Error(`${what} decoding failed: ${exceptionText(codec, e)}`);
  } finally {
    try {
      dec?.delete();
    } catch {
      loaded.delete(name);
    }
  }
}

function planarToInterleaved(b: Uint8Array, pixels: number, comps: number, bytesPer: number): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let c = 0; c < comps; c++) {
    for (let i = 0; i < pixels; i++) {
      for (let k = 0; k < bytesPer; k++) out[(i * comps + c) * bytesPer + k] = b[(c * pixels + i) * bytesPer + k];
    }
  }
  return out;
}

/** JPEG 2000 / HTJ2K codestream or JP2 file. */
export function decodeJ2k(data: Uint8Array): DecodedFrame {
  return runWasm('j2k', data, 'JPEG 2000');
}

/** JPEG-LS (lossless or near-lossless). */
export function decodeJpegLs(data: Uint8Array): DecodedFrame {
  return runWasm('jpegls', data, 'JPEG-LS');
}

interface LosslessDecoder {
  decode(buffer: ArrayBufferLike, offset: number, length: number): ArrayBuffer | Uint8Array | Uint16Array;
  numComp: number;
  xDim: number;
  yDim: number;
  precision?: number;
  frame?: { precision: number };
}

let losslessCtor: (new () => LosslessDecoder) | undefined;

function decodeJpegLossless(data: Uint8Array): DecodedFrame {
  if (!losslessCtor) losslessCtor = (require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder }).Decoder;
  const dec = new losslessCtor();
  let out: ArrayBuffer | Uint8Array | Uint16Array;
  try {
    // The decoder reads through an ArrayBuffer; give it a private copy
    // (Buffer#slice would return a view of Node's shared pool).
    const copy = new Uint8Array(data);
    out = dec.decode(copy.buffer, 0, copy.length);
  } catch (e) {
    throw new Error(`JPEG lossless decoding failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const precision = dec.precision ?? dec.frame?.precision ?? 8;
  const n = dec.xDim * dec.yDim * dec.numComp;
  const bytes = out instanceof ArrayBuffer ? new Uint8Array(out) : new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const bytesPer = precision > 8 ? 2 : 1;
  if (bytes.length < n * bytesPer) throw new Error(`JPEG lossless decoding failed: got ${bytes.length} bytes, expected ${n * bytesPer}`);
  const own = bytes.slice(0, n * bytesPer);
  return {
    width: dec.xDim,
    height: dec.yDim,
    components: dec.numComp,
    bitsPerSample: precision,
    signed: false,
    data: bytesPer === 2 ? new Uint16Array(own.buffer, 0, n) : own,
  };
}

/** The JPEG process a stream uses and its frame size, from its first SOF marker. */
export function jpegProcess(data: Uint8Array): { sof: number; precision: number; height: number; width: number } | undefined {
  let p = 2;
  while (p + 4 < data.length) {
    if (data[p] !== 0xff) {
      p++;
      continue;
    }
    const m = data[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    if ((m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xf7) {
      return { sof: m, precision: data[p + 4], height: (data[p + 5] << 8) | data[p + 6], width: (data[p + 7] << 8) | data[p + 8] };
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      p += 2;
      continue;
    }
    if (m === 0xda) return undefined;
    p += 2 + ((data[p + 2] << 8) | data[p + 3]);
  }
  return undefined;
}

interface JpegMarkers {
  jfif: boolean;
  /** Adobe APP14 transform flag (0 = none/RGB, 1 = YCbCr), when present. */
  adobeTransform?: number;
  componentIds: number[];
}

/** The markers libjpeg uses to decide whether a 3-component stream is YCbCr. */
function jpegMarkers(d: Uint8Array): JpegMarkers {
  const out: JpegMarkers = { jfif: false, componentIds: [] };
  let p = 2;
  while (p + 4 <= d.length) {
    if (d[p] !== 0xff) break;
    const m = d[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0xda || m === 0xd9) break;
    const len = (d[p + 2] << 8) | d[p + 3];
    const q = p + 4;
    if (m === 0xe0 && len >= 7 && String.fromCharCode(d[q], d[q + 1], d[q + 2], d[q + 3]) === 'JFIF') out.jfif = true;
    if (m === 0xee && len >= 14 && String.fromCharCode(d[q], d[q + 1], d[q + 2], d[q + 3], d[q + 4]) === 'Adobe') out.adobeTransform = d[q + 11];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      const nc = d[q + 5];
      for (let i = 0; i < nc; i++) out.componentIds.push(d[q + 6 + 3 * i]);
    }
    p += 2 + len;
  }
  return out;
}

/** libjpeg's rule (jdapimin.c default_decompress_parms) for treating 3 components as YCbCr. */
function libjpegConvertsYcc(m: JpegMarkers): boolean {
  if (m.componentIds.length !== 3) return false;
  if (m.jfif) return true;
  if (m.adobeTransform !== undefined) return m.adobeTransform !== 0;
  const [a, b, c] = m.componentIds;
  return !(a === 82 && b === 71 && c === 66);
}

/**
 * Makes libjpeg keep the samples as they are: an Adobe APP14 segment with
 * transform 0 is inserted and any JFIF APP0 is renamed to APP15 (ignored).
 */
function withoutColorTransform(d: Uint8Array): Uint8Array {
  const adobe = Uint8Array.from([0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const out = new Uint8Array(d.length + adobe.length);
  out.set(d.subarray(0, 2), 0);
  out.set(adobe, 2);
  out.set(d.subarray(2), 2 + adobe.length);
  let p = 2 + adobe.length;
  while (p + 4 <= out.length && out[p] === 0xff) {
    const m = out[p + 1];
    if (m === 0xda) break;
    if (m === 0xe0) out[p + 1] = 0xef;
    p += 2 + ((out[p + 2] << 8) | out[p + 3]);
  }
  return out;
}

/**
 * Any ISO 10918 JPEG or JPEG-LS stream: the decoder is picked from the stream's
 * own SOF marker, so a mislabelled transfer syntax still decodes.
 * `photometric` is the dataset's PhotometricInterpretation: with 'RGB' the
 * samples are never colour-transformed unless an Adobe marker asks for it
 * (DICOM PS3.5 8.2.1; pydicom does the same), otherwise libjpeg's rules apply
 * and `colorConverted` says whether YCbCr was turned into RGB.
 */
export function decodeJpeg(data: Uint8Array, photometric = '', expect?: { width: number; height: number }): DecodedFrame {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) throw new Error('JPEG decoding failed: the frame does not start with an SOI marker (0xFFD8)');
  const proc = jpegProcess(data);
  if (!proc) throw new Error('JPEG decoding failed: no frame header (SOF marker) found');
  // Check the frame size before any decoder allocates for it.
  if (expect && proc.sof !== 0xf7 && (proc.width !== expect.width || proc.height !== expect.height)) {
    throw new Error(`JPEG frame is ${proc.width} × ${proc.height} but the header says Columns ${expect.width}, Rows ${expect.height}`);
  }
  if (proc.sof === 0xf7) return decodeJpegLs(data);
  if (proc.sof === 0xc3 || proc.sof === 0xc7) return decodeJpegLossless(data);
  if ((proc.sof === 0xc0 || proc.sof === 0xc1 || proc.sof === 0xc2) && proc.precision === 8) {
    const markers = jpegMarkers(data);
    let stream = data;
    let converts = libjpegConvertsYcc(markers);
    if (converts && photometric === 'RGB' && markers.adobeTransform === undefined) {
      stream = withoutColorTransform(data);
      converts = false;
    }
    return { ...runWasm('jpeg', stream, 'JPEG'), colorConverted: converts };
  }
  if ((proc.sof === 0xc0 || proc.sof === 0xc1) && proc.precision === 12) {
    try {
      const img = decodeJpegDct(data);
      return { width: img.width, height: img.height, components: img.components, bitsPerSample: img.precision, signed: false, data: img.data };
    } catch (e) {
      throw new Error(`JPEG (12-bit) decoding failed: ${(e as Error).message}`);
    }
  }
  throw new Error(`JPEG decoding failed: SOF${proc.sof - 0xc0} with ${proc.precision}-bit samples is not supported`);
}
