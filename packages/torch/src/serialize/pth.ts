// PyTorch checkpoints written by torch.save (the zip format of PyTorch >= 1.6):
// a zip with <archive>/data.pkl, raw storages under <archive>/data/<key>, and
// <archive>/version. The pickle runs in a restricted interpreter that only
// knows tensors, storages and plain containers, so loading never runs code.
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { noGrad } from '../autograd.js';
import { type DType, itemSize } from '../dtype.js';
import { empty } from '../ops/creation.js';
import { type Device, Tensor, callT, op } from '../tensor.js';
import { PyCallable, unpickle } from './pickle.js';
import { ZipReader } from './zip.js';

/** What loadPth returns: Python values mapped to JS (dict → Map, list/tuple → array). */
export type PthValue = Tensor | number | bigint | string | boolean | null | Uint8Array | PthValue[] | Map<PthKey, PthValue> | Set<PthValue>;
export type PthKey = string | number | bigint | boolean | null | PthValue[];

export interface LoadPthOptions {
  /** Device for every tensor (default 'cpu', whatever device they were saved from). */
  device?: Device;
}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', LongStorage: 'int64', IntStorage: 'int32',
  ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool', ComplexFloatStorage: 'complex64', ComplexDoubleStorage: 'complex128',
};

const TORCH_DTYPES: Record<string, DType> = {
  float32: 'float32', float: 'float32', float64: 'float64', double: 'float64', float16: 'float16', half: 'float16', bfloat16: 'bfloat16',
  int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
  complex64: 'complex64', cfloat: 'complex64', complex128: 'complex128', cdouble: 'complex128',
};

/** A storage class named in a persistent id (torch.FloatStorage, ...). */
class StorageType {
  constructor(readonly name: string, readonly dtype: DType) {}
}

/** A storage referenced by a persistent id, materialized on first use. */
class StorageRef {
  constructor(readonly key: string, readonly dtype: DType, readonly location: string, readonly numel: number) {}
}

/** torch.Tensor / nn.Parameter as the class argument of _rebuild_from_type_v2. */
class TensorClass {
  constructor(readonly name: string) {}
}

/** A numpy dtype (for numpy scalars, as nnU-Net's logs hold). */
class NumpyDType {
  byteorder = '<';
  constructor(readonly code: string) {}
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

class PthLoader {
  private readonly storages = new Map<string, Tensor>();
  private readonly bigEndian: boolean;

  constructor(
    private readonly path: string,
    private readonly zip: ZipReader,
    private readonly prefix: string,
    private readonly device: Device,
  ) {
    const bo = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim() : 'little';
    if (bo !== 'little' && bo !== 'big') throw new Error(`${path}: unknown byteorder '${bo}' in the archive`);
    this.bigEndian = bo === 'big';
  }

  private refuse(module: string, name: string): never {
    const hint = module.startsWith('torch.nn.modules.') ? '; the file holds a whole pickled nn.Module: save model.state_dict() in PyTorch instead' : '';
    throw new Error(`${this.path}: refusing to load global '${module}.${name}': only tensors and plain containers are allowed${hint}`);
  }

