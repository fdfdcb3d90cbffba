// A small, fast, seeded PRNG for everything that draws augmentation and
// sampling parameters in JavaScript.
//
// Generator: xoshiro128** (Blackman & Vigna), 32-bit integer math only, so it
// is exact and identical on every platform. Streams are *keyed*: a stream is
// named by (seed, ...keys) and `fork(...keys)` names a child stream from the
// parent's key, not from its current state. A data loader can therefore give
// sample i of epoch e the stream `Rng.from(seed, 'epoch', e, 'sample', i)` and
// get the same draws whichever worker makes the sample and in whatever order.

import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';

/** What may name a stream: integers (|k| < 2^53) or strings. */
export type RngKey = number | string;

// "lowbias32" integer hash (Wellons): a full-avalanche 32-bit mixer.
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

// Absorbs one 32-bit word into a 4-word hash state (a small sponge: every
// word changes all four lanes, so key sequences that differ anywhere differ).
function absorb(h: Uint32Array, w: number): void {
  h[0] = mix32(h[0] ^ w);
  h[1] = mix32(h[1] ^ h[0] ^ 0x9e3779b9);
  h[2] = mix32(h[2] ^ h[1] ^ 0x85ebca6b);
  h[3] = mix32(h[3] ^ h[2] ^ 0xc2b2ae35);
}

const TAG_INT = 0x494e5431; // tags keep 1 and '1' (and key boundaries) apart
const TAG_STR = 0x53545231;

function absorbKey(h: Uint32Array, k: RngKey): void {
  if (typeof k === 'number') {
    if (!Number.isSafeInteger(k)) throw new RangeError(`Rng: stream keys must be integers with |k| < 2^53 or strings, got ${k}`);
    absorb(h, TAG_INT);
    const neg = k < 0 ? 1 : 0;
    const a = Math.abs(k);
    absorb(h, a >>> 0);
    absorb(h, (Math.floor(a / 4294967296) >>> 0) ^ (neg << 31));
  } else if (typeof k === 'string') {
    absorb(h, TAG_STR);
    absorb(h, k.length);
    for (let i = 0; i < k.length; i++) absorb(h, k.charCodeAt(i));
  } else {
    throw new TypeError(`Rng: stream keys must be numbers or strings, got ${typeof k}`);
  }
}

