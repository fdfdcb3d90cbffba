// The networks against their PyTorch reference layouts (fixtures/nets_ref.py):
// state-dict keys in order with shapes and parameter counts; outputs of the
// same deterministic weights and inputs in eval and train mode; real
// torch.save checkpoints loaded and run; shape flow and input checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { type Tensor } from '@labelwise/torch';
import {
  DeepLabV3Plus,
  PlainConvUNet,
  UNet2d,
  UNet25d,
  VNet,
  type Network,
  createNetwork,
  fromPlan,
} from '../src/nn/index.js';
import { assertMatches, decodeLayout, detFill, detInput, fixture, fixturePath } from './nn-fixture.js';

describe('state-dict layouts match the reference implementations', () => {
  for (const [name, c] of Object.entries(fixture.layouts)) {
    test(name, () => {
      const net = createNetwork(c.config);
      try {
        const ours = [...net.stateDict()].map(([k, v]) => [k, v.shape] as [string, number[]]);
        const ref = decodeLayout(c.keys);
        for (let i = 0; i < Math.max(ours.length, ref.length); i++) {
          assert.deepEqual(ours[i], ref[i], `${name}: state-dict entry ${i}`);
        }
        assert.equal(net.numParameters(), c.params, `${name}: parameter count`);
      } finally {
        net.dispose();
      }
    });
  }
});

/** Runs a network the way the reference forward does, returning its outputs in the reference's order. */
function referenceOutputs(net: Network, x: Tensor): Tensor[] {
  if (net instanceof PlainConvUNet) return net.deepSupervision ? net.forwardDeepSupervision(x) : [net.forward(x)];
  if (net instanceof DeepLabV3Plus) {
    const o = net.forwardAll(x);
    return [o.mask, o.boundary, o.aspp, o.buFeature, o.feature, o.maskLowRes, o.boundaryLowRes];
  }
  return [net.forward(x)];
}

describe('outputs match PyTorch for the same weights', () => {
  for (const [name, c] of Object.entries(fixture.forward)) {
    test(`${name} (${c.mode})`, () => {
      const net = createNetwork(c.config);
      try {
        detFill(net);
        net.train(c.mode === 'train');
        // Ill-conditioned cases are compared in float64 (fixtures/nets_ref.py FLOAT64_FORWARD).
        const double = (c as { dtype?: string }).dtype === 'float64';
        if (double) net.double();
        torch.tidy(() =>
          torch.noGrad(() => {
            const input = detInput(c.input);
            const outs = referenceOutputs(net, double ? input.double() : input);
            assert.equal(outs.length, c.outputs.length, `${name}: number of outputs`);
            outs.forEach((o, i) => assertMatches(o, c.outputs[i], `${name} output ${i}`));
          }),
        );
      } finally {
        net.dispose();
      }
    });
  }
});

describe('torch.save checkpoints load and reproduce PyTorch', () => {
  for (const [name, c] of Object.entries(fixture.pth)) {
    test(`nets_${name}.pth`, () => {
      const file = fixturePath(`nets_${name}.pth`);
      const net = createNetwork(c.config);
      try {
        const sd = torch.loadStateDictFromPth(file, { key: c.key });
        const r = net.loadStateDict(sd);
        assert.deepEqual(r, { missingKeys: [], unexpectedKeys: [] });
        for (const t of sd.values()) t.dispose();
        const saved = torch.loadPth(file) as Map<string, unknown>;
        const x = saved.get('input') as Tensor;
        const y = saved.get('output') as Tensor;
        net.eval();
        torch.tidy(() =>
          torch.noGrad(() => {
            const out = net.forward(x);
            assert.deepEqual(out.shape, y.shape);
            const diff = out.sub(y).abs().max().item();
            assert.ok(diff < 1e-4, `${name}: max |ours − PyTorch| = ${diff}`);
          }),
        );
      } finally {
        net.dispose();
      }
    });
  }
});

