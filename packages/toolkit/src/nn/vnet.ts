// The VNet of UA-MT / BCP (code/networks/VNet.py): five levels of 1, 2, 3, 3, 3
// [Conv3 → norm → ReLU] stages, 2×2×2 strided-conv down-sampling and
// transposed-conv up-sampling with additive skips, Dropout3d(0.5) on the
// bottleneck and the last decoder block when hasDropout, 1×1×1 output.
// Two module layouts give the two families of checkpoints:
//   'bcp'  — BCP: encoder.block_one.conv.0.weight, decoder.out_conv.weight, plus
//            BCP's unused contrastive heads (projection_head, ...);
//   'flat' — UA-MT and its descendants: block_one.conv.0.weight, out_conv.weight.
import { type Generator, type Tensor, nn, tidy, F } from '@labelwise/torch';
import { addBcpHeads } from './bcp-heads.js';
import { Network, type NetworkInfo, defaultInit } from './network.js';

export type VNetNorm = 'batchnorm' | 'groupnorm' | 'instancenorm' | 'none';
export type VNetLayout = 'bcp' | 'flat';

function norm3d(kind: VNetNorm, channels: number): nn.AnyModule | null {
  switch (kind) {
    case 'batchnorm':
      return new nn.BatchNorm3d(channels);
    case 'groupnorm':
      return new nn.GroupNorm(16, channels);
    case 'instancenorm':
      return new nn.InstanceNorm3d(channels);
    case 'none':
      return null;
  }
}

/**
 * n × [Conv3 → norm → ReLU] as `conv`; residual: the last ReLU moves after
 * the sum conv(x) + x (BCP's ResidualConvBlock; the sum broadcasts a
 * single-channel input, as the reference does at block_one).
 */
export class VNetConvBlock extends nn.Module {
  declare conv: nn.Sequential;
  declare relu: nn.ReLU | undefined;
  readonly residual: boolean;

  constructor(stages: number, inChannels: number, outChannels: number, norm: VNetNorm, residual: boolean) {
    super();
    this.residual = residual;
    const ops: nn.AnyModule[] = [];
    for (let i = 0; i < stages; i++) {
      ops.push(new nn.Conv3d(i === 0 ? inChannels : outChannels, outChannels, 3, { padding: 1 }));
      const n = norm3d(norm, outChannels);
      if (n !== null) ops.push(n);
      if (!residual || i !== stages - 1) ops.push(new nn.ReLU(true));
    }
    this.addModule('conv', new nn.Sequential(...ops));
    if (residual) this.addModule('relu', new nn.ReLU(true));
  }

  forward(x: Tensor): Tensor {
    if (this.relu === undefined) return this.conv.forward(x);
    const relu = this.relu;
    return tidy(() => relu.forward(this.conv.forward(x).add(x)));
  }
}

/** 2×2×2 stride-2 convolution (down) or transposed convolution (up) → norm → ReLU, as `conv`. */
export class VNetResample extends nn.Module {
  declare conv: nn.Sequential;

  constructor(inChannels: number, outChannels: number, norm: VNetNorm, up: boolean) {
    super();
    const ops: nn.AnyModule[] = [up ? new nn.ConvTranspose3d(inChannels, outChannels, 2, { stride: 2 }) : new nn.Conv3d(inChannels, outChannels, 2, { stride: 2 })];
    const n = norm3d(norm, outChannels);
    if (n !== null) ops.push(n);
    ops.push(new nn.ReLU(true));
    this.addModule('conv', new nn.Sequential(...ops));
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(x);
  }
}

/** A plain holder for BCP's `encoder` / `decoder` submodules (their blocks and `dropout`). */
class VNetPart extends nn.Module<never[], never> {
  forward(): never {
    throw new Error('vnet: the encoder/decoder parts are run by VNet.forward');
  }
}

export interface VNetOptions {
  inChannels?: number;
  numClasses?: number;
  /** Channels of the first level, doubled per level (16). */
  nFilters?: number;
  normalization?: VNetNorm;
  /** Dropout3d(0.5) on the bottleneck and the last block in training mode (BCP trains with it). */
  hasDropout?: boolean;
  /** BCP's residual blocks (has_residual). */
  residual?: boolean;
  /** 'bcp' (encoder./decoder. prefixes; default) or 'flat' (UA-MT). */
  layout?: VNetLayout;
  /** BCP's contrastive heads (default: with the 'bcp' layout). */
  bcpHeads?: boolean;
  /** Number of BCP class selectors (BCP's VNet: 2). */
  bcpHeadClasses?: number;
  generator?: Generator;
}

export const VNET_DEFAULTS = {
  inChannels: 1,
  numClasses: 2,
  nFilters: 16,
  normalization: 'batchnorm' as VNetNorm,
  hasDropout: true,
  residual: false,
  layout: 'bcp' as VNetLayout,
  bcpHeadClasses: 2,
};

export interface VNetFeatures {
  logits: Tensor;
  /** BCP's second output: MaxPool3d(3, stride 2) of the bottleneck features. */
  features: Tensor;
}

type Blocks = Record<string, nn.AnyModule>;

/** VNet; input (N, C, D, H, W) with sizes multiples of 16. Default PyTorch init. */
export class VNet extends Network {
  readonly info: NetworkInfo;
  readonly hasDropout: boolean;
  readonly layout: VNetLayout;
  private readonly blocks: Blocks;
  private readonly drop: nn.Dropout3d;

