// Shared argument handling for torch.nn.functional: the checks that
// PyTorch's Python layer performs before it reaches ATen.
import { Tensor } from '../tensor.js';

/** An int or one int per spatial dimension, as PyTorch's `_pair`/`_triple` accept. */
export type IntOrList = number | readonly number[];

export type Reduction = 'none' | 'mean' | 'sum';

const REDUCTIONS: Record<string, number> = { none: 0, mean: 1, sum: 2 };

/** The ATen reduction enum (at::Reduction) for a reduction string. */
export function reductionEnum(fn: string, reduction: string): number {
  const r = REDUCTIONS[reduction];
  if (r === undefined) throw new RangeError(`${fn}: reduction must be one of 'none', 'mean', 'sum'; got '${reduction}'`);
  return r;
}

/** Throws unless `value` is one of `allowed`, naming the argument. */
export function checkChoice<T extends string>(fn: string, arg: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`${fn}: ${arg} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got '${value}'`);
  }
  return value as T;
}

export function checkProbability(fn: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${fn}: dropout probability p has to be between 0 and 1, but got ${p}`);
}

/** Expands an int to `n` ints (like `_ntuple`), checking a list's length. */
export function ntuple(fn: string, arg: string, v: IntOrList, n: number): number[] {
  if (typeof v === 'number') return Array.from({ length: n }, () => v);
  if (v.length !== n) throw new RangeError(`${fn}: ${arg} must be an int or a list of ${n} ints; got [${v.join(', ')}]`);
  return [...v];
}

/**
 * `_list_with_default`: an output size whose null entries take the
 * input's size in that dimension (adaptive pooling).
 */
export function listWithDefault(fn: string, size: number | readonly (number | null)[], inputShape: readonly number[]): number | number[] {
  if (typeof size === 'number') return size;
  if (inputShape.length <= size.length) {
    throw new RangeError(`${fn}: input must have more than ${size.length} dimensions for outputSize [${size.join(', ')}]; got shape [${inputShape.join(', ')}]`);
  }
  const defaults = inputShape.slice(inputShape.length - size.length);
  return size.map((v, i) => (v === null ? defaults[i] : v));
}

/** True for a plain options object (not a tensor, array or null). */
export function isOptions(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !(v instanceof Tensor) && !Array.isArray(v);
}

const warned = new Set<string>();

/** Emits a process warning once per message, as Python's warnings module does by default. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, 'UserWarning');
}

export function shapeStr(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/** Throws unless target has exactly input's shape. */
export function checkSameShape(fn: string, input: Tensor, target: Tensor, what: string): void {
  const a = input.shape;
  const b = target.shape;
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
    throw new RangeError(`${fn}: ${what} size ${shapeStr(target)} must be the same as the input size ${shapeStr(input)}`);
  }
}

/** The broadcast of two shapes (torch._C._infer_size), or a RangeError naming both. */
export function broadcastShape(fn: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new RangeError(`${fn}: shapes [${a.join(', ')}] and [${b.join(', ')}] are not broadcastable (dim ${i}: ${x} vs ${y})`);
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}
