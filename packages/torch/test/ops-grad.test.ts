// Finite-difference gradient checks (float64) for every differentiable op of
// the Tensor surface, table-driven. Inputs are small and seeded; functions
// with kinks or restricted domains get inputs away from them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';

const gen = new torch.Generator(2024);
const opts = { dtype: 'float64' as const, generator: gen };
/** Normal values, requiring grad. */
const r = (...shape: number[]) => torch.randn(shape, opts).requiresGrad_(true);
/** Values in [0.5, 1.5), requiring grad. */
const p = (...shape: number[]) => torch.rand(shape, opts).add(0.5).requiresGrad_(true);
/** Values in (-0.8, 0.8), requiring grad. */
const u = (...shape: number[]) => torch.rand(shape, opts).mul(1.6).sub(0.8).requiresGrad_(true);
/** Distinct well-separated values (no ties for max / sort), requiring grad. */
const d = (...shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return torch.randperm(n, { generator: gen }).to('float64').mul(0.37).sub(1).reshape(shape).requiresGrad_(true);
};
/** A constant (no grad). */
const k = (data: unknown, dtype?: torch.DType) => torch.tensor(data as number[], dtype ? { dtype } : {});

type Case = [string, (...xs: Tensor[]) => Tensor | Tensor[], () => Tensor[]];

