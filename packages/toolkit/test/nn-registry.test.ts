// The network registry (validation and documentation of every parameter) and
// the nnU-Net plan adapters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/config/schema.js';
import { PlainConvUNet, UNet2d, VNet, createNetwork, fromNnunetPlans, fromPlan, listNetworks, networkNames, nnunetFeatures } from '../src/nn/index.js';

describe('createNetwork', () => {
  test('every registered network builds with its defaults (small sizes where the defaults need a plan)', () => {
    for (const name of networkNames()) {
      const config = name === 'plain_unet' ? { name, dims: 2, kernelSizes: [[3, 3], [3, 3]], strides: [[1, 1], [2, 2]] } : name === 'fc_discriminator' ? { name, inFeatures: 8, hidden: [4] } : { name };
      const net = createNetwork(config);
      assert.equal(net.info.name, name);
      assert.ok(net.numParameters() > 0);
      net.dispose();
    }
  });

  test('the documented defaults are the reference ones', () => {
    const u = createNetwork({ name: 'unet2d' }) as UNet2d;
    assert.deepEqual(u.info, { name: 'unet2d', spatialDims: 2, inChannels: 1, outChannels: 2, inputDivisor: [16, 16] });
    assert.ok(u.decoder.up1.conv1x1 !== undefined, 'bilinear up-sampling by default');
    u.dispose();
    const v = createNetwork({ name: 'vnet' }) as VNet;
    assert.equal(v.layout, 'bcp');
    assert.ok(v.stateDict().has('projection_head.0.weight'));
    assert.ok(v.stateDict().has('encoder.block_one.conv.0.weight'));
    v.dispose();
    const docs = listNetworks();
    assert.deepEqual(docs.map((d) => d.name), networkNames());
    const unet = docs.find((d) => d.name === 'unet2d');
    assert.ok(unet?.params.includes('featureChannels: list of integer (default [16,32,64,128,256]) — channels per level'));
    assert.ok(unet?.params.some((l) => l.startsWith('dropout: list of number (default [0.05,0.1,0.2,0.3,0.5])')));
    for (const d of docs) assert.ok(d.reference.length > 0 && d.summary.length > 0, d.name);
  });

  test('unknown names and parameters list the allowed values; all problems are reported at once', () => {
    assert.throws(() => createNetwork({ name: 'unet' }), (e: Error) => e instanceof ConfigError && /network.name: "unet" is not one of unet2d, plain_unet, unet25d, unet3d, attention_unet3d, vnet, deeplabv3plus_mobilenetv2, patch_discriminator, fc_discriminator/.test(e.message));
    assert.throws(() => createNetwork({ name: 'unet2d', numClass: 4 }), /network.numClass: unknown key \(allowed: name, seed, inChannels, numClasses, featureChannels, dropout, upsample, bcpHeads, bcpHeadClasses\)/);
    try {
      createNetwork({ name: 'unet2d', upsample: 'nearest', featureChannels: [16, 32], numClasses: 0 }, 'exp.yaml');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^exp.yaml: invalid config/);
      assert.equal(e.problems.length, 3);
      assert.match(e.message, /network.upsample: 'nearest' is not one of bilinear, transpose/);
      assert.match(e.message, /network.featureChannels: expected 5 entries, got 2/);
      assert.match(e.message, /network.numClasses: 0 is below the minimum 1/);
    }
    assert.throws(() => createNetwork({ name: 'deeplabv3plus_mobilenetv2', outputStride: 32 }), /network.outputStride: 32 is not one of 8, 16/);
    assert.throws(() => createNetwork({ name: 'plain_unet', dims: 3, kernelSizes: [[3, 3, 3], [3, 3]], strides: [[1, 1, 1], [2, 2, 2]] }), /kernelSizes\[1\] must list 3 positive integers/);
    assert.throws(() => createNetwork({ name: 'plain_unet', dims: 2 }), /network.kernelSizes: required/);
    assert.throws(() => createNetwork({ name: 'vnet', layout: 'flat', bcpHeads: true }), /vnet: bcpHeads needs layout 'bcp'/);
    assert.throws(() => createNetwork({ name: 'vnet', normalization: 'groupnorm', nFilters: 8 }), /groupnorm uses 16 groups/);
  });
});

