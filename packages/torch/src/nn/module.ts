// nn.Module and nn.Parameter. TypeScript has no __setattr__, so parameters,
// buffers and submodules are registered explicitly (`registerParameter`,
// `registerBuffer`, `addModule`); registration also installs an accessor
// under the registered name, so that a later `this.fc = other` keeps the
// registry (state dict, parameters(), to()) in step with the attribute.
import { type DType, isDType, isFloatingPoint } from '../dtype.js';
import { noGrad } from '../autograd.js';
import { keep, tidy } from '../scope.js';
import { type Device, Tensor, callT, op } from '../tensor.js';
import '../ops/shape.js';


/**
 * A tensor that is a module parameter (nn.Parameter): a leaf sharing storage
 * with `data`, requiring grad by default, and kept, so no tidy() scope ever
 * disposes it (Module.dispose() does). `data` stays the caller's: dispose it
 * or create it inside tidy(). (Module.registerParameter takes a plain tensor
 * over instead.)
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(callT(op('detach'), [data])._takeHandle());
    keep(this);
    if (requiresGrad) this.requiresGrad_(true);
  }

  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}

/** Any module, whatever its forward signature. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModule = Module<any[], any>;

type SlotKind = 'parameter' | 'buffer' | 'module';

export type StateDict = Map<string, Tensor>;

export interface StateDictOptions {
  /** Prepended to every key. */
  prefix?: string;
  /** Return the parameters and buffers themselves instead of detached aliases. */
  keepVars?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export interface NamedOptions {
  prefix?: string;
  /** Include members of submodules (default true). */
  recurse?: boolean;
  /** Report a tensor or module reachable under several names only once (default true). */
  removeDuplicate?: boolean;
}

export interface ModuleToOptions {
  device?: Device;
  dtype?: DType;
  nonBlocking?: boolean;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Tensor) return `Tensor(${v.dtype})`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Makes `next`'s native tensor the one `target` refers to, keeping the wrapper object (param.data = next). */
function adopt(target: Tensor, next: Tensor): void {
  if (next === target) return;
  target._replaceHandle(next._takeHandle());
}

