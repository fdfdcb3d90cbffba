// One entry point for building networks from experiment configs:
//   createNetwork({ name: 'unet2d', numClasses: 4, upsample: 'transpose', seed: 1 })
// Every parameter is validated (type, range, unknown keys) and every problem
// is reported at once by key, with the allowed values; `seed` draws the
// initial weights from a seeded generator instead of the global one.
import { Generator } from '@labelwise/torch';
import { ConfigError, type Field, bool, describe, list, num, object, oneOf, optional } from '../config/schema.js';
import { DeepLabV3Plus, DEEPLAB_DEFAULTS } from './deeplabv3plus.js';
import { FC_DISCRIMINATOR_DEFAULTS, FcDiscriminator, PATCH_DISCRIMINATOR_DEFAULTS, PatchDiscriminator } from './discriminators.js';
import type { Network } from './network.js';
import { PLAIN_CONV_UNET_DEFAULTS, PlainConvUNet, fromPlan, resolvePlainConfig } from './plain-conv-unet.js';
import { UNET25D_DEFAULTS, UNet25d } from './unet25d.js';
import { UNET2D_DEFAULTS, UNet2d } from './unet2d.js';
import { ATTENTION_UNET_DEFAULTS, AttentionUNet3d, PA_UNET_DEFAULTS, PaUNet3d } from './unet3d.js';
import { VNET_DEFAULTS, VNet } from './vnet.js';
import { EDGE_NETWORK_SPECS, type EdgeUNet2d, type EdgeVNet } from './edge-unet.js';

type Params = Record<string, unknown>;

export interface NetworkSpec {
  name: string;
  summary: string;
  /** Where the layout (and so the state-dict names) comes from. */
  reference: string;
  params: Record<string, Field<unknown>>;
  build(p: Params, generator: Generator | undefined): Network;
}

const int = (o: { min?: number; max?: number; default?: number; description?: string } = {}): Field<number> => num({ ...o, int: true });
const channels = (d: number): Field<number> => int({ min: 1, default: d, description: 'input channels' });
const classes = (d: number): Field<number> => int({ min: 1, default: d, description: 'output classes' });
const prob = num({ min: 0, max: 1 });

// outputStride is a number in configs; validate it as one of 8 / 16.
const outputStrideField: Field<unknown> = {
  kind: 'one of 8 | 16',
  description: 'backbone output stride',
  optional: true,
  defaultValue: 16,
  check: (v, path, problems) => {
    if (v !== 8 && v !== 16) problems.push(`${path}: ${JSON.stringify(v)} is not one of 8, 16`);
    return v;
  },
};

