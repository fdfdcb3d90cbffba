import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as torch from '../src/index.js';

const dir = new URL('../../test/fixtures/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'lw-st-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Described {
  dtype: string;
  shape: number[];
  values: (number | boolean)[];
}
const expect = JSON.parse(readFileSync(join(dir, 'serialize.json'), 'utf8')) as {
  safetensors: { order: string[]; tensors: Record<string, Described>; metadata: Record<string, string> };
};

function values(t: torch.Tensor): number[] {
  const v = t.dtype === 'float16' || t.dtype === 'bfloat16' ? t.float().toTypedArray() : t.toTypedArray();
  return Array.from(v as ArrayLike<number | bigint>, Number);
}

function sameTensor(a: torch.Tensor, b: torch.Tensor, what: string): void {
  assert.equal(a.dtype, b.dtype, `${what} dtype`);
  assert.deepEqual(a.shape, b.shape, `${what} shape`);
  assert.deepEqual(values(a), values(b), `${what} values`);
}

/** Writes a safetensors file by hand: header object (unpadded) + data bytes. */
function craft(name: string, header: unknown, data: Buffer, headerLen?: number): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerLen ?? json.length));
  const p = join(tmp, name);
  writeFileSync(p, Buffer.concat([len, json, data]));
  return p;
}

test('round trip of every dtype, 0-d and empty tensors, non-contiguous input, and metadata', () => {
  const base = torch.arange(0, 12, 1, { dtype: 'float32' }).reshape([3, 4]);
  const tensors: Record<string, torch.Tensor> = {
    f32: torch.tensor([[1.5, -2], [3, 4]], { dtype: 'float32' }),
    f64: torch.tensor([1e-300, -2.5, Math.PI], { dtype: 'float64' }),
    f16: torch.tensor([0.5, -1.5, 65504], { dtype: 'float16' }),
    bf16: torch.tensor([1, -2, 0.15625, 3e20], { dtype: 'bfloat16' }),
    i64: torch.tensor([1, -2, 2 ** 40], { dtype: 'int64' }),
    i32: torch.tensor([-7, 2 ** 31 - 1], { dtype: 'int32' }),
    i16: torch.tensor([-300, 300], { dtype: 'int16' }),
    i8: torch.tensor([-128, 127], { dtype: 'int8' }),
    u8: torch.tensor([0, 255], { dtype: 'uint8' }),
    mask: torch.tensor([true, false, true]),
    scalar: torch.scalarTensor(3.5),
    empty: torch.zeros([0, 4]),
    transposed: torch.callT(torch.op('t'), [base]),
    sliced: torch.callT(torch.op('slice', 'Tensor'), [base, 1, 1, 3]),
  };
  assert.equal(tensors.transposed.isContiguous(), false);
  const p = join(tmp, 'roundtrip.safetensors');
  torch.saveSafetensors(p, tensors, { format: 'pt', note: 'ünïcode ✓' });
  const back = torch.loadSafetensors(p);
  assert.deepEqual(new Set(back.keys()), new Set(Object.keys(tensors)));
  for (const [k, t] of Object.entries(tensors)) sameTensor(back.get(k)!, t, k);
  assert.equal(back.get('transposed')!.isContiguous(), true);
  assert.deepEqual(back.get('transposed')!.tolist(), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
  const h = torch.safetensorsHeader(p);
  assert.deepEqual(h.metadata, { format: 'pt', note: 'ünïcode ✓' });
  assert.deepEqual(h.tensors.get('scalar'), { dtype: 'float32', shape: [], dataOffsets: h.tensors.get('scalar')!.dataOffsets });

  // The layout follows the spec: header padded with spaces to 8 bytes, then
  // contiguous data with every tensor aligned to its item size.
  const raw = readFileSync(p);
  const n = Number(raw.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  const text = raw.toString('utf8', 8, 8 + n);
  assert.match(text, /^\{.*\} *$/);
  const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  let end = 0;
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__').sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  for (const [k, e] of entries) {
    assert.equal(e.data_offsets[0], end, `${k} follows the previous tensor`);
    assert.equal(e.data_offsets[0] % torch.itemSize[back.get(k)!.dtype], 0, `${k} is aligned`);
    end = e.data_offsets[1];
  }
  assert.equal(raw.length, 8 + n + end);
});

test('a file written from Python loads with equal values, in file order', () => {
  const p = join(dir, 'serialize_py.safetensors');
  const sd = torch.loadSafetensors(p);
  assert.deepEqual([...sd.keys()], expect.safetensors.order);
  for (const [k, d] of Object.entries(expect.safetensors.tensors)) {
    const t = sd.get(k)!;
    assert.equal(t.dtype, d.dtype, `${k} dtype`);
    assert.deepEqual(t.shape, d.shape, `${k} shape`);
    assert.deepEqual(values(t), d.values.map(Number), `${k} values`);
  }
  assert.deepEqual(torch.safetensorsHeader(p).metadata, expect.safetensors.metadata);
  const some = torch.loadSafetensors(p, { names: ['mask', '10'] });
  assert.deepEqual([...some.keys()], ['10', 'mask']);
  assert.throws(() => torch.loadSafetensors(p, { names: ['nope'] }), new RegExp(`${p}: no tensor named 'nope' \\(the file has 12: z.float32, 10,`));
});

test('saving accepts a Map, keeps names with dots, and replaces an existing file atomically', () => {
  const p = join(tmp, 'map.safetensors');
  torch.saveSafetensors(p, new Map([['layer.0.weight', torch.ones([2, 2])]]));
  torch.saveSafetensors(p, new Map([['layer.0.weight', torch.zeros([3])]]));
  const back = torch.loadSafetensors(p);
  assert.deepEqual(back.get('layer.0.weight')!.tolist(), [0, 0, 0]);
  assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('map.safetensors') && f !== 'map.safetensors'), [], 'no temp file is left');
});

