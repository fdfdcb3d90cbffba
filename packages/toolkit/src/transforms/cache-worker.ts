// preprocessDataset worker: rebuilds the project from JSON once, then
// preprocesses the case named by each {index, caseId} message and answers
// {index, reused, sidecar} or {index, error}.
import { parentPort, workerData } from 'node:worker_threads';
import * as torch from '@labelwise/torch';
import { findCase, projectFromJson } from '../data/dataset.js';
import { preprocessAndCacheCase } from './cache.js';
import type { PreprocessConfig } from './preprocess.js';
import type { WeakLabelSpec } from './weak-labels.js';

const data = workerData as { project: unknown; config: PreprocessConfig; dir: string; force: boolean; weak?: WeakLabelSpec };
// Parallelism comes from running cases side by side; one libtorch thread each avoids oversubscription.
torch.setNumThreads(1);
const project = projectFromJson(data.project);

parentPort!.on('message', (m: { index: number; caseId: string }) => {
  void (async () => {
    try {
      const r = await preprocessAndCacheCase(project, findCase(project, m.caseId), data.config, data.dir, data.force, data.weak);
      parentPort!.postMessage({ index: m.index, reused: r.reused, sidecar: r.sidecar });
    } catch (e) {
      parentPort!.postMessage({ index: m.index, error: (e as Error)?.message ?? String(e) });
    }
  })();
});
