// Validation before work: the whole experiment — network, loss and method
// parameters (by key, with allowed values), the augmentation preset for the
// data's dimensionality — is checked before any dataset is opened,
// fingerprinted or preprocessed, and every problem is reported at once.
import { ConfigError } from '../config/schema.js';
import type { Experiment } from '../config/experiment.js';
import { checkLossConfig } from '../losses/registry.js';
import { getMethod } from '../methods/index.js';
import { checkNetworkConfig } from '../nn/registry.js';
import { givenNetwork3d } from './network-3d.js';

export const AUGMENTATIONS_2D = ['default', 'acdcSsl4mis', 'none'] as const;
export const AUGMENTATIONS_3D = ['default', 'nnunet', 'nnunet-given', 'none'] as const;

export function checkExperiment(exp: Experiment, source?: string): void {
  const problems: string[] = [];
  const is3d = exp.data.dims === '3d';
  // A 3D plain_unet without a topology gets the planned one (network3dConfig).
  const given = is3d ? givenNetwork3d(exp) : exp.network;
  const net = is3d && given.name === 'plain_unet' ? { dims: 3, ...given } : given;
  const planned = is3d && net.name === 'plain_unet' && net.kernelSizes === undefined && net.strides === undefined ? ['kernelSizes', 'strides'] : [];
  problems.push(...checkNetworkConfig(net as { name: string }, planned));
  problems.push(...checkLossConfig(exp.loss as { name: string }));
  try {
    const method = getMethod(exp.method.name);
    const { name: _n, ...params } = exp.method;
    method.params?.check(params, 'method', problems);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  const allowed: readonly string[] = is3d ? AUGMENTATIONS_3D : AUGMENTATIONS_2D;
  if (!allowed.includes(exp.data.augmentation)) problems.push(`data.augmentation: '${exp.data.augmentation}' is not one of ${allowed.join(', ')} (${exp.data.dims})`);
  if (problems.length) throw new ConfigError(problems, source);
}
