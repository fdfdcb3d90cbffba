// The Tensor class and the one path by which TypeScript calls ATen operators.
// Operator groups (math, reductions, shape, functional, ...) live in their own
// modules and add methods to Tensor through declaration merging.
import { type DType, type TypedArray, isDType, typedArrayFor } from './dtype.js';
import { type GeneratorHandle, type Handle, type NativeArg, type NativeResult, native } from './native.js';
import { type Disposable, track } from './scope.js';

export type Scalar = number | boolean;
export type Device = string; // 'cpu', 'cuda', 'cuda:1'
export type MemoryFormat = 'contiguous' | 'channels_last' | 'channels_last_3d' | 'preserve';

/** A random number generator (torch.Generator). */
export class Generator {
  /** @internal */ readonly handle: GeneratorHandle;
  readonly device: Device;
  constructor(seed: number | bigint = 0, device: Device = 'cpu') {
    this.device = device;
    this.handle = native.newGenerator(seed, device);
  }
  manualSeed(seed: number | bigint): this {
    // Reseeding = taking the state of a fresh generator of the same kind.
    const state = native.generatorGetState(native.newGenerator(seed, this.device));
    try {
      native.generatorSetState(this.handle, state);
    } finally {
      native.free(state);
    }
    return this;
  }
  initialSeed(): bigint {
    return native.generatorSeed(this.handle);
  }
  /** The generator's full state as a uint8 tensor (save it to resume a run). */
  getState(): Tensor {
    return new Tensor(native.generatorGetState(this.handle));
  }
  setState(state: Tensor): void {
    native.generatorSetState(this.handle, state.handle);
  }
}

/** Anything the op layer converts for the native schema-driven call. */
export type OpArg = Tensor | Generator | Scalar | string | null | undefined | { float: number } | readonly OpArg[];
export type OpResult = Tensor | number | boolean | string | null | OpResult[];

function toNative(a: OpArg): NativeArg {
  if (a instanceof Tensor) return a.handle;
  if (Array.isArray(a)) return a.map(toNative);
  if (a instanceof Generator) return a.handle;
  return a as NativeArg;
}

// null / undefined keywords are dropped: omitting an optional argument gives
// its schema default, which is None for all but a few whose default acts the
// same (randint's dtype=long, pin_memory=False). Wrappers pass many
// `{ dtype: null }`-style keywords, and a native call without a keyword
// object is markedly cheaper.
function nativeKwargs(kwargs: Record<string, OpArg>): Record<string, NativeArg> | null {
  let out: Record<string, NativeArg> | null = null;
  for (const k in kwargs) {
    const v = kwargs[k];
    if (v === null || v === undefined) continue;
    (out ??= {})[k] = toNative(v);
  }
  return out;
}

// Positional arguments are passed as separate JS arguments; fixed arities
// avoid a spread call, which costs about as much as a small kernel.
function invoke(id: number, args: readonly OpArg[], kwargs: Record<string, OpArg> | undefined, discard: boolean): NativeResult {
  const kw = kwargs === undefined ? null : nativeKwargs(kwargs);
  const c = native.call;
  switch (args.length) {
    case 0: return c(id, kw, discard);
    case 1: return c(id, kw, discard, toNative(args[0]));
    case 2: return c(id, kw, discard, toNative(args[0]), toNative(args[1]));
    case 3: return c(id, kw, discard, toNative(args[0]), toNative(args[1]), toNative(args[2]));
    case 4: return c(id, kw, discard, toNative(args[0]), toNative(args[1]), toNative(args[2]), toNative(args[3]));
    case 5: return c(id, kw, discard, toNative(args[0]), toNative(args[1]), toNative(args[2]), toNative(args[3]), toNative(args[4]));
    default: return c(id, kw, discard, ...args.map(toNative));
  }
}

function wrap(r: NativeResult): OpResult {
  if (r === null || typeof r !== 'object') return r;
  if (Array.isArray(r)) return r.map(wrap);
  return new Tensor(r as Handle);
}

/** A bound ATen operator: positional args in schema order, keyword args by schema name. */
export interface Op {
  (args: readonly OpArg[], kwargs?: Record<string, OpArg>): OpResult;
  readonly id: number;
  readonly schema: string;
  /** Calls for the side effect only (in-place ops), skipping result wrapping. */
  inplace(args: readonly OpArg[], kwargs?: Record<string, OpArg>): void;
}

// name → overload → Op; two levels so the hot path builds no key string.
const opCache = new Map<string, Map<string, Op>>();

/**
 * Looks up an ATen operator by name and overload (as in
 * `torch.ops.aten.add.Tensor`) and returns a callable. Cached per name.
 */
