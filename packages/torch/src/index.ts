// @labelwise/torch: libtorch for TypeScript with PyTorch's names.
export { type DType, type TypedArray, DTYPES, itemSize, isFloatingPoint } from './dtype.js';
export { Tensor, Generator, op, callT, callTs, fromHandle, type Scalar, type Device, type MemoryFormat, type Op, type OpArg, type BackwardOptions, type ToOptions } from './tensor.js';
export { tidy, keep, unkeep, dispose, DisposeScope, scopeDepth } from './scope.js';
export * as autograd from './autograd.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd.js';
export { setNumThreads, getNumThreads, manualSeed, getRngState, setRngState, cuda, version, parallelInfo } from './runtime.js';
export * from './ops/creation.js';
export * from './ops/math.js';
export * from './ops/shape.js';
export * from './ops/reduce.js';
export { gradcheck, type GradcheckOptions } from './testing/gradcheck.js';
