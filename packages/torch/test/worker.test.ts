// The addon is context-aware: it loads and computes in worker_threads, each
// with its own tensors, while the main thread keeps working.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import * as torch from '../src/index.js';

const workerSource = `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.index).then((torch) => {
    torch.manualSeed(workerData.seed);
    const w = torch.randn([3, 3], { requiresGrad: true });
    const loss = w.mul(w).sum();
    loss.backward();
    parentPort.postMessage({ grad: Array.from(w.grad.toTypedArray()), w: Array.from(w.toTypedArray()) });
  }).catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

function runWorker(seed: number): Promise<{ grad: number[]; w: number[] }> {
  const index = new URL('../src/index.js', import.meta.url).href;
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, { eval: true, workerData: { index, seed } });
    worker.once('message', (m: { grad: number[]; w: number[]; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    worker.once('error', reject);
  });
}

test('two workers load the addon and compute gradients concurrently', async () => {
  const [a, b] = await Promise.all([runWorker(1), runWorker(1)]);
  assert.deepEqual(a.w, b.w, 'same seed, same values in both workers');
  a.grad.forEach((g, i) => assert.ok(Math.abs(g - 2 * a.w[i]) < 1e-6));
  // The main thread is unaffected and still computes.
  assert.deepEqual(torch.tensor([1, 2]).add(1).tolist(), [2, 3]);
});

test("a worker's setNumThreads(1) does not change the main thread's thread count", async () => {
  // In a fresh process: at::set_num_threads also rewrites the process-wide
  // default a thread adopts at its first parallel op, so without the runtime's
  // fix the main thread would compute with 1 thread after a worker set 1.
  const { spawnSync } = await import('node:child_process');
  const index = new URL('../src/index.js', import.meta.url).href;
  const script = `
    import { Worker } from 'node:worker_threads';
    const torch = await import(${JSON.stringify(index)});
    // The worker's eval source is a module too (it inherits --input-type=module).
    const src = "import { parentPort, workerData } from 'node:worker_threads'; const t = await import(workerData); t.setNumThreads(1); t.randn([64, 64]).matmul(t.randn([64, 64])); parentPort.postMessage(t.getNumThreads());";
    const inWorker = await new Promise((res, rej) => { const w = new Worker(src, { eval: true, workerData: ${JSON.stringify(index)} }); w.once('message', res); w.once('error', rej); });
    torch.randn([256, 256]).matmul(torch.randn([256, 256]));
    console.log(JSON.stringify({ inWorker, main: torch.getNumThreads() }));
    process.exit(0);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, LABELWISE_NUM_THREADS: '2' }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { inWorker: 1, main: 2 });
});
