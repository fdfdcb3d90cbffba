// Weight schedules of the semi-supervised recipes (SSL4MIS utils/ramps.py,
// after Laine & Aila and Tarvainen & Valpola). Consistency and pseudo-label
// losses start near zero, while the teacher is still poor, and reach their
// full weight after a ramp-up.

/** exp(−5·(1 − t/L)²) for t clipped to [0, L]; 1 when L = 0 (SSL4MIS sigmoid_rampup). */
export function sigmoidRampup(current: number, length: number): number {
  if (!(length >= 0)) throw new RangeError(`sigmoidRampup: length must be ≥ 0, got ${length}`);
  if (length === 0) return 1;
  const t = Math.min(Math.max(current, 0), length);
  const phase = 1 - t / length;
  return Math.exp(-5 * phase * phase);
}

/** t/L clipped to [0, 1]; 1 when L = 0 (SSL4MIS linear_rampup). */
export function linearRampup(current: number, length: number): number {
  if (!(length >= 0)) throw new RangeError(`linearRampup: length must be ≥ 0, got ${length}`);
  if (length === 0) return 1;
  return Math.min(Math.max(current / length, 0), 1);
}

/** ½(cos(π·t/L) + 1) for t in [0, L] (SSL4MIS cosine_rampdown). */
export function cosineRampdown(current: number, length: number): number {
  if (!(length > 0)) throw new RangeError(`cosineRampdown: length must be > 0, got ${length}`);
  const t = Math.min(Math.max(current, 0), length);
  return 0.5 * (Math.cos((Math.PI * t) / length) + 1);
}

export interface RampedWeight {
  /** The weight reached after the ramp-up (SSL4MIS `consistency`, 0.1). */
  weight: number;
  /** Ramp-up length in units (SSL4MIS `consistency_rampup`, 200). */
  rampup: number;
  /** Iterations per unit: SSL4MIS ramps over ⌊iteration / 150⌋ "epochs". */
  unit: number;
}

/** SSL4MIS get_current_consistency_weight(iter_num // unit): weight · sigmoidRampup(⌊step / unit⌋, rampup). */
export function rampedWeight(step: number, r: RampedWeight): number {
  return r.weight * sigmoidRampup(Math.floor(step / r.unit), r.rampup);
}