export function op(name: string, overload = ''): Op {
  let byOverload = opCache.get(name);
  let fn = byOverload?.get(overload);
  if (fn) return fn;
  const id = native.opId(name, overload);
  const call = (args: readonly OpArg[], kwargs?: Record<string, OpArg>): OpResult => wrap(invoke(id, args, kwargs, false));
  fn = Object.assign(call, {
    id,
    get schema() {
      return native.opSchema(id);
    },
    inplace(args: readonly OpArg[], kwargs?: Record<string, OpArg>): void {
      invoke(id, args, kwargs, true);
    },
  });
  if (!byOverload) opCache.set(name, (byOverload = new Map()));
  byOverload.set(overload, fn);
  return fn;
}

/** Calls an operator that returns one tensor. */
export function callT(o: Op, args: readonly OpArg[], kwargs?: Record<string, OpArg>): Tensor {
  return o(args, kwargs) as Tensor;
}

/** Calls an operator that returns several tensors. */
export function callTs(o: Op, args: readonly OpArg[], kwargs?: Record<string, OpArg>): Tensor[] {
  return o(args, kwargs) as Tensor[];
}

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
  /** Accumulate only into these leaves. */
  inputs?: Tensor[];
}

export interface ToOptions {
  dtype?: DType;
  device?: Device;
  nonBlocking?: boolean;
  copy?: boolean;
  memoryFormat?: MemoryFormat;
}

const ops = {
  detach: () => op('detach'),
  detach_: () => op('detach_'),
  item: () => op('item'),
  clone: () => op('clone'),
  to: () => op('to', 'dtype_layout'),
  contiguous: () => op('contiguous'),
};

// Safety net for tensors that no scope owns and nobody disposed: release the
// native tensor when the wrapper is garbage-collected. Registration is lazy
// (only such tensors pay for it), so hot loops inside tidy() skip it.
const finalizer = new FinalizationRegistry<Handle>((h) => native.free(h));

// Registration itself is deferred and batched: most unscoped temporaries are
// disposed within microseconds, and those never pay for it.
let pending: Tensor[] = [];
let flushScheduled = false;

function flushPending(): void {
  const batch = pending;
  pending = [];
  flushScheduled = false;
  for (const t of batch) {
    if (t._h !== null && !t._armed) {
      t._armed = true;
      finalizer.register(t, t._h, t);
    }
  }
}

function armLater(t: Tensor): void {
  pending.push(t);
  if (pending.length >= 256) flushPending();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushPending).unref();
  }
}

/** A multi-dimensional array on a device, with autograd (torch.Tensor). */
export class Tensor implements Disposable {
  /** @internal */ _h: Handle | null;
  /** @internal */ _kept = false;
  /** @internal registered with the finalizer */ _armed = false;

  /** @internal wraps a native handle; use the creation functions instead. */
  constructor(handle: Handle) {
    this._h = handle;
    track(this);
  }

  /** @internal the native handle; throws if disposed. */
  get handle(): Handle {
    if (this._h === null) throw new Error('tensor used after dispose()');
    return this._h;
  }

