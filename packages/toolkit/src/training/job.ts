// Long work (training, batch inference) off the main event loop: a job runs a
// named module export in a worker thread, streams its events back, and can be
// cancelled — the job's AbortSignal fires and it stops cleanly (training
// writes a last checkpoint first). A server hosts many of these.
import { Worker } from 'node:worker_threads';

export interface JobRef {
  /** file: URL or absolute path of an ES module. */
  module: string;
  /** Export called as fn(options, { signal, emit }) → Promise<result>. */
  export: string;
  options?: unknown;
}

export type JobFunction<O = unknown, R = unknown> = (options: O, ctx: { signal: AbortSignal; emit: (event: unknown) => void }) => Promise<R>;

export interface JobHandle<R = unknown> {
  /** Resolves with the job's result, rejects with its error. */
  readonly result: Promise<R>;
  /** Asks the job to stop; the result then resolves with whatever the job returns on cancel. */
  cancel(): void;
  /** Stops the thread at once (no clean-up: prefer cancel()). */
  terminate(): Promise<void>;
}

const WORKER_URL = new URL('./job-worker.js', import.meta.url);

export function startJob<R = unknown>(ref: JobRef, onEvent?: (event: unknown) => void): JobHandle<R> {
  const worker = new Worker(WORKER_URL, { workerData: ref });
  let settled = false;
  const result = new Promise<R>((resolve, reject) => {
    worker.on('message', (m: { kind: 'event'; event: unknown } | { kind: 'result'; value: R } | { kind: 'error'; message: string; stack?: string }) => {
      if (m.kind === 'event') onEvent?.(m.event);
      else if (m.kind === 'result') { settled = true; resolve(m.value); }
      else { settled = true; const e = new Error(m.message); if (m.stack) e.stack = m.stack; reject(e); }
    });
    worker.on('error', (e) => { settled = true; reject(e); });
    worker.on('exit', (code) => { if (!settled) reject(new Error(`job ${ref.module}#${ref.export} exited with code ${code} before finishing`)); });
  });
  return {
    result,
    cancel: () => worker.postMessage({ kind: 'cancel' }),
    terminate: async () => { settled = true; await worker.terminate(); },
  };
}
