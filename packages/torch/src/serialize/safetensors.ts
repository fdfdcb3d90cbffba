// safetensors files: an 8-byte little-endian header length N, N bytes of
// JSON ({name: {dtype, shape, data_offsets}, __metadata__?}), then the raw
// little-endian tensor bytes. Reads and writes go tensor by tensor, straight
// between the file and tensor memory, so nothing is ever held twice.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { noGrad } from '../autograd.js';
import { type DType, itemSize } from '../dtype.js';
import { empty } from '../ops/creation.js';
import { type Device, Tensor } from '../tensor.js';

const TO_ST: Partial<Record<DType, string>> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const FROM_ST: Record<string, DType> = Object.fromEntries(Object.entries(TO_ST).map(([k, v]) => [v, k as DType]));

/** Header larger than this is rejected as corrupt (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;
/** Bytes per read/write call; large tensors go in slices. */
const CHUNK = 1 << 28;

export interface SafetensorsEntry {
  dtype: DType;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** Entries in file order (by data offset). */
  tensors: Map<string, SafetensorsEntry>;
  /** Absolute file offset where the data section starts (8 + N). */
  dataStart: number;
}

function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and fully validates the header of an open file before anything is allocated. */
function readHeader(fd: number, path: string): SafetensorsHeader {
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8) throw new Error(`${path}: not a safetensors file: ${fileSize} bytes, too short for the 8-byte header length`);
  const lenBuf = Buffer.alloc(8);
  readFully(fd, lenBuf, 0, path, 'header length');
  const n = lenBuf.readBigUInt64LE(0);
  if (n > BigInt(fileSize - 8)) throw new Error(`${path}: header length ${n} exceeds the file size (${fileSize} bytes): truncated or not a safetensors file`);
  if (n > BigInt(MAX_HEADER)) throw new Error(`${path}: header length ${n} is larger than the ${MAX_HEADER}-byte limit`);
  const headerLen = Number(n);
  const raw = Buffer.alloc(headerLen);
  readFully(fd, raw, 8, path, 'header');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new Error(`${path}: header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: header is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${path}: header must be a JSON object`);

  const dataStart = 8 + headerLen;
  const dataSize = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const list: [string, SafetensorsEntry][] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new Error(`${path}: __metadata__['${k}'] must be a string, got ${v === null ? 'null' : typeof v}`);
      }
      metadata = { ...(value as Record<string, string>) };
      continue;
    }
    const where = `${path}: tensor '${name}'`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where}: entry must be an object with dtype, shape and data_offsets`);
    const e = value as Record<string, unknown>;
    if (typeof e.dtype !== 'string') throw new Error(`${where}: field 'dtype' is missing or not a string`);
    const dtype = FROM_ST[e.dtype];
    if (dtype === undefined) throw new Error(`${where}: field 'dtype' has unsupported value '${e.dtype}' (supported: ${Object.keys(FROM_ST).join(', ')})`);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw new Error(`${where}: field 'shape' must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount)) {
      throw new Error(`${where}: field 'data_offsets' must be [begin, end] with non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) throw new Error(`${where}: field 'data_offsets' [${begin}, ${end}] ends before it begins`);
    const shape = e.shape as number[];
    const numel = shape.reduce((a, b) => a * b, 1);
    const need = numel * itemSize[dtype];
    if (!Number.isSafeInteger(need)) throw new Error(`${where}: field 'shape' [${shape.join(', ')}] is too large`);
    if (end - begin !== need) {
      throw new Error(`${where}: field 'data_offsets' [${begin}, ${end}] spans ${end - begin} bytes, but shape [${shape.join(', ')}] of ${e.dtype} needs ${need}`);
    }
    if (end > dataSize) throw new Error(`${where}: field 'data_offsets' [${begin}, ${end}] is past the end of the data (${dataSize} bytes): truncated file?`);
    list.push([name, { dtype, shape: [...shape], dataOffsets: [begin, end] }]);
  }
  list.sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let prevEnd = 0;
  let prevName = '';
  for (const [name, e] of list) {
    const [begin, end] = e.dataOffsets;
    if (begin === end) continue;
    if (begin < prevEnd) throw new Error(`${path}: tensor '${name}': field 'data_offsets' [${begin}, ${end}] overlaps tensor '${prevName}' (which ends at ${prevEnd})`);
    prevEnd = end;
    prevName = name;
  }
  return { metadata, tensors: new Map(list), dataStart };
}

function readFully(fd: number, into: Uint8Array, position: number, path: string, what: string): void {
  let done = 0;
  while (done < into.byteLength) {
    const want = Math.min(CHUNK, into.byteLength - done);
    const got = readSync(fd, into, done, want, position + done);
    if (got === 0) throw new Error(`${path}: unexpected end of file while reading ${what}`);
    done += got;
  }
}

function writeFully(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.byteLength) {
    done += writeSync(fd, data, done, Math.min(CHUNK, data.byteLength - done));
  }
}

/** Raw bytes of a CPU tensor's memory. */
function bytesOf(t: Tensor): Uint8Array {
  const v = t.dataView();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** The header (metadata and tensor entries) of a safetensors file, without reading any data. */
export function safetensorsHeader(path: string): SafetensorsHeader {
  const fd = openFile(path);
  try {
    return readHeader(fd, path);
  } finally {
    closeSync(fd);
  }
}

function openFile(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    throw new Error(`${path}: cannot open: ${(e as Error).message}`);
  }
}

export interface LoadSafetensorsOptions {
  /** Load only these tensors (all by default); unknown names are an error. */
  names?: readonly string[];
  /** Device to put the tensors on (default 'cpu'). */
  device?: Device;
}

/**
 * Loads tensors from a safetensors file into a Map (file order). The header
 * is validated completely first; each tensor is then read with one
 * positioned read directly into its memory.
 */
export function loadSafetensors(path: string, options: LoadSafetensorsOptions = {}): Map<string, Tensor> {
  assertLittleEndianHost();
  const fd = openFile(path);
  const out = new Map<string, Tensor>();
  try {
    const header = readHeader(fd, path);
    let wanted = [...header.tensors.keys()];
    if (options.names !== undefined) {
      for (const n of options.names) {
        if (!header.tensors.has(n)) {
          const known = [...header.tensors.keys()];
          throw new Error(`${path}: no tensor named '${n}' (the file has ${known.length}: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''})`);
        }
      }
      const set = new Set(options.names);
      wanted = wanted.filter((n) => set.has(n));
    }
    noGrad(() => {
      for (const name of wanted) {
        const e = header.tensors.get(name)!;
        let t = empty(e.shape, { dtype: e.dtype });
        out.set(name, t);
        if (t.numel() > 0) readFully(fd, bytesOf(t), header.dataStart + e.dataOffsets[0], path, `tensor '${name}'`);
        if (options.device !== undefined && options.device !== 'cpu') {
          const moved = t.to({ device: options.device });
          t.dispose();
          t = moved;
          out.set(name, t);
        }
      }
    });
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw e;
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * Writes tensors to a safetensors file. Tensors are written one at a time
 * (non-contiguous or CUDA tensors are made contiguous on the CPU first),
 * ordered by item size then name so every tensor is aligned. The file is
 * written under a temporary name in the same folder, fsynced, then renamed:
 * the final name never holds a partial file.
 */
export function saveSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  assertLittleEndianHost();
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const seen = new Set<string>();
  const plan = entries.map(([name, t]) => {
    if (typeof name !== 'string') throw new TypeError(`saveSafetensors(${path}): tensor names must be strings, got ${typeof name}`);
    if (name === '__metadata__') throw new RangeError(`saveSafetensors(${path}): '__metadata__' is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new RangeError(`saveSafetensors(${path}): duplicate tensor name '${name}'`);
    seen.add(name);
    if (!(t instanceof Tensor)) throw new TypeError(`saveSafetensors(${path}): '${name}' is not a Tensor`);
    const st = TO_ST[t.dtype];
    if (st === undefined) throw new TypeError(`saveSafetensors(${path}): tensor '${name}' has dtype ${t.dtype}, which safetensors cannot store`);
    return { name, t, st, shape: t.shape, bytes: t.numel() * itemSize[t.dtype], align: itemSize[t.dtype] };
  });
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`saveSafetensors(${path}): metadata['${k}'] must be a string, got ${typeof v}`);
    }
  }
  plan.sort((a, b) => b.align - a.align || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const p of plan) {
    header[p.name] = { dtype: p.st, shape: p.shape, data_offsets: [offset, offset + p.bytes] };
    offset += p.bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));

  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch (e) {
    throw new Error(`saveSafetensors(${path}): cannot create a file in ${dirname(path)}: ${(e as Error).message}`);
  }
  let ok = false;
  try {
    writeFully(fd, prefix);
    writeFully(fd, json);
    noGrad(() => {
      for (const p of plan) {
        if (p.bytes === 0) continue;
        const onCpu = p.t.device === 'cpu' && p.t.isContiguous() ? p.t : contiguousCpu(p.t);
        try {
          writeFully(fd, bytesOf(onCpu));
        } finally {
          if (onCpu !== p.t) onCpu.dispose();
        }
      }
    });
    fsyncSync(fd);
    ok = true;
  } finally {
    closeSync(fd);
    if (!ok) {
      try {
        unlinkSync(tmp);
      } catch {
        // the temp file is already gone
      }
    }
  }
  renameSync(tmp, path);
  syncDir(dirname(path));
}

function contiguousCpu(t: Tensor): Tensor {
  const c = t.contiguous();
  if (c.device === 'cpu') return c;
  const cpu = c.to({ device: 'cpu' });
  c.dispose();
  return cpu;
}

/** Makes the rename durable; not every platform lets a directory be fsynced. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
