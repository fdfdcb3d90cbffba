// Element-wise and distribution losses: binary cross-entropy (multi-label
// outputs such as UDA_CLR's cup/disc), MSE between activated maps (mean-teacher
// consistency on softmax outputs, UDA_CLR's boundary regression on a sigmoid
// map) and temperature-scaled KL distillation (PA-Seg's SCM stage).
import * as torch from '@labelwise/torch';
import { type Tensor, F } from '@labelwise/torch';
import { type Activation, TensorLoss, activate, maskedMean, readMask, shapeText } from './common.js';

function sameShapeOrThrow(name: string, prediction: Tensor, target: Tensor, what: string): void {
  const a = prediction.shape;
  const b = target.shape;
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw new Error(`${name}: ${what} shape ${shapeText(b)} must equal the prediction's ${shapeText(a)}`);
}

export interface BceOptions {
  /** The prediction holds logits (stable BCE-with-logits); false: probabilities (log clamped at −100, as F.binary_cross_entropy). */
  fromLogits?: boolean;
  /** Weight of positives per channel (pos_weight), logits only. */
  posWeight?: number[] | null;
}

/** Binary cross-entropy per element against targets in [0, 1] of the prediction's shape; mean, or mask-weighted mean. */
export class BinaryCrossEntropyLoss extends TensorLoss {
  readonly name = 'bce';
  readonly fromLogits: boolean;
  readonly posWeight: number[] | null;

  constructor(options: BceOptions = {}) {
    super();
    this.fromLogits = options.fromLogits ?? true;
    this.posWeight = options.posWeight ?? null;
    if (this.posWeight !== null && !this.fromLogits) throw new Error('bce: posWeight needs fromLogits (it is an option of BCE with logits)');
  }

  protected compute(prediction: Tensor, target: Tensor, mask: Tensor | null): Tensor {
    sameShapeOrThrow(this.name, prediction, target, 'target');
    const t = target.dtype === prediction.dtype ? target : target.to(prediction.dtype);
    const reduction = mask === null ? 'mean' : 'none';
    let loss: Tensor;
    if (this.fromLogits) {
      let posWeight: Tensor | null = null;
      if (this.posWeight !== null) {
        const c = prediction.shape[1];
        if (this.posWeight.length !== c) throw new Error(`${this.name}: posWeight has ${this.posWeight.length} entries for ${c} channels`);
        posWeight = torch.tensor(this.posWeight, { dtype: prediction.dtype, device: prediction.device }).view([c, ...prediction.shape.slice(2).map(() => 1)]);
      }
      loss = F.binaryCrossEntropyWithLogits(prediction, t, { posWeight, reduction });
    } else {
      loss = F.binaryCrossEntropy(prediction, t, { reduction });
    }
    return mask === null ? loss : maskedMean(loss, readMask(this.name, prediction, mask));
  }
}

export interface MseOptions {
  /** Applied to the prediction (logits) first: softmax, sigmoid or none. */
  predictionActivation?: Activation;
  /** Applied to the target first (a teacher's logits: softmax; a probability map: none). */
  targetActivation?: Activation;
}

/**
 * Mean squared error between activated maps. The target is detached (a
 * teacher's output or a fixed map). Presets: softmax_mse (mean-teacher
 * consistency: softmax both), boundary_mse (sigmoid(prediction) vs a [0, 1]
 * boundary map), mse (none).
 */
export class MseLoss extends TensorLoss {
  readonly name: string;
  readonly predictionActivation: Activation;
  readonly targetActivation: Activation;

  constructor(options: MseOptions = {}, name = 'mse') {
    super();
    this.name = name;
    this.predictionActivation = options.predictionActivation ?? 'none';
    this.targetActivation = options.targetActivation ?? 'none';
  }

  protected compute(prediction: Tensor, target: Tensor, mask: Tensor | null): Tensor {
    sameShapeOrThrow(this.name, prediction, target, 'target');
    const p = activate(prediction, this.predictionActivation);
    const t = activate(target.detach(), this.targetActivation);
    const sq = p.sub(t).square();
    return mask === null ? sq.mean() : maskedMean(sq, readMask(this.name, prediction, mask));
  }
}

export interface KlDistillationOptions {
  /** Softmax temperature T; the loss is scaled by T² (4 in PA-Seg). */
  temperature?: number;
  /**
   * 'voxelmean': KL summed over classes, averaged over every voxel of every
   * sample (PA-Seg flattens voxels into the batch); 'batchmean': summed over
   * classes and voxels, averaged over samples (F.kl_div's batchmean on (N, C, ...)).
   */
  reduction?: 'voxelmean' | 'batchmean';
}

/** T²·KL(softmax(teacher/T) ‖ softmax(student/T)); prediction: student logits, target: teacher logits (detached). */
export class KlDistillationLoss extends TensorLoss {
  readonly name = 'kl_distillation';
  readonly temperature: number;
  readonly reduction: 'voxelmean' | 'batchmean';

  constructor(options: KlDistillationOptions = {}) {
    super();
    this.temperature = options.temperature ?? 1;
    if (!(this.temperature > 0)) throw new Error(`kl_distillation: temperature must be > 0, got ${this.temperature}`);
    this.reduction = options.reduction ?? 'voxelmean';
  }

  protected compute(prediction: Tensor, target: Tensor, mask: Tensor | null): Tensor {
    sameShapeOrThrow(this.name, prediction, target, 'teacher output');
    const T = this.temperature;
    const logP = F.logSoftmax(prediction.div(T), 1);
    const q = F.softmax(target.detach().div(T), 1);
    // Per-voxel KL (N, *spatial), summed over classes.
    const kl = F.klDiv(logP, q, { reduction: 'none' }).sum(1);
    let value: Tensor;
    if (mask !== null) {
      const m = readMask(this.name, prediction, mask);
      if (m.shape[1] !== 1) throw new Error(`${this.name}: the mask must have 1 channel`);
      value = maskedMean(kl, m.squeeze(1));
    } else value = this.reduction === 'voxelmean' ? kl.mean() : kl.sum().div(prediction.shape[0]);
    return value.mul(T * T);
  }
}
