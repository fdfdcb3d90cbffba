// Shared helpers of the metrics tests: the reference JSON written by
// fixtures/metrics_ref.py (scipy + MedPy re-implemented) and tolerant compares.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './shared-data.js';

export type Num = number | 'NaN' | 'inf' | '-inf';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const REF: any = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'metrics_ref.json'), 'utf8'));

export function val(x: Num): number {
  if (x === 'NaN') return NaN;
  if (x === 'inf') return Infinity;
  if (x === '-inf') return -Infinity;
  return x;
}

export function u8(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export function f64(b64: string): Float64Array {
  const b = Buffer.from(b64, 'base64');
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Equal within rtol (NaN equals NaN, infinities must match exactly). */
export function assertClose(actual: number | undefined, expected: number, what: string, rtol = 1e-9): void {
  assert.ok(actual !== undefined, `${what}: missing (expected ${expected})`);
  if (Number.isNaN(expected)) { assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`); return; }
  if (!Number.isFinite(expected)) { assert.equal(actual, expected, what); return; }
  assert.ok(Math.abs(actual - expected) <= rtol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected}`);
}

/** Compares every metric the reference lists. */
export function assertMetrics(actual: Partial<Record<string, number>>, expected: Record<string, Num>, what: string, rtol = 1e-9): void {
  for (const [k, v] of Object.entries(expected)) assertClose(actual[k], val(v), `${what} ${k}`, rtol);
}
