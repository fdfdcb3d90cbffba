// Data types, named as in PyTorch (torch.float32 → 'float32').
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool' | 'complex64' | 'complex128';

export type TypedArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | BigInt64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'complex64', 'complex128'];

export const itemSize: Record<DType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1, complex64: 8, complex128: 16,
};

export function isFloatingPoint(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** The typed array that holds a dtype's raw bytes (16-bit floats as their bit patterns). */
export function typedArrayFor(dtype: DType, buffer: ArrayBuffer, byteOffset = 0, length?: number): TypedArray {
  const n = length ?? (buffer.byteLength - byteOffset) / itemSize[dtype];
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, byteOffset, n);
    case 'float64': return new Float64Array(buffer, byteOffset, n);
    case 'float16': case 'bfloat16': return new Uint16Array(buffer, byteOffset, n);
    case 'int64': return new BigInt64Array(buffer, byteOffset, n);
    case 'int32': return new Int32Array(buffer, byteOffset, n);
    case 'int16': return new Int16Array(buffer, byteOffset, n);
    case 'int8': return new Int8Array(buffer, byteOffset, n);
    case 'uint8': case 'bool': return new Uint8Array(buffer, byteOffset, n);
    case 'complex64': return new Float32Array(buffer, byteOffset, n * 2);
    case 'complex128': return new Float64Array(buffer, byteOffset, n * 2);
  }
}

/** The dtype a typed array holds by default (Uint16Array is ambiguous: pass a dtype). */
export function dtypeOfArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  throw new TypeError(`cannot infer a dtype from ${a.constructor.name}; pass { dtype }`);
}
