// The network of a 3D run: nnU-Net's plain U-Net with the planned topology
// re-derived for data.patchSize, unless the config names another network.
import type { Experiment } from '../config/experiment.js';
import type { NetworkConfig } from '../nn/registry.js';
import { type PatchPlan, topologyForPatch } from './patch-plan.js';

/** The network the config gives a 3D run: the schema's default is 2D, so a run given no network gets nnU-Net's plain U-Net. */
export function givenNetwork3d(exp: Experiment): Record<string, unknown> {
  return Object.keys(exp.network).length === 1 && exp.network.name === 'unet2d' ? { name: 'plain_unet' } : { ...exp.network };
}

/**
 * The network config of a 3D run. A plain_unet without kernelSizes/strides
 * (or no network at all) takes the planned topology re-derived for
 * data.patchSize; a shorter featuresPerStage keeps that many stages.
 * Deep supervision stays off unless asked for: the trainer's recipes call
 * forward(), which returns the full-resolution output only.
 */
export function network3dConfig(exp: Experiment, plan: Pick<PatchPlan, 'plans' | 'inChannels' | 'numClasses'>): NetworkConfig {
  const given = givenNetwork3d(exp);
  const base = { inChannels: plan.inChannels, numClasses: plan.numClasses, ...given, seed: (given.seed as number | undefined) ?? exp.seed } as unknown as NetworkConfig;
  if (base.name !== 'plain_unet') return base;
  if (given.kernelSizes !== undefined && given.strides !== undefined) return { dims: 3, deepSupervision: false, ...base };
  if (given.kernelSizes !== undefined || given.strides !== undefined) {
    throw new Error('network: give both kernelSizes and strides for plain_unet, or neither (the planned topology is used)');
  }
  const topo = topologyForPatch(plan.plans, exp.data.patchSize);
  let { kernelSizes, strides } = topo;
  const features = given.featuresPerStage as number[] | undefined;
  if (features !== undefined) {
    if (!Array.isArray(features) || features.length < 2 || features.length > kernelSizes.length) {
      throw new Error(`network.featuresPerStage: expected 2 to ${kernelSizes.length} stages (the planned U-Net for patch [${exp.data.patchSize.join(', ')}] has ${kernelSizes.length}), got ${JSON.stringify(features)}`);
    }
    kernelSizes = kernelSizes.slice(0, features.length);
    strides = strides.slice(0, features.length);
  }
  return { dims: 3, deepSupervision: false, ...base, kernelSizes, strides };
}
