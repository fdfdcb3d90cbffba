// torch.nn: modules, parameters, containers, layers and init, exported from
// the package as `nn`:  import { nn } from '@labelwise/torch';  new nn.Conv3d(1, 8, 3)
export { Module, Parameter, type AnyModule, type StateDict, type StateDictOptions, type LoadStateDictResult, type NamedOptions, type ModuleToOptions } from './module.js';
export { Sequential, ModuleList, ModuleDict } from './containers.js';
export { Identity, Linear, Flatten, Unflatten, type LinearOptions } from './linear.js';
export { ConvNd, Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, type ConvLayerOptions, type ConvTransposeLayerOptions, type PaddingMode } from './conv.js';
export {
  NormBase,
  BatchNormBase,
  BatchNorm1d,
  BatchNorm2d,
  BatchNorm3d,
  InstanceNormBase,
  InstanceNorm1d,
  InstanceNorm2d,
  InstanceNorm3d,
  GroupNorm,
  LayerNorm,
  type NormOptions,
  type GroupNormOptions,
  type LayerNormOptions,
} from './norm.js';
export { ReLU, ReLU6, LeakyReLU, PReLU, Sigmoid, Tanh, GELU, Softplus, ELU, SELU, SiLU, Mish, Softmax, LogSoftmax, type LeakyReLUOptions, type SoftplusOptions, type ELUOptions } from './activation.js';
export {
  MaxPoolNd,
  MaxPool1d,
  MaxPool2d,
  MaxPool3d,
  AvgPool1d,
  AvgPool2d,
  AvgPool3d,
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AdaptiveAvgPool3d,
  AdaptiveMaxPool1d,
  AdaptiveMaxPool2d,
  AdaptiveMaxPool3d,
  type PoolOutput,
  type MaxPoolLayerOptions,
  type AvgPoolLayerOptions,
  type AdaptiveOutputSize,
} from './pooling.js';
export { DropoutNd, Dropout, Dropout1d, Dropout2d, Dropout3d, type DropoutLayerOptions } from './dropout.js';
export { Upsample, type UpsampleLayerOptions } from './upsample.js';
export * as init from './init.js';
export type { FactoryOptions } from './utils.js';
