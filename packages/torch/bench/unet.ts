// The benchmark's U-Net (2D or 3D), nnU-Net style: 5 levels, each block
// (conv3x3 – InstanceNorm(affine) – LeakyReLU(0.01)) × 2, downsampling by the
// first conv of a block having stride 2, upsampling by ConvTranspose (kernel 2,
// stride 2) followed by skip concatenation and a block, and a 1x1 conv head.
// engine_torch.py builds the same module tree with the same names, so state
// dicts load across (that is how the two sides are checked to compute the
// same thing).
import * as torch from '../src/index.js';
import { F, nn, type Tensor } from '../src/index.js';

export type Dims = 2 | 3;

export interface UNetConfig {
  dims: Dims;
  inChannels: number;
  numClasses: number;
  channels: readonly number[];
}

export const DEFAULT_CHANNELS = [16, 32, 64, 128, 256] as const;

/** (conv – norm – LeakyReLU) × 2; the first conv carries the block's stride. */
class ConvBlock extends nn.Module {
  declare conv1: nn.ConvNd;
  declare norm1: nn.InstanceNormBase;
  declare act1: nn.LeakyReLU;
  declare conv2: nn.ConvNd;
  declare norm2: nn.InstanceNormBase;
  declare act2: nn.LeakyReLU;

  constructor(dims: Dims, cin: number, cout: number, stride: number) {
    super();
    const Conv = dims === 3 ? nn.Conv3d : nn.Conv2d;
    const Norm = dims === 3 ? nn.InstanceNorm3d : nn.InstanceNorm2d;
    this.addModule('conv1', new Conv(cin, cout, 3, { stride, padding: 1 }));
    this.addModule('norm1', new Norm(cout, { affine: true }));
    this.addModule('act1', new nn.LeakyReLU(0.01, true));
    this.addModule('conv2', new Conv(cout, cout, 3, { padding: 1 }));
    this.addModule('norm2', new Norm(cout, { affine: true }));
    this.addModule('act2', new nn.LeakyReLU(0.01, true));
  }

  forward(x: Tensor): Tensor {
    // Own scope: the wrappers of the intermediates go as soon as the block is
    // done (the autograd graph keeps what backward needs), as Python's
    // reference counting would drop them.
    return torch.tidy(() => {
      const h = this.act1.forward(this.norm1.forward(this.conv1.forward(x)));
      return this.act2.forward(this.norm2.forward(this.conv2.forward(h)));
    });
  }
}

export class UNet extends nn.Module {
  declare enc: nn.ModuleList;
  declare up: nn.ModuleList;
  declare dec: nn.ModuleList;
  declare head: nn.ConvNd;
  readonly config: UNetConfig;

  constructor(config: UNetConfig) {
    super();
    this.config = config;
    const { dims, channels: ch } = config;
    const ConvT = dims === 3 ? nn.ConvTranspose3d : nn.ConvTranspose2d;
    const Conv = dims === 3 ? nn.Conv3d : nn.Conv2d;
    this.addModule('enc', new nn.ModuleList(ch.map((c, i) => new ConvBlock(dims, i === 0 ? config.inChannels : ch[i - 1], c, i === 0 ? 1 : 2))));
    const ups: nn.AnyModule[] = [];
    const decs: nn.AnyModule[] = [];
    for (let i = ch.length - 1; i > 0; i--) {
      ups.push(new ConvT(ch[i], ch[i - 1], 2, { stride: 2 }));
      decs.push(new ConvBlock(dims, 2 * ch[i - 1], ch[i - 1], 1));
    }
    this.addModule('up', new nn.ModuleList(ups));
    this.addModule('dec', new nn.ModuleList(decs));
    this.addModule('head', new Conv(ch[0], config.numClasses, 1));
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const skips: Tensor[] = [];
      let h = x;
      const levels = this.enc.length;
      for (let i = 0; i < levels; i++) {
        h = this.enc.at(i).forward(h);
        if (i < levels - 1) skips.push(h);
      }
      for (let j = 0; j < levels - 1; j++) {
        h = this.up.at(j).forward(h);
        h = torch.cat([h, skips[levels - 2 - j]], 1);
        h = this.dec.at(j).forward(h);
      }
      return this.head.forward(h);
    });
  }
}

/**
 * Cross-entropy + soft Dice: softmax probabilities against one-hot labels,
 * Dice per class over the whole batch (sums over batch and space), loss
 * CE + 1 − mean(Dice). Written with the same aten ops as engine_torch.py.
 */
export function ceDiceLoss(logits: Tensor, labels: Tensor, numClasses: number, smooth = 1e-5): Tensor {
  return torch.tidy(() => {
    const nd = logits.ndim - 2;
    const ce = F.crossEntropy(logits, labels);
    const p = F.softmax(logits, 1);
    const spatial = Array.from({ length: nd }, (_, i) => i + 1);
    const y = F.oneHot(labels, numClasses).permute([0, nd + 1, ...spatial]).float();
    const dims = [0, ...spatial.map((d) => d + 1)];
    const inter = p.mul(y).sum(dims);
    const denom = p.sum(dims).add(y.sum(dims));
    const dice = inter.mul(2).add(smooth).div(denom.add(smooth));
    return ce.add(torch.rsub(dice.mean(), 1));
  });
}

export interface Trainer {
  model: UNet;
  optimizer: torch.optim.SGD;
  /** One step (zeroGrad, forward, loss, backward, SGD step); returns the loss. */
  step(x: Tensor, y: Tensor): number;
}

/** SGD as nnU-Net: lr 0.01, momentum 0.99 (Nesterov), weight decay 3e-5. */
export function makeTrainer(model: UNet): Trainer {
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  return {
    model,
    optimizer,
    step(x: Tensor, y: Tensor): number {
      return torch.tidy(() => {
        optimizer.zeroGrad(true);
        const loss = ceDiceLoss(model.forward(x), y, model.config.numClasses);
        loss.backward();
        optimizer.step();
        return loss.item();
      });
    },
  };
}
