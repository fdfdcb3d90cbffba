// Helpers shared by the layer modules.
import type { DType } from '../dtype.js';
import type { Device } from '../tensor.js';
import { empty, ones, zeros } from '../ops/creation.js';
import { Parameter } from './module.js';

/** The factory keyword arguments every PyTorch layer takes. */
export interface FactoryOptions {
  device?: Device;
  dtype?: DType;
}

/** A Parameter over a new tensor of `shape`, without keeping the temporary wrapper. */
export function newParameter(shape: readonly number[], fill: 'empty' | 'zeros' | 'ones', f: FactoryOptions): Parameter {
  const o = { device: f.device, dtype: f.dtype };
  const t = fill === 'zeros' ? zeros(shape, o) : fill === 'ones' ? ones(shape, o) : empty(shape, o);
  const p = new Parameter(t);
  t.dispose();
  return p;
}

/** Expands an int to n ints (_single/_pair/_triple), checking a list's length and values. */
export function tuple(layer: string, arg: string, v: number | readonly number[], n: number): number[] {
  const out = typeof v === 'number' ? Array.from({ length: n }, () => v) : [...v];
  if (out.length !== n || out.some((x) => !Number.isInteger(x))) {
    throw new RangeError(`${layer}: ${arg} must be an int or a list of ${n} ints, got ${JSON.stringify(v)}`);
  }
  return out;
}

export function checkPositiveInt(layer: string, arg: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${layer}: ${arg} must be a positive integer, got ${v}`);
}

