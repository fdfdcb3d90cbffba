// The Edge-Guided Module: Sobel edge signal, label boundaries, the balanced
// boundary loss, the 2D U-Net and 3D VNet with the module (identity at
// initialisation, trainable gates, checkpoint-compatible names), their
// config factory, and BCP's boundary term.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as torch from '@labelwise/torch';
import { type Tensor } from '@labelwise/torch';
import { DiceCELoss } from '../src/losses/index.js';
import { getMethod } from '../src/methods/index.js';
import { boundaryLoss, imageGradientMagnitude, labelBoundaries } from '../src/methods/semi/edge-guidance.js';
import { EdgeUNet2d, EdgeVNet, createEdgeNetwork, isEdgeGuided } from '../src/nn/index.js';
import { UNet2d } from '../src/nn/unet2d.js';
import { VNet } from '../src/nn/vnet.js';
import { ConfigError } from '../src/config/schema.js';

torch.setNumThreads(1);

const close = (a: number, b: number, tol = 1e-5, what = ''): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

const fc = [4, 8, 8, 8, 8];

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return torch.tidy(() => a.sub(b).abs().max().item());
}

describe('edge signals', () => {
  test('Sobel magnitude of a step image: the step columns only (no border edges), scaled to [0, 1]; 2D and 3D', () => {
    const row = [0, 0, 0, 0, 1, 1, 1, 1];
    const img2 = torch.tensor(Array.from({ length: 8 }, () => row).flat()).view([1, 1, 8, 8]);
    const m2 = imageGradientMagnitude(img2).toTypedArray() as Float32Array;
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const v = m2[y * 8 + x];
        if (x === 3 || x === 4) close(v, 1, 1e-5, `edge at (${y}, ${x})`);
        else assert.equal(v, 0, `flat at (${y}, ${x})`);
      }
    }
    const img3 = img2.unsqueeze(2).expand([1, 1, 5, 8, 8]).contiguous();
    const m3 = imageGradientMagnitude(img3);
    assert.deepEqual(m3.shape, [1, 1, 5, 8, 8]);
    close(maxAbsDiff(m3.select(2, 2), imageGradientMagnitude(img2)), 0, 1e-6, 'a 3D step has the 2D profile on every slice');
    assert.throws(() => imageGradientMagnitude(torch.zeros([8, 8])), /expected \[B, C, Y, X\] or \[B, C, Z, Y, X\]/);
  });

  test('label boundaries: both sides of every label change (8-neighbourhood), 2D and 3D', () => {
    const lab = torch.zeros([1, 10, 10], { dtype: 'uint8' });
    lab.index([0, '3:7', '3:7']).fill_(2);
    const b = labelBoundaries(lab);
    // 4×4 square: its 12-pixel rim inside plus the 20-pixel ring outside.
    assert.equal(b.sum().item(), 32);
    assert.equal(b.index([0, 5, 5]).item(), 0);
    assert.equal(b.index([0, 0, 0]).item(), 0);
    const cube = torch.zeros([1, 6, 6, 6], { dtype: 'uint8' });
    cube.index([0, '2:4', '2:4', '2:4']).fill_(1);
    assert.equal(labelBoundaries(cube).sum().item(), 4 * 4 * 4); // every voxel of the 4³ block around a 2³ cube
  });

  test('class-balanced BCE: positives weighted by the negative fraction; zero-weight voxels are left out', () => {
    const logits = torch.tensor([2, -1, 0.5, -3]).view([1, 1, 2, 2]);
    const y = torch.tensor([1, 0, 0, 0]).view([1, 2, 2]);
    const bce = (z: number, t: number) => Math.log(1 + Math.exp(-z)) + (1 - t) * z;
    // β = 1/4: positive weight 3/4, negatives 1/4 each.
    const w = [0.75, 0.25, 0.25, 0.25];
    const expected = [2, -1, 0.5, -3].reduce((a, z, i) => a + w[i] * bce(z, i === 0 ? 1 : 0), 0) / w.reduce((a, b) => a + b);
    close(boundaryLoss(logits, y).item(), expected, 1e-6, 'balanced BCE');
    // Dropping voxel 2 (weight 0) changes β to 1/3 and removes its term.
    const r = torch.tensor([1, 1, 0, 1]).view([1, 2, 2]);
    const w2 = [2 / 3, 1 / 3, 0, 1 / 3];
    const expected2 = [2, -1, 0.5, -3].reduce((a, z, i) => a + w2[i] * bce(z, i === 0 ? 1 : 0), 0) / (4 / 3);
    close(boundaryLoss(logits, y, r).item(), expected2, 1e-6, 'weighted');
    assert.throws(() => boundaryLoss(torch.zeros([1, 2, 2, 2]), y), /must be \[B, 1, \.\.\.spatial\]/);
  });
});