const SPECS: NetworkSpec[] = [
  {
    name: 'unet2d',
    summary: '2D U-Net of PyMIC / SSL4MIS / BCP / STDR (5 levels, BN, LeakyReLU, dropout)',
    reference: 'HiLab-git/SSL4MIS code/networks/unet.py; DeepMed-Lab-ECNU/BCP UNet_2d; whq-xxh/SFADA-GTV-Seg Code_OA/networks/unet.py',
    params: {
      inChannels: channels(UNET2D_DEFAULTS.inChannels),
      numClasses: classes(UNET2D_DEFAULTS.numClasses),
      featureChannels: list(int({ min: 1 }), { length: 5, default: UNET2D_DEFAULTS.featureChannels, description: 'channels per level' }),
      dropout: list(prob, { length: 5, default: UNET2D_DEFAULTS.dropout, description: 'dropout per encoder level' }),
      upsample: oneOf(['bilinear', 'transpose'] as const, { default: UNET2D_DEFAULTS.upsample, description: "'bilinear' (1×1 conv + bilinear: SSL4MIS, BCP) or 'transpose' (STDR)" }),
      bcpHeads: bool({ default: UNET2D_DEFAULTS.bcpHeads, description: "BCP's unused contrastive heads, to load BCP checkpoints strictly" }),
      bcpHeadClasses: int({ min: 1, default: UNET2D_DEFAULTS.bcpHeadClasses, description: 'BCP class selectors' }),
    },
    build: (p, generator) => new UNet2d({ ...(p as object), generator }),
  },
  {
    name: 'plain_unet',
    summary: "nnU-Net's configurable PlainConvUNet (2D/3D, strided convs, deep supervision)",
    reference: 'MIC-DKFZ/dynamic-network-architectures architectures/unet.py PlainConvUNet',
    params: {
      dims: int({ min: 2, max: 3, description: 'spatial dimensions (2 or 3)' }),
      inChannels: channels(1),
      numClasses: classes(2),
      kernelSizes: list(list(int({ min: 1 })), { minLength: 2, description: 'kernel per stage, one entry per axis' }),
      strides: list(list(int({ min: 1 })), { minLength: 1, description: 'stride per stage (n entries, the first all 1) or per pooling (n − 1)' }),
      featuresPerStage: optional(list(int({ min: 1 }), { description: 'channels per stage (default: baseFeatures·2^i capped at maxFeatures)' })),
      baseFeatures: int({ min: 1, default: 32, description: 'first stage channels when featuresPerStage is absent' }),
      maxFeatures: optional(int({ min: 1, description: 'channel cap (default 320 in 3D, 512 in 2D)' })),
      nConvPerStage: optional(list(int({ min: 1 }), { description: 'convolutions per encoder stage (default 2 each)' })),
      nConvPerStageDecoder: optional(list(int({ min: 1 }), { description: 'convolutions per decoder stage, deepest first (default 2 each)' })),
      convBias: bool({ default: PLAIN_CONV_UNET_DEFAULTS.convBias }),
      norm: oneOf(['instance', 'batch', 'none'] as const, { default: PLAIN_CONV_UNET_DEFAULTS.norm }),
      normEps: num({ min: 0, default: PLAIN_CONV_UNET_DEFAULTS.normEps }),
      negativeSlope: num({ min: 0, default: PLAIN_CONV_UNET_DEFAULTS.negativeSlope }),
      dropout: optional(num({ min: 0, max: 1, description: 'channel dropout after each conv (default none)' })),
      deepSupervision: bool({ default: PLAIN_CONV_UNET_DEFAULTS.deepSupervision }),
      nonlinFirst: bool({ default: PLAIN_CONV_UNET_DEFAULTS.nonlinFirst }),
    },
    build: (p, generator) => {
      const base = fromPlan({
        dims: p.dims as 2 | 3,
        inChannels: p.inChannels as number,
        numClasses: p.numClasses as number,
        kernelSizes: p.kernelSizes as number[][],
        strides: p.strides as number[][],
        featuresPerStage: p.featuresPerStage as number[] | undefined,
        baseFeatures: p.baseFeatures as number,
        maxFeatures: p.maxFeatures as number | undefined,
        nConvPerStage: p.nConvPerStage as number[] | undefined,
        nConvPerStageDecoder: p.nConvPerStageDecoder as number[] | undefined,
      });
      const config = resolvePlainConfig({
        ...base,
        convBias: p.convBias as boolean,
        norm: p.norm as 'instance',
        normEps: p.normEps as number,
        negativeSlope: p.negativeSlope as number,
        dropout: (p.dropout as number | undefined) ?? null,
        deepSupervision: p.deepSupervision as boolean,
        nonlinFirst: p.nonlinFirst as boolean,
      });
      return new PlainConvUNet(config, generator);
    },
  },
  {
    name: 'unet25d',
    summary: "PA-Seg's 2.5D U-Net (in-plane 3×3×1 kernels in the first two levels, InstanceNorm, trilinear up-sampling)",
    reference: 'HiLab-git/PA-Seg network/unet2d5.py U_Net2D5',
    params: {
      inChannels: channels(UNET25D_DEFAULTS.inChannels),
      numClasses: classes(UNET25D_DEFAULTS.numClasses),
      baseFeatures: int({ min: 1, default: UNET25D_DEFAULTS.baseFeatures }),
      numPool: int({ min: 1, max: 6, default: UNET25D_DEFAULTS.numPool }),
      kernelSizes: optional(list(list(int({ min: 1 }), { length: 3 }), { description: 'numPool + 1 kernels (default (3,3,1)×2 then (3,3,3)); the reference puts the slice axis last' })),
    },
    build: (p, generator) => new UNet25d({ ...(p as object), generator }),
  },
  {
    name: 'unet3d',
    summary: "PA-Seg's 3D U-Net (16-256 channels, InstanceNorm, nearest up-sampling)",
    reference: 'HiLab-git/PA-Seg network/network.py U_Net',
    params: {
      inChannels: channels(PA_UNET_DEFAULTS.inChannels),
      numClasses: classes(PA_UNET_DEFAULTS.numClasses),
      channels: list(int({ min: 1 }), { length: 5, default: PA_UNET_DEFAULTS.channels }),
    },
    build: (p, generator) => new PaUNet3d({ ...(p as object), generator }),
  },
  {
    name: 'attention_unet3d',
    summary: "PA-Seg's 3D attention U-Net (additive attention gates on the skips)",
    reference: 'HiLab-git/PA-Seg network/network.py AttU_Net',
    params: {
      inChannels: channels(ATTENTION_UNET_DEFAULTS.inChannels),
      numClasses: classes(ATTENTION_UNET_DEFAULTS.numClasses),
      channels: list(int({ min: 1 }), { length: 5, default: ATTENTION_UNET_DEFAULTS.channels }),
      attentionChannels: list(int({ min: 1 }), { length: 4, default: ATTENTION_UNET_DEFAULTS.attentionChannels, description: 'gate channels, deepest first' }),
    },
    build: (p, generator) => new AttentionUNet3d({ ...(p as object), generator }),
  },
  {
    name: 'vnet',
    summary: 'VNet of UA-MT / BCP (strided-conv down-sampling, additive skips, Dropout3d)',
    reference: "DeepMed-Lab-ECNU/BCP code/networks/VNet.py (layout 'bcp'); UA-MT VNet (layout 'flat')",
    params: {
      inChannels: channels(VNET_DEFAULTS.inChannels),
      numClasses: classes(VNET_DEFAULTS.numClasses),
      nFilters: int({ min: 1, default: VNET_DEFAULTS.nFilters }),
      normalization: oneOf(['batchnorm', 'groupnorm', 'instancenorm', 'none'] as const, { default: VNET_DEFAULTS.normalization }),
      hasDropout: bool({ default: VNET_DEFAULTS.hasDropout, description: 'Dropout3d(0.5) in training mode (BCP trains with it)' }),
      residual: bool({ default: VNET_DEFAULTS.residual }),
      layout: oneOf(['bcp', 'flat'] as const, { default: VNET_DEFAULTS.layout, description: "state-dict layout: 'bcp' (encoder./decoder.) or 'flat' (UA-MT)" }),
      bcpHeads: optional(bool({ description: "BCP's contrastive heads (default: with layout 'bcp')" })),
      bcpHeadClasses: int({ min: 1, default: VNET_DEFAULTS.bcpHeadClasses }),
    },
    build: (p, generator) => new VNet({ ...(p as object), generator }),
  },
  {
    name: 'deeplabv3plus_mobilenetv2',
    summary: 'DeepLabv3+ with MobileNetV2 and a boundary head (BEAL / UDA_CLR); multi-label sigmoid outputs',
    reference: 'fengweie/UDA_CLR networks/deeplabv3.py (after jfzhang95/pytorch-deeplab-xception)',
    params: {
      inChannels: channels(DEEPLAB_DEFAULTS.inChannels),
      numClasses: classes(DEEPLAB_DEFAULTS.numClasses),
      outputStride: outputStrideField,
    },
    build: (p, generator) => new DeepLabV3Plus({ ...(p as object), generator }),
  },
  {
    name: 'patch_discriminator',
    summary: "BEAL's fully convolutional patch discriminator (5 × conv4×4 stride 2, LeakyReLU 0.2)",
    reference: 'emma-sjwang/BEAL networks/GAN.py (UncertaintyDiscriminator: inChannels 2, BoundaryDiscriminator: 1)',
    params: {
      inChannels: channels(PATCH_DISCRIMINATOR_DEFAULTS.inChannels),
      filters: list(int({ min: 1 }), { minLength: 1, default: PATCH_DISCRIMINATOR_DEFAULTS.filters }),
      negativeSlope: num({ min: 0, default: PATCH_DISCRIMINATOR_DEFAULTS.negativeSlope }),
    },
    build: (p, generator) => new PatchDiscriminator({ ...(p as object), generator }),
  },
  {
    name: 'fc_discriminator',
    summary: "BEAL's fully connected discriminator on flattened features",
    reference: 'emma-sjwang/BEAL networks/GAN.py Discriminator',
    params: {
      inFeatures: int({ min: 1, default: FC_DISCRIMINATOR_DEFAULTS.inFeatures }),
      hidden: list(int({ min: 1 }), { minLength: 1, default: FC_DISCRIMINATOR_DEFAULTS.hidden }),
      negativeSlope: num({ min: 0, default: FC_DISCRIMINATOR_DEFAULTS.negativeSlope }),
    },
    build: (p, generator) => new FcDiscriminator({ ...(p as object), generator }),
  },
];