test('an interrupted write leaves no file under the final name and no temp file', () => {
  const p = join(tmp, 'interrupted.safetensors');
  const good = torch.ones([4]);
  const bad = torch.ones([4]);
  bad.dataView = () => {
    throw new Error('disk on fire');
  };
  assert.throws(() => torch.saveSafetensors(p, { a: good, z: bad }), /disk on fire/);
  assert.equal(existsSync(p), false);
  // An existing file is left as it was.
  torch.saveSafetensors(p, { a: good });
  const before = readFileSync(p);
  assert.throws(() => torch.saveSafetensors(p, { a: good, z: bad }), /disk on fire/);
  assert.deepEqual(readFileSync(p), before);
  assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('interrupted')), ['interrupted.safetensors']);
});

test('saving rejects what safetensors cannot hold, with the tensor named', () => {
  const p = join(tmp, 'bad.safetensors');
  const c = torch.callT(torch.op('complex'), [torch.ones([1]), torch.ones([1])]);
  assert.throws(() => torch.saveSafetensors(p, { c }), /tensor 'c' has dtype complex64, which safetensors cannot store/);
  assert.throws(() => torch.saveSafetensors(p, { __metadata__: torch.ones([1]) }), /'__metadata__' is reserved/);
  assert.throws(() => torch.saveSafetensors(p, { x: torch.ones([1]) }, { n: 1 as unknown as string }), /metadata\['n'\] must be a string/);
  assert.throws(() => torch.saveSafetensors(join(tmp, 'no', 'such', 'dir.safetensors'), { x: torch.ones([1]) }), /cannot create a file in/);
  assert.equal(existsSync(p), false);
});

test('corrupt files are rejected before allocating, naming the file, the tensor and the field', () => {
  const f32 = (n: number): Buffer => Buffer.alloc(4 * n);
  const cases: [string, string, RegExp][] = [];
  const add = (name: string, p: string, re: RegExp): void => {
    cases.push([name, p, re]);
  };
  add('empty header', craft('short.st', '', Buffer.alloc(0)), /header is not valid JSON/);
  const tiny = join(tmp, 'tiny.st');
  writeFileSync(tiny, Buffer.alloc(5));
  add('tiny', tiny, /5 bytes, too short for the 8-byte header length/);
  add('header past end', craft('hlen.st', { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1), 10_000), /header length 10000 exceeds the file size/);
  add('bad json', craft('json.st', '{"a": [1,', Buffer.alloc(0)), /header is not valid JSON/);
  add('not object', craft('arr.st', '[1, 2]', Buffer.alloc(0)), /header must be a JSON object/);
  add('bad dtype', craft('dtype.st', { w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)), /tensor 'w': field 'dtype' has unsupported value 'F8_E4M3'/);
  add('no dtype', craft('nodtype.st', { w: { shape: [1], data_offsets: [0, 4] } }, f32(1)), /tensor 'w': field 'dtype' is missing/);
  add('negative shape', craft('shape.st', { w: { dtype: 'F32', shape: [-1, 2], data_offsets: [0, 8] } }, f32(2)), /tensor 'w': field 'shape' must be an array of non-negative integers/);
  add('fractional shape', craft('shape2.st', { w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)), /tensor 'w': field 'shape'/);
  add('bad offsets', craft('offs.st', { w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1)), /tensor 'w': field 'data_offsets' must be \[begin, end\]/);
  add('reversed', craft('rev.st', { w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32(1)), /tensor 'w': field 'data_offsets' \[4, 0\] ends before it begins/);
  add('byte count', craft('count.st', { w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 12] } }, f32(6)), /tensor 'w': field 'data_offsets' \[0, 12\] spans 12 bytes, but shape \[2, 3\] of F32 needs 24/);
  add('overlap', craft('overlap.st', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3)), /tensor 'b': field 'data_offsets' \[4, 12\] overlaps tensor 'a'/);
  add('past end', craft('trunc.st', { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)), /tensor 'a': field 'data_offsets' \[0, 16\] is past the end of the data \(8 bytes\): truncated file\?/);
  add('metadata', craft('meta.st', { __metadata__: { n: 1 } }, Buffer.alloc(0)), /__metadata__\['n'\] must be a string/);
  for (const [name, p, re] of cases) {
    for (const fn of [() => torch.loadSafetensors(p), () => torch.safetensorsHeader(p)]) {
      assert.throws(fn, (e: Error) => e.message.startsWith(`${p}: `) && re.test(e.message), `${name}: ${re}`);
    }
  }
  // A real file cut short inside its data.
  const full = readFileSync(join(dir, 'serialize_py.safetensors'));
  const cut = join(tmp, 'cut.safetensors');
  writeFileSync(cut, full.subarray(0, full.length - 10));
  assert.throws(() => torch.loadSafetensors(cut), new RegExp(`^Error: ${cut}: tensor '\\w+': field 'data_offsets' .* is past the end of the data`));
  assert.throws(() => torch.loadSafetensors(join(tmp, 'missing.safetensors')), /missing\.safetensors: cannot open/);
});
