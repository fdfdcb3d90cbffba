// nnU-Net's configurable U-Net (dynamic_network_architectures' PlainConvUNet):
// n stages of n_conv [conv → (dropout) → norm → LeakyReLU] blocks, strided
// convolutions instead of pooling (anisotropic strides for thick slices),
// transposed-convolution up-sampling, and a 1×1 segmentation layer per decoder
// stage for deep supervision. The module tree mirrors the reference, including
// its aliases (each conv block is reachable as `conv`/`norm`/`nonlin` and as
// `all_modules.N`, and the decoder holds the encoder), because nnU-Net v2
// checkpoints store every alias: encoder.stages.0.0.convs.0.conv.weight,
// ...all_modules.0.weight, decoder.encoder.stages..., decoder.transpconvs.0.weight,
// decoder.seg_layers.0.weight.
import { type Generator, type Tensor, cat, nn, tidy } from '@labelwise/torch';
import { Network, type NetworkInfo, heInit } from './network.js';

export type PlainNorm = 'instance' | 'batch' | 'none';

/** Everything that defines a PlainConvUNet (what nnU-Net's plans hold). */
export interface PlainConvUNetConfig {
  /** 2 or 3 spatial dimensions. */
  dims: 2 | 3;
  inChannels: number;
  numClasses: number;
  /** Channels per stage, encoder order (nnU-Net: 32 doubling, capped at 320 in 3D / 512 in 2D). */
  featuresPerStage: number[];
  /** Convolution kernel per stage, one entry per axis. */
  kernelSizes: number[][];
  /** Stride per stage (the first is normally all 1), one entry per axis. */
  strides: number[][];
  /** Convolutions per encoder stage (nnU-Net: 2). */
  nConvPerStage: number[];
  /** Convolutions per decoder stage, deepest first (n_stages − 1 entries; nnU-Net: 2). */
  nConvPerStageDecoder: number[];
  /** Bias on convolutions (nnU-Net v2 plans: true). */
  convBias: boolean;
  /** Normalisation after each convolution: instance (affine, nnU-Net), batch, or none. */
  norm: PlainNorm;
  /** Normalisation epsilon (1e-5). */
  normEps: number;
  /** LeakyReLU slope (0.01). */
  negativeSlope: number;
  /** Channel dropout probability after each convolution, or null for none (nnU-Net: none). */
  dropout: number | null;
  /** Train with one output per decoder stage (nnU-Net: true). */
  deepSupervision: boolean;
  /** conv → LeakyReLU → norm instead of conv → norm → LeakyReLU. */
  nonlinFirst: boolean;
}

export const PLAIN_CONV_UNET_DEFAULTS = {
  convBias: true,
  norm: 'instance' as PlainNorm,
  normEps: 1e-5,
  negativeSlope: 0.01,
  dropout: null as number | null,
  deepSupervision: true,
  nonlinFirst: false,
};

