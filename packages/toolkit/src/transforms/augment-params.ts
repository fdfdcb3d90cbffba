// Shared vocabulary of the augmentation modules: JSON parameter types, the
// context an op sees, and validators for JSON-able configs whose errors name
// the config path, the field and the expected value.

/** A JSON value (what configs and recorded parameters are made of). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Which spatial dims a tensor has: 2 → [.., Y, X], 3 → [.., Z, Y, X]. */
export type SpatialDims = 2 | 3;

/** What an op knows about the batch it is sampling parameters for. */
export interface OpContext {
  spatialDims: SpatialDims;
  /** Spatial shape at this point of the pipeline (array-axis order). */
  shape: number[];
  /** Image channels. */
  channels: number;
}

/** Error for a bad augmentation config: names the config path and what was expected. */
export class AugmentConfigError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'AugmentConfigError';
  }
}

const show = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

/** Reads and validates fields of one `params` object; `done()` rejects unknown keys. */
export class ParamReader {
  private readonly seen = new Set<string>();
  constructor(
    readonly params: Record<string, unknown>,
    readonly where: string,
  ) {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new AugmentConfigError(where, `expected an object, got ${show(params)}`);
    }
  }

  private get(key: string): unknown {
    this.seen.add(key);
    return this.params[key];
  }

  fail(key: string, expected: string, got: unknown = this.params[key]): never {
    throw new AugmentConfigError(`${this.where}.${key}`, `expected ${expected}, got ${show(got)}`);
  }

  has(key: string): boolean {
    return this.params[key] !== undefined;
  }

  number(key: string, dflt: number, min = -Infinity, max = Infinity): number {
    const v = this.get(key) ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(key, `a number in [${min}, ${max}]`, v);
    return v;
  }

  int(key: string, dflt: number, min = -Infinity, max = Infinity): number {
    const v = this.number(key, dflt, min, max);
    if (!Number.isInteger(v)) this.fail(key, 'an integer', v);
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.get(key) ?? dflt;
    if (typeof v !== 'boolean') this.fail(key, 'true or false', v);
    return v;
  }

  choice<T extends string>(key: string, dflt: T, options: readonly T[]): T {
    const v = this.get(key) ?? dflt;
    if (typeof v !== 'string' || !options.includes(v as T)) this.fail(key, `one of ${options.map((o) => `'${o}'`).join(', ')}`, v);
    return v as T;
  }

  /** A [low, high] pair with min ≤ low ≤ high ≤ max; a single number x means [x, x]. */
  range(key: string, dflt: readonly [number, number], min = -Infinity, max = Infinity): [number, number] {
    const v = this.get(key) ?? dflt;
    const r = typeof v === 'number' ? [v, v] : v;
    if (!Array.isArray(r) || r.length !== 2 || r.some((x) => typeof x !== 'number' || !Number.isFinite(x)) || r[0] > r[1] || r[0] < min || r[1] > max) {
      this.fail(key, `[low, high] with ${min} ≤ low ≤ high ≤ ${max}`, v);
    }
    return [r[0] as number, r[1] as number];
  }

  /** One [low, high] range per axis; a single range applies to every axis. */
  axisRanges(key: string, dflt: readonly [number, number], axes: number, min = -Infinity, max = Infinity): [number, number][] {
    const v = this.params[key];
    if (Array.isArray(v) && v.length === axes && v.every((x) => Array.isArray(x))) {
      this.seen.add(key);
      return v.map((_, a) => new ParamReader({ [key]: v[a] }, `${this.where}.${key}[${a}]`).range(key, dflt, min, max));
    }
    const r = this.range(key, dflt, min, max);
    return Array.from({ length: axes }, () => [r[0], r[1]]);
  }

  /** A list of integers (e.g. axes), each in [min, max]. */
  intList(key: string, dflt: readonly number[], min: number, max: number): number[] {
    const v = this.get(key) ?? dflt;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max)) {
      this.fail(key, `a list of integers in [${min}, ${max}]`, v);
    }
    return [...(v as number[])];
  }

  /** A list of `n` positive integers (a shape); one number means that value for every axis. */
  shape(key: string, n: number, dflt?: readonly number[]): number[] {
    const v = this.get(key) ?? dflt;
    const s = typeof v === 'number' ? Array.from({ length: n }, () => v) : v;
    if (!Array.isArray(s) || s.length !== n || s.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 1)) {
      this.fail(key, `${n} positive integers`, v);
    }
    return [...(s as number[])];
  }

  /** An optional raw value (validated by the caller). */
  raw(key: string): unknown {
    return this.get(key);
  }

  /** Throws for keys nobody read (typos would otherwise be silently ignored). */
  done(): void {
    for (const k of Object.keys(this.params)) {
      if (!this.seen.has(k)) {
        throw new AugmentConfigError(`${this.where}.${k}`, `unknown parameter; known: ${[...this.seen].join(', ') || '(none)'}`);
      }
    }
  }
}

/** Reads recorded (or replayed) parameters; wrong shapes name the op and field. */
export function recorded<T>(params: JsonObject, key: string, op: string, check: (v: unknown) => boolean, expected: string): T {
  const v = params[key];
  if (!check(v)) throw new AugmentConfigError(`recorded params of '${op}'.${key}`, `expected ${expected}, got ${show(v)}`);
  return v as T;
}

export const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isNumArray = (v: unknown, n?: number): v is number[] => Array.isArray(v) && (n === undefined || v.length === n) && v.every(isNum);
export const isNumMatrix = (v: unknown, rows?: number): v is number[][] => Array.isArray(v) && (rows === undefined || v.length === rows) && v.every((r) => isNumArray(r));
