// Exponential moving average of weights, for mean-teacher training:
//   teacher = decay · teacher + (1 − decay) · student
// computed in place under noGrad (mul_ then add_, as SSL4MIS's
// update_ema_variables does), so an update allocates no tensors.
//
// Buffers (batch norm's running statistics): by default they are COPIED from
// the student, so the teacher normalizes with the student's current
// statistics. 'ema' averages floating-point buffers like the parameters
// (timm's ModelEmaV2); 'none' leaves them alone, which is what SSL4MIS gets:
// its teacher stays in training mode and updates its own statistics in its
// forward passes. Integer buffers (num_batches_tracked) are copied under 'ema'.
import { noGrad } from '../autograd.js';
import type { AnyModule } from '../nn/module.js';
import { type Tensor, op } from '../tensor.js';
import { isFloatingPoint } from '../dtype.js';

export type EmaBufferMode = 'copy' | 'ema' | 'none';

export interface EmaUpdateOptions {
  /** What happens to buffers (default 'copy'). */
  buffers?: EmaBufferMode;
}

interface EmaPairs {
  params: [Tensor, Tensor][];
  buffers: [Tensor, Tensor][];
}

function pairUp(what: 'parameter' | 'buffer', teacher: [string, Tensor][], student: [string, Tensor][]): [Tensor, Tensor][] {
  const byName = new Map(student);
  if (teacher.length !== student.length) {
    const tNames = new Set(teacher.map(([k]) => k));
    const onlyT = teacher.filter(([k]) => !byName.has(k)).map(([k]) => k);
    const onlyS = student.filter(([k]) => !tNames.has(k)).map(([k]) => k);
    throw new Error(`emaUpdate: teacher has ${teacher.length} ${what}s and student ${student.length} (only in teacher: [${onlyT.join(', ')}]; only in student: [${onlyS.join(', ')}])`);
  }
  return teacher.map(([name, t]) => {
    const s = byName.get(name);
    if (s === undefined) throw new Error(`emaUpdate: student has no ${what} '${name}'`);
    const ts = t.shape;
    const ss = s.shape;
    if (ts.length !== ss.length || ts.some((d, i) => d !== ss[i])) {
      throw new Error(`emaUpdate: ${what} '${name}' has shape [${ts.join(', ')}] in the teacher but [${ss.join(', ')}] in the student`);
    }
    return [t, s];
  });
}

function pairModules(teacher: AnyModule, student: AnyModule): EmaPairs {
  return {
    params: pairUp('parameter', teacher.namedParameters(), student.namedParameters()),
    buffers: pairUp('buffer', teacher.namedBuffers(), student.namedBuffers()),
  };
}

function checkDecay(decay: number): void {
  if (!(decay >= 0 && decay <= 1)) throw new RangeError(`emaUpdate: decay must be in [0, 1], got ${decay}`);
}

function applyEma(pairs: EmaPairs, decay: number, buffers: EmaBufferMode): void {
  noGrad(() => {
    for (const [t, s] of pairs.params) {
      op('mul_', 'Scalar').inplace([t, decay]);
      op('add_', 'Tensor').inplace([t, s, 1 - decay]);
    }
    if (buffers === 'none') return;
    for (const [t, s] of pairs.buffers) {
      if (buffers === 'ema' && isFloatingPoint(t.dtype)) {
        op('mul_', 'Scalar').inplace([t, decay]);
        op('add_', 'Tensor').inplace([t, s, 1 - decay]);
      } else {
        op('copy_').inplace([t, s]);
      }
    }
  });
}

/**
 * One EMA step: every teacher parameter becomes decay·teacher + (1−decay)·student
 * (matched by name, shapes checked); buffers per `options.buffers`.
 */
export function emaUpdate(teacher: AnyModule, student: AnyModule, decay: number, options: EmaUpdateOptions = {}): void {
  checkDecay(decay);
  applyEma(pairModules(teacher, student), decay, options.buffers ?? 'copy');
}

export interface ModelEmaOptions extends EmaUpdateOptions {
  /** Target decay (default 0.99, SSL4MIS's ema_decay). */
  decay?: number;
  /**
   * Use min(1 − 1/(step + 1), decay), SSL4MIS's warm-up, so early teachers
   * follow the student closely (the first update copies it). Default true.
   */
  warmup?: boolean;
  /** Copy the student's parameters and buffers into the teacher now (default true). */
  copyInitial?: boolean;
}

/**
 * A mean teacher: holds the teacher, the student, the decay and the step
 * count. The teacher's parameters stop requiring grad. Call update() after
 * each optimizer step. Parameter pairs are matched once, at construction.
 */
export class ModelEma {
  readonly teacher: AnyModule;
  readonly student: AnyModule;
  decay: number;
  readonly warmup: boolean;
  readonly buffers: EmaBufferMode;
  /** Number of updates done (the global step SSL4MIS passes). */
  step = 0;
  private readonly pairs: EmaPairs;

  constructor(teacher: AnyModule, student: AnyModule, options: ModelEmaOptions = {}) {
    this.teacher = teacher;
    this.student = student;
    this.decay = options.decay ?? 0.99;
    checkDecay(this.decay);
    this.warmup = options.warmup ?? true;
    this.buffers = options.buffers ?? 'copy';
    this.pairs = pairModules(teacher, student);
    teacher.requiresGrad_(false);
    if (options.copyInitial ?? true) {
      noGrad(() => {
        for (const [t, s] of [...this.pairs.params, ...this.pairs.buffers]) op('copy_').inplace([t, s]);
      });
    }
  }

  /** The decay the next update() uses. */
  get currentDecay(): number {
    return this.warmup ? Math.min(1 - 1 / (this.step + 1), this.decay) : this.decay;
  }

  /** Moves the teacher towards the student; returns the decay used. */
  update(): number {
    const d = this.currentDecay;
    applyEma(this.pairs, d, this.buffers);
    this.step += 1;
    return d;
  }
}
