// A bit-exact port of the parts of numpy's legacy `np.random.RandomState`
// (Mersenne Twister MT19937) that dataset tooling relies on.
//
// Why exact rather than "any seeded PRNG": nnU-Net's 5-fold split is
// sklearn `KFold(5, shuffle=True, random_state=12345)`, i.e.
// `RandomState(12345).shuffle(arange(n))`, and its fingerprint samples
// foreground voxels with `RandomState(1234).choice(..., replace=True)`.
// Reproducing the same draws means our `splits_final.json` and fingerprint
// match nnU-Net's for the same dataset, so users can move between the two.

const N = 624;
const M = 397;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

export class NumpyRandomState {
  private readonly mt = new Uint32Array(N);
  private pos = N;

  /** `np.random.RandomState(seed)` for an integer seed in [0, 2^32). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`NumpyRandomState: seed must be an integer in [0, 2^32 - 1], got ${seed}`);
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32 without losing precision.
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.pos = N;
  }

  private reload(): void {
    const mt = this.mt;
    let i = 0;
    for (; i < N - M; i++) {
      const y = (mt[i] & UPPER) | (mt[i + 1] & LOWER);
      mt[i] = mt[i + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; i < N - 1; i++) {
      const y = (mt[i] & UPPER) | (mt[i + 1] & LOWER);
      mt[i] = mt[i + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (mt[N - 1] & UPPER) | (mt[0] & LOWER);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /** Next raw 32-bit output (genrand_int32). */
  nextUint32(): number {
    if (this.pos >= N) this.reload();
    let y = this.mt[this.pos++];
    y ^= y >>> 11;
    y = (y ^ ((y << 7) & 0x9d2c5680)) >>> 0;
    y = (y ^ ((y << 15) & 0xefc60000)) >>> 0;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random_sample()`: a double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * Uniform integer in [0, max] by masked rejection sampling — numpy's
   * `random_interval`, also what legacy `randint` uses for ranges < 2^32.
   */
  interval(max: number): number {
    if (max === 0) return 0;
    if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) throw new Error(`NumpyRandomState.interval: max must be an integer in [0, 2^32 - 1], got ${max}`);
    let mask = max;
    mask |= mask >>> 1; mask |= mask >>> 2; mask |= mask >>> 4; mask |= mask >>> 8; mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do v = (this.nextUint32() & mask) >>> 0; while (v > max);
    return v;
  }

  /** `randint(0, high, size)`: `size` integers in [0, high). */
  randint(high: number, size: number): Int32Array | Float64Array {
    if (!Number.isInteger(high) || high < 1) throw new Error(`NumpyRandomState.randint: high must be a positive integer, got ${high}`);
    const out = high <= 0x7fffffff ? new Int32Array(size) : new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = this.interval(high - 1);
    return out;
  }

  /** In-place `shuffle` of a 1-D sequence (Fisher–Yates from the end, as numpy). */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
    return a;
  }

  /** `permutation(n)`: a shuffled `arange(n)`. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}
