// Upsample: F.interpolate as a module.
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { pyFloat, pyRepr } from './format.js';
import { Module } from './module.js';

export interface UpsampleLayerOptions {
  /** Output spatial size (one int for all dims, or one per dim). */
  size?: number | readonly number[] | null;
  /** Spatial multiplier (one for all dims, or one per dim). */
  scaleFactor?: number | readonly number[] | null;
  /** 'nearest' (default), 'linear', 'bilinear', 'bicubic', 'trilinear', ... */
  mode?: F.InterpolateMode;
  alignCorners?: boolean | null;
  recomputeScaleFactor?: boolean | null;
}

/** Up/down-samples by a size or a scale factor (nn.Upsample). */
export class Upsample extends Module {
  readonly size: number | number[] | null;
  readonly scaleFactor: number | number[] | null;
  readonly mode: F.InterpolateMode;
  readonly alignCorners: boolean | null;
  readonly recomputeScaleFactor: boolean | null;

  constructor(options: UpsampleLayerOptions = {}) {
    super();
    const { size, scaleFactor } = options;
    this.size = size == null ? null : typeof size === 'number' ? size : [...size];
    this.scaleFactor = scaleFactor == null || scaleFactor === 0 ? null : typeof scaleFactor === 'number' ? scaleFactor : [...scaleFactor];
    this.mode = options.mode ?? 'nearest';
    this.alignCorners = options.alignCorners ?? null;
    this.recomputeScaleFactor = options.recomputeScaleFactor ?? null;
  }

  forward(input: Tensor): Tensor {
    return F.interpolate(input, {
      size: this.size,
      scaleFactor: this.scaleFactor,
      mode: this.mode,
      alignCorners: this.alignCorners,
      recomputeScaleFactor: this.recomputeScaleFactor,
    });
  }

  override extraRepr(): string {
    const sf = this.scaleFactor;
    const info = sf !== null ? `scale_factor=${pyRepr(typeof sf === 'number' ? pyFloat(sf) : sf.map(pyFloat))}` : `size=${pyRepr(this.size)}`;
    return `${info}, mode=${this.mode}`;
  }
}
