// One entry point for building losses from experiment configs:
//   createLoss({ name: 'dice_ce', preset: 'nnunet', batchDice: true })
//   createLoss({ name: 'deep_supervision', loss: { name: 'dice_ce' } })
// Parameters are validated like the network registry's: every problem at
// once, by key, with the allowed values.
import { ConfigError, type Field, bool, describe, list, num, object, oneOf, optional, record } from '../config/schema.js';
import type { Loss } from './common.js';
import { BcpMixLoss, DiceCELoss, PartialDiceCELoss } from './compound.js';
import { BinaryCrossEntropyLoss, KlDistillationLoss, MseLoss } from './consistency.js';
import { CrossEntropyLoss } from './cross-entropy.js';
import { DeepSupervisionLoss } from './deep-supervision.js';
import { DICE_PRESETS, type DicePreset, SoftDiceLoss, type SoftDiceOptions } from './dice.js';

type Params = Record<string, unknown>;

interface LossSpec {
  name: string;
  summary: string;
  params: Record<string, Field<unknown>>;
  build(p: Params, source: string | undefined): Loss;
}

const PRESETS = Object.keys(DICE_PRESETS) as DicePreset[];
const ACTIVATIONS = ['softmax', 'sigmoid', 'none'] as const;

/** Dice knobs shared by 'dice' and 'dice_ce' (unset ones come from the preset). */
const diceParams = {
  activation: optional(oneOf(ACTIVATIONS, { description: 'probabilities from logits (softmax: multi-class, sigmoid: multi-label)' })),
  squared: optional(bool({ description: 'Σp² + Σy² denominators' })),
  smooth: optional(num({ min: 0 })),
  smoothNumerator: optional(bool()),
  batchDice: optional(bool({ description: 'one Dice per class over the batch' })),
  includeBackground: optional(bool()),
  classes: optional(list(num({ int: true, min: 0 }), { description: 'score exactly these channels' })),
  form: optional(oneOf(['one_minus', 'negative'] as const)),
  denominatorClamp: optional(num({ min: 0 })),
  validateLabels: optional(bool()),
};

function diceOptions(p: Params, classWeights: unknown): SoftDiceOptions {
  const o: SoftDiceOptions = {};
  for (const k of Object.keys(diceParams)) if (p[k] !== undefined) (o as Params)[k] = p[k];
  if (classWeights !== undefined) o.classWeights = classWeights as number[];
  return o;
}

