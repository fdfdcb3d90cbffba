// MobileNetV2 backbone as in pytorch-deeplab-xception (used by BEAL and
// UDA_CLR): `features` = conv_bn stem + 17 inverted residual blocks, with the
// strides past the output stride turned into dilations. Two reference details
// matter for loading and reproducing their weights: every inverted residual
// block zero-pads its *input* by the dilated kernel's half-width and then runs
// unpadded convolutions (so the 1×1 expansion sees the padding too), and the
// backbone also registers features[0:4] and features[4:] as
// `low_level_features` / `high_level_features`, so each weight appears under
// three names in the state dict.
import { type Tensor, F, nn, tidy } from '@labelwise/torch';

/** Pads H and W for a 3×3 kernel at `dilation` (fixed_padding). */
function fixedPadding(x: Tensor, kernel: number, dilation: number): Tensor {
  const effective = kernel + (kernel - 1) * (dilation - 1);
  const total = effective - 1;
  const beg = total >> 1;
  const end = total - beg;
  return F.pad(x, [beg, end, beg, end]);
}

/** Expansion (1×1) → depthwise 3×3 (stride, dilation) → projection (1×1), residual when shapes allow. */
export class InvertedResidual extends nn.Module {
  declare conv: nn.Sequential;
  readonly useResidual: boolean;
  readonly dilation: number;

  constructor(inp: number, oup: number, stride: number, dilation: number, expandRatio: number) {
    super();
    const hidden = Math.round(inp * expandRatio);
    this.useResidual = stride === 1 && inp === oup;
    this.dilation = dilation;
    const layers: nn.AnyModule[] = [];
    if (expandRatio !== 1) layers.push(new nn.Conv2d(inp, hidden, 1, { bias: false }), new nn.BatchNorm2d(hidden), new nn.ReLU6(true));
    layers.push(
      new nn.Conv2d(hidden, hidden, 3, { stride, dilation, groups: hidden, bias: false }),
      new nn.BatchNorm2d(hidden),
      new nn.ReLU6(true),
      new nn.Conv2d(hidden, oup, 1, { bias: false }),
      new nn.BatchNorm2d(oup),
    );
    this.addModule('conv', new nn.Sequential(...layers));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const y = this.conv.forward(fixedPadding(x, 3, this.dilation));
      return this.useResidual ? x.add(y) : y;
    });
  }
}

/** [t, c, n, s]: expansion, channels, repeats, stride. */
const SETTINGS = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
] as const;

export interface MobileNetV2Output {
  /** 320 channels at 1/outputStride. */
  high: Tensor;
  /** 24 channels at 1/4 (features[0:4]). */
  low: Tensor;
}

/** MobileNetV2 (width 1) for DeepLab; forward returns the high- and low-level features. */
export class MobileNetV2 extends nn.Module<[Tensor], MobileNetV2Output> {
  declare features: nn.Sequential;
  declare low_level_features: nn.Sequential;
  declare high_level_features: nn.Sequential;

  constructor(inChannels = 3, outputStride: 8 | 16 = 16) {
    super();
    const blocks: nn.AnyModule[] = [new nn.Sequential(new nn.Conv2d(inChannels, 32, 3, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(32), new nn.ReLU6(true))];
    let current = 2;
    let rate = 1;
    let cin = 32;
    for (const [t, c, n, s] of SETTINGS) {
      let stride: number;
      let dilation: number;
      // Past the output stride, strides become dilations.
      if (current === outputStride) {
        stride = 1;
        dilation = rate;
        rate *= s;
      } else {
        stride = s;
        dilation = 1;
        current *= s;
      }
      for (let i = 0; i < n; i++) {
        blocks.push(new InvertedResidual(cin, c, i === 0 ? stride : 1, dilation, t));
        cin = c;
      }
    }
    const features = this.addModule('features', new nn.Sequential(...blocks));
    this.addModule('low_level_features', features.slice(0, 4));
    this.addModule('high_level_features', features.slice(4));
  }

  forward(x: Tensor): MobileNetV2Output {
    return tidy(() => {
      const low = this.low_level_features.forward(x);
      return { low, high: this.high_level_features.forward(low) };
    });
  }
}
