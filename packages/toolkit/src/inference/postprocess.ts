// Connected-component post-processing on label maps held as typed arrays
// (C order, last axis fastest — a tensor's layout).
import * as torch from '@labelwise/torch';
import { type Connectivity, connectedComponents } from '../transforms/components.js';

export { type Connectivity, connectedComponents } from '../transforms/components.js';

/**
 * Keeps, for each class, only its largest connected component (nnU-Net's
 * and BCP's post-processing). `labels` is an integer label map; classes
 * default to every non-zero value present. Returns a new array.
 */
export function keepLargestComponent<T extends Uint8Array | Int32Array | BigInt64Array | Int16Array | Uint16Array>(labels: T, shape: readonly number[], options: { classes?: number[]; connectivity?: Connectivity } = {}): T {
  const out = labels.slice() as T;
  const n = labels.length;
  const present = new Set<number>();
  for (let i = 0; i < n; i++) if (Number(labels[i]) !== 0) present.add(Number(labels[i]));
  const classes = options.classes ?? [...present];
  const mask = new Uint8Array(n);
  for (const c of classes) {
    if (!present.has(c)) continue;
    for (let i = 0; i < n; i++) mask[i] = Number(labels[i]) === c ? 1 : 0;
    const { labels: comp, sizes } = connectedComponents(mask, shape, options.connectivity ?? 'full');
    let best = 1;
    for (let k = 2; k < sizes.length; k++) if (sizes[k] > sizes[best]) best = k;
    const zero = (typeof labels[0] === 'bigint' ? 0n : 0) as never;
    for (let i = 0; i < n; i++) if (comp[i] !== 0 && comp[i] !== best) out[i] = zero;
  }
  return out;
}

/** keepLargestComponent on an integer tensor (any shape; each leading index of `batchDims` separately). */
export function keepLargestComponentTensor(labels: torch.Tensor, options: { classes?: number[]; connectivity?: Connectivity; batchDims?: number } = {}): torch.Tensor {
  const b = options.batchDims ?? 0;
  const src = labels.contiguous();
  const arr = src.toTypedArray();
  if (src !== labels) src.dispose();
  const spatial = labels.shape.slice(b);
  const per = spatial.reduce((x, y) => x * y, 1);
  const out = new (arr.constructor as new (n: number) => typeof arr)(arr.length);
  for (let off = 0; off < arr.length; off += per) {
    const part = arr.subarray(off, off + per) as Uint8Array | Int32Array | BigInt64Array;
    out.set(keepLargestComponent(part, spatial, options) as never, off);
  }
  return torch.fromTypedArray(out, labels.shape, labels.dtype);
}
