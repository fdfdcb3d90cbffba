// DataLoader: same batches for any worker count, ordered delivery, bounded
// prefetch, errors that name the case, clean shutdown and resume by step.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DataLoader, type ProducerRef } from '../src/data/loader.js';
import type { TestProducerOptions } from './loader-producer.js';

// Every loader is closed after the file, whatever failed: live worker threads
// would otherwise keep the test process (and the suite) from exiting.
const opened: DataLoader[] = [];
function openLoader(...args: ConstructorParameters<typeof DataLoader>): DataLoader {
  const loader = new DataLoader(...args);
  opened.push(loader);
  return loader;
}
after(async () => {
  await Promise.allSettled(opened.map((l) => l.close()));
});

const module = new URL('./loader-producer.js', import.meta.url).href;
const ref = (o: Partial<TestProducerOptions> = {}): ProducerRef => ({ module, export: 'testProducer', options: { seed: 7, batch: 2, size: 16, ...o } });

async function collect(loader: DataLoader): Promise<number[][]> {
  const out: number[][] = [];
  for (;;) {
    const b = await loader.nextArrays();
    if (!b) break;
    out.push([...(b.step.data as Int32Array), ...Array.from(b.image.data as Float32Array).slice(0, 8), ...(b.label.data as Uint8Array).slice(0, 8)]);
  }
  await loader.close();
  return out;
}

test('the same seed gives the same batches with 0, 1 and 3 workers', async () => {
  const a = await collect(openLoader({ producer: ref(), numWorkers: 0, numSteps: 7 }));
  const b = await collect(openLoader({ producer: ref(), numWorkers: 1, numSteps: 7 }));
  const c = await collect(openLoader({ producer: ref(), numWorkers: 3, numSteps: 7, prefetch: 5 }));
  assert.equal(a.length, 7);
  assert.deepEqual(a.map((r) => r[0]), [0, 1, 2, 3, 4, 5, 6], 'batches arrive in step order');
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
  assert.notDeepEqual(a[0].slice(1), a[1].slice(1), 'different steps draw different data');
});

test('resuming at a step continues the same sequence', async () => {
  const full = await collect(openLoader({ producer: ref(), numWorkers: 2, numSteps: 6 }));
  const tail = await collect(openLoader({ producer: ref(), numWorkers: 2, startStep: 4, numSteps: 2 }));
  assert.deepEqual(tail, full.slice(4));
});

test('next() returns tensors with the producer shapes and dtypes', async () => {
  await using loader = openLoader({ producer: ref(), numWorkers: 1, numSteps: 1 });
  const b = await loader.next();
  assert.ok(b);
  assert.deepEqual(b.image.shape, [2, 1, 16, 16]);
  assert.equal(b.label.dtype, 'uint8');
  for (const t of Object.values(b)) t.dispose();
  assert.equal(await loader.next(), null);
});

test('a failing case surfaces as an error naming the case and the step, later steps still flow', async () => {
  for (const numWorkers of [0, 2]) {
    const loader = openLoader({ producer: ref({ failAtStep: 2 }), numWorkers, numSteps: 4 });
    await loader.nextArrays();
    await loader.nextArrays();
    await assert.rejects(loader.nextArrays(), /step 2 failed: case 'case_002': truncated image file/);
    const b = await loader.nextArrays();
    assert.equal((b!.step.data as Int32Array)[0], 3);
    await loader.close();
  }
});

test('a worker that dies rejects the waiting consumer instead of hanging', async () => {
  const loader = openLoader({ producer: ref({ crashAtStep: 1 }), numWorkers: 1, prefetch: 1, numSteps: 3 });
  await loader.nextArrays();
  await assert.rejects(loader.nextArrays(), /worker 0 exited with code 3/);
  await loader.close();
});

test('a bad producer reference names the module and the missing export', async () => {
  const loader = openLoader({ producer: { module, export: 'nope' }, numWorkers: 1, numSteps: 1 });
  await assert.rejects(loader.nextArrays(), /has no function export 'nope'/);
  await loader.close();
});

test('prefetch keeps the consumer from waiting when production is fast enough, and close() stops work', async () => {
  // Production 20 ms a batch: without prefetch the consumer would wait ≥ 120 ms
  // over 6 steps; the margin below tolerates a machine busy with other work.
  const loader = openLoader({ producer: ref({ delayMs: 20 }), numWorkers: 2, prefetch: 4, numSteps: 12 });
  try {
    await loader.nextArrays();
    const before = loader.stats.waitMs;
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 60)); // a "training step" slower than production
      await loader.nextArrays();
    }
    const waited = loader.stats.waitMs - before;
    assert.ok(waited < 60, `consumer waited ${waited.toFixed(1)} ms over 6 steps (production alone is 120 ms)`);
    assert.equal(loader.stats.batches, 7);
  } finally {
    // Also on failure: live worker threads would keep the test process from exiting.
    await loader.close();
  }
  await assert.rejects(loader.nextArrays(), /after close/);
});
