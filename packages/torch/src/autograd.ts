// Gradient mode scopes and functional gradients (torch.autograd).
import { native } from './native.js';
import { Tensor } from './tensor.js';

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = native.setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Runs fn with gradient recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs fn with gradient recording on, e.g. inside noGrad (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

export function setGradEnabled(enabled: boolean): void {
  native.setGradEnabled(enabled);
}

export interface GradOptions {
  gradOutputs?: (Tensor | null)[];
  retainGraph?: boolean;
  /** Record the gradient computation itself, for higher-order gradients. */
  createGraph?: boolean;
  allowUnused?: boolean;
}

/** Gradients of outputs with respect to inputs (torch.autograd.grad). */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const res = native.grad(
    outs.map((t) => t.handle),
    ins.map((t) => t.handle),
    (options.gradOutputs ?? []).map((t) => (t === null ? null : t.handle)),
    options.retainGraph ?? null,
    options.createGraph ?? false,
    options.allowUnused ?? false,
  );
  return res.map((h) => (h === null ? null : new Tensor(h)));
}

/** Backward from several roots at once (torch.autograd.backward). */
export function backward(tensors: Tensor[], gradTensors: (Tensor | null)[] = [], options: { retainGraph?: boolean; createGraph?: boolean; inputs?: Tensor[] } = {}): void {
  native.backward(
    tensors.map((t) => t.handle),
    gradTensors.map((t) => (t === null ? null : t.handle)),
    options.retainGraph ?? null,
    options.createGraph ?? false,
    (options.inputs ?? []).map((t) => t.handle),
  );
}