const cases: Case[] = [
  // arithmetic
  ['add', (a, b) => torch.add(a, b, 2), () => [r(2, 3), r(3)]],
  ['add scalar', (a) => a.add(1.5), () => [r(4)]],
  ['sub', (a, b) => torch.sub(a, b, { alpha: 0.5 }), () => [r(2, 3), r(2, 3)]],
  ['rsub', (a, b) => torch.rsub(a, b, 3), () => [r(3), r(3)]],
  ['scalar - tensor', (a) => torch.sub(2, a), () => [r(3)]],
  ['mul', (a, b) => a.mul(b), () => [r(2, 1), r(3)]],
  ['div', (a, b) => a.div(b), () => [r(3), p(3)]],
  ['scalar / tensor', (a) => torch.div(1, a), () => [p(3)]],
  ['remainder', (a) => a.remainder(0.7), () => [torch.tensor([0.1, 0.5, 1.2, -0.9], { dtype: 'float64', requiresGrad: true })]],
  ['fmod', (a, b) => torch.fmod(a, b), () => [torch.tensor([0.3, 2.5, -1.7], { dtype: 'float64', requiresGrad: true }), torch.tensor([1.1, 1.3, 0.8], { dtype: 'float64', requiresGrad: true })]],
  ['pow scalar', (a) => a.pow(3), () => [r(4)]],
  ['pow tensors', (a, b) => torch.pow(a, b), () => [p(3), r(3)]],
  ['pow scalar base', (a) => torch.pow(2, a), () => [r(3)]],
  ['atan2', (a, b) => torch.atan2(a, b), () => [r(3), p(3)]],
  ['maximum', (a, b) => torch.maximum(a, b), () => [d(4), d(4).add(0.1)]],
  ['minimum', (a, b) => torch.minimum(a, b), () => [d(4), d(4).add(0.1)]],
  ['lerp scalar', (a, b) => torch.lerp(a, b, 0.3), () => [r(3), r(3)]],
  ['lerp tensor', (a, b, w) => torch.lerp(a, b, w), () => [r(3), r(3), u(3)]],
  ['addcmul', (a, b, c) => torch.addcmul(a, b, c, 0.5), () => [r(3), r(3), r(3)]],
  ['addcdiv', (a, b, c) => torch.addcdiv(a, b, c, { value: 2 }), () => [r(3), r(3), p(3)]],
  ['clamp', (a) => a.clamp(-0.5, 0.5), () => [d(6)]],
  ['clamp tensors', (a, lo, hi) => torch.clamp(a, lo, hi), () => [d(4), k([-0.5, -1, 0, 0.2], 'float64'), k([0.5, 1, 0.6, 0.9], 'float64')]],
  ['clampMin', (a) => torch.clampMin(a, 0.05), () => [d(4)]],
  ['clampMax', (a) => a.clampMax(0.05), () => [d(4)]],
  ['nanToNum', (a) => torch.nanToNum(a), () => [r(3)]],
  ['frac', (a) => a.frac(), () => [torch.tensor([0.3, 1.25, -2.6], { dtype: 'float64', requiresGrad: true })]],
  ['where', (c, a, b) => torch.where(c, a, b), () => [k([true, false, true]), r(3), r(2, 3)]],
  ['where scalar', (c, a) => torch.where(c, a, 0), () => [k([true, false, true]), r(3)]],
  ['in-place add_ mul_', (a, b) => a.mul(1).add_(b, 2).mul_(b), () => [r(3), r(3)]],
  ['in-place clamp_ exp_', (a) => a.mul(1).clamp_(-0.5, 0.5).exp_(), () => [d(4)]],
  ['in-place div_ pow_ sub_', (a, b) => a.mul(1).div_(b).pow_(2).sub_(b), () => [r(3), p(3)]],
  ['in-place lerp_ addcmul_', (a, b, c) => a.mul(1).lerp_(b, 0.25).addcmul_(b, c, 0.5), () => [r(3), r(3), r(3)]],
  ['copy_', (a, b) => a.mul(1).copy_(b), () => [r(2, 3), r(3)]],
  // activations
  ['relu', (a) => torch.relu(a), () => [d(5)]],
  ['leakyRelu', (a) => torch.leakyRelu(a, 0.2), () => [d(5)]],
  ['sigmoid', (a) => torch.sigmoid(a), () => [r(4)]],
  ['tanh', (a) => a.tanh(), () => [r(4)]],
  ['gelu', (a) => torch.gelu(a), () => [r(4)]],
  ['gelu tanh', (a) => torch.gelu(a, 'tanh'), () => [r(4)]],
  ['softplus', (a) => torch.softplus(a, { beta: 2, threshold: 1.5 }), () => [d(5)]],
  ['elu', (a) => torch.elu(a, 0.7), () => [d(5)]],
  ['celu', (a) => torch.celu(a, 1.3), () => [d(5)]],
  ['selu', (a) => torch.selu(a), () => [d(5)]],
  ['silu', (a) => torch.silu(a), () => [r(4)]],
  ['mish', (a) => torch.mish(a), () => [r(4)]],
  ['hardtanh', (a) => torch.hardtanh(a, -0.4, 0.4), () => [d(6)]],
  ['relu6', (a) => torch.relu6(a.mul(4)), () => [d(6)]],
  ['hardsigmoid', (a) => torch.hardsigmoid(a.mul(4)), () => [d(6)]],
  ['hardswish', (a) => torch.hardswish(a.mul(4)), () => [d(6)]],
  ['threshold', (a) => torch.threshold(a, 0.05, -2), () => [d(6)]],
  ['logsigmoid', (a) => torch.logsigmoid(a), () => [r(4)]],
  ['softsign', (a) => torch.softsign(a), () => [r(4)]],
  ['relu inplace on a copy', (a) => torch.relu(a.mul(1), true), () => [d(5)]],
  // reductions
  ['sum', (a) => a.sum(), () => [r(2, 3)]],
  ['sum dims keepdim', (a) => a.sum([0, 2], true), () => [r(2, 2, 3)]],
  ['mean', (a) => torch.mean(a, 1), () => [r(2, 3)]],
  ['nansum', (a) => torch.nansum(a, 0), () => [r(2, 3)]],
  ['nanmean', (a) => torch.nanmean(a), () => [r(2, 3)]],
  ['prod', (a) => a.prod(), () => [r(4)]],
  ['prod dim', (a) => a.prod(1, true), () => [r(2, 3)]],
  ['max', (a) => a.max(), () => [d(2, 3)]],
  ['max dim', (a) => a.max(1).values, () => [d(2, 3)]],
  ['min dim', (a) => torch.min(a, 0, true).values, () => [d(2, 3)]],
  ['amax', (a) => torch.amax(a, [0, 2]), () => [d(2, 2, 2)]],
  ['amin', (a) => torch.amin(a, -1), () => [d(2, 3)]],
  ['std', (a) => a.std(), () => [r(5)]],
  ['std dim biased', (a) => torch.std(a, 1, false, true), () => [r(2, 4)]],
  ['var correction', (a) => torch.var(a, { dim: 0, correction: 0 }), () => [r(3, 2)]],
  ['stdMean', (a) => torch.stdMean(a, 1), () => [r(2, 3)]],
  ['varMean', (a) => torch.varMean(a), () => [r(2, 3)]],
  ['norm fro', (a) => torch.norm(a), () => [r(2, 3)]],
  ['norm p1 dim', (a) => torch.norm(a, 1, 1), () => [r(2, 3)]],
  ['norm p3', (a) => a.norm(3), () => [r(4)]],
  ['norm inf', (a) => a.norm(Infinity), () => [d(4)]],
  ['norm nuc', (a) => torch.norm(a, 'nuc'), () => [r(3, 2)]],
  ['logsumexp', (a) => torch.logsumexp(a, 1), () => [r(2, 3)]],
  ['median', (a) => a.median(), () => [d(5)]],
  ['median dim', (a) => torch.median(a, 1).values, () => [d(2, 3)]],
  ['nanmedian', (a) => torch.nanmedian(a), () => [d(5)]],
  ['kthvalue', (a) => torch.kthvalue(a, 2, 1).values, () => [d(2, 3)]],
  ['mode', (a) => torch.mode(a, 0).values, () => [d(1, 3)]],
  ['cumsum', (a) => a.cumsum(1), () => [r(2, 3)]],
  ['cumprod', (a) => torch.cumprod(a, 0), () => [r(3, 2)]],
  ['cummax', (a) => torch.cummax(a, 1).values, () => [d(2, 3)]],
  ['cummin', (a) => torch.cummin(a, 0).values, () => [d(3, 2)]],
  ['logcumsumexp', (a) => torch.logcumsumexp(a, 1), () => [r(2, 3)]],
  ['sort', (a) => torch.sort(a, 1, true).values, () => [d(2, 3)]],
  ['topk', (a) => a.topk(2).values, () => [d(2, 4)]],
  ['msort', (a) => torch.msort(a), () => [d(3, 2)]],
  // shape
  ['reshape view', (a) => a.reshape(3, 2).view([6]).viewAs(a.detach().reshape(2, 3)), () => [r(2, 3)]],
  ['flatten unflatten', (a) => a.flatten(1).unflatten(1, [2, 2]), () => [r(2, 2, 2)]],
  ['permute transpose t', (a) => a.permute(2, 0, 1).transpose(0, 1).flatten(1).t(), () => [r(2, 3, 2)]],
  ['mT T', (a) => [a.mT, a.select(0, 1).T], () => [r(2, 3, 2)]],
  ['squeeze unsqueeze', (a) => a.squeeze(0).unsqueeze(-1).squeeze(), () => [r(1, 3)]],
  ['expand broadcastTo', (a) => a.expand(2, 3).add(torch.broadcastTo(a, [2, 3])), () => [r(1, 3)]],
  ['broadcastTensors', (a, b) => torch.broadcastTensors(a, b), () => [r(2, 1), r(3)]],
  ['repeat tile', (a) => a.repeat(2, 1).add(torch.tile(a, [2, 1])), () => [r(1, 3)]],
  ['repeatInterleave', (a) => torch.repeatInterleave(a, k([1, 3]), 0), () => [r(2, 2)]],
  ['cat stack', (a, b) => torch.cat([torch.stack([a, b]), torch.stack([b, a])], 1), () => [r(3), r(3)]],
  ['hstack vstack', (a, b) => torch.vstack([torch.hstack([a, b]), torch.hstack([b, a])]), () => [r(2), r(3)]],
  ['split chunk unbind', (a) => [...a.split([1, 2], 1), ...a.chunk(2), ...a.unbind(1)], () => [r(2, 3)]],
  ['flip roll rot90', (a) => a.flip(0).roll(1, 1).rot90(1, [0, 1]), () => [r(2, 3)]],
  ['narrow select slice', (a) => a.narrow(1, 1, 2).select(0, 1).add(a.slice(1, 0, 3, 2).sum()), () => [r(2, 3)]],
  ['movedim', (a) => torch.movedim(a, [0, 1], [2, 0]), () => [r(2, 3, 2)]],
  ['diag diagonal diagEmbed', (a) => [torch.diag(a), a.diagonal(1), torch.diagEmbed(a.diag())], () => [r(3, 3)]],
  ['triu tril', (a) => torch.triu(a, 1).add(a.tril(-1)), () => [r(3, 3)]],
  ['unfold', (a) => a.unfold(0, 2, 1), () => [r(4)]],
  ['meshgrid', (a, b) => torch.meshgrid(a, b), () => [r(2), r(3)]],
  // indexing
  ['index basic', (a) => a.index([1, '1:', null, '::2']), () => [r(2, 3, 3)]],
  ['index advanced', (a) => a.index([k([0, 1, 1]), ':', k([2, 0, 2])]), () => [r(2, 2, 3)]],
  ['index mask', (a) => a.index(a.detach().gt(0)), () => [r(2, 3)]],
  ['indexPut_ basic', (a, v) => a.mul(1).indexPut_([':', 1], v), () => [r(2, 3), r(2)]],
  ['indexPut_ advanced accumulate', (a, v) => a.mul(1).indexPut_([k([0, 2, 0])], v, true), () => [r(3), r(3)]],
  ['indexPut', (a, v) => a.indexPut([k([true, false, true])], v), () => [r(3, 2), r(2)]],
  ['indexSelect', (a) => torch.indexSelect(a, 1, k([2, 0, 2])), () => [r(2, 3)]],
  ['gather', (a) => a.gather(1, k([[0, 0], [2, 1]])), () => [r(2, 3)]],
  ['scatter', (a, s) => torch.scatter(a, 1, k([[0, 2], [1, 0]]), s), () => [r(2, 3), r(2, 2)]],
  ['scatter_ value', (a) => a.mul(1).scatter_(0, k([[1, 0, 1]]), 2), () => [r(2, 3)]],
  ['scatterAdd', (a, s) => torch.scatterAdd(a, 0, k([[0, 1], [0, 0]]), s), () => [r(2, 2), r(2, 2)]],
  ['scatterReduce sum', (a, s) => torch.scatterReduce(a, 0, k([0, 2, 0]), s, 'sum'), () => [r(3), r(3)]],
  ['scatterReduce mean', (a, s) => torch.scatterReduce(a, 0, k([0, 2, 0]), s, 'mean', { includeSelf: false }), () => [r(3), r(3)]],
  ['maskedFill', (a) => torch.maskedFill(a, k([true, false, true]), 0.5), () => [r(2, 3)]],
  ['maskedFill tensor value', (a, v) => a.maskedFill(k([false, true]), v), () => [r(2), r(1).sum()]],
  ['maskedSelect', (a) => torch.maskedSelect(a, k([[true, false, true], [false, true, true]])), () => [r(2, 3)]],
  ['maskedScatter', (a, s) => a.maskedScatter(k([true, false, true]), s), () => [r(2, 3), r(2, 3)]],
  ['take takeAlongDim', (a) => [torch.take(a, k([5, 0, 3])), torch.takeAlongDim(a, k([[1], [0]]), 1)], () => [r(2, 3)]],
  ['indexAdd', (a, s) => torch.indexAdd(a, 0, k([1, 1]), s, { alpha: 2 }), () => [r(2, 2), r(2, 2)]],
  ['indexFill', (a) => a.indexFill(1, k([0, 2]), -1), () => [r(2, 3)]],
  ['indexCopy', (a, s) => a.indexCopy(0, k([2, 0]), s), () => [r(3, 2), r(2, 2)]],
  // linear algebra
  ['matmul', (a, b) => torch.matmul(a, b), () => [r(2, 3), r(3, 2)]],
  ['matmul broadcast', (a, b) => a.matmul(b), () => [r(2, 1, 2, 3), r(2, 3, 2)]],
  ['matmul vec', (a, b) => torch.matmul(a, b), () => [r(3), r(2, 3, 2)]],
  ['mm bmm', (a, b) => torch.bmm(a, b).add(torch.mm(a.select(0, 0), b.select(0, 1))), () => [r(2, 2, 3), r(2, 3, 2)]],
  ['mv dot outer', (m, v, w) => [torch.mv(m, v), torch.dot(v, w), torch.outer(v, w)], () => [r(2, 3), r(3), r(3)]],
  ['einsum', (a, b) => torch.einsum('bij,bjk->bik', a, b), () => [r(2, 2, 3), r(2, 3, 2)]],
  ['einsum trace ellipsis', (a) => [torch.einsum('ii', a), torch.einsum('...ij->...ji', a)], () => [r(3, 3)]],
  ['addmm baddbmm', (c, a, b) => [torch.addmm(c, a, b, { beta: 0.5, alpha: 2 }), torch.baddbmm(c.unsqueeze(0), a.unsqueeze(0), b.unsqueeze(0))], () => [r(2, 2), r(2, 3), r(3, 2)]],
  ['tensordot', (a, b) => torch.tensordot(a, b, [[1, 0], [0, 2]]), () => [r(2, 3, 2), r(3, 2, 2)]],
  ['kron trace', (a, b) => [torch.kron(a, b), torch.trace(a)], () => [r(2, 2), r(2, 3)]],
  ['cdist', (a, b) => torch.cdist(a, b), () => [r(3, 2), r(2, 2)]],
  ['vectorNorm', (a) => [torch.linalg.vectorNorm(a), torch.linalg.vectorNorm(a, 3, { dim: 1 })], () => [r(2, 3)]],
  ['matrixNorm', (a) => [torch.linalg.matrixNorm(a), torch.linalg.matrixNorm(a, 'nuc')], () => [r(3, 2)]],
];