/** The fields of PlainConvUNetConfig that have nnU-Net defaults may be left out. */
export type PlainConvUNetInput = Omit<PlainConvUNetConfig, keyof typeof PLAIN_CONV_UNET_DEFAULTS | 'nConvPerStageDecoder'> &
  Partial<Pick<PlainConvUNetConfig, keyof typeof PLAIN_CONV_UNET_DEFAULTS | 'nConvPerStageDecoder'>>;

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Fills defaults and checks that every per-stage list is consistent; throws naming the field. */
export function resolvePlainConfig(input: PlainConvUNetInput): PlainConvUNetConfig {
  const c: PlainConvUNetConfig = {
    ...PLAIN_CONV_UNET_DEFAULTS,
    ...input,
    nConvPerStageDecoder: input.nConvPerStageDecoder ?? input.nConvPerStage.slice(0, -1),
  };
  const where = 'plain_unet';
  if (c.dims !== 2 && c.dims !== 3) throw new Error(`${where}: dims must be 2 or 3, got ${String(c.dims)}`);
  if (!isPosInt(c.inChannels)) throw new Error(`${where}: inChannels must be a positive integer, got ${String(c.inChannels)}`);
  if (!isPosInt(c.numClasses)) throw new Error(`${where}: numClasses must be a positive integer, got ${String(c.numClasses)}`);
  const n = c.featuresPerStage.length;
  if (n < 2) throw new Error(`${where}: featuresPerStage needs at least 2 stages, got ${n}`);
  const perStage: [string, unknown[]][] = [
    ['kernelSizes', c.kernelSizes],
    ['strides', c.strides],
    ['nConvPerStage', c.nConvPerStage],
  ];
  for (const [name, list] of perStage) {
    if (list.length !== n) throw new Error(`${where}: ${name} must have one entry per stage (${n}, as featuresPerStage), got ${list.length}`);
  }
  if (c.nConvPerStageDecoder.length !== n - 1) {
    throw new Error(`${where}: nConvPerStageDecoder must have n_stages − 1 = ${n - 1} entries, got ${c.nConvPerStageDecoder.length}`);
  }
  c.featuresPerStage.forEach((f, i) => {
    if (!isPosInt(f)) throw new Error(`${where}: featuresPerStage[${i}] must be a positive integer, got ${String(f)}`);
  });
  for (const [name, list] of [['nConvPerStage', c.nConvPerStage], ['nConvPerStageDecoder', c.nConvPerStageDecoder]] as const) {
    list.forEach((v, i) => {
      if (!isPosInt(v)) throw new Error(`${where}: ${name}[${i}] must be a positive integer, got ${String(v)}`);
    });
  }
  for (const [name, list] of [['kernelSizes', c.kernelSizes], ['strides', c.strides]] as const) {
    list.forEach((axes, i) => {
      if (!Array.isArray(axes) || axes.length !== c.dims || !axes.every(isPosInt)) {
        throw new Error(`${where}: ${name}[${i}] must list ${c.dims} positive integers (one per axis), got ${JSON.stringify(axes)}`);
      }
    });
  }
  c.kernelSizes.forEach((k, i) => {
    if (k.some((v) => v % 2 === 0)) throw new Error(`${where}: kernelSizes[${i}] must be odd (same padding), got ${JSON.stringify(k)}`);
  });
  if (!['instance', 'batch', 'none'].includes(c.norm)) throw new Error(`${where}: norm must be one of instance, batch, none; got '${c.norm}'`);
  if (c.dropout !== null && !(c.dropout >= 0 && c.dropout <= 1)) throw new Error(`${where}: dropout must be in [0, 1] or null, got ${c.dropout}`);
  return c;
}

/** What a preprocessing plan gives: topology, channels and classes. */
export interface PlanTopology {
  dims: 2 | 3;
  inChannels: number;
  numClasses: number;
  /** Convolution kernel per stage (one entry per axis). */
  kernelSizes: number[][];
  /**
   * Down-sampling per stage: n_stages entries (the first normally all 1), or
   * n_stages − 1 pooling operations (nnU-Net v1's pool_op_kernel_sizes), to
   * which an all-1 first stage is prepended.
   */
  strides: number[][];
  /** Channels per stage; default base·2^i capped at maxFeatures. */
  featuresPerStage?: number[];
  /** First stage's channels when featuresPerStage is absent (32). */
  baseFeatures?: number;
  /** Cap when featuresPerStage is absent (320 in 3D, 512 in 2D). */
  maxFeatures?: number;
  /** Convolutions per encoder stage: one number for all, or per stage (2). */
  nConvPerStage?: number | number[];
  /** Convolutions per decoder stage: one number for all, or per stage (2). */
  nConvPerStageDecoder?: number | number[];
  deepSupervision?: boolean;
}

/** nnU-Net's channel rule: base·2^i, capped (320 for 3D, 512 for 2D). */
export function nnunetFeatures(nStages: number, dims: 2 | 3, base = 32, max?: number): number[] {
  const cap = max ?? (dims === 3 ? 320 : 512);
  return Array.from({ length: nStages }, (_, i) => Math.min(base * 2 ** i, cap));
}

/** Builds a PlainConvUNetConfig from a plan's topology (see PlanTopology). */
export function fromPlan(plan: PlanTopology): PlainConvUNetConfig {
  const nStages = plan.kernelSizes.length;
  let strides = plan.strides.map((s) => [...s]);
  if (strides.length === nStages - 1) strides = [new Array<number>(plan.dims).fill(1), ...strides];
  if (strides.length !== nStages) {
    throw new Error(`plan: strides must have ${nStages} entries (one per stage) or ${nStages - 1} (pooling operations), got ${strides.length}`);
  }
  const expand = (v: number | number[] | undefined, n: number, name: string): number[] => {
    if (v === undefined) return new Array<number>(n).fill(2);
    if (typeof v === 'number') return new Array<number>(n).fill(v);
    if (v.length !== n) throw new Error(`plan: ${name} must have ${n} entries, got ${v.length}`);
    return [...v];
  };
  return resolvePlainConfig({
    dims: plan.dims,
    inChannels: plan.inChannels,
    numClasses: plan.numClasses,
    featuresPerStage: plan.featuresPerStage ?? nnunetFeatures(nStages, plan.dims, plan.baseFeatures, plan.maxFeatures),
    kernelSizes: plan.kernelSizes.map((k) => [...k]),
    strides,
    nConvPerStage: expand(plan.nConvPerStage, nStages, 'nConvPerStage'),
    nConvPerStageDecoder: expand(plan.nConvPerStageDecoder, nStages - 1, 'nConvPerStageDecoder'),
    deepSupervision: plan.deepSupervision ?? true,
  });
}

