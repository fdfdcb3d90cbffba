// Views and storage sharing (basic indexing, view ops, writes through views),
// and the errors of indexing and shape ops: clear JS errors naming the op.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';

const base = () => torch.arange(24, { dtype: 'float32' }).reshape(2, 3, 4);

test('basic indexing returns views that share storage; writes through them reach the base', () => {
  torch.tidy(() => {
    const x = base();
    const v = x.index([0, '1:3']);
    assert.ok(v.sharesStorageWith(x));
    assert.deepEqual(v.shape, [2, 4]);
    v.fill_(-1);
    assert.deepEqual(x.index([0]).tolist(), [[0, 1, 2, 3], [-1, -1, -1, -1], [-1, -1, -1, -1]]);
    // A strided view: every other column of the last row.
    const w = x.index([1, -1, '::2']);
    w.mul_(10);
    assert.deepEqual(x.index([1, 2]).tolist(), [200, 21, 220, 23]);
    // Chained views and a new axis still alias the base.
    const u = x.index(['...', null, 3]).index([1]);
    assert.deepEqual(u.shape, [3, 1]);
    u.zero_();
    assert.deepEqual(x.index([1, ':', 3]).tolist(), [0, 0, 0]);
  });
});

test('advanced indexing copies; index("...") is a new alias of the same storage', () => {
  torch.tidy(() => {
    const x = base();
    const a = x.index([torch.tensor([1, 0])]);
    assert.equal(a.sharesStorageWith(x), false);
    a.fill_(5);
    assert.equal(x.index([0, 0, 0]).item(), 0);
    const m = x.index(x.gt(20));
    assert.equal(m.sharesStorageWith(x), false);
    assert.deepEqual(m.tolist(), [21, 22, 23]);
    const all = x.index('...');
    assert.notEqual(all, x);
    assert.ok(all.sharesStorageWith(x));
    all.dispose();
    assert.equal(x.isDisposed, false);
    assert.equal(x.sum().item(), 276);
  });
});

test('indexPut_ writes in place through basic and advanced indices and returns this', () => {
  torch.tidy(() => {
    const x = torch.zeros([3, 4]);
    const view = x.index(['1:']);
    const r = view.indexPut_([':', torch.tensor([0, 3])], 7);
    assert.equal(r, view);
    assert.deepEqual(x.tolist(), [[0, 0, 0, 0], [7, 0, 0, 7], [7, 0, 0, 7]]);
    x.indexPut_(x.eq(7), torch.tensor([1, 2, 3, 4], { dtype: 'float32' }));
    assert.deepEqual(x.tolist(), [[0, 0, 0, 0], [1, 0, 0, 2], [3, 0, 0, 4]]);
    x.indexPut_([0, torch.slice(null, null, 2)], torch.tensor([[9, 8]], { dtype: 'float32' }));
    assert.deepEqual(x.index(0).tolist(), [9, 0, 8, 0]);
    x.indexPut_([2, '...'], 1, true);
    assert.deepEqual(x.index(2).tolist(), [4, 1, 1, 5]);
  });
});

test('view ops share storage; copies do not', () => {
  torch.tidy(() => {
    const x = base();
    const views: [string, Tensor][] = [
      ['view', x.view(6, 4)], ['reshape', x.reshape(-1)], ['flatten', x.flatten()], ['transpose', x.transpose(0, 2)],
      ['permute', x.permute(2, 0, 1)], ['mT', x.mT], ['t', x.index(0).t()], ['squeeze', x.unsqueeze(0).squeeze(0)],
      ['expand', x.index([0, 0]).expand(5, 4)], ['narrow', x.narrow(2, 1, 2)], ['select', x.select(1, 2)], ['slice', x.slice(2, 0, 4, 3)],
      ['diagonal', x.diagonal(0, 1, 2)], ['movedim', x.movedim(0, 2)], ['unfold', x.unfold(2, 2, 2)], ['unflatten', x.unflatten(2, [2, 2])],
      ['split', x.split(1)[1]], ['chunk', x.chunk(2, 2)[1]], ['unbind', x.unbind(1)[2]], ['view dtype', x.view('int32')],
    ];
    for (const [name, v] of views) assert.ok(v.sharesStorageWith(x), `${name} should be a view`);
    const copies: [string, Tensor][] = [
      ['clone', x.clone()], ['contiguous of transposed', x.transpose(0, 2).contiguous()], ['reshape of transposed', x.transpose(0, 2).reshape(-1)],
      ['repeat', x.repeat(1, 1, 1)], ['flip', x.flip(0)], ['cat', torch.cat([x])], ['index_select', x.indexSelect(0, torch.tensor([0]))],
    ];
    for (const [name, c] of copies) assert.equal(c.sharesStorageWith(x), false, `${name} should copy`);
    // In-place ops on views update the base.
    x.transpose(0, 2).index([0]).add_(100);
    x.narrow(1, 0, 1).zero_();
    assert.deepEqual(x.index([0, ':', 0]).tolist(), [0, 104, 108]);
  });
});

