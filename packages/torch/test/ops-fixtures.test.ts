// Table-driven comparison of the Tensor op surface with PyTorch 1.13: every
// case in fixtures/ops_<group>.json (made by fixtures/ops.py) pairs a Python
// expression with the JS expression that must give the same result. The JS
// side is evaluated over the stored inputs and compared in shape, dtype and
// values: exactly for integer and bool results, within float tolerances for
// floating ones.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';

type Num = number | boolean | 'nan' | 'inf' | '-inf';

interface Encoded {
  shape: number[];
  dtype: torch.DType;
  data: Num[];
}

type Out = { tensor: Encoded } | { list: Out[] } | { object: Record<string, Out> } | { scalar: Num };

interface Case {
  name: string;
  py: string;
  js: string;
  inputs: Record<string, Encoded>;
  out: Out;
}

const GROUPS = ['creation', 'math', 'activation', 'reduce', 'shape', 'index', 'linalg'];

const decode = (v: Num): number | boolean => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

function build(e: Encoded): Tensor {
  return torch.tensor(e.data.map(decode) as number[], { dtype: e.dtype, shape: e.shape });
}

// Absolute and relative tolerance per dtype; integers and bools compare exactly.
const TOL: Partial<Record<torch.DType, [number, number]>> = {
  float32: [1e-6, 1e-5],
  float64: [1e-12, 1e-10],
  float16: [1e-3, 1e-3],
  bfloat16: [1e-2, 1e-2],
};

function close(actual: number, expected: number, dtype: torch.DType): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  const tol = TOL[dtype];
  if (tol === undefined) return actual === expected;
  return Math.abs(actual - expected) <= tol[0] + tol[1] * Math.abs(expected);
}

function flatValues(t: Tensor): (number | boolean)[] {
  const list = t.tolist();
  const out: (number | boolean)[] = [];
  const walk = (x: unknown) => (Array.isArray(x) ? x.forEach(walk) : out.push(x as number | boolean));
  walk(list);
  return out;
}

function compare(actual: unknown, expected: Out, where: string): void {
  if ('tensor' in expected) {
    const e = expected.tensor;
    assert.ok(actual instanceof torch.Tensor, `${where}: expected a Tensor, got ${String(actual)}`);
    assert.deepEqual(actual.shape, e.shape, `${where}: shape`);
    assert.equal(actual.dtype, e.dtype, `${where}: dtype`);
    const values = flatValues(actual);
    e.data.forEach((raw, i) => {
      const want = decode(raw);
      const got = values[i];
      if (typeof want === 'boolean') assert.equal(got, want, `${where}: element ${i}`);
      else assert.ok(close(got as number, want, e.dtype), `${where}: element ${i} is ${String(got)}, PyTorch gives ${want}`);
    });
  } else if ('list' in expected) {
    assert.ok(Array.isArray(actual), `${where}: expected an array, got ${String(actual)}`);
    assert.equal(actual.length, expected.list.length, `${where}: length`);
    expected.list.forEach((e, i) => compare(actual[i], e, `${where}[${i}]`));
  } else if ('object' in expected) {
    assert.ok(typeof actual === 'object' && actual !== null, `${where}: expected an object`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected.object).sort(), `${where}: keys`);
    for (const [k, e] of Object.entries(expected.object)) compare((actual as Record<string, unknown>)[k], e, `${where}.${k}`);
  } else {
    const want = decode(expected.scalar);
    if (typeof want === 'boolean') assert.equal(actual, want, where);
    else {
      assert.equal(typeof actual, 'number', `${where}: expected a number, got ${String(actual)}`);
      assert.ok(close(actual as number, want, Number.isInteger(want) ? 'int64' : 'float64'), `${where}: ${String(actual)} vs PyTorch ${want}`);
    }
  }
}

for (const group of GROUPS) {
  const file = new URL(`../../test/fixtures/ops_${group}.json`, import.meta.url);
  const fixture = JSON.parse(readFileSync(file, 'utf8')) as { cases: Case[] };
  describe(`ops ${group} vs PyTorch`, () => {
    for (const c of fixture.cases) {
      test(`${c.name}: ${c.js}`, () => {
        torch.tidy(() => {
          const names = Object.keys(c.inputs);
          const inputs = names.map((n) => build(c.inputs[n]));
          // The JS expression is stored next to its Python counterpart in the fixture.
          const fn = new Function('torch', ...names, `return (${c.js});`) as (...args: unknown[]) => unknown;
          const result = fn(torch, ...inputs);
          compare(result, c.out, `${c.js}  [python: ${c.py}]`);
        });
      });
    }
  });
}
