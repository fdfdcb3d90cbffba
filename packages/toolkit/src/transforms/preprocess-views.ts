// Zero-copy typed views of tensor data for the voxel loops of preprocessing
// (bounding boxes, histograms, location sampling): no per-voxel conversion
// and no second copy of a large volume. The returned array keeps the
// tensor storage alive on its own (see Tensor.dataView), so the temporary
// wrappers are disposed here.
import type { Tensor } from '@labelwise/torch';

function contiguousCpu(t: Tensor): Tensor {
  if (t.device === 'cpu') return t.contiguous();
  const cpu = t.cpu();
  const c = cpu.contiguous();
  cpu.dispose();
  return c;
}

/** An integer tensor's values; 8/16/32-bit dtypes are viewed without a copy, others become int32. */
export function integerView(t: Tensor): Int8Array | Uint8Array | Int16Array | Int32Array {
  let c = contiguousCpu(t);
  if (!['int8', 'uint8', 'int16', 'int32'].includes(c.dtype)) {
    const w = c.to('int32');
    c.dispose();
    c = w;
  }
  const v = c.dataView() as Int8Array | Uint8Array | Int16Array | Int32Array;
  c.dispose();
  return v;
}

/** A tensor's values as numbers; 64-bit integers, bool and half types are widened to float64. */
export function valuesView(t: Tensor): ArrayLike<number> {
  let c = contiguousCpu(t);
  if (['int64', 'bool', 'float16', 'bfloat16'].includes(c.dtype)) {
    const w = c.to('float64');
    c.dispose();
    c = w;
  }
  const v = c.dataView() as ArrayLike<number>;
  c.dispose();
  return v;
}