test('splitting ops return arrays of views that tidy() keeps as results', () => {
  const parts = torch.tidy(() => base().split([1, 3], 2));
  assert.deepEqual(parts.map((p) => p.shape), [[2, 3, 1], [2, 3, 3]]);
  assert.equal(parts[0].isDisposed, false);
  const { values, indices } = torch.tidy(() => base().max(2));
  assert.deepEqual(values.shape, [2, 3]);
  assert.deepEqual(indices.tolist(), [[3, 3, 3], [3, 3, 3]]);
  torch.dispose(parts, values, indices);
});

test('index specs: slices, Slice objects and Python semantics for out-of-range slices', () => {
  torch.tidy(() => {
    const x = torch.arange(10);
    assert.deepEqual(x.index('-3:').tolist(), [7, 8, 9]);
    assert.deepEqual(x.index(':-7').tolist(), [0, 1, 2]);
    assert.deepEqual(x.index('2:8:3').tolist(), [2, 5]);
    assert.deepEqual(x.index(torch.slice(-100, 100, 4)).tolist(), [0, 4, 8]);
    assert.deepEqual(x.index('8:2').tolist(), []);
    assert.equal(String(torch.slice(1, null, 2)), '1::2');
    assert.deepEqual(x.index([[-1, 0]]).tolist(), [9, 0]);
    assert.equal(x.index(torch.tensor(3)).item(), 3);
  });
});

