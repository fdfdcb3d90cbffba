// The 2D U-Net of PyMIC as used by SSL4MIS, BCP (UNet_2d) and STDR/SFADA:
// five levels of ConvBlock (conv3×3-BN-LeakyReLU-Dropout-conv3×3-BN-LeakyReLU)
// with max-pool down-sampling, and UpBlocks that either project with a 1×1
// conv and up-sample bilinearly (align_corners) — SSL4MIS/BCP — or use a 2×2
// transposed convolution — STDR. Submodule names are the reference's, so
// their state dicts load as is (encoder.in_conv.conv_conv.0.weight, ...).
import { type Generator, type Tensor, nn, tidy, cat } from '@labelwise/torch';
import { addBcpHeads } from './bcp-heads.js';
import { Network, type NetworkInfo, defaultInit } from './network.js';

/** Conv3×3 → BN → LeakyReLU → Dropout(p) → Conv3×3 → BN → LeakyReLU, as `conv_conv`. */
export class ConvBlock2d extends nn.Module {
  declare conv_conv: nn.Sequential;

  constructor(inChannels: number, outChannels: number, dropout: number) {
    super();
    this.addModule(
      'conv_conv',
      new nn.Sequential(
        new nn.Conv2d(inChannels, outChannels, 3, { padding: 1 }),
        new nn.BatchNorm2d(outChannels),
        new nn.LeakyReLU(),
        new nn.Dropout(dropout),
        new nn.Conv2d(outChannels, outChannels, 3, { padding: 1 }),
        new nn.BatchNorm2d(outChannels),
        new nn.LeakyReLU(),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    return this.conv_conv.forward(x);
  }
}

/** MaxPool2d(2) → ConvBlock, as `maxpool_conv`. */
export class DownBlock2d extends nn.Module {
  declare maxpool_conv: nn.Sequential;

  constructor(inChannels: number, outChannels: number, dropout: number) {
    super();
    this.addModule('maxpool_conv', new nn.Sequential(new nn.MaxPool2d(2), new ConvBlock2d(inChannels, outChannels, dropout)));
  }

  forward(x: Tensor): Tensor {
    return this.maxpool_conv.forward(x);
  }
}

export type UNet2dUpsample = 'bilinear' | 'transpose';

/** Up-samples the deeper input to the skip's channels, concatenates [skip, up] and applies a ConvBlock. */
export class UpBlock2d extends nn.Module<[Tensor, Tensor], Tensor> {
  declare conv1x1: nn.Conv2d | undefined;
  declare up: nn.Upsample | nn.ConvTranspose2d;
  declare conv: ConvBlock2d;
  readonly mode: UNet2dUpsample;

  constructor(deepChannels: number, skipChannels: number, outChannels: number, dropout: number, mode: UNet2dUpsample) {
    super();
    this.mode = mode;
    if (mode === 'bilinear') {
      this.addModule('conv1x1', new nn.Conv2d(deepChannels, skipChannels, 1));
      this.addModule('up', new nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true }));
    } else {
      this.addModule('up', new nn.ConvTranspose2d(deepChannels, skipChannels, 2, { stride: 2 }));
    }
    this.addModule('conv', new ConvBlock2d(2 * skipChannels, outChannels, dropout));
  }

  forward(deep: Tensor, skip: Tensor): Tensor {
    return tidy(() => {
      const projected = this.conv1x1 === undefined ? deep : this.conv1x1.forward(deep);
      return this.conv.forward(cat([skip, this.up.forward(projected)], 1));
    });
  }
}

/** in_conv and down1..down4; forward returns the five feature maps, shallow first. */
export class UNet2dEncoder extends nn.Module<[Tensor], Tensor[]> {
  declare in_conv: ConvBlock2d;
  declare down1: DownBlock2d;
  declare down2: DownBlock2d;
  declare down3: DownBlock2d;
  declare down4: DownBlock2d;

  constructor(inChannels: number, features: readonly number[], dropout: readonly number[]) {
    super();
    this.addModule('in_conv', new ConvBlock2d(inChannels, features[0], dropout[0]));
    for (let i = 1; i <= 4; i++) this.addModule(`down${i}`, new DownBlock2d(features[i - 1], features[i], dropout[i]));
  }

  forward(x: Tensor): Tensor[] {
    return tidy(() => {
      const out = [this.in_conv.forward(x)];
      for (const block of [this.down1, this.down2, this.down3, this.down4]) out.push(block.forward(out[out.length - 1]));
      return out;
    });
  }
}

