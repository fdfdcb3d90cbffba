// torch.nn.functional, exported from the package as `F` (and `functional`):
//   import { F } from '@labelwise/torch';  F.conv2d(x, w, b, { padding: 1 })
// Python keyword arguments become an options object with camelCase keys.
export type { IntOrList, Reduction } from './utils.js';
export * from './conv.js';
export * from './pooling.js';
export * from './interpolate.js';
export * from './norm.js';
export * from './dropout.js';
export * from './loss.js';
export * from './sampling.js';
export * from './pad.js';
export * from './misc.js';
// One implementation of the activations, shared with the torch.* namespace.
export {
  type GeluApproximate,
  celu,
  elu,
  elu_,
  gelu,
  hardsigmoid,
  hardswish,
  hardtanh,
  hardtanh_,
  leakyRelu,
  leakyRelu_,
  logsigmoid,
  mish,
  relu,
  relu6,
  relu_,
  selu,
  sigmoid,
  silu,
  softplus,
  softsign,
  tanh,
  threshold,
} from '../ops/activation.js';
