// Threads, seeding and devices (torch.set_num_threads, torch.manual_seed, torch.cuda).
import { availableParallelism } from 'node:os';
import { Generator, Tensor } from './tensor.js';
import { native } from './native.js';

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** Seeds the default CPU generator and every CUDA generator. */
export function manualSeed(seed: number | bigint): void {
  native.manualSeed(seed);
}

/** The default CPU generator's state (to save and restore a run's randomness). */
export function getRngState(): Tensor {
  return new Tensor(native.generatorGetState(null));
}

export function setRngState(state: Tensor): void {
  native.generatorSetState(null, state.handle);
}

export { Generator };

export const cuda = {
  isAvailable(): boolean {
    return native.cudaDeviceCount() > 0;
  },
  deviceCount(): number {
    return native.cudaDeviceCount();
  },
  synchronize(device = 0): void {
    native.cudaSynchronize(device);
  },
};

/** libtorch version string, e.g. '1.13.0'. */
export function version(): string {
  return native.version();
}

export function parallelInfo(): string {
  return native.parallelInfo();
}

// PyTorch's default is every core; libtorch under OpenMP here starts at one.
// LABELWISE_NUM_THREADS overrides, as OMP_NUM_THREADS would.
const envThreads = Number(process.env.LABELWISE_NUM_THREADS ?? process.env.OMP_NUM_THREADS ?? '');
native.setNumThreads(Number.isInteger(envThreads) && envThreads > 0 ? envThreads : availableParallelism());
// at::set_num_threads also rewrites a process-wide default that every thread
// adopts at its first parallel op; workers that set 1 thread (DataLoader,
// preprocessing cache) would otherwise leave a thread whose first parallel op
// comes later with 1 thread. Reading the count fixes this thread's own now.
native.getNumThreads();