const UNARY: [string, (a: Tensor) => Tensor, () => Tensor[]][] = [];
for (const name of ['neg', 'reciprocal', 'exp', 'exp2', 'expm1', 'sin', 'cos', 'tan', 'atan', 'sinh', 'cosh', 'asinh', 'erf', 'erfc', 'square', 'abs'] as const) {
  UNARY.push([name, (a) => (torch[name] as (t: Tensor) => Tensor)(a), () => [name === 'reciprocal' ? p(4) : d(4)]]);
}
for (const name of ['log', 'log1p', 'log2', 'log10', 'sqrt', 'rsqrt'] as const) {
  UNARY.push([name, (a) => (torch[name] as (t: Tensor) => Tensor)(a), () => [p(4)]]);
}
for (const name of ['asin', 'acos', 'atanh', 'erfinv'] as const) {
  UNARY.push([name, (a) => (torch[name] as (t: Tensor) => Tensor)(a), () => [u(4)]]);
}
UNARY.push(['acosh', (a) => torch.acosh(a.add(1)), () => [p(4)]]);
// Piecewise-constant functions: zero gradient away from the jumps.
for (const name of ['sign', 'floor', 'ceil', 'trunc', 'round'] as const) {
  UNARY.push([name, (a) => (torch[name] as (t: Tensor) => Tensor)(a), () => [torch.tensor([0.3, 1.25, -2.6], { dtype: 'float64', requiresGrad: true })]]);
}

for (const [name, fn, inputs] of [...cases, ...UNARY]) {
  test(`gradcheck ${name}`, () => {
    torch.tidy(() => {
      assert.equal(torch.gradcheck(fn as (...xs: Tensor[]) => Tensor | Tensor[], inputs()), true);
    });
  });
}
