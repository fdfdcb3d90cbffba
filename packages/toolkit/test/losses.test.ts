// Every loss against its PyTorch reference (fixtures/nets_ref.py, written from
// the reference codebases' formulas): value and gradient w.r.t. the logits for
// the same inputs; plus input checks, edge cases and the registry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { type Tensor } from '@labelwise/torch';
import {
  BcpMixLoss,
  DeepSupervisionLoss,
  DiceCELoss,
  PartialDiceCELoss,
  SoftDiceLoss,
  createLoss,
  downsampleLabels,
  listLosses,
  lossNames,
  nnunetDeepSupervisionWeights,
} from '../src/losses/index.js';
import { type LossCase, type MaskSpec, type TargetSpec, assertMatches, detInput, detLabels, fixture } from './nn-fixture.js';

/** A box mask: 1 everywhere, 0 inside the box (BCP's copy-paste region). */
function boxMask(spec: MaskSpec): Tensor {
  const m = torch.ones(spec.shape);
  const idx = [':', ...spec.box.map(([a, b]) => `${a}:${b}`)];
  m.index(idx).fill_(0);
  return m;
}

function buildTarget(spec: TargetSpec, mask: Tensor | null): Tensor {
  if (spec.kind === 'logits') return detInput(spec.shape, spec.k);
  if (spec.kind === 'probabilities') return detInput(spec.shape, spec.k).sigmoid();
  let labels = detLabels(spec.shape, spec.classes as number, spec.k);
  if (spec.ignore !== undefined) {
    const idx: string[] = spec.shape.map(() => ':');
    idx[spec.ignore.axis] = `0:${spec.ignore.upTo}`;
    labels.index(idx).fill_(spec.ignore.value);
  }
  if (spec.patch !== undefined) {
    // BCP's mixed label map: image labels where the mask is 1, patch labels where it is 0.
    const patch = detLabels(spec.shape, spec.classes as number, spec.patch.k);
    labels = labels.where((mask as Tensor).eq(1), patch);
  }
  return labels;
}

function runCase(c: LossCase): { value: number; grads: Tensor[] } {
  const preds = [detInput(c.pred, 1), ...(c.extraPreds ?? []).map((s, j) => detInput(s, 2 + j))].map((p) => p.requiresGrad_(true));
  const mask = c.mask === null ? null : boxMask(c.mask);
  const target = buildTarget(c.target, mask);
  const loss = createLoss(c.config);
  const inputs = preds.map((p) => (c.predActivation === 'sigmoid' ? p.sigmoid() : p));
  const value = loss.forward(inputs.length > 1 ? inputs : inputs[0], target, mask);
  value.backward();
  return { value: value.item(), grads: preds.map((p) => p.grad ?? torch.zerosLike(p)) };
}

describe('loss values and gradients match PyTorch', () => {
  for (const [name, c] of Object.entries(fixture.losses)) {
    test(name, () => {
      torch.tidy(() => {
        const { value, grads } = runCase(c);
        assert.ok(Math.abs(value - c.value) <= 1e-5 * Math.max(1, Math.abs(c.value)), `${name}: loss ${value}, PyTorch ${c.value}`);
        grads.forEach((g, i) => assertMatches(g, c.grads[i], `${name}: gradient ${i}`, 1e-7, 1e-4));
      });
    });
  }
});