test('index errors name the op and the problem', () => {
  torch.tidy(() => {
    const x = base();
    assert.throws(() => x.index(5), /^RangeError: index\(\): index 5 is out of bounds for dimension 0 with size 2$/);
    assert.throws(() => x.index([0, -4]), /index\(\): index -4 is out of bounds for dimension 1 with size 3/);
    assert.throws(() => x.index([0, 0, 0, 0]), /index\(\): too many indices for tensor of dimension 3 \(got 4\)/);
    assert.throws(() => x.index(['...', 0, '...']), /index\(\): an index can only have a single ellipsis/);
    assert.throws(() => x.index('::0'), /index\(\): step must be greater than zero, got 0/);
    assert.throws(() => x.index('::-1'), /index\(\): step must be greater than zero, got -1/);
    assert.throws(() => x.index(torch.slice(0, 2, 0)), /step must be greater than zero/);
    assert.throws(() => x.index(1.5), /^TypeError: index\(\): bad index at position 0: 1.5 \(indices must be integers\)/);
    assert.throws(() => x.index([0, '1:a']), /index\(\): bad index at position 1: '1:a' \(expected '...' or a slice/);
    assert.throws(() => x.index([0, {} as never]), /index\(\): bad index at position 1: \{\} \(expected a number/);
    assert.throws(() => x.index([undefined as never]), /use null for a new axis/);
    assert.throws(() => x.index([[0.5]]), /array indices must hold integers or booleans/);
    assert.throws(() => torch.tensor(5).index(0), /index\(\): invalid index of a 0-d tensor/);
    assert.throws(() => x.index(torch.tensor([1, 0], { dtype: 'int32' })), /aten::index\.Tensor.*tensors used as indices must be long, byte or bool tensors/);
    assert.throws(() => x.index(torch.tensor([5])), /aten::index\.Tensor.*index 5 is out of bounds for dimension 0 with size 2/);
    assert.throws(() => x.index(torch.ones([3], { dtype: 'bool' })), /aten::index\.Tensor.*shape of the mask \[3\] at index 0 does not match/);
    assert.throws(() => x.indexPut_(0, torch.ones([2, 2])), /aten::expand.*must match the existing size/);
    assert.throws(() => x.indexPut_(7, 1), /indexPut_\(\): index 7 is out of bounds for dimension 0 with size 2/);
    assert.throws(() => x.long().indexPut_([torch.tensor([0])], torch.ones([3, 4])), /aten::index_put_.*(dtype|type)/i);
    // Nothing leaked or changed by the failed calls.
    assert.equal(x.sum().item(), 276);
  });
});

test('shape, gather and scatter errors name the op', () => {
  torch.tidy(() => {
    const a = torch.zeros([2, 3]);
    assert.throws(() => torch.cat([a, torch.zeros([2, 2])]), /aten::cat\(tensors=\[float32\[2, 3\], float32\[2, 2\]\].*Sizes of tensors must match except in dimension 0/);
    assert.throws(() => torch.cat([]), /aten::cat.*(non-empty|expected a non-empty list)/);
    assert.throws(() => torch.stack([a, torch.zeros([3, 2])]), /aten::stack.*stack expects each tensor to be equal size/);
    assert.throws(() => a.sum(5), /aten::sum\.dim_IntList.*Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)/);
    assert.throws(() => a.transpose(0, 2), /aten::transpose\.int.*Dimension out of range/);
    assert.throws(() => a.max(1.5), /max\(\): dim must be an integer, got 1.5/);
    assert.throws(() => a.view(4, 2), /aten::view.*shape '\[4, 2\]' is invalid for input of size 6/);
    assert.throws(() => a.t().view(6), /aten::view.*view size is not compatible with input tensor's size and stride/);
    assert.throws(() => a.reshape(2, 2.5), /reshape\(\): sizes must be integers/);
    assert.throws(() => a.select(0, 2), /aten::select\.int.*out of range/);
    assert.throws(() => a.gather(1, torch.tensor([[5]])), /aten::gather.*index 5 is out of bounds for dimension 1 with size 3/);
    assert.throws(() => a.indexSelect(0, torch.tensor([4])), /aten::index_select.*(out of range|out of bounds)/);
    assert.throws(() => a.scatter(1, torch.tensor([[0, 1]]), torch.ones([1, 2]), { reduce: 'max' as never }), /aten::scatter\.reduce/);
    assert.throws(() => torch.matmul(a, a), /aten::matmul.*cannot be multiplied/);
    assert.throws(() => torch.einsum('ij,jk->ik', a), /aten::einsum.*(more operands|operands)/);
    assert.throws(() => torch.broadcastShapes([2, 3], [4]), /broadcastShapes\(\): shapes \[\[2, 3\], \[4\]\] are not broadcastable at dim 1/);
    assert.throws(() => torch.tensordot(a, a, -1), /tensordot\(\): dims must be a non-negative integer/);
  });
});

test('elementwise and reduction errors name the op', () => {
  torch.tidy(() => {
    const i = torch.tensor([1, 2, 3]);
    assert.throws(() => i.add_(1.5), /aten::add_\.Tensor.*result type Float can't be cast to the desired output type Long/);
    assert.throws(() => i.clamp(), /clamp\(\): at least one of min and max must be given/);
    assert.throws(() => i.mean(), /aten::mean.*(Long|integral)/);
    assert.throws(() => torch.gelu(i.float(), 'fast' as never), /gelu\(\): approximate must be 'none' or 'tanh', got 'fast'/);
    assert.throws(() => torch.hardtanh(i.float(), 1, -1), /hardtanh\(\): minVal \(1\) cannot be greater than maxVal \(-1\)/);
    assert.throws(() => torch.norm(i.float(), 'inf' as never), /norm\(\): p must be a number, 'fro' or 'nuc', got 'inf'/);
    assert.throws(() => (torch.where as (...a: unknown[]) => unknown)(i.gt(1), i), /where\(\): give both input and other, or neither/);
    assert.throws(() => torch.div({ float: 1 }, i, 'floor'), /div\(\): a \{ float \} dividend with a rounding mode is not supported/);
    assert.throws(() => torch.sort(i, 3), /aten::sort\.stable.*Dimension out of range/);
    assert.throws(() => torch.topk(i, 5), /aten::topk.*(selected index k out of range|k out of range)/);
    assert.throws(() => torch.add(i, torch.ones([2])), /aten::add\.Tensor\(self=int64\[3\], other=float32\[2\]\).*size of tensor a \(3\) must match/);
  });
});