export interface DecoderOutput {
  logits: Tensor;
  /** The last decoder feature map (after up4), features[0] channels at full resolution. */
  features: Tensor;
}

/** up1..up4 (dropout 0) and out_conv (3×3). */
export class UNet2dDecoder extends nn.Module<[Tensor[]], DecoderOutput> {
  declare up1: UpBlock2d;
  declare up2: UpBlock2d;
  declare up3: UpBlock2d;
  declare up4: UpBlock2d;
  declare out_conv: nn.Conv2d;

  constructor(features: readonly number[], numClasses: number, mode: UNet2dUpsample) {
    super();
    for (let i = 1; i <= 4; i++) this.addModule(`up${i}`, new UpBlock2d(features[5 - i], features[4 - i], features[4 - i], 0, mode));
    this.addModule('out_conv', new nn.Conv2d(features[0], numClasses, 3, { padding: 1 }));
  }

  forward(f: Tensor[]): DecoderOutput {
    return tidy(() => {
      let x = this.up1.forward(f[4], f[3]);
      x = this.up2.forward(x, f[2]);
      x = this.up3.forward(x, f[1]);
      x = this.up4.forward(x, f[0]);
      return { logits: this.out_conv.forward(x), features: x };
    });
  }
}

export interface UNet2dOptions {
  inChannels?: number;
  numClasses?: number;
  /** Channels per level (5 levels). Default [16, 32, 64, 128, 256]. */
  featureChannels?: readonly number[];
  /** Dropout per encoder level. Default [0.05, 0.1, 0.2, 0.3, 0.5]. */
  dropout?: readonly number[];
  /** 'bilinear' (SSL4MIS, BCP; default) or 'transpose' (STDR/SFADA). */
  upsample?: UNet2dUpsample;
  /** Add BCP's unused contrastive heads so BCP checkpoints load strictly. */
  bcpHeads?: boolean;
  /** Number of BCP class selectors (BCP's UNet_2d: 4). */
  bcpHeadClasses?: number;
  /** Draw the initial weights from this generator (PyTorch's default init). */
  generator?: Generator;
}

export const UNET2D_DEFAULTS = {
  inChannels: 1,
  numClasses: 2,
  featureChannels: [16, 32, 64, 128, 256],
  dropout: [0.05, 0.1, 0.2, 0.3, 0.5],
  upsample: 'bilinear' as UNet2dUpsample,
  bcpHeads: false,
  bcpHeadClasses: 4,
};

/**
 * The PyMIC/SSL4MIS/BCP/STDR 2D U-Net. forward(x) returns logits (N,
 * numClasses, H, W); forwardWithFeatures also returns the last decoder
 * feature map (STDR's `x`, BCP's second output). H and W must be multiples
 * of 16.
 */
export class UNet2d extends Network {
  declare encoder: UNet2dEncoder;
  declare decoder: UNet2dDecoder;
  readonly info: NetworkInfo;

  constructor(options: UNet2dOptions = {}) {
    super();
    const o = { ...UNET2D_DEFAULTS, ...options };
    if (o.featureChannels.length !== 5) throw new Error(`unet2d: featureChannels must list 5 levels, got ${o.featureChannels.length}`);
    if (o.dropout.length !== 5) throw new Error(`unet2d: dropout must list 5 levels, got ${o.dropout.length}`);
    this.info = { name: 'unet2d', spatialDims: 2, inChannels: o.inChannels, outChannels: o.numClasses, inputDivisor: [16, 16] };
    this.addModule('encoder', new UNet2dEncoder(o.inChannels, o.featureChannels, o.dropout));
    this.addModule('decoder', new UNet2dDecoder(o.featureChannels, o.numClasses, o.upsample));
    if (o.bcpHeads) addBcpHeads(this, o.bcpHeadClasses);
    if (options.generator !== undefined) defaultInit(this, options.generator);
  }

  forward(x: Tensor): Tensor {
    const { logits, features } = this.forwardWithFeatures(x);
    features.dispose();
    return logits;
  }

  /** Logits and the last decoder feature map (features[0] channels, input resolution). */
  forwardWithFeatures(x: Tensor): DecoderOutput {
    this.checkInput(x);
    return tidy(() => this.decoder.forward(this.encoder.forward(x)));
  }
}
