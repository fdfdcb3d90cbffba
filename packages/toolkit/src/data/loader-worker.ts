// DataLoader worker: builds the producer once, then answers {step} requests
// with {step, batch} (buffers transferred) or {step, error}.
import { parentPort, workerData } from 'node:worker_threads';
import * as torch from '@labelwise/torch';
import { type BatchProducer, type ProducerRef, batchTransferList, loadProducer } from './loader-protocol.js';

const { producer, threads } = workerData as { producer: ProducerRef; threads: number };
torch.setNumThreads(threads);
let produce: Promise<BatchProducer> | null = null;

parentPort!.on('message', (m: { step: number }) => {
  void (async () => {
    try {
      produce ??= loadProducer(producer);
      const batch = await (await produce)(m.step);
      parentPort!.postMessage({ step: m.step, batch }, batchTransferList(batch));
    } catch (e) {
      parentPort!.postMessage({ step: m.step, error: (e as Error)?.message ?? String(e) });
    }
  })();
});