  constructor(options: VNetOptions = {}) {
    super();
    const o = { ...VNET_DEFAULTS, ...options };
    const heads = options.bcpHeads ?? o.layout === 'bcp';
    if (heads && o.layout !== 'bcp') throw new Error("vnet: bcpHeads needs layout 'bcp' (UA-MT's flat VNet has no heads)");
    if (o.normalization === 'groupnorm' && o.nFilters % 16 !== 0) throw new Error(`vnet: groupnorm uses 16 groups, so nFilters must be a multiple of 16, got ${o.nFilters}`);
    this.info = { name: 'vnet', spatialDims: 3, inChannels: o.inChannels, outChannels: o.numClasses, inputDivisor: [16, 16, 16] };
    this.hasDropout = o.hasDropout;
    this.layout = o.layout;
    const nf = o.nFilters;
    const nm = o.normalization;
    const r = o.residual;
    const enc: Blocks = {
      block_one: new VNetConvBlock(1, o.inChannels, nf, nm, r),
      block_one_dw: new VNetResample(nf, 2 * nf, nm, false),
      block_two: new VNetConvBlock(2, 2 * nf, 2 * nf, nm, r),
      block_two_dw: new VNetResample(2 * nf, 4 * nf, nm, false),
      block_three: new VNetConvBlock(3, 4 * nf, 4 * nf, nm, r),
      block_three_dw: new VNetResample(4 * nf, 8 * nf, nm, false),
      block_four: new VNetConvBlock(3, 8 * nf, 8 * nf, nm, r),
      block_four_dw: new VNetResample(8 * nf, 16 * nf, nm, false),
      block_five: new VNetConvBlock(3, 16 * nf, 16 * nf, nm, r),
    };
    const dec: Blocks = {
      block_five_up: new VNetResample(16 * nf, 8 * nf, nm, true),
      block_six: new VNetConvBlock(3, 8 * nf, 8 * nf, nm, r),
      block_six_up: new VNetResample(8 * nf, 4 * nf, nm, true),
      block_seven: new VNetConvBlock(3, 4 * nf, 4 * nf, nm, r),
      block_seven_up: new VNetResample(4 * nf, 2 * nf, nm, true),
      block_eight: new VNetConvBlock(2, 2 * nf, 2 * nf, nm, r),
      block_eight_up: new VNetResample(2 * nf, nf, nm, true),
      block_nine: new VNetConvBlock(1, nf, nf, nm, r),
      out_conv: new nn.Conv3d(nf, o.numClasses, 1),
    };
    if (o.layout === 'bcp') {
      const encoder = this.addModule('encoder', new VNetPart());
      for (const [k, m] of Object.entries(enc)) encoder.addModule(k, m);
      this.drop = encoder.addModule('dropout', new nn.Dropout3d(0.5));
      const decoder = this.addModule('decoder', new VNetPart());
      for (const [k, m] of Object.entries(dec)) decoder.addModule(k, m);
      // BCP's decoder has its own (identical) Dropout3d; registered for fidelity, the encoder's is used.
      decoder.addModule('dropout', new nn.Dropout3d(0.5));
      this.addModule('pool', new nn.MaxPool3d(3, 2));
      if (heads) addBcpHeads(this, o.bcpHeadClasses);
    } else {
      for (const [k, m] of Object.entries({ ...enc, ...dec })) this.addModule(k, m);
      this.drop = this.addModule('dropout', new nn.Dropout3d(0.5));
    }
    this.blocks = { ...enc, ...dec };
    if (options.generator !== undefined) defaultInit(this, options.generator);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return tidy(() => this.run(x).logits);
  }

  /**
   * Logits and BCP's second output, MaxPool3d(3, stride 2) of the bottleneck
   * features (the bottleneck must be at least 3 voxels per axis: inputs ≥ 48).
   */
  forwardWithFeatures(x: Tensor): VNetFeatures {
    this.checkInput(x);
    return tidy(() => {
      const { logits, bottleneck } = this.run(x);
      const small = bottleneck.shape.slice(2);
      if (small.some((s) => s < 3)) {
        throw new Error(`vnet: the pooled features need a bottleneck of at least 3 voxels per axis (input ≥ 48), got [${small.join(', ')}] from input [${x.shape.slice(2).join(', ')}]`);
      }
      return { logits, features: F.maxPool3d(bottleneck, 3, { stride: 2 }) };
    });
  }

  private run(x: Tensor): { logits: Tensor; bottleneck: Tensor } {
    const b = (name: string, t: Tensor): Tensor => (this.blocks[name] as nn.Module).forward(t);
    const x1 = b('block_one', x);
    const x2 = b('block_two', b('block_one_dw', x1));
    const x3 = b('block_three', b('block_two_dw', x2));
    const x4 = b('block_four', b('block_three_dw', x3));
    let x5 = b('block_five', b('block_four_dw', x4));
    if (this.hasDropout) x5 = this.drop.forward(x5);
    let y = b('block_six', b('block_five_up', x5).add(x4));
    y = b('block_seven', b('block_six_up', y).add(x3));
    y = b('block_eight', b('block_seven_up', y).add(x2));
    y = b('block_nine', b('block_eight_up', y).add(x1));
    if (this.hasDropout) y = this.drop.forward(y);
    return { logits: b('out_conv', y), bottleneck: x5 };
  }
}
