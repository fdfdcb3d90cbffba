// What every toolkit network shares: a description of its input/output
// contract (NetworkInfo), input checks that fail with the network's name and
// the expected shape instead of a deep shape error, and the weight
// initialisation schemes of the reference implementations, each optionally
// drawn from a seeded torch.Generator.
import { type Generator, type Tensor, nn } from '@labelwise/torch';

export interface NetworkInfo {
  /** Registry name ('unet2d', 'plain_unet', ...). */
  readonly name: string;
  /** 2 or 3 for image networks; 0 for networks on feature vectors (N, C). */
  readonly spatialDims: 0 | 2 | 3;
  readonly inChannels: number;
  /** Channels of the main output (classes, or 1 for a discriminator). */
  readonly outChannels: number;
  /** Each spatial input size must be a multiple of this (per axis, in input order). */
  readonly inputDivisor: readonly number[];
}

/** A segmentation network or discriminator: one tensor in, the main output (logits) out. */
export abstract class Network extends nn.Module<[Tensor], Tensor> {
  abstract readonly info: NetworkInfo;

  /**
   * Checks rank, channels and divisibility of an input, throwing an Error that
   * names the network and the expected shape.
   */
  checkInput(x: Tensor): void {
    const { name, spatialDims, inChannels, inputDivisor } = this.info;
    const rank = spatialDims + 2;
    const shape = x.shape;
    const layout = spatialDims === 0 ? '(N, C)' : spatialDims === 2 ? '(N, C, H, W)' : '(N, C, D, H, W)';
    if (shape.length !== rank) {
      throw new Error(`${name}: expected a ${rank}-D input ${layout}, got shape [${shape.join(', ')}]`);
    }
    if (shape[1] !== inChannels) {
      throw new Error(`${name}: expected ${inChannels} input channel(s) at dim 1, got shape [${shape.join(', ')}]`);
    }
    const spatial = shape.slice(2);
    const bad = spatial.some((s, i) => s % inputDivisor[i] !== 0);
    if (bad) {
      const fix = spatial.map((s, i) => Math.ceil(s / inputDivisor[i]) * inputDivisor[i]);
      throw new Error(
        `${name}: spatial input size [${spatial.join(', ')}] must be divisible by [${inputDivisor.join(', ')}] ` +
          `(the network down-samples by that much); pad to e.g. [${fix.join(', ')}]`,
      );
    }
  }
}

/** A convolution of any rank, transposed or not. */
function isConv(m: nn.AnyModule): m is nn.ConvNd {
  return m instanceof nn.ConvNd;
}

/**
 * PyTorch's default initialisation of convolutions and linear layers
 * (kaiming_uniform_(a=√5) weights, U(±1/√fan_in) biases) drawn from
 * `generator`. Layers already draw this from the global generator when they
 * are built; this re-draws them from a seeded one.
 */
export function defaultInit(module: nn.AnyModule, generator: Generator): void {
  for (const m of module.modules()) {
    if (isConv(m) || m instanceof nn.Linear) {
      const w = m.weight as Tensor;
      nn.init.kaimingUniform_(w, { a: Math.sqrt(5), generator });
      if (m.bias !== null) {
        const [fanIn] = nn.init.calculateFanInAndFanOut(w);
        const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
        nn.init.uniform_(m.bias, { a: -bound, b: bound, generator });
      }
    }
  }
}

/**
 * nnU-Net's InitWeights_He (also PA-Seg's U_Net2D5): kaiming_normal_(a =
 * negSlope) for every (transposed) convolution weight, zero biases.
 */
export function heInit(module: nn.AnyModule, negSlope: number, generator?: Generator): void {
  for (const m of module.modules()) {
    if (!isConv(m)) continue;
    nn.init.kaimingNormal_(m.weight, { a: negSlope, generator });
    if (m.bias !== null) nn.init.zeros_(m.bias);
  }
}

/**
 * kaiming_normal_(a = 0) for plain convolutions only, batch norms to
 * weight 1 / bias 0 (the DeepLab / MobileNetV2 code); conv biases keep the
 * default draw.
 */
export function kaimingConvInit(module: nn.AnyModule, generator?: Generator): void {
  for (const m of module.modules()) {
    if (isConv(m) && !m.transposed) {
      nn.init.kaimingNormal_(m.weight, { generator });
      if (m.bias !== null && generator !== undefined) {
        const [fanIn] = nn.init.calculateFanInAndFanOut(m.weight);
        const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
        nn.init.uniform_(m.bias, { a: -bound, b: bound, generator });
      }
    } else if (m instanceof nn.BatchNormBase && m.weight !== null && m.bias !== null) {
      nn.init.ones_(m.weight);
      nn.init.zeros_(m.bias);
    }
  }
}

/** N(0, std) weights and zero biases for every convolution and linear layer (GAN discriminators). */
export function normalInit(module: nn.AnyModule, std: number, generator?: Generator): void {
  for (const m of module.modules()) {
    if (isConv(m) || m instanceof nn.Linear) {
      nn.init.normal_(m.weight as Tensor, { mean: 0, std, generator });
      if (m.bias !== null) nn.init.zeros_(m.bias);
    }
  }
}

/** Rounds a spatial size list for messages: [a, b, c]. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