describe('edge cases', () => {
  test('perfect predictions: Dice losses reach their minimum, CE goes to 0', () => {
    torch.tidy(() => {
      const labels = detLabels([2, 8, 8], 3, 0);
      const logits = torch.F.oneHot(labels, 3).permute([0, 3, 1, 2]).to('float32').mul(40);
      for (const preset of ['ssl4mis', 'bcp_la', 'pa_seg'] as const) {
        const v = new SoftDiceLoss({ preset }).forward(logits, labels).item();
        assert.ok(Math.abs(v) < 1e-6, `${preset}: ${v}`);
      }
      assert.ok(Math.abs(new SoftDiceLoss({ preset: 'nnunet' }).forward(logits, labels).item() + 1) < 1e-6);
      assert.ok(createLoss({ name: 'ce' }).forward(logits, labels).item() < 1e-6);
    });
  });

  test('an absent class: smooth terms decide the Dice (SSL4MIS → 1 − 1 = 0 for the empty class), no NaN', () => {
    torch.tidy(() => {
      const labels = torch.zeros([1, 4, 4], { dtype: 'int64' });
      const logits = torch.tensor([[[[9]], [[-9]]]], { dtype: 'float32' }).expand([1, 2, 4, 4]).contiguous();
      const dice = new SoftDiceLoss({ preset: 'ssl4mis', validateLabels: true }).forward(logits, labels).item();
      assert.ok(Number.isFinite(dice) && dice < 1e-3, `${dice}`);
      const nn = new SoftDiceLoss({ preset: 'nnunet' }).forward(logits, labels).item();
      assert.ok(Number.isFinite(nn));
    });
  });

  test('labels as (N, 1, ...) of any dtype, one-hot targets and an ignored label give the same values', () => {
    torch.tidy(() => {
      const logits = detInput([2, 3, 6, 5]);
      const labels = detLabels([2, 6, 5], 3, 2);
      const dice = new SoftDiceLoss({ preset: 'ssl4mis' });
      const a = dice.forward(logits, labels).item();
      assert.equal(dice.forward(logits, labels.unsqueeze(1).to('float32')).item(), a);
      const oneHot = torch.F.oneHot(labels, 3).permute([0, 3, 1, 2]).to('float32');
      assert.ok(Math.abs(dice.forward(logits, oneHot).item() - a) < 1e-7);
      // ignoring a label = masking its voxels
      const withIgnore = labels.clone();
      withIgnore.index([':', '0:2']).fill_(255);
      const keep = withIgnore.ne(255).to('float32');
      const ignored = new SoftDiceLoss({ preset: 'bcp_la', ignoreIndex: 255 }).forward(logits, withIgnore).item();
      const masked = new SoftDiceLoss({ preset: 'bcp_la' }).forward(logits, labels, keep).item();
      assert.ok(Math.abs(ignored - masked) < 1e-7);
    });
  });

  test('nnU-Net DC_and_CE with every voxel ignored is 0 with zero gradient (no NaN)', () => {
    torch.tidy(() => {
      const logits = detInput([1, 2, 4, 4]).requiresGrad_(true);
      const labels = torch.full([1, 4, 4], 9, { dtype: 'int64' });
      const v = new DiceCELoss({ preset: 'nnunet', ignoreIndex: 9 }).forward(logits, labels);
      v.backward();
      assert.ok(Number.isFinite(v.item()));
      assert.equal((logits.grad as Tensor).isnan().any().item(), 0);
    });
  });

  test('partial loss: samples without annotations are skipped; none at all gives 0', () => {
    torch.tidy(() => {
      const logits = detInput([2, 2, 4, 4]).requiresGrad_(true);
      const labels = detLabels([2, 4, 4], 2, 0);
      labels.index([1]).fill_(2); // second sample fully unannotated
      const loss = new PartialDiceCELoss({ numClasses: 2 });
      const both = loss.forward(logits, labels).item();
      const first = loss.forward(logits.index(['0:1']), labels.index(['0:1'])).item();
      assert.ok(Math.abs(both - first) < 1e-6);
      const none = loss.forward(logits, torch.full([2, 4, 4], 2, { dtype: 'int64' }));
      none.backward();
      assert.equal(none.item(), 0);
      assert.equal((logits.grad as Tensor).abs().sum().item(), 0);
    });
  });

  test('bad inputs name the loss and the expected shape or range', () => {
    torch.tidy(() => {
      const logits = detInput([2, 3, 4, 4]);
      assert.throws(() => createLoss({ name: 'dice' }).forward(logits, torch.zeros([2, 5, 4], { dtype: 'int64' })), /dice: target shape \[2, 5, 4\] does not fit prediction \[2, 3, 4, 4\]/);
      assert.throws(() => createLoss({ name: 'dice' }).forward(logits, torch.full([2, 4, 4], 3, { dtype: 'int64' })), /dice: labels must be in \[0, 3\); found values in \[3, 3\]/);
      assert.throws(() => createLoss({ name: 'ce' }).forward(logits, torch.zeros([2, 4, 4], { dtype: 'int64' }), torch.ones([2, 4])), /ce: mask shape \[2, 4\] does not fit/);
      assert.throws(() => createLoss({ name: 'dice' }).forward([logits, logits], torch.zeros([2, 4, 4], { dtype: 'int64' })), /wrap the loss as \{name: 'deep_supervision'/);
      assert.throws(() => new BcpMixLoss().forward(logits, torch.zeros([2, 4, 4], { dtype: 'int64' })), /bcp_mix: needs the copy-paste mask/);
      assert.throws(() => createLoss({ name: 'kl_distillation' }).forward(logits, detInput([2, 3, 4, 5])), /teacher output shape \[2, 3, 4, 5\] must equal/);
    });
  });
});

describe('deep supervision', () => {
  test("nnU-Net's weights", () => {
    for (const [n, w] of Object.entries(fixture.dsWeights)) {
      nnunetDeepSupervisionWeights(Number(n)).forEach((v, i) => assert.ok(Math.abs(v - w[i]) < 1e-12));
    }
    assert.deepEqual(nnunetDeepSupervisionWeights(1), [1]);
  });

  test('labels are down-sampled by nearest-exact; explicit target lists are used as given', () => {
    torch.tidy(() => {
      const labels = detLabels([1, 8, 8], 3, 1);
      const small = downsampleLabels(labels, [4, 4]);
      assert.equal(small.dtype, 'int64');
      // nearest-exact at ×½ picks the odd rows and columns
      assert.ok(torch.equal(small, labels.index([':', '1::2', '1::2'])));
      const inner = createLoss({ name: 'dice_ce', preset: 'nnunet' });
      const ds = new DeepSupervisionLoss(inner, { weights: [0.6, 0.4] });
      const outs = [detInput([1, 3, 8, 8]), detInput([1, 3, 4, 4], 1)];
      const a = ds.forward(outs, labels).item();
      const b = ds.forward(outs, [labels, small]).item();
      const expected = 0.6 * inner.forward(outs[0], labels).item() + 0.4 * inner.forward(outs[1], small).item();
      assert.ok(Math.abs(a - b) < 1e-7 && Math.abs(a - expected) < 1e-6);
    });
  });
});

describe('registry', () => {
  test('lists every loss with its parameters', () => {
    const all = listLosses();
    assert.deepEqual(all.map((l) => l.name), lossNames());
    for (const name of ['ce', 'dice', 'dice_ce', 'partial_dice_ce', 'bcp_mix', 'bce', 'mse', 'softmax_mse', 'boundary_mse', 'kl_distillation', 'deep_supervision']) {
      assert.ok(lossNames().includes(name), name);
    }
    const dice = all.find((l) => l.name === 'dice');
    assert.ok(dice?.params.some((l) => l.startsWith('preset: one of ssl4mis | bcp_acdc | bcp_la | nnunet | stdr | pa_seg (default "nnunet")')));
  });

  test('unknown names and parameters are errors listing the allowed ones', () => {
    assert.throws(() => createLoss({ name: 'dcie' }), /loss.name: "dcie" is not one of ce, dice, dice_ce/);
    assert.throws(() => createLoss({ name: 'dice', smoth: 1 }), /loss.smoth: unknown key \(allowed: name, preset, classWeights, ignoreIndex, activation, squared, smooth/);
    assert.throws(() => createLoss({ name: 'dice', preset: 'monai' }), /loss.preset: 'monai' is not one of ssl4mis, bcp_acdc, bcp_la, nnunet, stdr, pa_seg/);
    assert.throws(() => createLoss({ name: 'deep_supervision', loss: { name: 'dice', batchDice: 'yes' } }), /loss.loss.batchDice: expected true or false, got 'yes'/);
    assert.throws(() => createLoss({ name: 'bce', fromLogits: false, posWeight: [1, 2] }), /bce: posWeight needs fromLogits/);
  });

  test('presets and overrides compose', () => {
    const l = createLoss({ name: 'dice_ce', preset: 'stdr', weightCe: 1 }) as DiceCELoss;
    assert.equal(l.weightDice, 0.5);
    assert.equal(l.weightCe, 1);
    assert.deepEqual(l.dice.classes, [1]);
    const d = createLoss({ name: 'dice', preset: 'nnunet', batchDice: true, includeBackground: true }) as SoftDiceLoss;
    assert.equal(d.options.batchDice, true);
    assert.equal(d.options.includeBackground, true);
    assert.equal(d.options.form, 'negative');
  });
});
