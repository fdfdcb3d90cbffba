// Base class of the optimizers (torch.optim.Optimizer): parameter groups with
// their own hyperparameters, per-parameter state, zeroGrad, and state dicts in
// PyTorch's layout so checkpoints map 1:1 in both directions.
import { enableGrad, noGrad } from '../autograd.js';
import { isFloatingPoint } from '../dtype.js';
import { keep, tidy } from '../scope.js';
import { Tensor, op } from '../tensor.js';

/** A parameter group as given to an optimizer: `params` plus hyperparameter overrides. */
export type ParamGroupInit<H extends BaseHyper = BaseHyper> = { params: Tensor | Iterable<Tensor> } & Partial<H>;

/** Hyperparameters every optimizer has. */
export interface BaseHyper {
  lr: number;
}

/**
 * A live parameter group. Hyperparameters are camelCase properties
 * (`group.lr`, `group.weightDecay`); schedulers add `initialLr`.
 */
export type ParamGroup<H extends BaseHyper = BaseHyper> = H & {
  params: Tensor[];
  initialLr?: number;
  [extra: string]: unknown;
};

/** What an optimizer keeps per parameter: tensors (kept) and plain numbers. */
export type ParamState = Record<string, Tensor | number | null>;

/**
 * torch.optim state_dict(): `state` keyed by parameter index (in group
 * order), `param_groups` with `params` index lists and snake_case
 * hyperparameters exactly as PyTorch names them.
 */
export interface OptimizerStateDict {
  state: Record<number, Record<string, unknown>>;
  param_groups: Array<{ params: number[]; [hyper: string]: unknown }>;
}

export type ParamsArg<H extends BaseHyper = BaseHyper> = Tensor | Iterable<Tensor> | Iterable<ParamGroupInit<H>>;

/** weightDecay → weight_decay */
export function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** weight_decay → weightDecay */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isTensorIterable(x: unknown): x is Iterable<unknown> {
  return x !== null && typeof x === 'object' && Symbol.iterator in x;
}

/** Plain objects and Maps (loadPth returns Maps) read the same way. */
function entriesOf(x: unknown, what: string): [string, unknown][] {
  if (x instanceof Map) return [...x.entries()].map(([k, v]) => [String(k), v]);
  if (x !== null && typeof x === 'object' && !Array.isArray(x)) return Object.entries(x);
  throw new TypeError(`loadStateDict(): ${what} must be an object or Map, got ${Array.isArray(x) ? 'an array' : typeof x}`);
}

function field(x: unknown, key: string, what: string): unknown {
  for (const [k, v] of entriesOf(x, what)) if (k === key) return v;
  return undefined;
}

export abstract class Optimizer<H extends BaseHyper = BaseHyper> {
  readonly defaults: H;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, created lazily on the first step that sees a gradient. */
  readonly state = new Map<Tensor, ParamState>();
  /** Hyperparameters that must be given (in defaults or in every group). */
  protected readonly required: readonly string[];