describe('shape flow', () => {
  test('unet2d at non-square, non-power-of-2 sizes; features at full resolution', () => {
    const net = new UNet2d({ inChannels: 2, numClasses: 3, featureChannels: [4, 8, 8, 16, 16], upsample: 'transpose' });
    torch.tidy(() =>
      torch.noGrad(() => {
        for (const [h, w] of [[16, 16], [48, 80], [112, 32]]) {
          const { logits, features } = net.forwardWithFeatures(torch.randn([2, 2, h, w]));
          assert.deepEqual(logits.shape, [2, 3, h, w]);
          assert.deepEqual(features.shape, [2, 4, h, w]);
        }
      }),
    );
  });

  test('plain_unet with anisotropic strides: deep-supervision outputs at each stride', () => {
    const cfg = fromPlan({ dims: 3, inChannels: 1, numClasses: 2, kernelSizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]], strides: [[1, 2, 2], [2, 2, 2]], featuresPerStage: [4, 8, 8] });
    // strides given per pooling (n − 1): an all-1 first stage is prepended
    const net = new PlainConvUNet(cfg);
    assert.deepEqual(net.info.inputDivisor, [2, 4, 4]);
    torch.tidy(() =>
      torch.noGrad(() => {
        for (const size of [[6, 20, 12], [2, 36, 44]]) {
          const outs = net.forwardDeepSupervision(torch.randn([1, 1, ...size]));
          assert.deepEqual(
            outs.map((o) => o.shape),
            [
              [1, 2, ...size],
              [1, 2, size[0], size[1] / 2, size[2] / 2],
            ],
          );
          assert.deepEqual(net.forward(torch.randn([1, 1, ...size])).shape, [1, 2, ...size]);
        }
      }),
    );
  });

  test('vnet and unet25d keep the input size; vnet returns pooled bottleneck features', () => {
    const v = new VNet({ nFilters: 1, numClasses: 3 });
    const u = new UNet25d({ baseFeatures: 2, numPool: 3 });
    torch.tidy(() =>
      torch.noGrad(() => {
        assert.deepEqual(v.forward(torch.randn([1, 1, 32, 48, 16])).shape, [1, 3, 32, 48, 16]);
        const { logits, features } = v.forwardWithFeatures(torch.randn([1, 1, 48, 48, 64]));
        assert.deepEqual(logits.shape, [1, 3, 48, 48, 64]);
        assert.deepEqual(features.shape, [1, 16, 1, 1, 1]);
        assert.throws(() => v.forwardWithFeatures(torch.randn([1, 1, 32, 48, 16])), /vnet: the pooled features need a bottleneck of at least 3/);
        assert.deepEqual(u.forward(torch.randn([1, 1, 24, 40, 8])).shape, [1, 2, 24, 40, 8]);
      }),
    );
  });

  test('deeplab accepts any size ≥ 16 and returns every reference output', () => {
    const net = new DeepLabV3Plus({ numClasses: 2 });
    net.eval();
    torch.tidy(() =>
      torch.noGrad(() => {
        const o = net.forwardAll(torch.randn([1, 3, 37, 50]));
        assert.deepEqual(o.mask.shape, [1, 2, 37, 50]);
        assert.deepEqual(o.boundary.shape, [1, 1, 37, 50]);
        assert.deepEqual(o.feature.shape, [1, 305, 10, 13]);
        assert.deepEqual(o.buFeature.shape, [1, 304, 10, 13]);
        assert.deepEqual(o.aspp.shape, [1, 256, 3, 4]);
      }),
    );
  });

  test('bad inputs fail with the network name and the expected shape', () => {
    const net = new UNet2d({ featureChannels: [2, 2, 2, 2, 2] });
    torch.tidy(() => {
      assert.throws(() => net.forward(torch.randn([1, 1, 30, 32])), /unet2d: spatial input size \[30, 32\] must be divisible by \[16, 16\].*\[32, 32\]/);
      assert.throws(() => net.forward(torch.randn([1, 3, 32, 32])), /unet2d: expected 1 input channel\(s\)/);
      assert.throws(() => net.forward(torch.randn([1, 32, 32])), /unet2d: expected a 4-D input \(N, C, H, W\)/);
    });
  });
});

describe('training mode', () => {
  test('gradients reach every parameter of unet2d and plain_unet, and BN statistics update', () => {
    for (const net of [
      new UNet2d({ featureChannels: [2, 4, 4, 8, 8] }),
      new PlainConvUNet(fromPlan({ dims: 2, inChannels: 1, numClasses: 2, kernelSizes: [[3, 3], [3, 3]], strides: [[1, 1], [2, 2]], featuresPerStage: [4, 8] })),
    ]) {
      net.train();
      torch.tidy(() => {
        const outs = net instanceof PlainConvUNet ? net.forwardDeepSupervision(torch.randn([2, 1, 32, 32])) : [net.forward(torch.randn([2, 1, 32, 32]))];
        outs.reduce((a, o) => a.add(o.square().mean()), torch.zeros([])).backward();
      });
      for (const [k, p] of net.namedParameters()) {
        assert.ok(p.grad !== null, `${net.info.name}: ${k} has no gradient`);
        assert.ok(Number.isFinite(p.grad.abs().sum().item()), `${net.info.name}: ${k} gradient is not finite`);
      }
      net.dispose();
    }
  });

  test('a seeded network is reproducible, another seed differs', () => {
    const a = createNetwork({ name: 'unet2d', featureChannels: [2, 2, 4, 4, 4], seed: 7 });
    const b = createNetwork({ name: 'unet2d', featureChannels: [2, 2, 4, 4, 4], seed: 7 });
    const c = createNetwork({ name: 'unet2d', featureChannels: [2, 2, 4, 4, 4], seed: 8 });
    const key = 'encoder.in_conv.conv_conv.0.weight';
    torch.tidy(() => {
      const wa = a.stateDict().get(key) as Tensor;
      assert.ok(torch.equal(wa, a.stateDict().get(key) as Tensor));
      assert.ok(torch.equal(wa, b.stateDict().get(key) as Tensor));
      assert.ok(!torch.equal(wa, c.stateDict().get(key) as Tensor));
    });
    for (const n of [a, b, c]) n.dispose();
  });

  test('nnU-Net He init: N(0, gain/√fan_in) conv weights and zero biases', () => {
    const net = createNetwork({ name: 'plain_unet', dims: 3, kernelSizes: [[3, 3, 3], [3, 3, 3]], strides: [[1, 1, 1], [2, 2, 2]], featuresPerStage: [32, 64], seed: 3 });
    torch.tidy(() => {
      const w = net.stateDict().get('encoder.stages.1.0.convs.1.conv.weight') as Tensor;
      const expected = Math.sqrt(2 / (1 + 0.01 ** 2)) / Math.sqrt(64 * 27);
      assert.ok(Math.abs(w.std().item() / expected - 1) < 0.02);
      assert.equal((net.stateDict().get('encoder.stages.1.0.convs.1.conv.bias') as Tensor).abs().sum().item(), 0);
    });
    net.dispose();
  });
});
