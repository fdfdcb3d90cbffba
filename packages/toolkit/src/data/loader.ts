// Background batch loading. Batches are produced ahead of training in worker
// threads behind a bounded prefetch queue and handed over in step order.
//
// Determinism: the batch for step s is a pure function of (producer options,
// s): each producer derives its randomness from the step, never from which
// worker ran it or when. So 0, 1 or 4 workers give byte-identical batches.
//
// Producers are named by module URL + export because functions cannot cross a
// thread boundary; the same producer runs in the main thread when workers = 0.
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as torch from '@labelwise/torch';
import { type BatchArrays, type BatchProducer, type ProducerRef, batchTransferList, loadProducer } from './loader-protocol.js';

export type { ArrayField, BatchArrays, BatchProducer, ProducerFactory, ProducerRef } from './loader-protocol.js';

export interface DataLoaderOptions {
  producer: ProducerRef;
  /** Worker threads; 0 produces in the calling thread (useful for debugging). */
  numWorkers?: number;
  /** Batches produced ahead of the consumer, across all workers (≥ 1). */
  prefetch?: number;
  /** First step to produce (resume: the step after the last one trained). */
  startStep?: number;
  /** Steps to produce in total (undefined: unbounded). */
  numSteps?: number;
  /** libtorch threads inside each worker (default 1: workers must not starve the training thread). */
  workerThreads?: number;
}

export interface LoaderStats {
  /** Batches handed to the consumer. */
  batches: number;
  /** Milliseconds `next()` spent waiting for a batch that was not ready. */
  waitMs: number;
}

interface Pending {
  resolve: (b: BatchArrays) => void;
  reject: (e: Error) => void;
}

type WorkerReply = { step: number; batch?: BatchArrays; error?: string };

const WORKER_URL = new URL('./loader-worker.js', import.meta.url);

/**
 * Produces batches of typed arrays; `next()` returns them as tensors.
 * Use `await using loader = new DataLoader(...)` or call `close()`.
 */
export class DataLoader {
  readonly numWorkers: number;
  readonly prefetch: number;
  private readonly opts: DataLoaderOptions;
  private readonly workers: Worker[] = [];
  private readonly ready = new Map<number, BatchArrays>();
  private readonly failed = new Map<number, Error>();
  private readonly waiting = new Map<number, Pending>();
  private nextToConsume: number;
  private nextToRequest: number;
  private readonly endStep: number;
  private fatal: Error | null = null;
  private closed = false;
  private local: Promise<BatchProducer> | null = null;
  private readonly statsValue: LoaderStats = { batches: 0, waitMs: 0 };

  constructor(opts: DataLoaderOptions) {
    this.opts = opts;
    this.numWorkers = opts.numWorkers ?? 2;
    this.prefetch = Math.max(1, opts.prefetch ?? 2 * Math.max(1, this.numWorkers));
    this.nextToConsume = opts.startStep ?? 0;
    this.nextToRequest = this.nextToConsume;
    this.endStep = opts.numSteps === undefined ? Infinity : this.nextToConsume + opts.numSteps;
    if (!Number.isInteger(this.numWorkers) || this.numWorkers < 0) throw new RangeError(`DataLoader: numWorkers must be an integer ≥ 0, got ${opts.numWorkers}`);
    for (let w = 0; w < this.numWorkers; w++) this.spawn(w);
    this.fill();
  }

  get stats(): LoaderStats { return { ...this.statsValue }; }

  /** The step the next call to `next()` returns (what a checkpoint records). */
  get step(): number { return this.nextToConsume; }

  private spawn(index: number): void {
    const worker = new Worker(WORKER_URL, {
      workerData: { producer: this.opts.producer, threads: this.opts.workerThreads ?? 1 },
    });
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(new Error(`DataLoader worker ${index} crashed: ${e.message}`)));
    worker.on('exit', (code) => {
      if (!this.closed && code !== 0) this.fail(new Error(`DataLoader worker ${index} exited with code ${code}`));
    });
    this.workers.push(worker);
  }

  // Keeps `prefetch` steps in flight; step s goes to worker s mod W so each
  // worker's queue is short and the order of completion stays close to step order.
  private fill(): void {
    if (this.numWorkers === 0 || this.closed) return;
    while (this.nextToRequest < this.endStep && this.nextToRequest - this.nextToConsume < this.prefetch) {
      const s = this.nextToRequest++;
      this.workers[s % this.numWorkers].postMessage({ step: s });
    }
  }

  private onReply(m: WorkerReply): void {
    const err = m.error !== undefined ? new Error(m.error) : null;
    const pending = this.waiting.get(m.step);
    if (pending) {
      this.waiting.delete(m.step);
      if (err) pending.reject(err);
      else pending.resolve(m.batch!);
    } else if (err) {
      this.failed.set(m.step, err);
    } else {
      this.ready.set(m.step, m.batch!);
    }
  }

  private fail(e: Error): void {
    if (this.fatal) return;
    this.fatal = e;
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  /** The next batch as typed arrays (no tensors created). Resolves to null after the last step. */
  async nextArrays(): Promise<BatchArrays | null> {
    if (this.closed) throw new Error('DataLoader: next() after close()');
    if (this.nextToConsume >= this.endStep) return null;
    const step = this.nextToConsume++;
    const t0 = performance.now();
    let batch: BatchArrays;
    if (this.numWorkers === 0) {
      this.local ??= loadProducer(this.opts.producer);
      const produce = await this.local;
      try {
        batch = await produce(step);
      } catch (e) {
        throw new Error(`DataLoader: batch for step ${step} failed: ${(e as Error).message}`);
      }
    } else {
      if (this.fatal) throw this.fatal;
      const failed = this.failed.get(step);
      if (failed) {
        this.failed.delete(step);
        throw new Error(`DataLoader: batch for step ${step} failed: ${failed.message}`);
      }
      const ready = this.ready.get(step);
      if (ready) {
        this.ready.delete(step);
        batch = ready;
      } else {
        try {
          batch = await new Promise<BatchArrays>((resolve, reject) => this.waiting.set(step, { resolve, reject }));
        } catch (e) {
          throw new Error(`DataLoader: batch for step ${step} failed: ${(e as Error).message}`);
        }
      }
      this.fill();
    }
    this.statsValue.waitMs += performance.now() - t0;
    this.statsValue.batches++;
    return batch;
  }

  /** The next batch as tensors keyed like the producer's fields; the caller disposes them. */
  async next(): Promise<Record<string, torch.Tensor> | null> {
    const arrays = await this.nextArrays();
    if (!arrays) return null;
    const out: Record<string, torch.Tensor> = {};
    for (const [k, f] of Object.entries(arrays)) out[k] = torch.fromTypedArray(f.data, f.shape, f.dtype);
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Record<string, torch.Tensor>> {
    for (;;) {
      const b = await this.next();
      if (!b) return;
      yield b;
    }
  }

  /** Stops the workers; pending `next()` calls reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('DataLoader closed');
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
    this.ready.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.close(); }
}

export { batchTransferList };