function hashKeys(parent: Uint32Array | null, keys: readonly RngKey[]): Uint32Array {
  const h = parent ? Uint32Array.from(parent) : Uint32Array.of(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344);
  absorb(h, 0x4b455953 ^ keys.length);
  for (const k of keys) absorbKey(h, k);
  // A few extra rounds so short keys are well mixed into the state.
  for (let i = 0; i < 4; i++) absorb(h, i);
  return h;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
const TWO32 = 4294967296;
const TWO53 = 9007199254740992;

/** A keyed xoshiro128** stream. */
export class Rng {
  /** The stream's name (hash of its seed and keys); children derive from it. */
  readonly key: Uint32Array;
  private readonly s: Uint32Array;

  private constructor(key: Uint32Array) {
    this.key = key;
    this.s = Uint32Array.from(key);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1; // xoshiro's one forbidden state
    // Discard a few outputs: the first words of xoshiro track the seed closely.
    for (let i = 0; i < 4; i++) this.nextUint32();
  }

  /** The stream named by (seed, ...keys). */
  static from(seed: RngKey, ...keys: RngKey[]): Rng {
    return new Rng(hashKeys(null, [seed, ...keys]));
  }

  /** An independent child stream named by this stream's key and `keys`; does not draw from or advance this stream. */
  fork(...keys: RngKey[]): Rng {
    return new Rng(hashKeys(this.key, keys));
  }

  /** The full generator state (4 words), e.g. to checkpoint a stream mid-way. */
  getState(): number[] {
    return Array.from(this.s);
  }
  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO32)) {
      throw new RangeError(`Rng.setState: expected 4 unsigned 32-bit integers, got [${state.join(', ')}]`);
    }
    if (state.every((w) => w === 0)) throw new RangeError('Rng.setState: the all-zero state is invalid for xoshiro128**');
    this.s.set(state);
  }

  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / TWO53;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** Gaussian N(mean, std²) (Box–Muller; one value per call, so replay never depends on a cached spare). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.random(); // (0, 1]: log stays finite
    const u2 = this.random();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** A uniform integer in [low, high) (numpy's randint convention), without modulo bias. */
  int(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high <= low) {
      throw new RangeError(`Rng.int: expected integers low < high, got low=${low}, high=${high}`);
    }
    const range = high - low;
    if (range <= TWO32) {
      // Rejection sampling on 32 bits: accept below the largest multiple of range.
      const limit = TWO32 - (TWO32 % range);
      for (;;) {
        const r = this.nextUint32();
        if (r < limit) return low + (r % range);
      }
    }
    for (;;) {
      const r = Math.floor(this.random() * range);
      if (r < range) return low + r;
    }
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.random() < p;
  }

  /** A uniformly chosen element of items. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.choice: cannot choose from an empty list');
    return items[this.int(0, items.length)];
  }

  /** An index drawn with probability proportional to weights (which need not sum to 1). */
  weightedIndex(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`Rng.weightedIndex: weights must be finite and ≥ 0, got [${weights.join(', ')}]`);
      total += w;
    }
    if (total <= 0) throw new RangeError('Rng.weightedIndex: weights sum to 0');
    let r = this.random() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Shuffles items in place (Fisher–Yates) and returns them. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /**
   * An integer seed in [0, 2^53) naming a child stream for tensor-sized noise
   * (see uniformTensor / normalTensor); record it and the noise replays exactly.
   */
  deriveSeed(): number {
    return Math.floor(this.random() * TWO53);
  }

  /** Fills `out` with uniform values in [low, high) (24 random bits each: float32 resolution). */
  fillUniform(out: Float32Array | Float64Array, low = 0, high = 1): void {
    const scale = (high - low) / 16777216;
    // nextUint32 inlined on local state (the hot loop of tensor noise).
    const st = this.s;
    let s0 = st[0] | 0;
    let s1 = st[1] | 0;
    let s2 = st[2] | 0;
    let s3 = st[3] | 0;
    for (let i = 0; i < out.length; i++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = low + (r >>> 8) * scale;
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
  }
}

// Tensor-sized noise from the keyed streams rather than torch.Generator: the
// values are the same on every platform and libtorch version, and no native
// generator state is created per call (torch.Generator has no dispose; its
// state lives until garbage collection, which a synchronous loop never reaches).

/** A float32 tensor of `shape` with uniform values in [low, high) from stream (seed, 'uniform'). */
export function uniformTensor(seed: number, shape: readonly number[], low = 0, high = 1): Tensor {
  const n = shape.reduce((p, v) => p * v, 1);
  const data = new Float32Array(n);
  Rng.from(seed, 'uniform').fillUniform(data, low, high);
  return torch.fromTypedArray(data, shape);
}

/** A float32 tensor of `shape` with standard normal values from stream (seed, 'normal') (Box–Muller, both halves used). */
export function normalTensor(seed: number, shape: readonly number[]): Tensor {
  const n = shape.reduce((p, v) => p * v, 1);
  const half = Math.ceil(n / 2);
  const u = new Float32Array(2 * half);
  Rng.from(seed, 'normal').fillUniform(u);
  return torch.tidy(() => {
    const t = torch.fromTypedArray(u, [2, half]);
    const r = torch.rsub(t.select(0, 0), 1).log_().mul_(-2).sqrt_(); // 1 − u ∈ (0, 1]: log stays finite
    const theta = t.select(0, 1).mul(2 * Math.PI);
    const z = torch.cat([r.mul(theta.cos()), r.mul_(theta.sin_())], 0);
    return (z.numel() === n ? z : z.narrow(0, 0, n)).reshape(shape);
  });
}
