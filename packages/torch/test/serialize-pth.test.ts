import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as torch from '../src/index.js';

const dir = new URL('../../test/fixtures/', import.meta.url).pathname;
const fx = (name: string): string => join(dir, name);
const tmp = mkdtempSync(join(tmpdir(), 'lw-pth-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Described {
  dtype: string;
  shape: number[];
  stride: number[];
  storage_offset: number;
  values: (number | boolean)[];
}
const expect = JSON.parse(readFileSync(fx('serialize.json'), 'utf8')) as {
  model: Record<string, Described>;
  checkpoint: { extras: Record<string, Described>; sharing: [string, string][]; network_weights: Record<string, Described>; momentum_keys: number[] };
  bigendian: Record<string, Described>;
};

function values(t: torch.Tensor): number[] {
  const v = t.dtype === 'float16' || t.dtype === 'bfloat16' ? t.float().toTypedArray() : t.toTypedArray();
  return Array.from(v as ArrayLike<number | bigint>, Number);
}

function assertTensor(t: unknown, d: Described, what: string, checkStrides = true): void {
  assert.ok(t instanceof torch.Tensor, `${what} is a Tensor`);
  assert.equal(t.dtype, d.dtype, `${what} dtype`);
  assert.deepEqual(t.shape, d.shape, `${what} shape`);
  if (checkStrides) assert.deepEqual(t.stride(), d.stride, `${what} stride`);
  const got = values(t);
  const want = d.values.map(Number);
  assert.equal(got.length, want.length, `${what} numel`);
  want.forEach((w, i) => assert.ok(got[i] === w || Math.abs(got[i] - w) <= 1e-6 * Math.abs(w), `${what}[${i}]: got ${got[i]}, expected ${w}`));
}

test('a model state dict saved by torch.save loads with equal values, shapes, strides and dtypes', () => {
  const sd = torch.loadPth(fx('serialize_model.pth'));
  assert.ok(sd instanceof Map);
  assert.deepEqual([...sd.keys()], Object.keys(expect.model), 'keys in saved order');
  for (const [k, d] of Object.entries(expect.model)) assertTensor(sd.get(k), d, k);
  assert.equal((sd.get('1.num_batches_tracked') as torch.Tensor).dtype, 'int64');
  assert.equal((sd.get('1.num_batches_tracked') as torch.Tensor).item(), 3);
});

test('the same archive rewritten with zip64 records and deflated entries loads identically', () => {
  const a = torch.loadStateDictFromPth(fx('serialize_model.pth'));
  const b = torch.loadStateDictFromPth(fx('serialize_zip64_deflate.pth'));
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, t] of a) assert.deepEqual(values(b.get(k)!), values(t), k);
});

test('a nested checkpoint: containers, views sharing storage, non-contiguous tensors, numpy scalars', () => {
  const ck = torch.loadPth(fx('serialize_checkpoint.pth')) as Map<string, torch.PthValue>;
  assert.equal(ck.get('current_epoch'), 3);
  assert.equal(ck.get('trainer_name'), 'nnUNetTrainer');
  assert.deepEqual(ck.get('inference_allowed_mirroring_axes'), [0, 1]);
  const init = ck.get('init_args') as Map<string, unknown>;
  assert.equal(init.get('device'), 'cuda:0');
  assert.equal(init.get('cpu'), 'cpu');
  assert.equal(init.get('unpack_dataset'), true);
  const log = ck.get('logging') as Map<string, unknown>;
  assert.deepEqual(log.get('train_losses'), [0.5, -0.25]);
  assert.equal(log.get('epoch'), 3);
  assert.equal(log.get('lr'), 0.5);
  const misc = ck.get('misc') as unknown[];
  assert.deepEqual(misc.slice(0, 12), [null, true, false, 2 ** 40, -5, 300, 2n ** 70n, 1.25, 'ünïcode', [], [], new Map()]);
  assert.deepEqual(misc[12], [2, 3], 'torch.Size');
  assert.equal(misc[13], 'float16', 'torch.float16');

  const extras = ck.get('extras') as Map<string, torch.Tensor>;
  assert.deepEqual([...extras.keys()], Object.keys(expect.checkpoint.extras));
  for (const [k, d] of Object.entries(expect.checkpoint.extras)) assertTensor(extras.get(k), d, `extras.${k}`);
  for (const [a, b] of expect.checkpoint.sharing) assert.ok(extras.get(a)!.sharesStorageWith(extras.get(b)!), `${a} and ${b} share storage`);
  assert.equal(extras.get('strided')!.isContiguous(), false);
  assert.equal(extras.get('base')!.sharesStorageWith(extras.get('strided')!), false);
  // Writes through one view show in the other, as in PyTorch.
  torch.op('fill_', 'Scalar').inplace([extras.get('window')!, -1]);
  assert.deepEqual((extras.get('base_t')!.tolist() as number[][])[1], [1, -1, -1]);

  const opt = ck.get('optimizer_state') as Map<string, unknown>;
  const state = opt.get('state') as Map<number, Map<string, unknown>>;
  assert.deepEqual([...state.keys()], expect.checkpoint.momentum_keys);
  assert.ok(state.get(0)!.get('momentum_buffer') instanceof torch.Tensor);
  const groups = opt.get('param_groups') as Map<string, unknown>[];
  assert.equal(groups[0].get('lr'), 0.01);
  assert.equal(groups[0].get('nesterov'), true);
});