const SPECS: LossSpec[] = [
  {
    name: 'ce',
    summary: 'cross-entropy from logits (class weights, ignored label, label smoothing, voxel mask)',
    params: {
      classWeights: optional(list(num({ min: 0 }))),
      ignoreIndex: optional(num({ int: true })),
      labelSmoothing: num({ min: 0, max: 1, default: 0 }),
      validateLabels: bool({ default: true }),
    },
    build: (p) => new CrossEntropyLoss(p as object),
  },
  {
    name: 'dice',
    summary: `soft Dice; presets ${PRESETS.join(', ')}`,
    params: {
      preset: oneOf(PRESETS, { default: 'nnunet' }),
      classWeights: optional(list(num({ min: 0 }), { description: 'weight per scored class' })),
      ignoreIndex: optional(num({ int: true })),
      ...diceParams,
    },
    build: (p) => new SoftDiceLoss({ preset: p.preset as DicePreset, ignoreIndex: p.ignoreIndex as number | undefined, ...diceOptions(p, p.classWeights) }),
  },
  {
    name: 'dice_ce',
    summary: 'weighted Dice + cross-entropy (nnU-Net DC_and_CE; ½/½ for ssl4mis, stdr, bcp presets)',
    params: {
      preset: oneOf(PRESETS, { default: 'nnunet' }),
      weightDice: optional(num({ min: 0 })),
      weightCe: optional(num({ min: 0 })),
      ignoreIndex: optional(num({ int: true })),
      diceClassWeights: optional(list(num({ min: 0 }))),
      ceClassWeights: optional(list(num({ min: 0 }))),
      labelSmoothing: optional(num({ min: 0, max: 1 })),
      ...diceParams,
    },
    build: (p) =>
      new DiceCELoss({
        preset: p.preset as DicePreset,
        weightDice: p.weightDice as number | undefined,
        weightCe: p.weightCe as number | undefined,
        ignoreIndex: p.ignoreIndex as number | undefined,
        dice: diceOptions(p, p.diceClassWeights),
        ce: { classWeights: p.ceClassWeights as number[] | undefined, labelSmoothing: p.labelSmoothing as number | undefined },
      }),
  },
  {
    name: 'partial_dice_ce',
    summary: "PA-Seg's partial CE + Dice over annotated voxels only (labels ≥ numClasses are unannotated)",
    params: { numClasses: optional(num({ int: true, min: 1 })) },
    build: (p) => new PartialDiceCELoss(p as object),
  },
  {
    name: 'bcp_mix',
    summary: "BCP's copy-paste mix loss (masked Dice + CE per region, unlabelled region weighted uWeight)",
    params: {
      preset: oneOf(['bcp_la', 'bcp_acdc'] as const, { default: 'bcp_la' }),
      lWeight: num({ min: 0, default: 1 }),
      uWeight: num({ min: 0, default: 0.5 }),
      unlabelledImage: bool({ default: false, description: 'the mask = 1 region comes from the unlabelled image' }),
    },
    build: (p) => new BcpMixLoss(p as object),
  },
  {
    name: 'bce',
    summary: 'binary cross-entropy per channel (multi-label outputs), from logits or probabilities',
    params: { fromLogits: bool({ default: true }), posWeight: optional(list(num({ min: 0 }))) },
    build: (p) => new BinaryCrossEntropyLoss(p as object),
  },
  {
    name: 'mse',
    summary: 'mean squared error between (optionally activated) prediction and target',
    params: { predictionActivation: oneOf(ACTIVATIONS, { default: 'none' }), targetActivation: oneOf(ACTIVATIONS, { default: 'none' }) },
    build: (p) => new MseLoss(p as object),
  },
  {
    name: 'softmax_mse',
    summary: 'mean-teacher consistency: MSE between softmax(student) and softmax(teacher)',
    params: {},
    build: () => new MseLoss({ predictionActivation: 'softmax', targetActivation: 'softmax' }, 'softmax_mse'),
  },
  {
    name: 'boundary_mse',
    summary: "UDA_CLR's boundary regression: MSE between sigmoid(boundary logits) and a [0, 1] boundary map",
    params: {},
    build: () => new MseLoss({ predictionActivation: 'sigmoid', targetActivation: 'none' }, 'boundary_mse'),
  },
  {
    name: 'kl_distillation',
    summary: 'T²·KL(softmax(teacher/T) ‖ softmax(student/T)) (PA-Seg SCM)',
    params: {
      temperature: num({ min: 0, default: 1 }),
      reduction: oneOf(['voxelmean', 'batchmean'] as const, { default: 'voxelmean', description: 'voxelmean: PA-Seg (voxels flattened); batchmean: F.kl_div batchmean' }),
    },
    build: (p) => new KlDistillationLoss(p as object),
  },
  {
    name: 'deep_supervision',
    summary: "nnU-Net's deep-supervision wrapper (weights 1/2^i, lowest resolution 0, normalised)",
    params: {
      loss: record({ description: 'the wrapped loss config' }),
      weights: optional(list(num({ min: 0 }), { description: 'one per output, highest resolution first' })),
    },
    build: (p, source) => {
      const inner = p.loss as LossConfig;
      if (inner.name === 'deep_supervision') throw new ConfigError(['loss.loss.name: deep_supervision cannot wrap itself'], source);
      return new DeepSupervisionLoss(createLoss(inner, source, 'loss.loss'), { weights: p.weights as number[] | undefined });
    },
  },
];

const BY_NAME = new Map(SPECS.map((s) => [s.name, s]));

function schemaOf(spec: LossSpec): Field<Params> {
  return object({ name: oneOf([spec.name] as const), ...spec.params }) as unknown as Field<Params>;
}

export interface LossConfig {
  name: string;
  [param: string]: unknown;
}

/**
 * Builds a loss from a config, throwing a ConfigError that lists every
 * problem (unknown name with the allowed ones, unknown or invalid parameters).
 */
export function createLoss(config: LossConfig, source?: string, path = 'loss'): Loss {
  const name = config?.name;
  const spec = typeof name === 'string' ? BY_NAME.get(name) : undefined;
  if (spec === undefined) throw new ConfigError([`${path}.name: ${JSON.stringify(name)} is not one of ${[...BY_NAME.keys()].join(', ')}`], source);
  const problems: string[] = [];
  const params = schemaOf(spec).check(config, path, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
  try {
    return spec.build(params, source);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError([`${path}: ${(e as Error).message}`], source);
  }
}

/** Every problem of a loss config, by key, without building it. */
export function checkLossConfig(config: LossConfig, path = 'loss'): string[] {
  const name = config?.name;
  const spec = typeof name === 'string' ? BY_NAME.get(name) : undefined;
  if (spec === undefined) return [`${path}.name: ${JSON.stringify(name)} is not one of ${[...BY_NAME.keys()].join(', ')}`];
  const problems: string[] = [];
  schemaOf(spec).check(config, path, problems);
  return problems;
}

export interface LossDescription {
  name: string;
  summary: string;
  params: string[];
}

/** Every registered loss with its parameters and defaults. */
export function listLosses(): LossDescription[] {
  return SPECS.map((s) => ({ name: s.name, summary: s.summary, params: describe(schemaOf(s)).filter((l) => !l.startsWith('name:')) }));
}

export function lossNames(): string[] {
  return [...BY_NAME.keys()];
}
