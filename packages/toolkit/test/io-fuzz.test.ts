// Fuzzing the NIfTI reader with seeded mutations of real files: every case
// must either read successfully or throw an Error whose message names the
// file, quickly and without huge allocations (absurd sizes are rejected
// before allocating).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { parseNifti, parseNiftiPair } from '../src/io/nifti.js';
import { SAMPLES } from './shared-data.js';
import { Rng } from '../src/random/rng.js';

/** Uniform [0, 1) numbers from the toolkit's seeded PRNG. */
function mulberry32(seed: number): () => number {
  const r = Rng.from(seed);
  return () => r.random();
}

const SOURCES = [
  'nibabel_testdata/nifti/standard.nii.gz',
  'nibabel_testdata/nifti/anatomical.nii', // big-endian int16
  'nibabel_testdata/nifti/example_nifti2.nii.gz', // NIfTI-2, 4D
  'ivadomed_testing/rgb_test_file.nii.gz', // RGB24
  'nibabel_testdata/nifti/functional.nii', // scaled, 4D
];

type Mutation = (raw: Uint8Array, rnd: () => number, big: boolean, v2: boolean) => { bytes: Uint8Array; gz: boolean; what: string };

const i16 = (b: Uint8Array, off: number, v: number, big: boolean) => new DataView(b.buffer, b.byteOffset).setInt16(off, v, !big);
const i32 = (b: Uint8Array, off: number, v: number, big: boolean) => new DataView(b.buffer, b.byteOffset).setInt32(off, v, !big);
const f32 = (b: Uint8Array, off: number, v: number, big: boolean) => new DataView(b.buffer, b.byteOffset).setFloat32(off, v, !big);
const i64 = (b: Uint8Array, off: number, v: bigint, big: boolean) => new DataView(b.buffer, b.byteOffset).setBigInt64(off, v, !big);

const MUTATIONS: Mutation[] = [
  (raw, rnd) => {
    const at = Math.floor(rnd() * raw.byteLength);
    return { bytes: raw.slice(0, at), gz: false, what: `truncate at ${at}` };
  },
  (raw, rnd) => {
    const b = raw.slice();
    const n = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < n; i++) b[Math.floor(rnd() * Math.min(b.byteLength, 560))] ^= 1 + Math.floor(rnd() * 255);
    return { bytes: b, gz: rnd() < 0.5, what: `${n} header byte flips` };
  },
  (raw, rnd) => {
    const b = raw.slice();
    for (let i = 0; i < 16; i++) b[Math.floor(rnd() * b.byteLength)] ^= 0xff;
    return { bytes: b, gz: rnd() < 0.5, what: 'byte flips anywhere' };
  },
  (raw, rnd, big, v2) => {
    const b = raw.slice();
    const axis = 1 + Math.floor(rnd() * 3);
    if (v2) i64(b, 16 + 8 * axis, rnd() < 0.5 ? 2n ** 40n : 2n ** 31n, big);
    else i16(b, 40 + 2 * axis, rnd() < 0.5 ? 32767 : -5, big);
    if (!v2 && rnd() < 0.5) { i16(b, 42, 32767, big); i16(b, 44, 32767, big); i16(b, 46, 32767, big); }
    return { bytes: b, gz: rnd() < 0.5, what: `absurd dim[${axis}]` };
  },
  (raw, rnd, big, v2) => {
    const b = raw.slice();
    const choices = [-1e9, -352, 1e12, 2 ** 31, 100, 0, 353, Number.NaN];
    const v = choices[Math.floor(rnd() * choices.length)];
    if (v2) i64(b, 168, BigInt(Number.isFinite(v) ? Math.trunc(v) : -1), big);
    else f32(b, 108, v, big);
    return { bytes: b, gz: rnd() < 0.5, what: `vox_offset ${v}` };
  },
  (raw, rnd, big, v2) => {
    const b = raw.slice();
    const codes = [0, 1, 32, 1536, 1792, 2048, 9999, -4, 128, 2304, 1024];
    const v = codes[Math.floor(rnd() * codes.length)];
    i16(b, v2 ? 12 : 70, v, big);
    return { bytes: b, gz: rnd() < 0.5, what: `datatype ${v}` };
  },
  (raw, rnd, big, v2) => {
    const b = raw.slice();
    if (v2) return { bytes: b, gz: true, what: 'noop (v2)' };
    i32(b, 348, 1, big); // claim extensions
    i32(b, 352, Math.floor((rnd() - 0.3) * 1e9), big); // absurd esize
    return { bytes: b, gz: rnd() < 0.5, what: 'broken extension' };
  },
  (raw, rnd) => {
    const gz = zlib.gzipSync(raw, { level: 1 });
    const b = Buffer.from(gz);
    const kind = rnd();
    if (kind < 0.4) return { bytes: b.subarray(0, Math.floor(rnd() * b.byteLength)), gz: false, what: 'gzip truncated' };
    if (kind < 0.8) {
      for (let i = 0; i < 6; i++) b[10 + Math.floor(rnd() * (b.byteLength - 10))] ^= 0x55;
      return { bytes: b, gz: false, what: 'gzip payload corrupted' };
    }
    b.writeUInt32LE(Math.floor(rnd() * 2 ** 32), b.byteLength - 4); // lying ISIZE trailer
    return { bytes: b, gz: false, what: 'gzip ISIZE lies' };
  },
  (raw, rnd, big, v2) => {
    const b = raw.slice();
    const off = v2 ? 104 : 76;
    if (v2) new DataView(b.buffer).setFloat64(off + 8 * (1 + Math.floor(rnd() * 3)), Number.NaN, !big);
    else f32(b, off + 4 * (1 + Math.floor(rnd() * 3)), rnd() < 0.5 ? Number.NaN : -3, big);
    i16(b, v2 ? 344 : 252, 1, big);
    i16(b, v2 ? 348 : 254, 0, big);
    return { bytes: b, gz: rnd() < 0.5, what: 'bad pixdim with qform' };
  },
];