type Json = Record<string, unknown>;

/**
 * Reads the network of one configuration of an nnU-Net v2 plans.json (both
 * the `architecture.arch_kwargs` form of nnU-Net ≥ 2.2 and the older
 * UNet_base_num_features / pool_op_kernel_sizes form; `inherits_from` is
 * followed). Channels and classes come from dataset.json, so they are passed in.
 */
export function fromNnunetPlans(plans: unknown, configuration: string, io: { inChannels: number; numClasses: number; deepSupervision?: boolean }): PlainConvUNetConfig {
  const where = `nnU-Net plans, configuration '${configuration}'`;
  const configs = (plans as Json | null)?.configurations as Json | undefined;
  if (configs === undefined || typeof configs !== 'object') throw new Error(`${where}: no "configurations" object in the plans`);
  const resolve = (name: string, seen: Set<string>): Json => {
    const c = configs[name] as Json | undefined;
    if (c === undefined) throw new Error(`nnU-Net plans: no configuration '${name}' (have: ${Object.keys(configs).join(', ')})`);
    if (typeof c.inherits_from !== 'string') return c;
    if (seen.has(name)) throw new Error(`${where}: inherits_from cycle through '${name}'`);
    seen.add(name);
    return { ...resolve(c.inherits_from, seen), ...c };
  };
  const cfg = resolve(configuration, new Set());
  const arch = (cfg.architecture as Json | undefined)?.arch_kwargs as Json | undefined;
  const deepSupervision = io.deepSupervision ?? true;
  if (arch !== undefined) {
    const cls = String((cfg.architecture as Json).network_class_name ?? '');
    if (!cls.endsWith('PlainConvUNet')) throw new Error(`${where}: network_class_name '${cls}' is not a PlainConvUNet`);
    const convOp = String(arch.conv_op ?? '');
    const dims = convOp.endsWith('Conv3d') ? 3 : convOp.endsWith('Conv2d') ? 2 : null;
    if (dims === null) throw new Error(`${where}: unknown conv_op '${convOp}'`);
    const normOp = String(arch.norm_op ?? '');
    const norm: PlainNorm = normOp.includes('InstanceNorm') ? 'instance' : normOp.includes('BatchNorm') ? 'batch' : 'none';
    const normKw = (arch.norm_op_kwargs ?? {}) as Json;
    const dropKw = (arch.dropout_op_kwargs ?? null) as Json | null;
    const nonlinKw = (arch.nonlin_kwargs ?? {}) as Json;
    return resolvePlainConfig({
      dims,
      inChannels: io.inChannels,
      numClasses: io.numClasses,
      featuresPerStage: arch.features_per_stage as number[],
      kernelSizes: arch.kernel_sizes as number[][],
      strides: arch.strides as number[][],
      nConvPerStage: arch.n_conv_per_stage as number[],
      nConvPerStageDecoder: arch.n_conv_per_stage_decoder as number[],
      convBias: arch.conv_bias === true,
      norm,
      normEps: typeof normKw.eps === 'number' ? normKw.eps : 1e-5,
      negativeSlope: typeof nonlinKw.negative_slope === 'number' ? nonlinKw.negative_slope : 0.01,
      dropout: arch.dropout_op ? (typeof dropKw?.p === 'number' ? dropKw.p : 0.5) : null,
      deepSupervision,
    });
  }
  const kernels = cfg.conv_kernel_sizes as number[][] | undefined;
  const pools = cfg.pool_op_kernel_sizes as number[][] | undefined;
  if (!Array.isArray(kernels) || !Array.isArray(pools)) throw new Error(`${where}: neither architecture.arch_kwargs nor conv_kernel_sizes/pool_op_kernel_sizes found`);
  const dims = kernels[0]?.length;
  if (dims !== 2 && dims !== 3) throw new Error(`${where}: conv_kernel_sizes entries must have 2 or 3 axes`);
  return fromPlan({
    dims,
    inChannels: io.inChannels,
    numClasses: io.numClasses,
    kernelSizes: kernels,
    strides: pools,
    baseFeatures: typeof cfg.UNet_base_num_features === 'number' ? cfg.UNet_base_num_features : 32,
    maxFeatures: typeof cfg.unet_max_num_features === 'number' ? cfg.unet_max_num_features : undefined,
    nConvPerStage: cfg.n_conv_per_stage_encoder as number[] | undefined,
    nConvPerStageDecoder: cfg.n_conv_per_stage_decoder as number[] | undefined,
    deepSupervision,
  });
}

