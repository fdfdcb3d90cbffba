// Deterministic release of native memory. Every tensor created while a scope
// is open belongs to it; closing the scope disposes what was not returned or
// kept. Disposing a wrapper only drops its reference: storage shared with
// other tensors, the autograd graph or a module lives on.
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  /** @internal set by keep(): never disposed by a scope. */
  _kept: boolean;
  /** @internal no scope owns it any more: arm the garbage-collection safety net. */
  _escape(): void;
}

const stack: Disposable[][] = [];

/** @internal called by every tensor constructor: the innermost scope owns it, if any. */
export function track(t: Disposable): void {
  const top = stack[stack.length - 1];
  if (top !== undefined) top.push(t);
  else t._escape();
}

/** Exempts a tensor from every scope (module parameters, optimizer state). */
export function keep<T extends Disposable>(t: T): T {
  if (!t._kept) {
    t._kept = true;
    t._escape();
  }
  return t;
}

/** Lets a kept tensor be collected by the enclosing scope again. */
export function unkeep<T extends Disposable>(t: T): T {
  t._kept = false;
  track(t);
  return t;
}

function collect(value: unknown, into: Set<Disposable>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if ('_kept' in value && 'dispose' in value) {
    into.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, into, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, depth + 1);
  }
}

/**
 * Runs `fn` in a new scope: tensors it creates are disposed when it returns,
 * except those in its result (a tensor, or arrays / plain objects / Maps of
 * them), which move to the enclosing scope. Like tf.tidy and TorchSharp's
 * dispose scopes. `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Disposable[] = [];
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    for (const t of scope) if (!t._kept) t.dispose();
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    throw new Error('tidy(fn): fn returned a Promise; scopes are synchronous (await outside, or use DisposeScope)');
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors, 0);
  for (const t of scope) {
    if (t._kept || t.isDisposed) continue;
    if (survivors.has(t)) track(t);
    else t.dispose();
  }
  return result;
}

/**
 * An explicit scope for code that cannot be one synchronous function (async
 * loops): tensors created between `enter()` and `exit()` are disposed on exit.
 * Scopes must be exited in reverse order of entering.
 */
export class DisposeScope {
  private readonly tensors: Disposable[] = [];
  private open = false;

  enter(): this {
    stack.push(this.tensors);
    this.open = true;
    return this;
  }

  /** Moves a tensor out of this scope into the enclosing one. */
  detach<T extends Disposable>(t: T): T {
    const i = this.tensors.indexOf(t);
    if (i >= 0) this.tensors.splice(i, 1);
    const parent = stack[stack.length - 2];
    if (parent !== undefined && this.open) parent.push(t);
    else t._escape();
    return t;
  }

  exit(): void {
    if (this.open) {
      const top = stack.pop();
      if (top !== this.tensors) throw new Error('DisposeScope.exit(): scopes exited out of order');
      this.open = false;
    }
    for (const t of this.tensors) if (!t._kept) t.dispose();
    this.tensors.length = 0;
  }

  [Symbol.dispose](): void {
    this.exit();
  }
}

/** Disposes tensors (and arrays / plain objects of them). */
export function dispose(...values: unknown[]): void {
  const all = new Set<Disposable>();
  for (const v of values) collect(v, all, 0);
  for (const t of all) t.dispose();
}

/** Number of open scopes; a test aid for leak checks. */
export function scopeDepth(): number {
  return stack.length;
}