// The edge-guided networks (Hsu & Hua's extension b) are built-ins too.
SPECS.push(...(EDGE_NETWORK_SPECS as unknown as NetworkSpec[]));

const BY_NAME = new Map(SPECS.map((s) => [s.name, s]));

/**
 * Adds a network to the registry (method packages contribute their own, e.g.
 * the edge-guided U-Net). A name can be registered once.
 */
export function registerNetwork(spec: NetworkSpec): void {
  if (BY_NAME.has(spec.name)) throw new Error(`registerNetwork: a network named '${spec.name}' is already registered`);
  SPECS.push(spec);
  BY_NAME.set(spec.name, spec);
}

function schemaOf(spec: NetworkSpec): Field<Params> {
  return object({
    name: oneOf([spec.name] as const),
    seed: optional(int({ min: 0, description: 'draw the initial weights from a generator with this seed' })),
    ...spec.params,
  }) as unknown as Field<Params>;
}

/** A network config: its registry name and parameters. */
export interface NetworkConfig {
  name: string;
  [param: string]: unknown;
}

/**
 * Builds a network from a config. Throws a ConfigError listing every problem
 * (unknown name with the allowed names, unknown or invalid parameters with
 * the allowed ones), prefixed with `source` (e.g. the config file).
 */
export function createNetwork(config: NetworkConfig, source?: string): Network {
  const name = config?.name;
  const spec = typeof name === 'string' ? BY_NAME.get(name) : undefined;
  if (spec === undefined) {
    throw new ConfigError([`network.name: ${JSON.stringify(name)} is not one of ${[...BY_NAME.keys()].join(', ')}`], source);
  }
  const problems: string[] = [];
  const params = schemaOf(spec).check(config, 'network', problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
  const { name: _n, seed, ...rest } = params;
  const generator = typeof seed === 'number' ? new Generator(seed) : undefined;
  try {
    return spec.build(rest, generator);
  } catch (e) {
    // Cross-field checks (list lengths per stage, ...) happen in the constructors.
    if (e instanceof ConfigError) throw e;
    throw new ConfigError([(e as Error).message], source);
  }
}

/**
 * Every problem of a network config, by key, without building it. `filled`
 * names parameters a planner supplies later (their absence is no problem).
 */
export function checkNetworkConfig(config: NetworkConfig, filled: readonly string[] = []): string[] {
  const name = config?.name;
  const spec = typeof name === 'string' ? BY_NAME.get(name) : undefined;
  if (spec === undefined) return [`network.name: ${JSON.stringify(name)} is not one of ${[...BY_NAME.keys()].join(', ')}`];
  const problems: string[] = [];
  schemaOf(spec).check(config, 'network', problems);
  return problems.filter((p) => !filled.some((k) => p.startsWith(`network.${k}: required`)));
}

export interface NetworkDescription {
  name: string;
  summary: string;
  reference: string;
  /** One line per parameter: name, type, default and description. */
  params: string[];
}

/** Every registered network with its parameters and their defaults. */
export function listNetworks(): NetworkDescription[] {
  return SPECS.map((s) => ({ name: s.name, summary: s.summary, reference: s.reference, params: describe(schemaOf(s)).filter((l) => !l.startsWith('name:')) }));
}

/** The registered names. */
export function networkNames(): string[] {
  return [...BY_NAME.keys()];
}

/** Builds 'unet2d_egm' or 'vnet_egm' from a config (validated like any network). */
export function createEdgeNetwork(config: { name: string; seed?: number; [k: string]: unknown }, source?: string): EdgeUNet2d | EdgeVNet {
  if (!EDGE_NETWORK_SPECS.some((s) => s.name === config?.name)) throw new ConfigError([`network.name: ${JSON.stringify(config?.name)} is not one of ${EDGE_NETWORK_SPECS.map((s) => s.name).join(', ')}`], source);
  return createNetwork(config, source) as unknown as EdgeUNet2d | EdgeVNet;
}
