// Small numeric reductions used by the metrics, matching numpy where the
// reference tools (MedPy, nnU-Net) rely on numpy's exact definitions.

/**
 * numpy.percentile(values, q) with the default 'linear' method: the value at
 * virtual index q/100·(n-1), interpolated between its two neighbours with
 * numpy's own lerp (a + (b-a)·t, or b - (b-a)·(1-t) when t >= 0.5).
 * NaN for an empty input. Does not modify `values`.
 */
export function percentileLinear(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q must be in [0, 100], got ${q}`);
  const virtual = (n - 1) * (q / 100);
  const lo = Math.floor(virtual);
  const hi = Math.min(lo + 1, n - 1);
  const t = virtual - lo;
  const work = Float64Array.from(values);
  const a = selectKth(work, lo);
  // After selection, everything right of lo is >= a; the next order statistic is their minimum.
  let b = a;
  if (hi !== lo) {
    b = Infinity;
    for (let i = lo + 1; i < n; i++) if (work[i] < b) b = work[i];
  }
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Quickselect (Hoare partition, median-of-three): arr[k] becomes the k-th smallest, smaller left. */
function selectKth(arr: Float64Array, k: number): number {
  let left = 0;
  let right = arr.length - 1;
  while (right > left) {
    const mid = (left + right) >>> 1;
    // median of three as pivot
    let a = arr[left]; let b = arr[mid]; const c = arr[right];
    if (a > b) { const t = a; a = b; b = t; }
    if (b > c) { b = c; }
    if (a > b) { b = a; }
    const pivot = b;
    let i = left;
    let j = right;
    while (i <= j) {
      while (arr[i] < pivot) i++;
      while (arr[j] > pivot) j--;
      if (i <= j) {
        const t = arr[i]; arr[i] = arr[j]; arr[j] = t;
        i++; j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return arr[k];
  }
  return arr[k];
}

/** Compensated (Neumaier) sum: as accurate as numpy's pairwise sum or better. */
export function accurateSum(values: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) {
      // Infinities and NaN: the compensation term would turn them into NaN.
      let plain = 0;
      for (let j = 0; j < values.length; j++) plain += values[j];
      return plain;
    }
    const t = s + x;
    if (Math.abs(s) >= Math.abs(x)) c += (s - t) + x;
    else c += (x - t) + s;
    s = t;
  }
  return s + c;
}

export function mean(values: ArrayLike<number>): number {
  return values.length === 0 ? NaN : accurateSum(values) / values.length;
}

export function max(values: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return values.length === 0 ? NaN : m;
}

/**
 * Mean and standard deviation (numpy.std with `ddof`: 0 population, as
 * per-case summaries; 1 sample, as papers report over seeds) of the
 * finite-or-infinite, non-NaN values.
 */
export function meanStd(values: readonly number[], ddof: 0 | 1 = 0): { mean: number; std: number; n: number } {
  const v = values.filter((x) => !Number.isNaN(x));
  if (v.length === 0) return { mean: NaN, std: NaN, n: 0 };
  const m = mean(v);
  if (!Number.isFinite(m) || v.length <= ddof) return { mean: m, std: NaN, n: v.length };
  const sq = v.map((x) => (x - m) * (x - m));
  return { mean: m, std: Math.sqrt(accurateSum(sq) / (v.length - ddof)), n: v.length };
}
