// @labelwise/toolkit: medical image segmentation on @labelwise/torch.
// IO is flat (Volume, readNifti, ...); every other area is a namespace, as in
// `import { networks, losses } from '@labelwise/toolkit'`. Each area is also
// importable on its own: '@labelwise/toolkit/nn', '@labelwise/toolkit/losses', ...
export * from './io/index.js';
export * as io from './io/index.js';
export * as config from './config/index.js';
export * as random from './random/index.js';
export * as data from './data/index.js';
export * as transforms from './transforms/index.js';
export * as networks from './nn/index.js';
export * as losses from './losses/index.js';
export * as metrics from './metrics/index.js';
export * as checkpoint from './checkpoint/index.js';
export * as plot from './plot/index.js';
export * as inference from './inference/index.js';
export * as training from './training/index.js';
export * as methods from './methods/index.js';
export * as experiment from './experiment/index.js';
