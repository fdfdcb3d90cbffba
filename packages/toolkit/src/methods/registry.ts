// One registry of training methods. A method turns the experiment's network,
// loss and parameters into a Recipe for the shared trainer; the CLI, server
// and web app list and build methods only through here.
import type * as torch from '@labelwise/torch';
import type { Loss } from '../losses/common.js';
import type { Recipe } from '../training/recipe.js';
import { ConfigError } from '../config/schema.js';

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
}

/** One training phase of a multi-phase method (e.g. BCP: pre-training, then self-training). */
export interface PhaseSpec {
  name: string;
  iterations: number;
  /** Extra recipe parameters for this phase (merged over the method's). */
  params?: Record<string, unknown>;
}

export interface MethodSpec {
  name: string;
  summary: string;
  /**
   * Phases run one after another, each with a fresh optimizer and schedule,
   * the network starting from the previous phase's best checkpoint. Default:
   * one phase of training.iterations steps.
   */
  phases?(params: Record<string, unknown>, iterations: number): PhaseSpec[];
  /** Data streams the method consumes: 'labelled' always, 'unlabelled' for semi-supervised methods. */
  streams: readonly ('labelled' | 'unlabelled')[];
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