  // ---- metadata -----------------------------------------------------------
  get shape(): number[] {
    return native.shape(this.handle);
  }
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    const s = this.shape;
    if (dim === undefined) return s;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`size(${dim}): dimension out of range for a ${s.length}-d tensor`);
    return s[d];
  }
  stride(): number[] {
    return native.strides(this.handle);
  }
  get dtype(): DType {
    return native.dtype(this.handle) as DType;
  }
  get device(): Device {
    return native.device(this.handle);
  }
  get ndim(): number {
    return this.shape.length;
  }
  dim(): number {
    return this.ndim;
  }
  numel(): number {
    return native.numel(this.handle);
  }
  isContiguous(memoryFormat: MemoryFormat = 'contiguous'): boolean {
    return native.isContiguous(this.handle, memoryFormat);
  }
  get isCuda(): boolean {
    return this.device.startsWith('cuda');
  }
  /** True when both tensors view the same storage. */
  sharesStorageWith(other: Tensor): boolean {
    return native.sameStorage(this.handle, other.handle);
  }

  // ---- memory -------------------------------------------------------------
  /** Releases this reference to the native tensor now. Idempotent. */
  dispose(): void {
    if (this._h !== null) {
      if (this._armed) {
        finalizer.unregister(this);
        this._armed = false;
      }
      native.free(this._h);
      this._h = null;
    }
  }
  /**
   * @internal Moves the native handle out of this wrapper (which reads as
   * disposed afterwards). The finalizer is disarmed first: otherwise collecting
   * this wrapper would free a tensor that now belongs to someone else.
   */
  _takeHandle(): Handle {
    const h = this.handle;
    if (this._armed) {
      finalizer.unregister(this);
      this._armed = false;
    }
    this._h = null;
    return h;
  }
  /** @internal Makes this wrapper own `h` in place of its current tensor (param.data = ...). */
  _replaceHandle(h: Handle): void {
    this.dispose();
    this._h = h;
    this._escape();
  }
  /** @internal see Disposable._escape */
  _escape(): void {
    if (!this._armed && this._h !== null) armLater(this);
  }
  get isDisposed(): boolean {
    return this._h === null;
  }

  // ---- autograd -----------------------------------------------------------
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  set requiresGrad(v: boolean) {
    native.setRequiresGrad(this.handle, v);
  }
  requiresGrad_(v = true): this {
    native.setRequiresGrad(this.handle, v);
    return this;
  }
  /** The accumulated gradient (a new reference each time), or null. */
  get grad(): Tensor | null {
    const g = native.getGrad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** Name of the autograd node that produced this tensor, e.g. 'AddBackward0'. */
  get gradFn(): string | null {
    return native.gradFn(this.handle);
  }
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }
  backward(gradient?: Tensor | null, options: BackwardOptions = {}): void {
    native.backward(
      [this.handle],
      gradient ? [gradient.handle] : [],
      options.retainGraph ?? null,
      options.createGraph ?? false,
      (options.inputs ?? []).map((t) => t.handle),
    );
  }
  detach(): Tensor {
    return callT(ops.detach(), [this]);
  }
  detach_(): this {
    ops.detach_().inplace([this]);
    return this;
  }

  // ---- data ---------------------------------------------------------------
  /** The single value of a one-element tensor (booleans as 1 / 0). */
  item(): number {
    const v = ops.item()([this]);
    return typeof v === 'boolean' ? Number(v) : (v as number);
  }
  /** A copy of the data in row-major order (float16/bfloat16 as raw bits in a Uint16Array). */
  toTypedArray(): TypedArray {
    return typedArrayFor(this.dtype, native.toBuffer(this.handle));
  }
  /**
   * A zero-copy view of a contiguous CPU tensor's memory. Writes go to the
   * tensor; the memory stays valid while the view is reachable.
   */
  dataView(): TypedArray {
    return typedArrayFor(this.dtype, native.dataView(this.handle));
  }
  /** The data as (nested) JS arrays of numbers or booleans, like tolist(). */
  tolist(): unknown {
    const flat = this.toTypedArray();
    const dtype = this.dtype;
    const conv = (i: number): number | boolean => {
      const v = flat[i];
      if (dtype === 'bool') return v !== 0;
      return typeof v === 'bigint' ? Number(v) : (v as number);
    };
    const shape = this.shape;
    if (dtype === 'float16' || dtype === 'bfloat16') {
      const wide = this.to({ dtype: 'float32' });
      try {
        return wide.tolist();
      } finally {
        wide.dispose();
      }
    }
    const build = (dim: number, offset: number): unknown => {
      if (dim === shape.length) return conv(offset);
      const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  // ---- conversion ---------------------------------------------------------
  /** Moves and/or casts: to('cuda'), to('float64'), to(other), to({dtype, device}). */
  to(target: DType | Device | Tensor | ToOptions): Tensor {
    let o: ToOptions;
    if (target instanceof Tensor) o = { dtype: target.dtype, device: target.device };
    else if (typeof target === 'string') o = isDType(target) ? { dtype: target } : { device: target };
    else o = target;
    return callT(ops.to(), [this], {
      dtype: o.dtype ?? null,
      device: o.device ?? null,
      non_blocking: o.nonBlocking ?? false,
      copy: o.copy ?? false,
      memory_format: o.memoryFormat ?? null,
    });
  }
  cpu(): Tensor {
    return this.to({ device: 'cpu' });
  }
  cuda(index = 0): Tensor {
    return this.to({ device: `cuda:${index}` });
  }
  float(): Tensor {
    return this.to({ dtype: 'float32' });
  }
  double(): Tensor {
    return this.to({ dtype: 'float64' });
  }
  half(): Tensor {
    return this.to({ dtype: 'float16' });
  }
  long(): Tensor {
    return this.to({ dtype: 'int64' });
  }
  int(): Tensor {
    return this.to({ dtype: 'int32' });
  }
  bool(): Tensor {
    return this.to({ dtype: 'bool' });
  }
  byte(): Tensor {
    return this.to({ dtype: 'uint8' });
  }
  clone(memoryFormat?: MemoryFormat): Tensor {
    return callT(ops.clone(), [this], memoryFormat ? { memory_format: memoryFormat } : undefined);
  }
  contiguous(memoryFormat: MemoryFormat = 'contiguous'): Tensor {
    return callT(ops.contiguous(), [this], { memory_format: memoryFormat });
  }

  toString(): string {
    if (this._h === null) return 'Tensor(disposed)';
    const n = this.numel();
    const body = n <= 64 ? JSON.stringify(this.tolist()) : `[${this.shape.join(', ')}]`;
    const grad = this.gradFn ? `, gradFn=${this.gradFn}` : this.requiresGrad ? ', requiresGrad=true' : '';
    return `tensor(${body}, dtype=${this.dtype}${this.isCuda ? `, device=${this.device}` : ''}${grad})`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Wraps an existing native handle (for addon-level extensions). */
export function fromHandle(h: Handle): Tensor {
  return new Tensor(h);
}
