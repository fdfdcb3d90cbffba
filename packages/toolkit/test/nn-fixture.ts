// Shared by the nn-* and losses tests: the reference fixture (nets_ref.json,
// written by fixtures/nets_ref.py) and the deterministic weights, inputs and
// labels that the Python script computes with the same formulas.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '@labelwise/torch';
import { type Tensor, nn } from '@labelwise/torch';
import { FIXTURES } from './shared-data.js';

export interface Summary {
  shape: number[];
  step: number;
  values: number[];
  sum: number;
  absSum: number;
}

export interface LayoutCase {
  config: { name: string; [k: string]: unknown };
  keys: string[];
  params: number;
}

export interface ForwardCase {
  config: { name: string; [k: string]: unknown };
  input: number[];
  mode: 'train' | 'eval';
  outputs: Summary[];
}

export interface TargetSpec {
  kind: 'labels' | 'probabilities' | 'logits';
  shape: number[];
  classes?: number;
  k: number;
  ignore?: { value: number; axis: number; upTo: number };
  patch?: { k: number };
}

export interface MaskSpec {
  kind: 'box';
  shape: number[];
  box: [number, number][];
}

export interface LossCase {
  config: { name: string; [k: string]: unknown };
  pred: number[];
  extraPreds: number[][] | null;
  target: TargetSpec;
  mask: MaskSpec | null;
  value: number;
  grads: Summary[];
  /** Applied to the prediction before the loss (gradients stay w.r.t. the raw prediction). */
  predActivation?: 'sigmoid';
}

export interface Fixture {
  layouts: Record<string, LayoutCase>;
  forward: Record<string, ForwardCase>;
  losses: Record<string, LossCase>;
  pth: Record<string, { config: { name: string; [k: string]: unknown }; key: string }>;
  dsWeights: Record<string, number[]>;
}

export const fixturePath = (name: string): string => path.join(FIXTURES, name);

export const fixture = JSON.parse(fs.readFileSync(fixturePath('nets_ref.json'), 'utf8')) as Fixture;

/** Decodes the front-coded 'n|suffix|d0,d1' layout entries into [key, shape]. */
export function decodeLayout(entries: string[]): [string, number[]][] {
  let prev = '';
  return entries.map((e) => {
    const [n, suffix, dims] = e.split('|');
    const key = prev.slice(0, Number(n)) + suffix;
    prev = key;
    return [key, dims === '' ? [] : dims.split(',').map(Number)];
  });
}

/** offset + scale·sin(0.61 i + 1.3 k + 0.5) in float64, rounded to float32 (det_values), computed by libtorch. */
function detTensor(shape: number[], k: number, scale: number, offset = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return torch.tidy(() => torch.arange(n, { dtype: 'float64' }).mul(0.61).add(1.3 * k).add(0.5).sin().mul(scale).add(offset).to('float32').reshape(shape));
}

/** Fills every state-dict entry as det_fill does (the entry's index and role pick the formula). */
export function detFill(module: nn.AnyModule): void {
  torch.noGrad(() => {
    [...module.stateDict()].forEach(([name, t], k) => {
      if (name.endsWith('num_batches_tracked')) return;
      const n = t.numel();
      const leaf = name.slice(name.lastIndexOf('.') + 1);
      const shape = t.shape;
      torch.tidy(() => {
        let v: Tensor;
        if (leaf === 'running_var') v = detTensor(shape, k, 0.5, 1.0);
        else if (leaf === 'running_mean') v = detTensor(shape, k, 0.1);
        else if (t.ndim === 1 && leaf === 'weight') v = detTensor(shape, k, 0.2, 1.0);
        else if (t.ndim === 1) v = detTensor(shape, k, 0.1);
        else v = detTensor(shape, k, 1 / Math.sqrt(n / t.shape[0]));
        t.copy_(v);
      });
    });
  });
}

/** 1.5·sin(0.37 i + 0.2 + k) (det_input). */
export function detInput(shape: number[], k = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 1.5 * Math.sin(0.37 * i + 0.2 + k);
  return torch.fromTypedArray(out, shape);
}

/** floor((sin(1.37 i + 0.4 + k) + 1)·C/2) mod C as int64 (det_labels). */
export function detLabels(shape: number[], classes: number, k = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) out[i] = BigInt(Math.floor((Math.sin(1.37 * i + 0.4 + k) + 1) * 0.5 * classes) % classes);
  return torch.fromTypedArray(out, shape);
}

/** Compares a tensor with a fixture summary: shape, the sampled values and the sums. */
export function assertMatches(actual: Tensor, expected: Summary, what: string, atol = 1e-4, rtol = 1e-4): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const flat = actual.detach().contiguous().toTypedArray() as Float32Array;
  let worst = 0;
  let at = -1;
  expected.values.forEach((e, j) => {
    const a = flat[j * expected.step];
    const err = Math.abs(a - e) - rtol * Math.abs(e);
    if (!(err <= worst)) {
      worst = err;
      at = j;
    }
  });
  assert.ok(worst <= atol, `${what}: element ${at * expected.step} is ${flat[at * expected.step]}, PyTorch has ${expected.values[at]}`);
  let sum = 0;
  let absSum = 0;
  for (const v of flat) {
    sum += v;
    absSum += Math.abs(v);
  }
  const scale = 1e-4 * Math.max(1, expected.absSum);
  assert.ok(Math.abs(sum - expected.sum) <= scale, `${what}: sum ${sum}, PyTorch ${expected.sum}`);
  assert.ok(Math.abs(absSum - expected.absSum) <= scale, `${what}: |sum| ${absSum}, PyTorch ${expected.absSum}`);
}
