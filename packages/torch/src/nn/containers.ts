// Containers: Sequential, ModuleList, ModuleDict. Children are registered
// under '0', '1', ... (or their dict keys), giving PyTorch's state dict keys.
import type { Tensor } from '../tensor.js';
import { type AnyModule, Module } from './module.js';

function normIndex(i: number, n: number, what: string): number {
  if (!Number.isInteger(i)) throw new TypeError(`${what}: index must be an integer, got ${i}`);
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) throw new RangeError(`${what}: index ${i} is out of range for length ${n}`);
  return j;
}

/** Shared implementation of the index-keyed containers. */
abstract class IndexedContainer<M extends AnyModule, In extends unknown[], Out> extends Module<In, Out> {
  get length(): number {
    return this._modules.size;
  }

  /** The child at a position (negative counts from the end), like seq[i]. */
  at(index: number): M {
    const j = normIndex(index, this.length, `${this.constructor.name}.at`);
    return [...this._modules.values()][j] as M;
  }

  /** Replaces the child at a position (seq[i] = module). */
  set(index: number, module: M): this {
    const j = normIndex(index, this.length, `${this.constructor.name}.set`);
    this.addModule([...this._modules.keys()][j], module);
    return this;
  }

  [Symbol.iterator](): Iterator<M> {
    return ([...this._modules.values()] as M[])[Symbol.iterator]();
  }

  /** Re-registers `modules` as '0', '1', ... (after deletions and insertions). */
  protected renumber(modules: M[]): void {
    for (const k of [...this._modules.keys()]) this._removeSlot(k);
    modules.forEach((m, i) => this.addModule(String(i), m));
  }

  /** Appends a module; returns this. */
  append(module: M): this {
    this.addModule(String(this.length), module);
    return this;
  }

  /** Appends several modules; returns this. */
  extend(modules: Iterable<M>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** Inserts a module before position `index`; later children are renumbered. */
  insert(index: number, module: M): this {
    const n = this.length;
    const j = index < 0 ? Math.max(0, index + n) : Math.min(index, n);
    const mods = [...this] as M[];
    mods.splice(j, 0, module);
    this.renumber(mods);
    return this;
  }

  /** Removes the child at a position and returns it; later children are renumbered. */
  pop(index = -1): M {
    const j = normIndex(index, this.length, `${this.constructor.name}.pop`);
    const mods = [...this] as M[];
    const [removed] = mods.splice(j, 1);
    this.renumber(mods);
    return removed;
  }
}

/**
 * Applies its children in order (nn.Sequential). Children are named '0',
 * '1', ... unless given as a Record or Map of names (an OrderedDict in PyTorch).
 */
export class Sequential extends IndexedContainer<AnyModule, [Tensor], Tensor> {
  constructor(...modules: AnyModule[]);
  constructor(named: Record<string, AnyModule> | Map<string, AnyModule>);
  constructor(...args: unknown[]) {
    super();
    const first = args[0];
    if (args.length === 1 && first !== null && typeof first === 'object' && !(first instanceof Module)) {
      const entries = first instanceof Map ? [...(first as Map<string, AnyModule>)] : Object.entries(first as Record<string, AnyModule>);
      for (const [name, m] of entries) this.addModule(name, m);
    } else {
      args.forEach((m, i) => this.addModule(String(i), m as AnyModule));
    }
  }

  forward(input: Tensor): Tensor {
    let x = input;
    for (const m of this._modules.values()) if (m !== null) x = m.forward(x);
    return x;
  }

  /** A Sequential of the children in [start, end), keeping their names (seq[a:b]). */
  slice(start?: number, end?: number): Sequential {
    const entries = [...this._modules].filter((e): e is [string, AnyModule] => e[1] !== null).slice(start, end);
    return new Sequential(new Map(entries));
  }
}

/** A list of modules, registered as '0', '1', ... (nn.ModuleList); not callable. */
export class ModuleList<M extends AnyModule = AnyModule> extends IndexedContainer<M, never[], never> {
  constructor(modules: Iterable<M> = []) {
    super();
    this.extend(modules);
  }

  forward(): never {
    throw new Error('ModuleList is not callable: iterate over it and call forward on its modules');
  }

  /** A ModuleList of the children in [start, end). */
  slice(start?: number, end?: number): ModuleList<M> {
    return new ModuleList([...this].slice(start, end));
  }

  /** The children as an array. */
  toArray(): M[] {
    return [...this];
  }
}

/** Modules by name, in insertion order (nn.ModuleDict); not callable. */
export class ModuleDict<M extends AnyModule = AnyModule> extends Module<never[], never> {
  constructor(modules: Record<string, M> | Map<string, M> | Iterable<[string, M]> = {}) {
    super();
    this.update(modules);
  }

  forward(): never {
    throw new Error('ModuleDict is not callable: look up a module by key and call its forward');
  }

  get length(): number {
    return this._modules.size;
  }

  /** The module under `key` (dict[key]); throws for a missing key. */
  get(key: string): M {
    const m = this._modules.get(key);
    if (m === undefined) throw new RangeError(`ModuleDict has no key '${key}' (keys: ${[...this._modules.keys()].join(', ')})`);
    return m as M;
  }

  /** Registers a module under `key` (dict[key] = module). */
  set(key: string, module: M): this {
    this.addModule(key, module);
    return this;
  }

  has(key: string): boolean {
    return this._modules.has(key);
  }

  /** Removes the module under `key` and returns it. */
  pop(key: string): M {
    const m = this.get(key);
    this._removeSlot(key);
    return m;
  }

  delete(key: string): boolean {
    if (!this._modules.has(key)) return false;
    this._removeSlot(key);
    return true;
  }

  clear(): void {
    for (const k of [...this._modules.keys()]) this._removeSlot(k);
  }

  keys(): string[] {
    return [...this._modules.keys()];
  }

  values(): M[] {
    return [...this._modules.values()] as M[];
  }

  entries(): [string, M][] {
    return [...this._modules] as [string, M][];
  }

  /** Adds or replaces entries from a Record, Map or iterable of pairs. */
  update(modules: Record<string, M> | Map<string, M> | Iterable<[string, M]>): this {
    const entries: Iterable<[string, M]> = modules instanceof Map || Symbol.iterator in Object(modules) ? (modules as Iterable<[string, M]>) : Object.entries(modules as Record<string, M>);
    for (const [k, m] of entries) this.addModule(k, m);
    return this;
  }

  /** Iterates over the keys, as PyTorch's ModuleDict does. */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }
}