describe('edge-guided networks', () => {

  test('unet2d_egm: parameter names extend unet2d (encoder./decoder. + egm.), and untrained gates make it compute exactly the U-Net', () => {
    const egm = new EdgeUNet2d({ numClasses: 3, featureChannels: fc, generator: new torch.Generator(1) });
    const plain = new UNet2d({ numClasses: 3, featureChannels: fc });
    const names = egm.stateDict();
    const base = [...plain.stateDict().keys()];
    assert.ok(base.every((k) => names.has(k)));
    assert.ok([...names.keys()].filter((k) => !base.includes(k)).every((k) => k.startsWith('egm.')));
    assert.ok(names.has('egm.gates.stage4.weight') && names.has('egm.head.weight'));
    const r = plain.loadStateDict(egm.stateDict(), { strict: false });
    assert.deepEqual(r.missingKeys, []);
    egm.eval();
    plain.eval();
    const x = torch.randn([2, 1, 32, 32], { generator: new torch.Generator(2) });
    close(maxAbsDiff(egm.forward(x), plain.forward(x)), 0, 1e-6, 'identity at init');
    const o = egm.forwardWithEdges(x);
    assert.deepEqual(o.edges.shape, [2, 1, 32, 32]);
    assert.equal(egm.info.name, 'unet2d_egm');
    assert.ok(isEdgeGuided(egm) && !isEdgeGuided(plain));
  });

  test('unet2d_egm: the boundary loss trains the edge branch and the gates, which then change the segmentation', () => {
    const net = new EdgeUNet2d({ numClasses: 2, featureChannels: fc, gateStages: [3, 4], generator: new torch.Generator(3) });
    assert.deepEqual([...net.egm.gates.keys()], ['stage3', 'stage4']);
    const x = torch.randn([2, 1, 16, 16], { generator: new torch.Generator(4) });
    const y = x.gt(0.3).squeeze(1).long();
    const o = net.forwardWithEdges(x);
    const loss = new DiceCELoss().forward(o.logits, y).add(boundaryLoss(o.edges, labelBoundaries(y)));
    loss.backward();
    for (const k of ['egm.head.weight', 'egm.fuse.0.weight', 'egm.shallow.0.weight', 'egm.gates.stage4.weight']) {
      const grad = net.getParameter(k).grad;
      assert.ok(grad !== null && grad.abs().sum().item() > 0, `gradient reaches ${k}`);
    }
    net.eval();
    const before = net.forward(x);
    torch.noGrad(() => net.getParameter('egm.gates.stage4.weight').fill_(0.3));
    assert.ok(maxAbsDiff(net.forward(x), before) > 1e-3, 'a trained gate changes the output');
  });

  test('vnet_egm on [B, 1, Z, Y, X]: BCP layout names, identity at init, 3D boundary logits', () => {
    const egm = new EdgeVNet({ nFilters: 4, hasDropout: false, imageEdges: true, generator: new torch.Generator(5) });
    const plain = new VNet({ nFilters: 4, hasDropout: false });
    assert.deepEqual(plain.loadStateDict(egm.stateDict(), { strict: false }).missingKeys, []);
    egm.eval();
    plain.eval();
    const x = torch.randn([1, 1, 16, 16, 16], { generator: new torch.Generator(6) });
    close(maxAbsDiff(egm.forward(x), plain.forward(x)), 0, 1e-5, 'identity at init');
    const o = egm.forwardWithEdges(x);
    assert.deepEqual(o.edges.shape, [1, 1, 16, 16, 16]);
    assert.deepEqual(egm.forwardWithFeatures(torch.randn([1, 1, 48, 48, 48])).features.shape.slice(0, 2), [1, 64]);
    const flat = new EdgeVNet({ nFilters: 4, hasDropout: false, layout: 'flat' }).eval();
    assert.ok(flat.stateDict().has('block_one.conv.0.weight') && flat.stateDict().has('egm.gates.stage1.weight'));
    assert.deepEqual(flat.forward(x).shape, [1, 2, 16, 16, 16]);
  });

  test('createEdgeNetwork validates like the network registry and seeds the weights', () => {
    const a = createEdgeNetwork({ name: 'unet2d_egm', numClasses: 4, featureChannels: fc, seed: 7 });
    const b = createEdgeNetwork({ name: 'unet2d_egm', numClasses: 4, featureChannels: fc, seed: 7 });
    const x = torch.randn([1, 1, 16, 16]);
    a.eval();
    b.eval();
    assert.equal(maxAbsDiff(a.forward(x), b.forward(x)), 0);
    assert.ok(createEdgeNetwork({ name: 'vnet_egm', nFilters: 4 }) instanceof EdgeVNet);
    assert.throws(() => createEdgeNetwork({ name: 'unet2d_egm', edgeChanels: 8, gateStages: [5] }), (e: unknown) => e instanceof ConfigError && /edgeChanels: unknown key/.test(e.message) && /gateStages\[0\]: 5 is above the maximum 4/.test(e.message));
    assert.throws(() => createEdgeNetwork({ name: 'unet3d_egm' }), /is not one of unet2d_egm, vnet_egm/);
  });
});

describe('BCP boundary term', () => {
  test('with an edge-guided network and edgeWeight > 0 the step adds the weighted boundary loss of both mixes', () => {
    const make = () => new EdgeUNet2d({ numClasses: 2, featureChannels: fc, dropout: [0, 0, 0, 0, 0], generator: new torch.Generator(8) });
    const model = make();
    const g = new torch.Generator(9);
    const image = torch.randn([2, 1, 16, 16], { generator: g });
    const batch = { image, label: image.gt(0).squeeze(1).to('uint8'), uimage: torch.randn([2, 1, 16, 16], { generator: g }) };
    const build = (edgeWeight: number) => getMethod('bcp').build({ model, makeNetwork: make, loss: new DiceCELoss(), numClasses: 2, spatialDims: 2, totalSteps: 10, seed: 1, params: { edgeWeight, teacherMode: 'eval' }, phase: 'selftrain' });
    model.eval(); // batch norm on running statistics: both builds see the same forward passes
    const withEdge = build(0.5).step(batch, { step: 2, totalSteps: 10, lr: 0 });
    const without = build(0).step(batch, { step: 2, totalSteps: 10, lr: 0 });
    const edge = withEdge.logs!.edge as Tensor;
    assert.ok(edge.item() > 0);
    close(withEdge.loss!.item(), without.loss!.item() + edge.item(), 1e-5, 'loss = mix losses + edge term');
    assert.equal(without.logs!.edge, undefined);
  });
});