// ---- modules ---------------------------------------------------------------

/** conv → (dropout) → norm → LeakyReLU; each part registered by name and again inside `all_modules`. */
export class ConvDropoutNormReLU extends nn.Module {
  declare conv: nn.ConvNd;
  declare all_modules: nn.Sequential;

  constructor(c: PlainConvUNetConfig, inChannels: number, outChannels: number, kernel: readonly number[], stride: readonly number[]) {
    super();
    const Conv = c.dims === 2 ? nn.Conv2d : nn.Conv3d;
    const conv = new Conv(inChannels, outChannels, kernel, { stride, padding: kernel.map((k) => (k - 1) >> 1), bias: c.convBias });
    const ops: nn.AnyModule[] = [this.addModule('conv', conv)];
    if (c.dropout !== null) {
      const Drop = c.dims === 2 ? nn.Dropout2d : nn.Dropout3d;
      ops.push(this.addModule('dropout', new Drop(c.dropout)));
    }
    if (c.norm !== 'none') {
      const o = { eps: c.normEps };
      const norm =
        c.norm === 'instance'
          ? new (c.dims === 2 ? nn.InstanceNorm2d : nn.InstanceNorm3d)(outChannels, { ...o, affine: true })
          : new (c.dims === 2 ? nn.BatchNorm2d : nn.BatchNorm3d)(outChannels, o);
      ops.push(this.addModule('norm', norm));
    }
    // In place, as nnU-Net's nonlin_kwargs: one activation-sized buffer less per block.
    ops.push(this.addModule('nonlin', new nn.LeakyReLU(c.negativeSlope, true)));
    if (c.nonlinFirst && c.norm !== 'none') [ops[ops.length - 1], ops[ops.length - 2]] = [ops[ops.length - 2], ops[ops.length - 1]];
    this.addModule('all_modules', new nn.Sequential(...ops));
  }

  forward(x: Tensor): Tensor {
    // Own scope: the conv/norm intermediates are released as soon as the block is done.
    return tidy(() => this.all_modules.forward(x));
  }
}

/** n ConvDropoutNormReLU in `convs`; only the first one strides. */
export class StackedConvBlocks extends nn.Module {
  declare convs: nn.Sequential;

  constructor(c: PlainConvUNetConfig, n: number, inChannels: number, outChannels: number, kernel: readonly number[], stride: readonly number[]) {
    super();
    const ones = kernel.map(() => 1);
    const blocks = [new ConvDropoutNormReLU(c, inChannels, outChannels, kernel, stride)];
    for (let i = 1; i < n; i++) blocks.push(new ConvDropoutNormReLU(c, outChannels, outChannels, kernel, ones));
    this.addModule('convs', new nn.Sequential(...blocks));
  }

  forward(x: Tensor): Tensor {
    return this.convs.forward(x);
  }
}

/** `stages`: one Sequential(StackedConvBlocks) per stage; forward returns every stage's output (the skips). */
export class PlainConvEncoder extends nn.Module<[Tensor], Tensor[]> {
  declare stages: nn.Sequential;

  constructor(c: PlainConvUNetConfig) {
    super();
    const stages: nn.Sequential[] = [];
    let cin = c.inChannels;
    c.featuresPerStage.forEach((f, s) => {
      stages.push(new nn.Sequential(new StackedConvBlocks(c, c.nConvPerStage[s], cin, f, c.kernelSizes[s], c.strides[s])));
      cin = f;
    });
    this.addModule('stages', new nn.Sequential(...stages));
  }

