// PA-Seg's 3D U_Net and AttU_Net (network/network.py): channels 16-32-64-128-256,
// conv_block = [Conv3 → InstanceNorm (no affine) → ReLU] × 2, 2×2×2 max
// pooling, up_conv = nearest ×2 up-sampling → Conv3 → IN → ReLU, skip-first
// concatenation; AttU_Net gates each skip with an additive attention block
// (W_g, W_x: 1×1×1 conv + IN; ψ: 1×1×1 conv + IN + sigmoid).
import { type Generator, type Tensor, cat, nn, tidy } from '@labelwise/torch';
import { Network, type NetworkInfo, defaultInit } from './network.js';

/** [Conv3 → IN → ReLU] × 2 as `conv`. */
export class PaConvBlock extends nn.Module {
  declare conv: nn.Sequential;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.addModule(
      'conv',
      new nn.Sequential(
        new nn.Conv3d(inChannels, outChannels, 3, { padding: 1 }),
        new nn.InstanceNorm3d(outChannels),
        new nn.ReLU(true),
        new nn.Conv3d(outChannels, outChannels, 3, { padding: 1 }),
        new nn.InstanceNorm3d(outChannels),
        new nn.ReLU(true),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(x);
  }
}

/** Nearest ×2 → Conv3 → IN → ReLU as `up`. */
export class PaUpConv extends nn.Module {
  declare up: nn.Sequential;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.addModule(
      'up',
      new nn.Sequential(new nn.Upsample({ scaleFactor: 2 }), new nn.Conv3d(inChannels, outChannels, 3, { padding: 1 }), new nn.InstanceNorm3d(outChannels), new nn.ReLU(true)),
    );
  }

  forward(x: Tensor): Tensor {
    return this.up.forward(x);
  }
}

/** Additive attention gate: x · σ(IN(ψ(ReLU(IN(W_g g) + IN(W_x x))))). */
export class AttentionBlock extends nn.Module<[Tensor, Tensor], Tensor> {
  declare W_g: nn.Sequential;
  declare W_x: nn.Sequential;
  declare psi: nn.Sequential;
  declare relu: nn.ReLU;

  constructor(gateChannels: number, skipChannels: number, interChannels: number) {
    super();
    this.addModule('W_g', new nn.Sequential(new nn.Conv3d(gateChannels, interChannels, 1), new nn.InstanceNorm3d(interChannels)));
    this.addModule('W_x', new nn.Sequential(new nn.Conv3d(skipChannels, interChannels, 1), new nn.InstanceNorm3d(interChannels)));
    this.addModule('psi', new nn.Sequential(new nn.Conv3d(interChannels, 1, 1), new nn.InstanceNorm3d(1), new nn.Sigmoid()));
    this.addModule('relu', new nn.ReLU(true));
  }

  /** g: the up-sampled gating signal; x: the skip connection. */
  forward(g: Tensor, x: Tensor): Tensor {
    return tidy(() => x.mul(this.psi.forward(this.relu.forward(this.W_g.forward(g).add(this.W_x.forward(x))))));
  }
}

export interface PaUNetOptions {
  inChannels?: number;
  numClasses?: number;
  /** Channels of the five levels (16, 32, 64, 128, 256). */
  channels?: readonly number[];
  generator?: Generator;
}

export interface AttentionUNetOptions extends PaUNetOptions {
  /** Attention gates' inner channels, deepest first (64, 32, 16, 8). */
  attentionChannels?: readonly number[];
}

export const PA_UNET_DEFAULTS = { inChannels: 1, numClasses: 2, channels: [16, 32, 64, 128, 256] };
export const ATTENTION_UNET_DEFAULTS = { ...PA_UNET_DEFAULTS, attentionChannels: [64, 32, 16, 8] };

const LEVELS = [5, 4, 3, 2] as const;

/** Shared body of U_Net and AttU_Net (they differ only by the gates). */
abstract class PaUNetBase extends Network {
  declare Maxpool: nn.MaxPool3d;
  readonly info: NetworkInfo;
  private readonly gated: boolean;

  protected constructor(name: string, o: Required<Omit<PaUNetOptions, 'generator'>>, attention: readonly number[] | null, generator?: Generator) {
    super();
    const ch = o.channels;
    if (ch.length !== 5) throw new Error(`${name}: channels must list 5 levels, got ${ch.length}`);
    if (attention !== null && attention.length !== 4) throw new Error(`${name}: attentionChannels must list 4 gates, got ${attention.length}`);
    this.gated = attention !== null;
    this.info = { name, spatialDims: 3, inChannels: o.inChannels, outChannels: o.numClasses, inputDivisor: [16, 16, 16] };
    this.addModule('Maxpool', new nn.MaxPool3d(2, 2));
    this.addModule('Conv1', new PaConvBlock(o.inChannels, ch[0]));
    for (let i = 1; i < 5; i++) this.addModule(`Conv${i + 1}`, new PaConvBlock(ch[i - 1], ch[i]));
    LEVELS.forEach((lvl, j) => {
      const hi = ch[lvl - 1];
      const lo = ch[lvl - 2];
      this.addModule(`Up${lvl}`, new PaUpConv(hi, lo));
      if (attention !== null) this.addModule(`Att${lvl}`, new AttentionBlock(lo, lo, attention[j]));
      this.addModule(`Up_conv${lvl}`, new PaConvBlock(hi, lo));
    });
    this.addModule('Conv_1x1', new nn.Conv3d(ch[0], o.numClasses, 1));
    if (generator !== undefined) defaultInit(this, generator);
  }

  private sub<M extends nn.AnyModule>(name: string): M {
    return this.getSubmodule(name) as M;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return tidy(() => {
      const skips = [this.sub<PaConvBlock>('Conv1').forward(x)];
      for (let i = 2; i <= 5; i++) skips.push(this.sub<PaConvBlock>(`Conv${i}`).forward(this.Maxpool.forward(skips[skips.length - 1])));
      let d = skips[4];
      for (const lvl of LEVELS) {
        d = this.sub<PaUpConv>(`Up${lvl}`).forward(d);
        let skip = skips[lvl - 2];
        if (this.gated) skip = this.sub<AttentionBlock>(`Att${lvl}`).forward(d, skip);
        d = this.sub<PaConvBlock>(`Up_conv${lvl}`).forward(cat([skip, d], 1));
      }
      return this.sub<nn.Conv3d>('Conv_1x1').forward(d);
    });
  }
}

/** PA-Seg's 3D U_Net; input (N, C, D, H, W), sizes multiples of 16. Default PyTorch init. */
export class PaUNet3d extends PaUNetBase {
  constructor(options: PaUNetOptions = {}) {
    super('unet3d', { ...PA_UNET_DEFAULTS, ...options }, null, options.generator);
  }
}

/** PA-Seg's AttU_Net (3D attention U-Net). */
export class AttentionUNet3d extends PaUNetBase {
  constructor(options: AttentionUNetOptions = {}) {
    const o = { ...ATTENTION_UNET_DEFAULTS, ...options };
    super('attention_unet3d', o, o.attentionChannels, options.generator);
  }
}