  findGlobal = (module: string, name: string): unknown => {
    const q = `${module}.${name}`;
    switch (q) {
      case 'collections.OrderedDict':
        return new PyCallable(q, (args) => {
          const m = new Map<unknown, unknown>();
          if (args.length > 0 && Array.isArray(args[0])) for (const kv of args[0]) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
          return m;
        });
      case 'torch._utils._rebuild_tensor_v2':
      case 'torch._utils._rebuild_tensor':
        return new PyCallable(q, (args) => this.rebuildTensor(args));
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        return new PyCallable(q, (args) => {
          if (!(args[0] instanceof Tensor)) throw new Error(`${this.path}: ${q} expects a tensor`);
          return args[0];
        });
      case 'torch._tensor._rebuild_from_type_v2':
        return new PyCallable(q, (args) => {
          const [fn, cls, fnArgs] = args;
          if (!(fn instanceof PyCallable) || !(cls instanceof TensorClass) || !Array.isArray(fnArgs)) throw new Error(`${this.path}: ${q}: unexpected arguments`);
          return fn.call(fnArgs);
        });
      case 'torch.Tensor':
      case 'torch._tensor.Tensor':
      case 'torch.nn.parameter.Parameter':
        return new TensorClass(q);
      case 'torch.device':
        return new PyCallable(q, (args) => (args.length > 1 && args[1] !== null ? `${String(args[0])}:${String(args[1])}` : String(args[0])));
      case 'torch.Size':
        return new PyCallable(q, (args) => (Array.isArray(args[0]) ? [...args[0]] : []));
      case 'numpy.dtype':
        return new PyCallable(q, (args) => new NumpyDType(String(args[0])));
      case 'numpy.core.multiarray.scalar':
      case 'numpy._core.multiarray.scalar':
        return new PyCallable(q, (args) => this.numpyScalar(args));
      case '_codecs.encode':
        return new PyCallable(q, (args) => {
          if (typeof args[0] !== 'string' || (args[1] !== 'latin1' && args[1] !== 'latin-1')) throw new Error(`${this.path}: _codecs.encode: only latin1-encoded bytes are supported`);
          return Uint8Array.from(args[0], (c) => c.charCodeAt(0));
        });
      default:
        break;
    }
    if (module === 'torch' && name in STORAGE_DTYPES) return new StorageType(name, STORAGE_DTYPES[name]);
    if (module === 'torch' && name in TORCH_DTYPES) return TORCH_DTYPES[name];
    return this.refuse(module, name);
  };

  persistentLoad = (pid: unknown): unknown => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new Error(`${this.path}: unsupported persistent id ${JSON.stringify(String(pid))}`);
    const [, type, key, location, numel] = pid;
    if (!(type instanceof StorageType)) throw new Error(`${this.path}: persistent id names an unknown storage type`);
    if (typeof key !== 'string' || typeof location !== 'string' || !isInt(numel) || numel < 0) throw new Error(`${this.path}: malformed storage reference for key ${String(key)}`);
    return new StorageRef(key, type.dtype, location, numel);
  };

  build = (obj: unknown, state: unknown): unknown => {
    if (obj instanceof NumpyDType) {
      if (Array.isArray(state) && typeof state[1] === 'string') obj.byteorder = state[1];
      return obj;
    }
    throw new Error(`${this.path}: cannot restore the state of ${obj instanceof Tensor ? 'a tensor' : typeof obj}: only tensors and plain containers are allowed`);
  };

  /** The whole storage as a flat tensor on the target device, read once per key. */
  private storage(ref: StorageRef): Tensor {
    const cached = this.storages.get(ref.key);
    if (cached !== undefined) {
      if (cached.dtype !== ref.dtype) throw new Error(`${this.path}: storage '${ref.key}' is used with two dtypes (${cached.dtype}, ${ref.dtype})`);
      return cached;
    }
    const entry = `${this.prefix}data/${ref.key}`;
    const e = this.zip.entries.get(entry);
    if (e === undefined) throw new Error(`${this.path}: the archive has no storage '${entry}' (truncated or corrupt checkpoint)`);
    const bytes = ref.numel * itemSize[ref.dtype];
    if (e.uncompressedSize !== bytes) {
      throw new Error(`${this.path}: storage '${entry}' holds ${e.uncompressedSize} bytes, but ${ref.numel} × ${ref.dtype} needs ${bytes}`);
    }
    let t = empty([ref.numel], { dtype: ref.dtype });
    if (bytes > 0) {
      const mem = t.dataView();
      const view = new Uint8Array(mem.buffer, mem.byteOffset, mem.byteLength);
      this.zip.read(entry, view);
      const size = itemSize[ref.dtype];
      if (this.bigEndian !== (endianness() === 'BE') && size > 1) {
        const b = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
        // complex numbers swap per component
        const unit = ref.dtype === 'complex64' ? 4 : ref.dtype === 'complex128' ? 8 : size;
        if (unit === 2) b.swap16();
        else if (unit === 4) b.swap32();
        else b.swap64();
      }
    }
    if (this.device !== 'cpu') {
      const moved = t.to({ device: this.device });
      t.dispose();
      t = moved;
    }
    this.storages.set(ref.key, t);
    return t;
  }

