// The adversarial discriminators of BEAL / UDA_CLR (networks/GAN.py):
// a fully convolutional patch discriminator (UncertaintyDiscriminator on the
// 2-channel entropy map, BoundaryDiscriminator on the 1-channel boundary map:
// 5 × Conv4×4 stride 2 padding 2, no bias, LeakyReLU 0.2 between, no
// normalisation, patch logits) and BEAL's fully connected Discriminator on
// flattened features. Both are initialised N(0, 0.02) with zero biases.
import { type Generator, type Tensor, nn, tidy } from '@labelwise/torch';
import { Network, type NetworkInfo, normalInit } from './network.js';

export interface PatchDiscriminatorOptions {
  /** 2 for BEAL's uncertainty (entropy) map, 1 for its boundary map. */
  inChannels?: number;
  /** Output channels of conv1..convN; the last is the patch logit (64, 128, 256, 512, 1). */
  filters?: readonly number[];
  negativeSlope?: number;
  generator?: Generator;
}

export const PATCH_DISCRIMINATOR_DEFAULTS = { inChannels: 2, filters: [64, 128, 256, 512, 1], negativeSlope: 0.2 };

/** conv1..convN (k4, s2, p2, no bias) with LeakyReLU between; returns patch logits. */
export class PatchDiscriminator extends Network {
  declare leakyrelu: nn.LeakyReLU;
  readonly info: NetworkInfo;
  private readonly convs: nn.Conv2d[] = [];

  constructor(options: PatchDiscriminatorOptions = {}) {
    super();
    const o = { ...PATCH_DISCRIMINATOR_DEFAULTS, ...options };
    if (o.filters.length < 1) throw new Error('patch_discriminator: filters must list at least one layer');
    this.info = { name: 'patch_discriminator', spatialDims: 2, inChannels: o.inChannels, outChannels: o.filters[o.filters.length - 1], inputDivisor: [1, 1] };
    let cin = o.inChannels;
    o.filters.forEach((f, i) => {
      this.convs.push(this.addModule(`conv${i + 1}`, new nn.Conv2d(cin, f, 4, { stride: 2, padding: 2, bias: false })));
      cin = f;
    });
    this.addModule('leakyrelu', new nn.LeakyReLU(o.negativeSlope));
    normalInit(this, 0.02, options.generator);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return tidy(() => {
      let h = x;
      this.convs.forEach((conv, i) => {
        h = conv.forward(h);
        if (i < this.convs.length - 1) h = this.leakyrelu.forward(h);
      });
      return h;
    });
  }
}

export interface FcDiscriminatorOptions {
  /** Length of the flattened input feature vector (BEAL: 24576). */
  inFeatures?: number;
  /** Hidden widths of fc1..fc3 (BEAL: 4096, 2048, 1024). */
  hidden?: readonly number[];
  negativeSlope?: number;
  generator?: Generator;
}

export const FC_DISCRIMINATOR_DEFAULTS = { inFeatures: 24576, hidden: [4096, 2048, 1024], negativeSlope: 0.2 };

/** BEAL's Discriminator: fc1..fc(n+1) with LeakyReLU between; input (N, inFeatures), output (N, 1) logits. */
export class FcDiscriminator extends Network {
  declare leakyrelu: nn.LeakyReLU;
  readonly info: NetworkInfo;
  private readonly layers: nn.Linear[] = [];

  constructor(options: FcDiscriminatorOptions = {}) {
    super();
    const o = { ...FC_DISCRIMINATOR_DEFAULTS, ...options };
    this.info = { name: 'fc_discriminator', spatialDims: 0, inChannels: o.inFeatures, outChannels: 1, inputDivisor: [] };
    const widths = [o.inFeatures, ...o.hidden, 1];
    // Registration order is BEAL's: fc1, leakyrelu, fc2, ...
    this.layers.push(this.addModule('fc1', new nn.Linear(widths[0], widths[1])));
    this.addModule('leakyrelu', new nn.LeakyReLU(o.negativeSlope));
    for (let i = 1; i < widths.length - 1; i++) this.layers.push(this.addModule(`fc${i + 1}`, new nn.Linear(widths[i], widths[i + 1])));
    normalInit(this, 0.02, options.generator);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return tidy(() => {
      let h = x;
      this.layers.forEach((fc, i) => {
        h = fc.forward(h);
        if (i < this.layers.length - 1) h = this.leakyrelu.forward(h);
      });
      return h;
    });
  }
}
