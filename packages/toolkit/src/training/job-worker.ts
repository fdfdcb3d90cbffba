// Job worker: imports the job function, runs it once with an AbortSignal
// wired to 'cancel' messages, and posts events and the result.
import { parentPort, workerData } from 'node:worker_threads';
import type { JobFunction, JobRef } from './job.js';

const ref = workerData as JobRef;
const controller = new AbortController();
parentPort!.on('message', (m: { kind: string }) => { if (m.kind === 'cancel') controller.abort(); });

try {
  const url = ref.module.startsWith('file:') ? ref.module : new URL(`file://${ref.module}`).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const fn = mod[ref.export];
  if (typeof fn !== 'function') throw new Error(`job: module ${ref.module} has no function export '${ref.export}'`);
  const value = await (fn as JobFunction)(ref.options, { signal: controller.signal, emit: (event) => parentPort!.postMessage({ kind: 'event', event }) });
  parentPort!.postMessage({ kind: 'result', value });
} catch (e) {
  const err = e as Error;
  parentPort!.postMessage({ kind: 'error', message: err?.message ?? String(e), stack: err?.stack });
}
parentPort!.close();