  private rebuildTensor(args: unknown[]): Tensor {
    const [ref, offset, size, stride] = args;
    if (!(ref instanceof StorageRef)) throw new Error(`${this.path}: _rebuild_tensor expects a storage as its first argument`);
    const where = `${this.path}: tensor on storage '${ref.key}'`;
    if (!isInt(offset) || offset < 0) throw new Error(`${where}: bad storage offset ${String(offset)}`);
    if (!Array.isArray(size) || !size.every((s) => isInt(s) && s >= 0)) throw new Error(`${where}: bad size ${JSON.stringify(size)}`);
    if (!Array.isArray(stride) || stride.length !== size.length || !stride.every((s) => isInt(s) && s >= 0)) {
      throw new Error(`${where}: bad stride ${JSON.stringify(stride)} for size [${(size as number[]).join(', ')}]`);
    }
    const sz = size as number[];
    const st = stride as number[];
    if (!sz.includes(0)) {
      const last = sz.reduce((acc, s, i) => acc + (s - 1) * st[i], offset);
      if (last >= ref.numel) throw new Error(`${where}: size [${sz.join(', ')}], stride [${st.join(', ')}] and offset ${offset} reach element ${last}, past the storage's ${ref.numel} elements`);
    }
    const base = this.storage(ref);
    return noGrad(() => callT(op('as_strided'), [base, sz, st, offset]));
  }

  private numpyScalar(args: unknown[]): number | bigint | boolean {
    const [dt, raw] = args;
    if (!(dt instanceof NumpyDType) || !(raw instanceof Uint8Array)) throw new Error(`${this.path}: numpy scalar with unexpected arguments`);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const le = dt.byteorder !== '>';
    const code = dt.code;
    const need: Record<string, number> = { f8: 8, f4: 4, f2: 2, i8: 8, i4: 4, i2: 2, i1: 1, u8: 8, u4: 4, u2: 2, u1: 1, b1: 1 };
    if (!(code in need)) throw new Error(`${this.path}: numpy scalars of dtype '${code}' are not supported`);
    if (raw.byteLength !== need[code]) throw new Error(`${this.path}: numpy '${code}' scalar has ${raw.byteLength} bytes`);
    const small = (x: bigint): number | bigint => (x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x);
    switch (code) {
      case 'f8': return v.getFloat64(0, le);
      case 'f4': return v.getFloat32(0, le);
      case 'f2': return halfToNumber(v.getUint16(0, le));
      case 'i8': return small(v.getBigInt64(0, le));
      case 'i4': return v.getInt32(0, le);
      case 'i2': return v.getInt16(0, le);
      case 'i1': return v.getInt8(0);
      case 'u8': return small(v.getBigUint64(0, le));
      case 'u4': return v.getUint32(0, le);
      case 'u2': return v.getUint16(0, le);
      case 'u1': return v.getUint8(0);
      default: return v.getUint8(0) !== 0;
    }
  }

  /** @internal the flat storage tensors, disposed once the views exist. */
  releaseStorages(): void {
    for (const t of this.storages.values()) t.dispose();
    this.storages.clear();
  }
}

function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Says what a non-zip file is, for a clear error. */
function sniff(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`${path}: cannot open: ${(e as Error).message}`);
  }
  const head = Buffer.alloc(512);
  let n: number;
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return null;
  if (n >= 2 && head[0] === 0x80 && head[1] <= 5) {
    return `${path}: this is the legacy torch.save format (_use_new_zipfile_serialization=False), which loadPth does not read; re-save it with torch.save(obj, path) from PyTorch >= 1.6 (the default zip format)`;
  }
  if (n >= 262 && head.toString('latin1', 257, 262) === 'ustar') {
    return `${path}: this is the tar-based torch.save format of PyTorch < 0.4; re-save it with torch.save(obj, path) from PyTorch >= 1.6`;
  }
  if (n === 0) return `${path}: the file is empty`;
  return null;
}

