// Table-driven comparison of torch.nn.functional against PyTorch 1.13:
// every case in fixtures/functional.json (made by fixtures/functional.py)
// is replayed through F with the same inputs, comparing shapes, dtypes,
// values, tensors updated in place (running statistics) and input gradients.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as torch from '../src/index.js';
import { F, type Tensor } from '../src/index.js';

interface Encoded {
  shape: number[];
  dtype: torch.DType;
  data: (number | boolean)[];
}

type Spec = { t: number[]; s: number; k?: string; dt?: torch.DType; rg?: boolean; chk?: boolean } | { v: number[]; shape: number[]; dt: torch.DType };

interface Case {
  name: string;
  fn: string;
  args: unknown[];
  opts?: Record<string, unknown>;
  seed?: number;
  out: Encoded[];
  after?: Encoded[];
  grads?: (Encoded | null)[];
}

// Small tensors: one thread avoids OpenMP start-up and spinning on a busy machine.
torch.setNumThreads(1);

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/functional.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };

// The same closed formula as det_values() in fixtures/functional.py.
function detValues(n: number, seed: number, kind: string): Float64Array {
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let v = Math.sin(0.9 * k + 2.1 * seed + 1.3) + 0.5 * Math.sin(0.23 * k * k + seed);
    if (kind === 'prob') v = 0.5 + 0.3 * v;
    else if (kind === 'pos') v = 0.2 + Math.abs(v);
    else if (kind === 'grid') v = 0.8 * v;
    out[k] = v;
  }
  return out;
}

function det(shape: number[], seed: number, kind = 'normal', dtype: torch.DType = 'float32'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return torch.tensor(detValues(n, seed, kind), { shape }).to(dtype);
}

const isSpec = (x: unknown): x is Spec => typeof x === 'object' && x !== null && !Array.isArray(x) && ('t' in x || 'v' in x);

interface Built {
  tensors: { spec: Spec; t: Tensor }[];
}

function build(x: unknown, ctx: Built): unknown {
  if (isSpec(x)) {
    let t: Tensor;
    if ('t' in x) t = det(x.t, x.s, x.k ?? 'normal', x.dt ?? 'float32');
    else t = torch.tensor(x.v, { dtype: x.dt, shape: x.shape });
    if ('rg' in x && x.rg) t.requiresGrad_(true);
    ctx.tensors.push({ spec: x, t });
    return t;
  }
  if (Array.isArray(x)) return x.map((v) => build(v, ctx));
  return x;
}

function outputsOf(r: unknown): Tensor[] {
  if (r instanceof torch.Tensor) return [r];
  if (Array.isArray(r)) return r as Tensor[];
  const o = r as { output: Tensor; indices: Tensor };
  return [o.output, o.indices];
}

function assertClose(actual: Tensor, expected: Encoded, what: string, atol = 2e-5, rtol = 2e-4): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  const a = actual.tolist();
  const flat: (number | boolean)[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else flat.push(v as number | boolean);
  };
  walk(a);
  assert.equal(flat.length, expected.data.length, `${what}: numel`);
  for (let i = 0; i < flat.length; i++) {
    const x = flat[i];
    const y = expected.data[i];
    if (!torch.isFloatingPoint(expected.dtype)) {
      assert.equal(x, y, `${what}: element ${i}`);
    } else {
      const d = Math.abs((x as number) - (y as number));
      assert.ok(d <= atol + rtol * Math.abs(y as number), `${what}: element ${i}: got ${x as number}, PyTorch ${y as number} (|diff| ${d.toExponential(2)})`);
    }
  }
}

function run(c: Case): void {
  const ctx: Built = { tensors: [] };
  const args = c.args.map((a) => build(a, ctx));
  const opts = c.opts === undefined ? undefined : Object.fromEntries(Object.entries(c.opts).map(([k, v]) => [k, build(v, ctx)]));
  const fn = (F as unknown as Record<string, (...a: unknown[]) => unknown>)[c.fn];
  assert.equal(typeof fn, 'function', `F.${c.fn} exists`);
  if (c.seed !== undefined) torch.manualSeed(c.seed);
  const outs = outputsOf(opts === undefined ? fn(...args) : fn(...args, opts));
  assert.equal(outs.length, c.out.length, 'number of outputs');
  outs.forEach((o, i) => assertClose(o, c.out[i], `output ${i}`));
  if (c.after) {
    const checked = ctx.tensors.filter((e) => 'chk' in e.spec && e.spec.chk);
    assert.equal(checked.length, c.after.length);
    checked.forEach((e, i) => assertClose(e.t, c.after![i], `tensor updated in place #${i}`));
  }
  if (c.grads) {
    const o = outs[0];
    const w = det(o.shape, 99, 'normal', o.dtype);
    o.mul(w).sum().backward();
    const leaves = ctx.tensors.filter((e) => 'rg' in e.spec && e.spec.rg);
    assert.equal(leaves.length, c.grads.length);
    leaves.forEach((e, i) => {
      const expected = c.grads![i];
      const g = e.t.grad;
      if (expected === null) {
        // PyTorch left it without a gradient: nothing may flow here.
        assert.ok(g === null || (g.toTypedArray() as Float32Array).every((v) => v === 0), `input ${i} gets no gradient`);
      } else {
        assert.ok(g !== null, `input ${i} has a gradient`);
        assertClose(g!, expected, `gradient of input ${i}`, 1e-4, 5e-4);
      }
    });
  }
}

const groups = new Map<string, Case[]>();
for (const c of fixture.cases) {
  const list = groups.get(c.fn) ?? [];
  list.push(c);
  groups.set(c.fn, list);
}

test('the fixture was recorded with the same PyTorch version as the linked libtorch', () => {
  const majorMinor = (v: string): string => v.split('.').slice(0, 2).join('.');
  assert.equal(majorMinor(fixture.torch), majorMinor(torch.version()));
  assert.ok(fixture.cases.length > 200);
});

for (const [fn, cases] of groups) {
  describe(`F.${fn}`, () => {
    for (const c of cases) test(c.name, () => torch.tidy(() => run(c)));
  });
}
