// Loads the libtorch addon. The addon is built by `npm run build:native`;
// a missing build gets a message that says so rather than a bare MODULE_NOT_FOUND.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Opaque handle to a native tensor (a Node-API External). */
export type Handle = object & { readonly __handle: unique symbol };
/** Opaque handle to a native random generator. */
export type GeneratorHandle = object & { readonly __generator: unique symbol };

/** A JS value the native `call` converts by the operator schema. */
export type NativeArg = Handle | GeneratorHandle | number | boolean | string | null | undefined | { float: number } | NativeArg[];
export type NativeResult = Handle | number | boolean | string | null | NativeResult[];

export interface Native {
  opId(name: string, overload: string): number;
  opSchema(id: number): string;
  /** Positional arguments follow `discard` as separate JS arguments. */
  call(id: number, kwargs: Record<string, NativeArg> | null, discard: boolean, ...args: NativeArg[]): NativeResult;
  fromBuffer(data: ArrayBufferView, shape: readonly number[], dtype: string): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  dataView(h: Handle): ArrayBuffer;
  free(h: Handle): void;
  shape(h: Handle): number[];
  strides(h: Handle): number[];
  dtype(h: Handle): string;
  device(h: Handle): string;
  numel(h: Handle): number;
  isContiguous(h: Handle, memoryFormat?: string): boolean;
  sameStorage(a: Handle, b: Handle): boolean;
  requiresGrad(h: Handle): boolean;
  setRequiresGrad(h: Handle, value: boolean): void;
  getGrad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  isLeaf(h: Handle): boolean;
  gradFn(h: Handle): string | null;
  retainGrad(h: Handle): void;
  backward(tensors: Handle[], grads: (Handle | null)[], retainGraph: boolean | null, createGraph: boolean, inputs: Handle[]): void;
  grad(outputs: Handle[], inputs: Handle[], gradOutputs: (Handle | null)[], retainGraph: boolean | null, createGraph: boolean, allowUnused: boolean): (Handle | null)[];
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number | bigint): void;
  newGenerator(seed: number | bigint, device?: string): GeneratorHandle;
  generatorGetState(g: GeneratorHandle | null): Handle;
  generatorSetState(g: GeneratorHandle | null, state: Handle): void;
  generatorSeed(g: GeneratorHandle | null): bigint;
  cudaDeviceCount(): number;
  cudaSynchronize(device?: number): void;
  version(): string;
  parallelInfo(): string;
}

function load(): Native {
  const here = dirname(fileURLToPath(import.meta.url));
  const pkgRoot = resolve(here, '..', '..');
  const candidates = [process.env.LABELWISE_TORCH_ADDON, join(pkgRoot, 'build', 'Release', 'labelwise_torch.node'), join(pkgRoot, 'build', 'Debug', 'labelwise_torch.node')];
  const file = candidates.find((c): c is string => !!c && existsSync(c));
  if (!file) {
    throw new Error(`@labelwise/torch: native addon not built (looked in ${join(pkgRoot, 'build')}); run \`npm run build:native\` first`);
  }
  return createRequire(import.meta.url)(file) as Native;
}

export const native: Native = load();
