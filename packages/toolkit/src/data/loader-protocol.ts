// What crosses the thread boundary between the DataLoader and its workers:
// a producer named by module and export, and batches as plain typed arrays
// (their buffers are transferred, not copied).
import type { DType, TypedArray } from '@labelwise/torch';

export interface ArrayField {
  data: TypedArray;
  shape: number[];
  dtype?: DType;
}

export type BatchArrays = Record<string, ArrayField>;

/** Produces the batch for a step; must depend only on its options and the step. */
export type BatchProducer = (step: number) => BatchArrays | Promise<BatchArrays>;

/** A module export that builds a producer from JSON-able options (called once per thread). */
export type ProducerFactory<O = unknown> = (options: O) => BatchProducer | Promise<BatchProducer>;

export interface ProducerRef {
  /** Absolute file: URL (or path) of an ES module. */
  module: string;
  /** Name of the export: a function (options) => BatchProducer | Promise<BatchProducer>. */
  export: string;
  /** Structured-cloneable options passed to the factory. */
  options?: unknown;
}

export async function loadProducer(ref: ProducerRef): Promise<BatchProducer> {
  const url = ref.module.startsWith('file:') ? ref.module : new URL(`file://${ref.module}`).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const factory = mod[ref.export];
  if (typeof factory !== 'function') {
    throw new Error(`DataLoader: module ${ref.module} has no function export '${ref.export}' (exports: ${Object.keys(mod).join(', ') || 'none'})`);
  }
  const produce = (await (factory as (o: unknown) => unknown)(ref.options)) as unknown;
  if (typeof produce !== 'function') throw new Error(`DataLoader: ${ref.module}#${ref.export}(options) must return a function (step) => batch`);
  return produce as BatchProducer;
}

/** Buffers to transfer with a batch (each once; views sharing a buffer are copied first). */
export function batchTransferList(batch: BatchArrays): ArrayBuffer[] {
  const seen = new Set<ArrayBufferLike>();
  const out: ArrayBuffer[] = [];
  for (const [k, f] of Object.entries(batch)) {
    const buf = f.data.buffer;
    const whole = f.data.byteOffset === 0 && f.data.byteLength === buf.byteLength;
    if (seen.has(buf) || !whole || !(buf instanceof ArrayBuffer)) {
      batch[k] = { ...f, data: f.data.slice() as TypedArray };
      out.push(batch[k].data.buffer as ArrayBuffer);
      continue;
    }
    seen.add(buf);
    out.push(buf);
  }
  return out;
}