/** Finds the archive folder: torch.save writes everything under one top-level directory. */
function archivePrefix(path: string, zip: ZipReader): string {
  const pkl = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
  if (pkl.length === 0) {
    const names = [...zip.entries.keys()];
    if (names.some((n) => n.endsWith('constants.pkl') || /\/code\//.test(n))) {
      throw new Error(`${path}: this is a TorchScript archive (torch.jit.save); loadPth reads torch.save checkpoints`);
    }
    throw new Error(`${path}: no data.pkl in the zip: not a torch.save checkpoint`);
  }
  if (pkl.length > 1) throw new Error(`${path}: the zip holds several data.pkl (${pkl.join(', ')}): not a torch.save checkpoint`);
  return pkl[0].slice(0, pkl[0].length - 'data.pkl'.length);
}

/**
 * Loads a torch.save checkpoint without running any of its code. Tensors keep
 * their dtype, shape, strides and storage sharing (views of one storage stay
 * views); dicts and OrderedDicts become Maps, lists and tuples arrays.
 * Anything but tensors, storages, plain containers, numbers, strings,
 * torch.device/Size/dtype and numpy scalars is refused with an error.
 */
export function loadPth(path: string, options: LoadPthOptions = {}): PthValue {
  const why = sniff(path);
  if (why !== null) throw new Error(why);
  const zip = new ZipReader(path);
  let loader: PthLoader | undefined;
  try {
    const prefix = archivePrefix(path, zip);
    loader = new PthLoader(path, zip, prefix, options.device ?? 'cpu');
    const pkl = zip.read(`${prefix}data.pkl`);
    const l = loader;
    return unpickle(pkl, { source: path, findGlobal: l.findGlobal, persistentLoad: l.persistentLoad, build: l.build }) as PthValue;
  } finally {
    loader?.releaseStorages();
    zip.close();
  }
}

/** Top-level keys under which training scripts commonly nest the model's state dict. */
const WRAPPER_KEYS = ['state_dict', 'model_state_dict', 'network_weights', 'model', 'net', 'network', 'weights', 'module'];

export interface LoadStateDictFromPthOptions extends LoadPthOptions {
  /** Take the state dict from this top-level key instead of guessing. */
  key?: string;
  /** Remove this prefix from every name that has it (e.g. 'module.' from DataParallel). */
  stripPrefix?: string;
}

function isStateDict(v: unknown): v is Map<string, Tensor> {
  if (!(v instanceof Map) || v.size === 0) return false;
  for (const [k, t] of v) if (typeof k !== 'string' || !(t instanceof Tensor)) return false;
  return true;
}

function disposeAll(v: unknown, keep: Set<Tensor>): void {
  if (v instanceof Tensor) {
    if (!keep.has(v)) v.dispose();
  } else if (Array.isArray(v) || v instanceof Set) for (const x of v) disposeAll(x, keep);
  else if (v instanceof Map) for (const x of v.values()) disposeAll(x, keep);
}

/**
 * Loads a model state dict (name → tensor) from a .pth file: either the
 * file's top-level dict, or the dict under `key`, or under one of the usual
 * wrapper keys ('state_dict', 'model_state_dict', 'network_weights', 'model',
 * 'net', 'network', 'weights', 'module'). Other tensors in the file are freed.
 */
export function loadStateDictFromPth(path: string, options: LoadStateDictFromPthOptions = {}): Map<string, Tensor> {
  const obj = loadPth(path, options);
  let sd: Map<string, Tensor> | undefined;
  try {
    if (!(obj instanceof Map)) throw new Error(`${path}: expected a dict at the top level, got ${Array.isArray(obj) ? 'a list' : obj instanceof Tensor ? 'a single tensor' : typeof obj}`);
    if (options.key !== undefined) {
      const v = obj.get(options.key);
      if (v === undefined) throw new Error(`${path}: no top-level key '${options.key}' (keys: ${[...obj.keys()].map(String).join(', ')})`);
      if (!isStateDict(v)) throw new Error(`${path}: '${options.key}' is not a dict of name → tensor`);
      sd = v;
    } else if (isStateDict(obj)) sd = obj as Map<string, Tensor>;
    else {
      for (const k of WRAPPER_KEYS) {
        const v = obj.get(k);
        if (isStateDict(v)) {
          sd = v;
          break;
        }
      }
      if (sd === undefined) {
        const bad = [...obj.entries()].find(([, v]) => !(v instanceof Tensor));
        throw new Error(`${path}: not a state dict: '${String(bad?.[0])}' is not a tensor, and none of the keys ${WRAPPER_KEYS.map((k) => `'${k}'`).join(', ')} holds one (top-level keys: ${[...obj.keys()].map(String).slice(0, 20).join(', ')})`);
      }
    }
  } catch (e) {
    disposeAll(obj, new Set());
    throw e;
  }
  const chosen = sd;
  disposeAll(obj, new Set(chosen.values()));
  const prefix = options.stripPrefix;
  if (prefix === undefined || prefix === '') return chosen;
  return new Map([...chosen].map(([k, t]) => [k.startsWith(prefix) ? k.slice(prefix.length) : k, t]));
}