test('200 seeded mutations of real NIfTI files: read or clear Error naming the file, each fast', () => {
  const originals = SOURCES.map((rel) => {
    const bytes = fs.readFileSync(path.join(SAMPLES, rel));
    const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(zlib.gunzipSync(bytes)) : new Uint8Array(bytes);
    const dv = new DataView(raw.buffer, raw.byteOffset);
    const big = dv.getInt32(0, true) !== 348 && dv.getInt32(0, true) !== 540;
    return { rel, raw, big, v2: dv.getInt32(0, !big) === 540 };
  });
  const rnd = mulberry32(20240611);
  let ok = 0, errors = 0, slowest = 0;
  const memBefore = process.memoryUsage().rss;
  for (let c = 0; c < 200; c++) {
    const src = originals[c % originals.length];
    const m = MUTATIONS[Math.floor(rnd() * MUTATIONS.length)](src.raw, rnd, src.big, src.v2);
    const bytes = m.gz ? zlib.gzipSync(m.bytes, { level: 1 }) : m.bytes;
    const name = `fuzz-${c}-${path.basename(src.rel)}`;
    const t0 = performance.now();
    try {
      const v = parseNifti(bytes, name);
      assert.ok(v.data.length === v.numVoxels * v.channels);
      ok++;
    } catch (e) {
      assert.ok(e instanceof Error, `case ${c} (${m.what}) threw a non-Error: ${String(e)}`);
      assert.ok(e.message.includes(name), `case ${c} (${m.what}): message does not name the file: ${e.message}`);
      errors++;
    }
    const dt = performance.now() - t0;
    slowest = Math.max(slowest, dt);
    assert.ok(dt < 2000, `case ${c} (${m.what}) took ${dt.toFixed(0)} ms`);
  }
  assert.ok(ok > 10 && errors > 50, `expected a mix of successes (${ok}) and errors (${errors})`);
  const grown = (process.memoryUsage().rss - memBefore) / 2 ** 20;
  assert.ok(grown < 1024, `memory grew by ${grown.toFixed(0)} MiB`);
});

test('pairs: truncated .img and corrupt .hdr name the right file', () => {
  const raw = fs.readFileSync(path.join(SAMPLES, 'nibabel_testdata/nifti/functional.nii'));
  const hdr = new Uint8Array(raw.subarray(0, 352));
  hdr.set(Buffer.from('ni1\0'), 344);
  new DataView(hdr.buffer).setFloat32(108, 0, true); // pair: data at 0 in .img
  const img = raw.subarray(352);
  const ok = parseNiftiPair(hdr, img, { hdr: 'f.hdr', img: 'f.img' });
  assert.equal(ok.channels, 20);
  assert.throws(() => parseNiftiPair(hdr, img.subarray(0, 1000), { hdr: 'f.hdr', img: 'f.img' }), (e: Error) => e.message.includes('f.img') && e.message.includes('1000'));
  const bad = hdr.slice();
  bad.set(Buffer.from('xx1\0'), 344);
  assert.throws(() => parseNiftiPair(bad, img, { hdr: 'g.hdr', img: 'g.img' }), (e: Error) => e.message.includes('g.hdr') && /magic/.test(e.message));
});
