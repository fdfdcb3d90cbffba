// DeepLabv3+ with a MobileNetV2 backbone and the boundary head of BEAL /
// UDA_CLR (networks/deeplabv3.py, aspp.py, decoder.py):
//   ASPP on the 320-channel backbone output: 1×1 and three dilated 3×3 branches
//   plus image pooling (5 × 256) → 1×1 conv to 256 → BN → ReLU → Dropout 0.5;
//   decoder: low-level 1×1 conv 24→48 + BN + ReLU, ASPP output up-sampled
//   (bilinear, align_corners) and concatenated (304 channels, `x_bu_feature`),
//   boundary head 304→256→256→1, mask head on [x_bu_feature, boundary]
//   (305 channels: BN → ReLU → Dropout 0.1 → 1×1 conv → classes).
// Outputs are multi-label logits (sigmoid per channel: cup, disc) and a
// boundary logit. Submodule names are the reference's (backbone.features.N,
// aspp.aspp1.atrous_conv, decoder.last_conv, decoder.last_conv_boundary).
// The reference's optional TransNorm replacement of BatchNorm is not provided.
import { type Generator, type Tensor, F, cat, nn, tidy } from '@labelwise/torch';
import { MobileNetV2 } from './mobilenetv2.js';
import { Network, type NetworkInfo, kaimingConvInit } from './network.js';

/** Conv (1×1 or dilated 3×3) → BN → ReLU as atrous_conv / bn / relu. */
export class AsppBranch extends nn.Module {
  declare atrous_conv: nn.Conv2d;
  declare bn: nn.BatchNorm2d;
  declare relu: nn.ReLU;

  constructor(inChannels: number, outChannels: number, kernel: number, dilation: number) {
    super();
    const padding = kernel === 1 ? 0 : dilation;
    this.addModule('atrous_conv', new nn.Conv2d(inChannels, outChannels, kernel, { padding, dilation, bias: false }));
    this.addModule('bn', new nn.BatchNorm2d(outChannels));
    this.addModule('relu', new nn.ReLU());
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.relu.forward(this.bn.forward(this.atrous_conv.forward(x))));
  }
}

export class Aspp extends nn.Module {
  declare aspp1: AsppBranch;
  declare aspp2: AsppBranch;
  declare aspp3: AsppBranch;
  declare aspp4: AsppBranch;
  declare global_avg_pool: nn.Sequential;
  declare conv1: nn.Conv2d;
  declare bn1: nn.BatchNorm2d;
  declare relu: nn.ReLU;
  declare dropout: nn.Dropout;

  constructor(inChannels: number, outputStride: 8 | 16) {
    super();
    const d = outputStride === 16 ? [1, 6, 12, 18] : [1, 12, 24, 36];
    this.addModule('aspp1', new AsppBranch(inChannels, 256, 1, d[0]));
    for (let i = 1; i < 4; i++) this.addModule(`aspp${i + 1}`, new AsppBranch(inChannels, 256, 3, d[i]));
    this.addModule(
      'global_avg_pool',
      new nn.Sequential(new nn.AdaptiveAvgPool2d([1, 1]), new nn.Conv2d(inChannels, 256, 1, { bias: false }), new nn.BatchNorm2d(256), new nn.ReLU()),
    );
    this.addModule('conv1', new nn.Conv2d(1280, 256, 1, { bias: false }));
    this.addModule('bn1', new nn.BatchNorm2d(256));
    this.addModule('relu', new nn.ReLU());
    this.addModule('dropout', new nn.Dropout(0.5));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const branches = [this.aspp1, this.aspp2, this.aspp3, this.aspp4].map((b) => b.forward(x));
      const size = branches[3].shape.slice(2);
      branches.push(F.interpolate(this.global_avg_pool.forward(x), { size, mode: 'bilinear', alignCorners: true }));
      return this.dropout.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(cat(branches, 1)))));
    });
  }
}

export interface DeepLabDecoderOutput {
  /** Mask logits at 1/4 resolution. */
  mask: Tensor;
  /** Boundary logit at 1/4 resolution. */
  boundary: Tensor;
  /** [up-sampled ASPP, low-level] features (304 channels). */
  buFeature: Tensor;
  /** [buFeature, boundary] (305 channels), the prototype features of UDA_CLR. */
  feature: Tensor;
}

export class DeepLabDecoder extends nn.Module<[Tensor, Tensor], DeepLabDecoderOutput> {
  declare conv1: nn.Conv2d;
  declare bn1: nn.BatchNorm2d;
  declare relu: nn.ReLU;
  declare last_conv: nn.Sequential;
  declare last_conv_boundary: nn.Sequential;