test('loadStateDictFromPth unwraps network_weights and frees the rest; key and stripPrefix options', () => {
  const sd = torch.loadStateDictFromPth(fx('serialize_checkpoint.pth'));
  assert.deepEqual([...sd.keys()], Object.keys(expect.checkpoint.network_weights));
  for (const [k, d] of Object.entries(expect.checkpoint.network_weights)) assertTensor(sd.get(k), d, k);
  const extras = torch.loadStateDictFromPth(fx('serialize_checkpoint.pth'), { key: 'extras', stripPrefix: 'base' });
  assert.deepEqual([...extras.keys()].slice(0, 3), ['', '_t', 'window']);
  assert.throws(() => torch.loadStateDictFromPth(fx('serialize_checkpoint.pth'), { key: 'nope' }), /no top-level key 'nope' \(keys: network_weights, optimizer_state/);
  assert.throws(() => torch.loadStateDictFromPth(fx('serialize_checkpoint.pth'), { key: 'logging' }), /'logging' is not a dict of name → tensor/);
});

test('big-endian storages (byteorder "big") are byte-swapped', () => {
  const sd = torch.loadPth(fx('serialize_bigendian.pth')) as Map<string, torch.Tensor>;
  for (const [k, d] of Object.entries(expect.bigendian)) assertTensor(sd.get(k), d, k);
});

test('malicious pickles are refused with a clear error and nothing runs', () => {
  const marker = '/tmp/labelwise_pwned';
  rmSync(marker, { force: true });
  const sys = fx('serialize_evil_system.pth');
  assert.throws(() => torch.loadPth(sys), (e: Error) => e.message === `${sys}: refusing to load global 'posix.system': only tensors and plain containers are allowed`);
  const ev = fx('serialize_evil_eval.pth');
  assert.throws(() => torch.loadPth(ev), new RegExp(`^Error: ${ev.replace(/[.]/g, '\\.')}: refusing to load global '__builtin__\\.eval'`));
  assert.throws(() => torch.loadStateDictFromPth(sys), /refusing to load global 'posix\.system'/);
  assert.equal(existsSync(marker), false, 'the payload never ran');
});

test('pickle protocol 4 checkpoints load: frames, memoize, stack globals, sets, bytes, big ints', () => {
  const v = torch.loadPth(fx('serialize_protocol4.pth')) as Map<string, unknown>;
  const w = v.get('w') as torch.Tensor;
  assert.deepEqual(w.tolist(), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
  assert.deepEqual(w.stride(), [1, 4]);
  assert.equal(v.get('same'), w, 'the memo returns the same object');
  assert.deepEqual(v.get('sets'), [new Set([1, 2]), new Set(['a'])]);
  assert.deepEqual(v.get('bytes'), new Uint8Array([0, 255, 97, 98, 99]));
  assert.equal(v.get('big'), -(2n ** 100n));
  assert.deepEqual(v.get('nested'), new Map([['t', [1.5, null, [true]]]]));
});

test('a whole pickled nn.Module is refused with a hint to save its state_dict', () => {
  const p = fx('serialize_whole_module.pth');
  assert.throws(() => torch.loadPth(p), new RegExp(`${p}: refusing to load global 'torch\\.nn\\.modules\\.linear\\.Linear': .*save model\\.state_dict\\(\\) in PyTorch instead`));
});

test('truncated and corrupt archives are rejected naming the file and the problem', () => {
  const src = fx('serialize_model.pth');
  const size = statSync(src).size;
  const cut = join(tmp, 'truncated.pth');
  copyFileSync(src, cut);
  truncateSync(cut, Math.floor(size / 2));
  assert.throws(() => torch.loadPth(cut), new RegExp(`${cut}: not a zip archive: end of central directory record not found \\(truncated file`));

  // Flip a byte inside a stored storage: the CRC check catches it.
  const bytes = readFileSync(src);
  const flipped = join(tmp, 'flipped.pth');
  const at = bytes.indexOf(Buffer.from('serialize_model/data/0')) + 'serialize_model/data/0'.length + 100;
  bytes[at] ^= 0xff;
  writeFileSync(flipped, bytes);
  assert.throws(() => torch.loadPth(flipped), new RegExp(`${flipped}: entry 'serialize_model/data/0' fails its CRC-32 check`));

  const empty = join(tmp, 'empty.pth');
  writeFileSync(empty, '');
  assert.throws(() => torch.loadPth(empty), new RegExp(`${empty}: the file is empty`));
  const text = join(tmp, 'text.pth');
  writeFileSync(text, 'this is not a checkpoint at all, just some text');
  assert.throws(() => torch.loadPth(text), new RegExp(`${text}: not a zip archive`));
  assert.throws(() => torch.loadPth(join(tmp, 'missing.pth')), /missing\.pth: cannot open/);
});

test('the legacy non-zip torch.save format gets an error that says to re-save', () => {
  const p = fx('serialize_legacy.pth');
  assert.throws(() => torch.loadPth(p), new RegExp(`${p}: this is the legacy torch.save format .*re-save it with torch.save\\(obj, path\\)`));
});

// Only where a GPU exists: storages go to the device before the views are made.
if (torch.cuda.isAvailable()) {
  test('device: cuda puts every tensor on the GPU and keeps views sharing storage', () => {
    const ck = torch.loadPth(fx('serialize_checkpoint.pth'), { device: 'cuda' }) as Map<string, torch.PthValue>;
    const extras = ck.get('extras') as Map<string, torch.Tensor>;
    for (const t of extras.values()) assert.ok(t.isCuda);
    assert.ok(extras.get('base')!.sharesStorageWith(extras.get('window')!));
    assertTensor(extras.get('window')!.cpu(), expect.checkpoint.extras.window, 'window', false);
  });
}