describe('plans', () => {
  test('fromPlan: pooling lists get an all-1 first stage, channels follow nnU-Net (capped at 320 / 512)', () => {
    const c = fromPlan({ dims: 3, inChannels: 2, numClasses: 4, kernelSizes: Array.from({ length: 7 }, () => [3, 3, 3]), strides: Array.from({ length: 6 }, () => [2, 2, 2]) });
    assert.deepEqual(c.strides[0], [1, 1, 1]);
    assert.deepEqual(c.featuresPerStage, [32, 64, 128, 256, 320, 320, 320]);
    assert.deepEqual(c.nConvPerStage, [2, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual(c.nConvPerStageDecoder, [2, 2, 2, 2, 2, 2]);
    assert.deepEqual(nnunetFeatures(8, 2), [32, 64, 128, 256, 512, 512, 512, 512]);
    assert.throws(() => fromPlan({ dims: 2, inChannels: 1, numClasses: 2, kernelSizes: [[3, 3], [3, 3], [3, 3]], strides: [[2, 2]] }), /strides must have 3 entries \(one per stage\) or 2/);
  });

  test('fromNnunetPlans reads arch_kwargs (nnU-Net ≥ 2.2), the older keys, and inherits_from', () => {
    const archKwargs = {
      n_stages: 3,
      features_per_stage: [32, 64, 128],
      conv_op: 'torch.nn.modules.conv.Conv3d',
      kernel_sizes: [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
      strides: [[1, 1, 1], [1, 2, 2], [2, 2, 2]],
      n_conv_per_stage: [2, 2, 2],
      n_conv_per_stage_decoder: [2, 2],
      conv_bias: true,
      norm_op: 'torch.nn.modules.instancenorm.InstanceNorm3d',
      norm_op_kwargs: { eps: 1e-5, affine: true },
      dropout_op: null,
      dropout_op_kwargs: null,
      nonlin: 'torch.nn.LeakyReLU',
      nonlin_kwargs: { inplace: true },
    };
    const plans = {
      configurations: {
        '3d_fullres': { batch_dice: false, architecture: { network_class_name: 'dynamic_network_architectures.architectures.unet.PlainConvUNet', arch_kwargs: archKwargs } },
        '3d_cascade_fullres': { inherits_from: '3d_fullres', previous_stage: '3d_lowres' },
        '2d': { UNet_base_num_features: 32, unet_max_num_features: 512, conv_kernel_sizes: [[3, 3], [3, 3], [3, 3]], pool_op_kernel_sizes: [[1, 1], [2, 2], [2, 2]], n_conv_per_stage_encoder: [2, 2, 2], n_conv_per_stage_decoder: [2, 2] },
      },
    };
    const c3 = fromNnunetPlans(plans, '3d_cascade_fullres', { inChannels: 1, numClasses: 3 });
    assert.equal(c3.dims, 3);
    assert.deepEqual(c3.featuresPerStage, [32, 64, 128]);
    assert.equal(c3.norm, 'instance');
    assert.equal(c3.negativeSlope, 0.01);
    const net = new PlainConvUNet(c3);
    assert.deepEqual(net.info.inputDivisor, [2, 4, 4]);
    assert.ok(net.stateDict().has('decoder.encoder.stages.2.0.convs.1.all_modules.1.weight'));
    net.dispose();
    const c2 = fromNnunetPlans(plans, '2d', { inChannels: 1, numClasses: 2 });
    assert.deepEqual(c2.featuresPerStage, [32, 64, 128]);
    assert.deepEqual(c2.strides, [[1, 1], [2, 2], [2, 2]]);
    assert.throws(() => fromNnunetPlans(plans, '3d_lowres', { inChannels: 1, numClasses: 2 }), /no configuration '3d_lowres' \(have: 3d_fullres, 3d_cascade_fullres, 2d\)/);
    assert.throws(() => fromNnunetPlans({}, '2d', { inChannels: 1, numClasses: 2 }), /no "configurations" object/);
  });
});