  constructor(numClasses: number, lowLevelChannels = 24) {
    super();
    this.addModule('conv1', new nn.Conv2d(lowLevelChannels, 48, 1, { bias: false }));
    this.addModule('bn1', new nn.BatchNorm2d(48));
    this.addModule('relu', new nn.ReLU());
    this.addModule('last_conv', new nn.Sequential(new nn.BatchNorm2d(305), new nn.ReLU(), new nn.Dropout(0.1), new nn.Conv2d(305, numClasses, 1)));
    this.addModule(
      'last_conv_boundary',
      new nn.Sequential(
        new nn.Conv2d(304, 256, 3, { padding: 1, bias: false }),
        new nn.BatchNorm2d(256),
        new nn.ReLU(),
        new nn.Dropout(0.5),
        new nn.Conv2d(256, 256, 3, { padding: 1, bias: false }),
        new nn.BatchNorm2d(256),
        new nn.ReLU(),
        new nn.Dropout(0.1),
        new nn.Conv2d(256, 1, 1),
      ),
    );
  }

  forward(x: Tensor, lowLevel: Tensor): DeepLabDecoderOutput {
    return tidy(() => {
      const low = this.relu.forward(this.bn1.forward(this.conv1.forward(lowLevel)));
      const up = F.interpolate(x, { size: low.shape.slice(2), mode: 'bilinear', alignCorners: true });
      const buFeature = cat([up, low], 1);
      const boundary = this.last_conv_boundary.forward(buFeature);
      const feature = cat([buFeature, boundary], 1);
      return { mask: this.last_conv.forward(feature), boundary, buFeature, feature };
    });
  }
}

/** Everything the reference's forward returns, by name (its tuple order: mask, boundary, aspp, buFeature, feature, maskLowRes, boundaryLowRes). */
export interface DeepLabOutputs {
  /** Mask logits up-sampled to the input size. */
  mask: Tensor;
  /** Boundary logit up-sampled to the input size. */
  boundary: Tensor;
  /** ASPP output (256 channels at 1/outputStride). */
  aspp: Tensor;
  buFeature: Tensor;
  feature: Tensor;
  maskLowRes: Tensor;
  boundaryLowRes: Tensor;
}

export interface DeepLabOptions {
  inChannels?: number;
  numClasses?: number;
  outputStride?: 8 | 16;
  generator?: Generator;
}

export const DEEPLAB_DEFAULTS = { inChannels: 3, numClasses: 2, outputStride: 16 as 8 | 16 };

/**
 * DeepLabv3+ (MobileNetV2) with a boundary head. forward(x) returns the mask
 * logits at the input size; forwardAll returns every output of the reference.
 * Any input size ≥ 16 works (features are interpolated); BatchNorm in
 * training mode needs a batch of 2+ (the image-pooling branch is 1×1).
 * Load ImageNet MobileNetV2 weights with
 * `net.backbone.loadStateDict(sd, { strict: false })` (keys 'features.N...').
 */
export class DeepLabV3Plus extends Network {
  declare backbone: MobileNetV2;
  declare aspp: Aspp;
  declare decoder: DeepLabDecoder;
  readonly info: NetworkInfo;

  constructor(options: DeepLabOptions = {}) {
    super();
    const o = { ...DEEPLAB_DEFAULTS, ...options };
    if (o.outputStride !== 8 && o.outputStride !== 16) throw new Error(`deeplabv3plus_mobilenetv2: outputStride must be 8 or 16, got ${String(o.outputStride)}`);
    this.info = { name: 'deeplabv3plus_mobilenetv2', spatialDims: 2, inChannels: o.inChannels, outChannels: o.numClasses, inputDivisor: [1, 1] };
    this.addModule('backbone', new MobileNetV2(o.inChannels, o.outputStride));
    this.addModule('aspp', new Aspp(320, o.outputStride));
    this.addModule('decoder', new DeepLabDecoder(o.numClasses));
    kaimingConvInit(this, options.generator);
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.forwardAll(x).mask);
  }

  forwardAll(x: Tensor): DeepLabOutputs {
    this.checkInput(x);
    if (x.shape[2] < 16 || x.shape[3] < 16) throw new Error(`deeplabv3plus_mobilenetv2: input must be at least 16×16, got [${x.shape.join(', ')}]`);
    return tidy(() => {
      const { high, low } = this.backbone.forward(x);
      const aspp = this.aspp.forward(high);
      const d = this.decoder.forward(aspp, low);
      const size = x.shape.slice(2);
      const up = (t: Tensor): Tensor => F.interpolate(t, { size, mode: 'bilinear', alignCorners: true });
      return { mask: up(d.mask), boundary: up(d.boundary), aspp, buFeature: d.buFeature, feature: d.feature, maskLowRes: d.mask, boundaryLowRes: d.boundary };
    });
  }
}