/**
 * Base class for all neural network modules (torch.nn.Module).
 *
 * Subclasses register their state in the constructor and implement forward:
 *
 *   class Net extends nn.Module {
 *     declare fc: nn.Linear;
 *     constructor() { super(); this.addModule('fc', new nn.Linear(4, 2)); }
 *     forward(x: Tensor) { return this.fc.forward(x); }
 *   }
 *
 * Registered members may be declared with `declare`, as a field assigned in
 * the constructor, or as a field initialised by the registration
 * (`fc = this.addModule('fc', new nn.Linear(4, 2))`); in every form a later
 * `this.fc = other` replaces the registered module.
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** Training mode (train()/eval()); changes dropout and batch norm. */
  training = true;
  /** @internal */ readonly _parameters = new Map<string, Parameter | null>();
  /** @internal */ readonly _buffers = new Map<string, Tensor | null>();
  /** @internal */ readonly _nonPersistentBuffers = new Set<string>();
  /** @internal */ readonly _modules = new Map<string, AnyModule | null>();

  abstract forward(...input: In): Out;

  // ---- registration -------------------------------------------------------

  private slotOf(name: string): SlotKind | null {
    if (this._parameters.has(name)) return 'parameter';
    if (this._buffers.has(name)) return 'buffer';
    if (this._modules.has(name)) return 'module';
    return null;
  }

  private checkName(name: string, kind: SlotKind): void {
    if (typeof name !== 'string') throw new TypeError(`${kind} name should be a string, got ${typeof name}`);
    if (name === '') throw new Error(`${kind} name can't be empty string ""`);
    if (name.includes('.')) throw new Error(`${kind} name can't contain ".", got: ${name}`);
    const slot = this.slotOf(name);
    if (slot !== null) {
      if (slot !== kind) throw new Error(`attribute '${name}' already exists (as a ${slot})`);
      return;
    }
    if (!(name in this)) return;
    // An own field declared without initializer (or holding what is being
    // registered) may become a registered slot; methods and other state may not.
    const own = Object.getOwnPropertyDescriptor(this, name);
    const v: unknown = own?.value;
    const free = own !== undefined && 'value' in own && (v === undefined || v === null || v instanceof Tensor || v instanceof Module);
    if (!free) throw new Error(`attribute '${name}' already exists`);
  }

  private defineSlot(name: string, kind: SlotKind): void {
    const map: Map<string, unknown> = kind === 'parameter' ? this._parameters : kind === 'buffer' ? this._buffers : this._modules;
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: true,
      get: () => map.get(name),
      set: (v: unknown) => {
        if (kind === 'parameter') {
          if (v !== null && !(v instanceof Parameter)) {
            throw new TypeError(`cannot assign '${describe(v)}' as parameter '${name}' (nn.Parameter or null expected)`);
          }
          this._parameters.set(name, v);
        } else if (kind === 'buffer') {
          if (v !== null && !(v instanceof Tensor)) throw new TypeError(`cannot assign '${describe(v)}' as buffer '${name}' (Tensor or null expected)`);
          if (v !== null) keep(v);
          this._buffers.set(name, v);
        } else {
          if (v !== null && !(v instanceof Module)) throw new TypeError(`cannot assign '${describe(v)}' as child module '${name}' (nn.Module or null expected)`);
          this._modules.set(name, v);
        }
      },
    });
  }

  /**
   * @internal Re-installs accessors that a class field replaced: a field
   * initializer (`fc = this.addModule('fc', ...)`) runs its define after the
   * registration, leaving a plain data property. Its current value (what
   * forward uses) becomes the registered one. Called before every traversal.
   */
  _syncSlots(): void {
    const kinds: [Map<string, unknown>, SlotKind][] = [[this._parameters, 'parameter'], [this._buffers, 'buffer'], [this._modules, 'module']];
    for (const [map, kind] of kinds) {
      for (const name of [...map.keys()]) {
        const d = Object.getOwnPropertyDescriptor(this, name);
        if (d === undefined || !('value' in d)) continue;
        this.defineSlot(name, kind);
        if (d.value !== undefined) (this as Record<string, unknown>)[name] = d.value;
      }
    }
  }

  /** @internal removes a registered slot and its accessor (containers renumber with it). */
  _removeSlot(name: string): void {
    this._parameters.delete(name);
    this._buffers.delete(name);
    this._nonPersistentBuffers.delete(name);
    this._modules.delete(name);
    delete (this as Record<string, unknown>)[name];
  }

  /**
   * Registers a parameter (register_parameter). A Parameter is registered as
   * is; a plain tensor is taken over: it becomes a Parameter with the same
   * storage and the tensor passed in is disposed (tensors have no GC
   * finalizer, so a constructor's temporary would otherwise live forever).
   * Returns the registered parameter.
   */
  registerParameter(name: string, param: Tensor): Parameter;
  registerParameter(name: string, param: null): null;
  registerParameter(name: string, param: Tensor | null): Parameter | null;
  registerParameter(name: string, param: Tensor | null): Parameter | null {
    this.checkName(name, 'parameter');
    if (param !== null && !(param instanceof Tensor)) {
      throw new TypeError(`cannot assign '${describe(param)}' as parameter '${name}' (Tensor or null expected)`);
    }
    let p: Parameter | null;
    if (param === null || param instanceof Parameter) {
      p = param;
    } else {
      p = new Parameter(param);
      param.dispose();
    }
    this._parameters.set(name, p);
    this.defineSlot(name, 'parameter');
    return p;
  }

  /**
   * Registers a buffer (register_buffer): state that is not trained, such as
   * batch norm's running statistics. Persistent buffers are part of the
   * state dict. The tensor is kept (exempt from tidy scopes).
   */
  registerBuffer(name: string, tensor: Tensor, persistent?: boolean): Tensor;
  registerBuffer(name: string, tensor: null, persistent?: boolean): null;
  registerBuffer(name: string, tensor: Tensor | null, persistent?: boolean): Tensor | null;
  registerBuffer(name: string, tensor: Tensor | null, persistent = true): Tensor | null {
    this.checkName(name, 'buffer');
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new TypeError(`cannot assign '${describe(tensor)}' as buffer '${name}' (Tensor or null expected)`);
    }
    if (tensor !== null) keep(tensor);
    this._buffers.set(name, tensor);
    if (persistent) this._nonPersistentBuffers.delete(name);
    else this._nonPersistentBuffers.add(name);
    this.defineSlot(name, 'buffer');
    return tensor;
  }

  /** Registers a child module (add_module); returns it. */
  addModule<M extends AnyModule | null>(name: string, module: M): M {
    this.checkName(name, 'module');
    if (module !== null && !(module instanceof Module)) {
      throw new TypeError(`${describe(module)} is not a Module subclass`);
    }
    this._modules.set(name, module);
    this.defineSlot(name, 'module');
    return module;
  }

  /** Alias of addModule (register_module). */
  registerModule<M extends AnyModule | null>(name: string, module: M): M {
    return this.addModule(name, module);
  }

  // ---- traversal ----------------------------------------------------------

  /** This module and all submodules with dotted names ('' for this one), depth first. */
  namedModules(options: { prefix?: string; removeDuplicate?: boolean } = {}): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const memo = new Set<AnyModule>();
    const removeDuplicate = options.removeDuplicate ?? true;
    const visit = (m: AnyModule, prefix: string): void => {
      if (removeDuplicate) {
        if (memo.has(m)) return;
        memo.add(m);
      }
      m._syncSlots();
      out.push([prefix, m]);
      for (const [name, child] of m._modules) {
        if (child !== null) visit(child, prefix === '' ? name : `${prefix}.${name}`);
      }
    };
    visit(this, options.prefix ?? '');
    return out;
  }

  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Immediate children with their names (each module once). */
  namedChildren(): [string, AnyModule][] {
    this._syncSlots();
    const memo = new Set<AnyModule>();
    const out: [string, AnyModule][] = [];
    for (const [name, m] of this._modules) {
      if (m !== null && !memo.has(m)) {
        memo.add(m);
        out.push([name, m]);
      }
    }
    return out;
  }

  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }

  private namedMembers<T extends Tensor>(members: (m: AnyModule) => Iterable<[string, T | null]>, options: NamedOptions): [string, T][] {
    const prefix = options.prefix ?? '';
    const removeDuplicate = options.removeDuplicate ?? true;
    this._syncSlots();
    const mods: [string, AnyModule][] = options.recurse ?? true ? this.namedModules({ prefix, removeDuplicate }) : [[prefix, this]];
    const memo = new Set<T>();
    const out: [string, T][] = [];
    for (const [mp, m] of mods) {
      for (const [k, v] of members(m)) {
        if (v === null || memo.has(v)) continue;
        if (removeDuplicate) memo.add(v);
        out.push([mp === '' ? k : `${mp}.${k}`, v]);
      }
    }
    return out;
  }

  /** Parameters with dotted names ('encoder.0.weight'); shared ones once. */
  namedParameters(options: NamedOptions = {}): [string, Parameter][] {
    return this.namedMembers((m) => m._parameters, options);
  }

  parameters(recurse = true): Parameter[] {
    return this.namedParameters({ recurse }).map(([, p]) => p);
  }

  /** Buffers (persistent or not) with dotted names. */
  namedBuffers(options: NamedOptions = {}): [string, Tensor][] {
    return this.namedMembers((m) => m._buffers, options);
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers({ recurse }).map(([, b]) => b);
  }

  /** The submodule at a dotted path ('encoder.0'); '' is this module. */
  getSubmodule(target: string): AnyModule {
    if (target === '') return this;
    // Walk the path one segment at a time, starting from this module.
    return target.split('.').reduce<AnyModule>((mod, item) => {
      mod._syncSlots();
      const next = mod._modules.get(item);
      if (next === undefined || next === null) throw new Error(`${mod.constructor.name} has no attribute \`${item}\` (getSubmodule('${target}'))`);
      return next;
    }, this);
  }

  /** The parameter at a dotted path ('encoder.0.weight'). */
  getParameter(target: string): Parameter {
    const i = target.lastIndexOf('.');
    const mod = this.getSubmodule(i < 0 ? '' : target.slice(0, i));
    mod._syncSlots();
    const p = mod._parameters.get(target.slice(i + 1));
    if (p === undefined || p === null) throw new Error(`${mod.constructor.name} has no parameter \`${target.slice(i + 1)}\` (getParameter('${target}'))`);
    return p;
  }

  /** The buffer at a dotted path ('bn.running_mean'). */
  getBuffer(target: string): Tensor {
    const i = target.lastIndexOf('.');
    const mod = this.getSubmodule(i < 0 ? '' : target.slice(0, i));
    mod._syncSlots();
    const b = mod._buffers.get(target.slice(i + 1));
    if (b === undefined || b === null) throw new Error(`${mod.constructor.name} has no buffer \`${target.slice(i + 1)}\` (getBuffer('${target}'))`);
    return b;
  }

  // ---- state dict ---------------------------------------------------------

  /**
   * Parameters and persistent buffers by dotted name, in PyTorch's order:
   * own parameters, own buffers, then each child's entries in registration
   * order. Values are detached aliases of the module's tensors (they share
   * storage) unless keepVars.
   */
  stateDict(options: StateDictOptions = {}): StateDict {
    const out: StateDict = new Map();
    const keepVars = options.keepVars ?? false;
    const save = (m: AnyModule, prefix: string): void => {
      m._syncSlots();
      for (const [k, p] of m._parameters) if (p !== null) out.set(prefix + k, keepVars ? p : p.detach());
      for (const [k, b] of m._buffers) {
        if (b !== null && !m._nonPersistentBuffers.has(k)) out.set(prefix + k, keepVars ? b : b.detach());
      }
      for (const [k, c] of m._modules) if (c !== null) save(c, `${prefix}${k}.`);
    };
    save(this, options.prefix ?? '');
    return out;
  }

  /**
   * Hook for class-specific compatibility when loading (PyTorch's
   * _load_from_state_dict overrides): may add or drop this module's entries
   * (keys are `prefix + name`) before they are matched.
   */
  protected upgradeStateDict(_stateDict: StateDict, _prefix: string): void {}

  /**
   * Copies parameters and buffers from a state dict in place (under noGrad,
   * casting to each tensor's dtype and device). Shape mismatches are always
   * errors; missing and unexpected keys are errors when strict, and are
   * returned either way. Nothing is copied when any error is raised.
   */
  loadStateDict(stateDict: StateDict | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    return tidy(() => {
      const input: StateDict = stateDict instanceof Map ? new Map(stateDict) : new Map(Object.entries(stateDict));
      const targets: [string, Tensor][] = [];
      const collect = (m: AnyModule, prefix: string): void => {
        m._syncSlots();
        m.upgradeStateDict(input, prefix);
        for (const [k, p] of m._parameters) if (p !== null) targets.push([prefix + k, p]);
        for (const [k, b] of m._buffers) if (b !== null && !m._nonPersistentBuffers.has(k)) targets.push([prefix + k, b]);
        for (const [k, c] of m._modules) if (c !== null) collect(c, `${prefix}${k}.`);
      };
      collect(this, '');
      const expected = new Set(targets.map(([k]) => k));
      const missingKeys: string[] = [];
      const unexpectedKeys = [...input.keys()].filter((k) => !expected.has(k));
      const mismatches: string[] = [];
      const copies: [Tensor, Tensor][] = [];
      for (const [key, target] of targets) {
        const src = input.get(key);
        if (src === undefined) {
          missingKeys.push(key);
          continue;
        }
        if (!(src instanceof Tensor)) {
          mismatches.push(`While copying the parameter named "${key}", expected a Tensor from the state dict but received ${describe(src)}`);
          continue;
        }
        let value = src;
        // Backward compatibility, as in PyTorch: a one-element 1-D entry loads into a 0-d tensor.
        if (target.ndim === 0 && value.ndim === 1 && value.numel() === 1) value = value.reshape([]);
        const ts = target.shape;
        const vs = value.shape;
        if (ts.length !== vs.length || ts.some((d, i) => d !== vs[i])) {
          mismatches.push(`size mismatch for ${key}: copying a param with shape ${shapeStr(vs)} from checkpoint, the shape in current model is ${shapeStr(ts)}.`);
          continue;
        }
        copies.push([target, value]);
      }
      const errors: string[] = [];
      if (strict && missingKeys.length > 0) errors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
      if (strict && unexpectedKeys.length > 0) errors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
      errors.push(...mismatches);
      if (errors.length > 0) throw new Error(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${errors.join('\n\t')}`);
      noGrad(() => {
        for (const [target, value] of copies) op('copy_').inplace([target, value]);
      });
      return { missingKeys, unexpectedKeys };
    });
  }

  // ---- modes and conversion ----------------------------------------------

  /** Sets training mode here and in every submodule; returns this. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TypeError(`train(mode): training mode is expected to be boolean, got ${typeof mode}`);
    this.training = mode;
    for (const m of this.children()) m.train(mode);
    return this;
  }

  /** train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Sets requiresGrad on every parameter (freezing with false); returns this. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /**
   * Clears parameter gradients: drops them (setToNone, the default as in
   * PyTorch 2) or zeroes them in place.
   */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      const g = p.grad;
      if (g === null) continue;
      if (setToNone) {
        p.grad = null;
      } else {
        if (g.gradFn !== null) g.detach_();
        else g.requiresGrad_(false);
        op('zero_').inplace([g]);
      }
      g.dispose();
    }
  }

  /** Calls fn on every submodule (children first) and then on this module; returns this. */
  apply(fn: (module: AnyModule) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Replaces every parameter, gradient and buffer by fn(tensor), keeping the
   * wrapper objects (as PyTorch's `param.data = fn(param)`), so optimizers and
   * other holders of the parameters stay valid.
   */
  protected applyToTensors(fn: (t: Tensor) => Tensor): this {
    const seen = new Set<Tensor>();
    noGrad(() => {
      for (const m of this.modules()) {
        for (const p of m._parameters.values()) {
          if (p === null || seen.has(p)) continue;
          seen.add(p);
          const grad = p.grad;
          const requiresGrad = p.requiresGrad;
          adopt(p, fn(p));
          if (p.requiresGrad !== requiresGrad) p.requiresGrad_(requiresGrad);
          if (grad !== null) {
            const g = fn(grad);
            p.grad = g;
            if (g !== grad) g.dispose();
            grad.dispose();
          }
        }
        for (const b of m._buffers.values()) {
          if (b === null || seen.has(b)) continue;
          seen.add(b);
          adopt(b, fn(b));
        }
      }
    });
    return this;
  }

  /**
   * Moves and/or casts parameters and buffers in place: to('cuda'),
   * to('float64'), to({ device, dtype }), to(tensor). As in PyTorch a dtype
   * applies to floating-point (and complex) tensors only; integer buffers
   * such as num_batches_tracked keep theirs.
   */
  to(target: Device | DType | Tensor | ModuleToOptions): this {
    let o: ModuleToOptions;
    if (target instanceof Tensor) o = { device: target.device, dtype: target.dtype };
    else if (typeof target === 'string') o = isDType(target) ? { dtype: target } : { device: target };
    else o = target;
    const { device, dtype, nonBlocking } = o;
    const isComplex = (d: DType): boolean => d === 'complex64' || d === 'complex128';
    if (dtype !== undefined && !isFloatingPoint(dtype) && !isComplex(dtype)) {
      throw new TypeError(`nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=${dtype}`);
    }
    return this.applyToTensors((t) => {
      const d = dtype !== undefined && (isFloatingPoint(t.dtype) || isComplex(t.dtype)) ? dtype : undefined;
      return t.to({ device, dtype: d, nonBlocking });
    });
  }

  float(): this {
    return this.to('float32');
  }

  double(): this {
    return this.to('float64');
  }

  half(): this {
    return this.to('float16');
  }

  bfloat16(): this {
    return this.to('bfloat16');
  }

  cpu(): this {
    return this.to({ device: 'cpu' });
  }

  cuda(index = 0): this {
    return this.to({ device: `cuda:${index}` });
  }

  /** Frees every parameter and buffer (the module is unusable afterwards). */
  dispose(): void {
    for (const t of [...this.parameters(), ...this.buffers()]) t.dispose();
  }

  /** Number of parameter elements, shared parameters once. */
  numParameters(trainableOnly = false): number {
    let n = 0;
    for (const p of this.parameters()) if (!trainableOnly || p.requiresGrad) n += p.numel();
    return n;
  }

  // ---- printing -----------------------------------------------------------

  /** The text inside this module's parentheses in toString() (extra_repr). */
  extraRepr(): string {
    return '';
  }

  /** The module tree as PyTorch prints it. */
  toString(): string {
    this._syncSlots();
    const extra = this.extraRepr();
    const extraLines = extra === '' ? [] : extra.split('\n');
    const childLines = [...this._modules].map(([k, m]) => `(${k}): ${(m === null ? 'None' : m.toString()).split('\n').join('\n  ')}`);
    const lines = [...extraLines, ...childLines];
    let s = `${this.constructor.name}(`;
    if (lines.length > 0) {
      s += extraLines.length === 1 && childLines.length === 0 ? extraLines[0] : `\n  ${lines.join('\n  ')}\n`;
    }
    return `${s})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
