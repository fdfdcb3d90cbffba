// One registry of training methods. A method is a recipe (what one step
// computes, for the shared trainer) plus a short program over a session
// (phases, rounds); the CLI, server and web app list and build methods only
// through here. The session's contract (MethodSession) is declared here and
// implemented by experiment/session.ts, so methods never import the layer
// above them.
import type * as torch from '@labelwise/torch';
import type { Loss } from '../losses/common.js';
import type { Recipe, StreamName } from '../training/recipe.js';
import type { TrainResult } from '../training/trainer.js';
import { ConfigError, type Field } from '../config/schema.js';

export interface MethodContext {
  /** The trained network (the student). */
  model: torch.nn.Module;
  /** Builds a fresh network of the same configuration (teachers, snapshots). */
  makeNetwork: () => torch.nn.Module;
  /** The supervised loss from the experiment config. */
  loss: Loss;
  numClasses: number;
  /** Spatial dims of a training patch (2 or 3). */
  spatialDims: 2 | 3;
  totalSteps: number;
  seed: number;
  /** The method's parameters from config.method (without `name`), merged with the phase's. */
  params: Record<string, unknown>;
  /** The phase being built ('train' for single-phase methods). */
  phase: string;
  /** Builds another network (e.g. an auxiliary one of a different architecture) with the run's channels, classes, seed and device. */
  createNetwork?: (config: Record<string, unknown>) => torch.nn.Module;
  /** A checkpoint folder ('best' or 'last') of a phase of this run (default: the phase being built), or null when it has none yet. */
  checkpoint?: (which: 'best' | 'last', phase?: string) => string | null;
}

/** One call of session.train: a phase, or a round of one. */
export interface TrainPhase {
  /** Phase name; its checkpoints go to <run>/<n>-<name>/ (the default program's one phase, 'train', uses the run folder). */
  phase: string;
  /** Steps of the whole phase (schedules run over it). */
  steps: number;
  /** Train up to this step now and return; a later call with the same phase continues (rounds). Default: steps. */
  until?: number;
  /** Recipe parameters merged over the method's. */
  params?: Record<string, unknown>;
  /** Builds the recipe (default: the method's build). */
  recipe?: (ctx: MethodContext) => Recipe;
  /** Where the weights start when the phase is first trained: the previous phase's best checkpoint (default) or the current weights. */
  init?: 'previous-best' | 'current';
}

/** What a method's program works with (implemented by the experiment layer's Session). */
export interface MethodSession {
  readonly exp: { readonly seed: number; readonly training: { readonly iterations: number } };
  readonly runDir: string;
  readonly methodParams: Record<string, unknown>;
  readonly spatialDims: 2 | 3;
  readonly numClasses: number;
  readonly model: torch.nn.Module;
  /** Round state in <run>/program.json, written atomically on every set. */
  readonly state: {
    get<T>(key: string): T | undefined;
    set(key: string, value: unknown): void;
    once<T>(key: string, fn: () => Promise<T> | T): Promise<T>;
  };
  train(phase: TrainPhase): Promise<TrainResult>;
  streamIds(name: StreamName): string[];
  predict(ids: readonly string[], each: (id: string, probabilities: torch.Tensor) => void | Promise<void>): Promise<void>;
  score(ids: readonly string[], scorer: (probabilities: torch.Tensor) => number): Promise<Record<string, number>>;
  revealLabels(ids: readonly string[]): void;
  updatePlan(fn: (streams: { labelled: string[]; unlabelled: string[] }) => { labelled: string[]; unlabelled: string[] }): void;
  weights(): Map<string, torch.Tensor>;
  loadWeights(weights: Map<string, torch.Tensor>, opts?: { phase?: TrainPhase }): void;
}

export interface MethodSpec {
  name: string;
  summary: string;
  /** The method's parameters (config.method without `name`), checked before any data is read. */
  params?: Field<unknown>;
  /**
   * The method's program over a session: phases, rounds. Default: one phase,
   * 'train', of training.iterations steps.
   */
  run?(session: MethodSession): Promise<void>;
  /** Data streams the method's recipes read (informational; each recipe declares its own). */
  streams: readonly StreamName[];
  build(ctx: MethodContext): Recipe;
}

const METHODS = new Map<string, MethodSpec>();

export function registerMethod(spec: MethodSpec): void {
  METHODS.set(spec.name, spec);
}

export function getMethod(name: unknown, source?: string): MethodSpec {
  const spec = typeof name === 'string' ? METHODS.get(name) : undefined;
  if (!spec) throw new ConfigError([`method.name: ${JSON.stringify(name)} is not one of ${[...METHODS.keys()].sort().join(', ')}`], source);
  return spec;
}

export function listMethods(): { name: string; summary: string; streams: readonly string[] }[] {
  return [...METHODS.values()].map((m) => ({ name: m.name, summary: m.summary, streams: m.streams })).sort((a, b) => a.name.localeCompare(b.name));
}