  forward(x: Tensor): Tensor[] {
    return tidy(() => {
      const skips: Tensor[] = [];
      let h = x;
      for (const stage of this.stages) {
        h = stage.forward(h);
        skips.push(h);
      }
      return skips;
    });
  }
}

/** `encoder` (the same module as the network's), `stages`, `transpconvs` and `seg_layers`, deepest first. */
export class UNetDecoder extends nn.Module<[Tensor[]], Tensor[]> {
  declare encoder: PlainConvEncoder;
  declare stages: nn.ModuleList<StackedConvBlocks>;
  declare transpconvs: nn.ModuleList<nn.ConvNd>;
  declare seg_layers: nn.ModuleList<nn.ConvNd>;

  constructor(encoder: PlainConvEncoder, c: PlainConvUNetConfig) {
    super();
    this.addModule('encoder', encoder);
    const n = c.featuresPerStage.length;
    const Transp = c.dims === 2 ? nn.ConvTranspose2d : nn.ConvTranspose3d;
    const Conv = c.dims === 2 ? nn.Conv2d : nn.Conv3d;
    const stages: StackedConvBlocks[] = [];
    const transp: nn.ConvNd[] = [];
    const seg: nn.ConvNd[] = [];
    for (let s = 1; s < n; s++) {
      const below = c.featuresPerStage[n - s];
      const skip = c.featuresPerStage[n - s - 1];
      const stride = c.strides[n - s];
      transp.push(new Transp(below, skip, stride, { stride, bias: c.convBias }));
      stages.push(new StackedConvBlocks(c, c.nConvPerStageDecoder[s - 1], 2 * skip, skip, c.kernelSizes[n - s - 1], stride.map(() => 1)));
      // Built for every stage (as the reference) so deep-supervision checkpoints load either way.
      seg.push(new Conv(skip, c.numClasses, 1, { bias: true }));
    }
    this.addModule('stages', new nn.ModuleList(stages));
    this.addModule('transpconvs', new nn.ModuleList(transp));
    this.addModule('seg_layers', new nn.ModuleList(seg));
  }

  /** Segmentation outputs, highest resolution first: all stages' when deepSupervision, else only the last. */
  forward(skips: Tensor[], deepSupervision = false): Tensor[] {
    return tidy(() => {
      const n = this.stages.length;
      const outs: Tensor[] = [];
      let x = skips[skips.length - 1];
      for (let s = 0; s < n; s++) {
        const below = x;
        // One scope per stage: the up-sampled and concatenated maps go at once.
        x = tidy(() => this.stages.at(s).forward(cat([this.transpconvs.at(s).forward(below), skips[skips.length - s - 2]], 1)));
        if (s > 0) below.dispose();
        if (deepSupervision || s === n - 1) outs.push(this.seg_layers.at(s).forward(x));
      }
      return outs.reverse();
    });
  }
}

/**
 * nnU-Net's PlainConvUNet. forward(x) returns the full-resolution logits;
 * forwardDeepSupervision(x) returns one output per decoder stage, highest
 * resolution first (train with it when config.deepSupervision). Spatial
 * sizes must be multiples of the product of the strides (info.inputDivisor).
 * Weights start from nnU-Net's He init (a = 0.01, zero biases).
 */
export class PlainConvUNet extends Network {
  declare encoder: PlainConvEncoder;
  declare decoder: UNetDecoder;
  readonly config: PlainConvUNetConfig;
  readonly info: NetworkInfo;

  constructor(config: PlainConvUNetInput, generator?: Generator) {
    super();
    const c = resolvePlainConfig(config);
    this.config = c;
    const divisor = c.strides.reduce((acc, s) => acc.map((v, i) => v * s[i]), new Array<number>(c.dims).fill(1));
    this.info = { name: 'plain_unet', spatialDims: c.dims, inChannels: c.inChannels, outChannels: c.numClasses, inputDivisor: divisor };
    const encoder = this.addModule('encoder', new PlainConvEncoder(c));
    this.addModule('decoder', new UNetDecoder(encoder, c));
    heInit(this, 1e-2, generator);
  }

  get deepSupervision(): boolean {
    return this.config.deepSupervision;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return tidy(() => this.decoder.forward(this.encoder.forward(x), false)[0]);
  }

  /** One output per decoder stage, highest resolution first (the input's size, then /strides, ...). */
  forwardDeepSupervision(x: Tensor): Tensor[] {
    this.checkInput(x);
    return tidy(() => this.decoder.forward(this.encoder.forward(x), true));
  }
}