  protected constructor(params: ParamsArg<H>, defaults: H, required: readonly string[] = []) {
    this.defaults = defaults;
    this.required = required;
    if (params instanceof Tensor) {
      throw new TypeError(`${this.constructor.name}: params must be an iterable of Tensors or parameter groups, got a single Tensor (wrap it in an array)`);
    }
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new RangeError(`${this.constructor.name}: got an empty parameter list`);
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] } as unknown as ParamGroupInit<H>] : (list as ParamGroupInit<H>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group (e.g. layers unfrozen during fine-tuning), filling unset hyperparameters from the defaults. */
  addParamGroup(group: ParamGroupInit<H>): void {
    if (group === null || typeof group !== 'object' || !('params' in group)) {
      throw new TypeError(`${this.constructor.name}.addParamGroup(): a parameter group must be an object with 'params'`);
    }
    let params: Tensor[];
    if (group.params instanceof Tensor) params = [group.params];
    else if (group.params instanceof Set) {
      throw new TypeError(`${this.constructor.name}.addParamGroup(): params must be an ordered collection (array), not a Set`);
    } else if (isTensorIterable(group.params)) params = [...group.params];
    else throw new TypeError(`${this.constructor.name}.addParamGroup(): 'params' must be a Tensor or an iterable of Tensors`);
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new TypeError(`${this.constructor.name}: params[${i}] is not a Tensor (got ${typeof p})`);
      if (!p.isLeaf) throw new RangeError(`${this.constructor.name}: params[${i}] is not a leaf tensor (it was computed by ${p.gradFn}); optimize leaves only`);
    });
    if (new Set(params).size !== params.length) {
      throw new RangeError(`${this.constructor.name}.addParamGroup(): the group contains the same parameter twice`);
    }
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (params.includes(p)) throw new RangeError(`${this.constructor.name}.addParamGroup(): some parameters appear in more than one parameter group`);
      }
    }
    const full: Record<string, unknown> = { ...group, params };
    for (const [k, v] of Object.entries(this.defaults)) if (!(k in full) || full[k] === undefined) full[k] = v;
    for (const k of this.required) {
      if (full[k] === undefined) throw new RangeError(`${this.constructor.name}: parameter group didn't specify a value of required hyperparameter '${k}'`);
    }
    this.validateGroup(full as ParamGroup<H>);
    this.paramGroups.push(full as ParamGroup<H>);
  }

  /** Checks one group's hyperparameters (throws with the name and the expected range). */
  protected abstract validateGroup(group: ParamGroup<H>): void;

  /** Updates the parameters of one group from their gradients; runs under noGrad inside a scope. */
  protected abstract updateGroup(group: ParamGroup<H>): void;

  /**
   * One optimization step. `closure` re-evaluates the model and returns the
   * loss (run with gradients enabled); its result is returned.
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    const loss = closure === undefined ? undefined : enableGrad(closure);
    noGrad(() => tidy(() => {
      for (const g of this.paramGroups) this.updateGroup(g);
    }));
    return loss;
  }

  /**
   * Clears the gradients. With setToNone (the default, as in PyTorch 2.x)
   * `.grad` becomes null; otherwise gradients are detached and zeroed in place.
   */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) {
          p.grad = null;
          continue;
        }
        const grad = p.grad;
        if (grad === null) continue;
        if (grad.gradFn !== null) grad.detach_();
        else grad.requiresGrad_(false);
        op('zero_').inplace([grad]);
        grad.dispose();
      }
    }
  }

  /** The gradients of a group's parameters that have one, with the parameters. */
  protected withGrads(group: ParamGroup<H>): { params: Tensor[]; grads: Tensor[] } {
    const params: Tensor[] = [];
    const grads: Tensor[] = [];
    for (const p of group.params) {
      const g = p.grad;
      if (g === null) continue;
      params.push(p);
      grads.push(g);
    }
    return { params, grads };
  }

  /** The state of a parameter, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (s === undefined) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** A tensor that lives as long as the optimizer's state (kept from every scope). */
  protected newState(t: Tensor): Tensor {
    return keep(t);
  }

  /** Per-parameter state keys (camelCase) that PyTorch stores as 0-d float tensors. */
  protected get tensorScalarKeys(): readonly string[] {
    return [];
  }

  /**
   * The optimizer state in PyTorch's layout. Tensors are the live state
   * (not copies), except scalar entries such as Adam's `step` which become
   * new 0-d float32 tensors, as in PyTorch 1.13.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    let next = 0;
    const param_groups = this.paramGroups.map((g) => {
      const packed: { params: number[]; [k: string]: unknown } = { params: [] };
      for (const [k, v] of Object.entries(g)) if (k !== 'params') packed[camelToSnake(k)] = Array.isArray(v) ? [...v] : v;
      for (const p of g.params) {
        if (!index.has(p)) index.set(p, next++);
        packed.params.push(index.get(p)!);
      }
      return packed;
    });
    const state: Record<number, Record<string, unknown>> = {};
    const scalarKeys = this.tensorScalarKeys;
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s)) {
        out[camelToSnake(k)] = typeof v === 'number' && scalarKeys.includes(k) ? torchScalar(v) : v;
      }
      state[i] = out;
    }
    return { state, param_groups };
  }

  /**
   * Restores state saved by stateDict() here or by PyTorch (objects or the
   * Maps loadPth returns). Tensors are copied and cast to each parameter's
   * dtype (floating point) and device; groups take the saved hyperparameters.
   */
  loadStateDict(stateDict: OptimizerStateDict | Map<string, unknown>): void {
    const name = this.constructor.name;
    const savedGroups = field(stateDict, 'param_groups', 'the state dict');
    const savedState = field(stateDict, 'state', 'the state dict');
    if (!Array.isArray(savedGroups)) throw new TypeError(`${name}.loadStateDict(): 'param_groups' must be an array`);
    if (savedGroups.length !== this.paramGroups.length) {
      throw new RangeError(`${name}.loadStateDict(): loaded state dict has ${savedGroups.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    }
    const idToParam = new Map<number, Tensor>();
    const newGroups: ParamGroup<H>[] = [];
    savedGroups.forEach((sg: unknown, gi) => {
      const ids = field(sg, 'params', `param_groups[${gi}]`);
      const mine = this.paramGroups[gi];
      if (!Array.isArray(ids) || ids.length !== mine.params.length) {
        throw new RangeError(`${name}.loadStateDict(): param_groups[${gi}] has ${Array.isArray(ids) ? ids.length : 'no'} parameters, the optimizer's group has ${mine.params.length}`);
      }
      ids.forEach((id: unknown, k) => idToParam.set(Number(id), mine.params[k]));
      const g: Record<string, unknown> = { params: mine.params };
      for (const [k, v] of entriesOf(sg, `param_groups[${gi}]`)) if (k !== 'params') g[snakeToCamel(k)] = Array.isArray(v) ? [...v] : v;
      newGroups.push(g as ParamGroup<H>);
    });
    for (const g of newGroups) this.validateGroup(g);

    const newState = new Map<Tensor, ParamState>();
    const scalarKeys = this.tensorScalarKeys;
    try {
      for (const [k, v] of entriesOf(savedState ?? {}, `'state'`)) {
        const p = idToParam.get(Number(k));
        if (p === undefined) throw new RangeError(`${name}.loadStateDict(): state for parameter index ${k}, which no parameter group lists`);
        const s: ParamState = {};
        for (const [sk, sv] of entriesOf(v, `state[${k}]`)) {
          const key = snakeToCamel(sk);
          if (sv instanceof Tensor) {
            if (scalarKeys.includes(key)) s[key] = sv.item();
            else {
              const dtype = isFloatingPoint(p.dtype) && isFloatingPoint(sv.dtype) ? p.dtype : sv.dtype;
              s[key] = keep(noGrad(() => sv.to({ dtype, device: p.device, copy: true })));
            }
          } else if (typeof sv === 'number' || sv === null) s[key] = sv;
          else if (typeof sv === 'bigint') s[key] = Number(sv);
          else throw new TypeError(`${name}.loadStateDict(): state[${k}].${sk} must be a Tensor, number or null, got ${typeof sv}`);
        }
        newState.set(p, s);
      }
    } catch (e) {
      for (const s of newState.values()) disposeState(s);
      throw e;
    }
    for (const s of this.state.values()) disposeState(s);
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
    this.paramGroups.length = 0;
    this.paramGroups.push(...newGroups);
  }

  /** Frees the optimizer state (the parameters are untouched). */
  dispose(): void {
    for (const s of this.state.values()) disposeState(s);
    this.state.clear();
  }
}

function disposeState(s: ParamState): void {
  for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
}

/** A 0-d float32 tensor, the form PyTorch uses for `step` in optimizer state. */
function torchScalar(v: number): Tensor {
  return op('scalar_tensor')([v], { dtype: 'float32' }) as Tensor;
}
