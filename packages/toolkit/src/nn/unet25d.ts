// PA-Seg's U_Net2D5 (network/unet2d5.py, after Wang et al. MICCAI 2019): a
// 3D U-Net whose first two levels convolve in-plane only (3×3×1 kernels) to
// cope with thick slices, with 2×2×2 max pooling, trilinear up-sampling,
// [conv → InstanceNorm(affine) → LeakyReLU(0.01)] × 2 blocks, a 128-channel
// bottleneck and a bias-free 1×1×1 output, He-initialised (a = 0.01).
// The reference takes MONAI's (N, C, H, W, D) tensors, slice axis last, so
// its kernels are (3, 3, 1); for (D, H, W) tensors pass kernelSizes with the
// 1 first (weights from PA-Seg then need their kernels permuted).
import { type Generator, type Tensor, cat, nn, tidy } from '@labelwise/torch';
import { Network, type NetworkInfo, heInit } from './network.js';

/** Conv → IN → LeakyReLU → Conv → IN → LeakyReLU, each named (first_conv, ...) and again in `block`. */
export class ConvNormNonlinBlock extends nn.Module {
  declare block: nn.Sequential;
  readonly outChannels: number;

  constructor(inChannels: number, outChannels: number, kernel: readonly number[]) {
    super();
    this.outChannels = outChannels;
    const padding = kernel.map((k) => (k - 1) >> 1);
    const conv = (cin: number): nn.Conv3d => new nn.Conv3d(cin, outChannels, kernel, { padding, bias: true });
    const norm = (): nn.InstanceNorm3d => new nn.InstanceNorm3d(outChannels, { eps: 1e-5, affine: true, momentum: 0.1 });
    const parts = [
      this.addModule('first_conv', conv(inChannels)),
      this.addModule('first_norm', norm()),
      this.addModule('first_acti', new nn.LeakyReLU(1e-2)),
      this.addModule('second_conv', conv(outChannels)),
      this.addModule('second_norm', norm()),
      this.addModule('second_acti', new nn.LeakyReLU(1e-2)),
    ];
    this.addModule('block', new nn.Sequential(...parts));
  }

  forward(x: Tensor): Tensor {
    return this.block.forward(x);
  }
}

export interface UNet25dOptions {
  inChannels?: number;
  numClasses?: number;
  /** Channels of the first level, doubled per level (16). */
  baseFeatures?: number;
  /** Number of 2×2×2 poolings (4). */
  numPool?: number;
  /** numPool + 1 kernels, shallow to deep (default (3,3,1) ×2 then (3,3,3)). */
  kernelSizes?: number[][];
  generator?: Generator;
}

export const UNET25D_DEFAULTS = { inChannels: 1, numClasses: 2, baseFeatures: 16, numPool: 4 };

export function defaultUNet25dKernels(numPool: number): number[][] {
  return Array.from({ length: numPool + 1 }, (_, i) => (i < 2 ? [3, 3, 1] : [3, 3, 3]));
}

/** PA-Seg's 2.5D U-Net; input (N, C, H, W, D) with every spatial size a multiple of 2^numPool. */
export class UNet25d extends Network {
  declare final_conv: nn.Conv3d;
  declare conv_blocks_localization: nn.ModuleList<ConvNormNonlinBlock>;
  declare conv_blocks_context: nn.ModuleList<ConvNormNonlinBlock>;
  declare td: nn.ModuleList<nn.MaxPool3d>;
  declare tu: nn.ModuleList<nn.Upsample>;
  readonly info: NetworkInfo;

  constructor(options: UNet25dOptions = {}) {
    super();
    const o = { ...UNET25D_DEFAULTS, ...options };
    const numPool = o.numPool;
    const kernels = o.kernelSizes ?? defaultUNet25dKernels(numPool);
    if (kernels.length !== numPool + 1) throw new Error(`unet25d: kernelSizes must have numPool + 1 = ${numPool + 1} entries, got ${kernels.length}`);
    kernels.forEach((k, i) => {
      if (k.length !== 3 || k.some((v) => !Number.isInteger(v) || v < 1 || v % 2 === 0)) {
        throw new Error(`unet25d: kernelSizes[${i}] must be 3 odd positive integers, got ${JSON.stringify(k)}`);
      }
    });
    const div = 2 ** numPool;
    this.info = { name: 'unet25d', spatialDims: 3, inChannels: o.inChannels, outChannels: o.numClasses, inputDivisor: [div, div, div] };
    const context: ConvNormNonlinBlock[] = [];
    let fin = o.inChannels;
    let fout = o.baseFeatures;
    for (let d = 0; d < numPool; d++) {
      context.push(new ConvNormNonlinBlock(fin, fout, kernels[d]));
      fin = fout;
      fout *= 2;
    }
    // The bottleneck keeps the deepest context's channels (128 with the defaults).
    context.push(new ConvNormNonlinBlock(fin, context[numPool - 1].outChannels, kernels[numPool]));
    const local: ConvNormNonlinBlock[] = [];
    for (let u = 0; u < numPool; u++) {
      const skip = context[numPool - 1 - u].outChannels;
      const out = u !== numPool - 1 ? context[numPool - 2 - u].outChannels : skip;
      local.push(new ConvNormNonlinBlock(2 * skip, out, kernels[numPool - u]));
    }
    // Registration order is the reference's: final_conv was assigned before the ModuleLists.
    this.addModule('final_conv', new nn.Conv3d(local[numPool - 1].outChannels, o.numClasses, 1, { bias: false }));
    this.addModule('conv_blocks_localization', new nn.ModuleList(local));
    this.addModule('conv_blocks_context', new nn.ModuleList(context));
    this.addModule('td', new nn.ModuleList(Array.from({ length: numPool }, () => new nn.MaxPool3d([2, 2, 2]))));
    this.addModule('tu', new nn.ModuleList(Array.from({ length: numPool }, () => new nn.Upsample({ scaleFactor: [2, 2, 2], mode: 'trilinear', alignCorners: false }))));
    heInit(this, 1e-2, options.generator);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return tidy(() => {
      const n = this.td.length;
      const skips: Tensor[] = [];
      let h = x;
      for (let d = 0; d < n; d++) {
        h = this.conv_blocks_context.at(d).forward(h);
        skips.push(h);
        h = this.td.at(d).forward(h);
      }
      h = this.conv_blocks_context.at(n).forward(h);
      for (let u = 0; u < n; u++) {
        // The reference concatenates [up-sampled, skip] (the other U-Nets put the skip first).
        h = this.conv_blocks_localization.at(u).forward(cat([this.tu.at(u).forward(h), skips[n - 1 - u]], 1));
      }
      return this.final_conv.forward(h);
    });
  }
}
