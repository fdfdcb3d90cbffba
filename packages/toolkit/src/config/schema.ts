// A small typed schema for experiment configs: validates a parsed YAML/JSON
// value, fills defaults, and reports every problem by its dotted key with the
// allowed values, e.g. "optimizer.name: 'sgdd' is not one of sgd, adam, adamw".

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[], source?: string) {
    super(`${source ? `${source}: ` : ''}invalid config:\n  ${problems.join('\n  ')}`);
  }
}

export interface Field<T> {
  readonly kind: string;
  readonly description: string;
  /** Validates `v` at `path`, pushing problems; returns the value with defaults filled. */
  check(v: unknown, path: string, problems: string[]): T;
  readonly optional: boolean;
  readonly defaultValue?: T;
}

type Shape = Record<string, Field<unknown>>;
export type Infer<F> = F extends Field<infer T> ? T : never;
export type InferShape<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

function make<T>(kind: string, description: string, check: (v: unknown, path: string, problems: string[]) => T, defaultValue?: T, optional = false): Field<T> {
  return { kind, description, check, defaultValue, optional: optional || defaultValue !== undefined };
}

export interface NumberOpts { min?: number; max?: number; int?: boolean; default?: number; description?: string }

export function num(o: NumberOpts = {}): Field<number> {
  const desc = o.description ?? '';
  return make(o.int ? 'integer' : 'number', desc, (v, path, problems) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) { problems.push(`${path}: expected ${o.int ? 'an integer' : 'a number'}, got ${show(v)}`); return NaN; }
    if (o.int && !Number.isInteger(v)) problems.push(`${path}: expected an integer, got ${v}`);
    if (o.min !== undefined && v < o.min) problems.push(`${path}: ${v} is below the minimum ${o.min}`);
    if (o.max !== undefined && v > o.max) problems.push(`${path}: ${v} is above the maximum ${o.max}`);
    return v;
  }, o.default);
}

export function bool(o: { default?: boolean; description?: string } = {}): Field<boolean> {
  return make('boolean', o.description ?? '', (v, path, problems) => {
    if (typeof v !== 'boolean') problems.push(`${path}: expected true or false, got ${show(v)}`);
    return v as boolean;
  }, o.default);
}

export function str(o: { default?: string; description?: string; pattern?: RegExp } = {}): Field<string> {
  return make('string', o.description ?? '', (v, path, problems) => {
    if (typeof v !== 'string') problems.push(`${path}: expected a string, got ${show(v)}`);
    else if (o.pattern && !o.pattern.test(v)) problems.push(`${path}: ${show(v)} does not match ${o.pattern}`);
    return v as string;
  }, o.default);
}

export function oneOf<const T extends string>(values: readonly T[], o: { default?: T; description?: string } = {}): Field<T> {
  return make(`one of ${values.join(' | ')}`, o.description ?? '', (v, path, problems) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) problems.push(`${path}: ${show(v)} is not one of ${values.join(', ')}`);
    return v as T;
  }, o.default);
}

export function list<T>(item: Field<T>, o: { length?: number; minLength?: number; default?: T[]; description?: string } = {}): Field<T[]> {
  return make(`list of ${item.kind}`, o.description ?? '', (v, path, problems) => {
    if (!Array.isArray(v)) { problems.push(`${path}: expected a list, got ${show(v)}`); return [] as T[]; }
    if (o.length !== undefined && v.length !== o.length) problems.push(`${path}: expected ${o.length} entries, got ${v.length}`);
    if (o.minLength !== undefined && v.length < o.minLength) problems.push(`${path}: expected at least ${o.minLength} entries, got ${v.length}`);
    return v.map((x, i) => item.check(x, `${path}[${i}]`, problems));
  }, o.default);
}

export function optional<T>(f: Field<T>): Field<T | undefined> {
  return { ...f, optional: true, check: (v, path, problems) => (v === undefined || v === null ? undefined : f.check(v, path, problems)) } as Field<T | undefined>;
}

/** Any JSON object (validated elsewhere, e.g. by the network registry). */
export function record(o: { default?: Record<string, unknown>; description?: string } = {}): Field<Record<string, unknown>> {
  return make('object', o.description ?? '', (v, path, problems) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) { problems.push(`${path}: expected an object, got ${show(v)}`); return {}; }
    return v as Record<string, unknown>;
  }, o.default);
}

/** An object with known keys; unknown keys are errors that list the allowed ones. */
export function object<S extends Shape>(shape: S, o: { description?: string; default?: Partial<InferShape<S>> } = {}): Field<InferShape<S>> {
  const keys = Object.keys(shape);
  const field = make('object', o.description ?? '', (v, path, problems) => {
    const src = v === undefined ? {} : v;
    if (src === null || typeof src !== 'object' || Array.isArray(src)) { problems.push(`${path}: expected an object, got ${show(v)}`); return {} as InferShape<S>; }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(src)) {
      if (!(k in shape)) problems.push(`${path ? `${path}.` : ''}${k}: unknown key (allowed: ${keys.join(', ')})`);
    }
    for (const k of keys) {
      const f = shape[k];
      const raw = (src as Record<string, unknown>)[k];
      const p = path ? `${path}.${k}` : k;
      if (raw === undefined) {
        if (f.kind === 'object' && !f.optional) out[k] = f.check(undefined, p, problems);
        else if (f.defaultValue !== undefined) out[k] = structuredClone(f.defaultValue);
        else if (!f.optional) problems.push(`${p}: required (${f.kind}${f.description ? `: ${f.description}` : ''})`);
        continue;
      }
      out[k] = f.check(raw, p, problems);
    }
    return out as InferShape<S>;
  });
  return Object.assign({ ...field, optional: false }, { shape });
}

/** Validates `value` against `schema`, throwing one ConfigError listing every problem. */
export function validate<T>(schema: Field<T>, value: unknown, source?: string): T {
  const problems: string[] = [];
  const out = schema.check(value, '', problems);
  if (problems.length) throw new ConfigError(problems, source);
  return out;
}

/** Sets `a.b.c = value` in a plain object (for `--set a.b.c=value` overrides). */
export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let cur: Record<string, unknown> = target;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

/** Describes a schema as indented lines (for `--help` and docs). */
export function describe(f: Field<unknown>, indent = '', name = ''): string[] {
  const lines: string[] = [];
  const def = f.defaultValue !== undefined && f.kind !== 'object' ? ` (default ${JSON.stringify(f.defaultValue)})` : '';
  if (name) lines.push(`${indent}${name}: ${f.kind}${def}${f.description ? ` — ${f.description}` : ''}`);
  const shape = (f as unknown as { shape?: Shape }).shape;
  if (shape) for (const [k, sub] of Object.entries(shape)) lines.push(...describe(sub, name ? indent + '  ' : indent, k));
  return lines;
}
