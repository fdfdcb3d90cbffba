// Copy-paste masks and mixing for bidirectional copy-paste (BCP, Wang et al.
// CVPR 2023; methods.md §5d).
//
// BCP's mask M has the patch's size, is 1 everywhere except one box (a
// rectangle in 2D, a cuboid in 3D) of ⌊2/3⌋ of each side where it is 0, and
// mixes x = a·M + b·(1 − M): the box shows b, the rest a. For the
// "in" mix BCP passes (a, b) = (unlabelled, labelled), for the "out" mix
// (labelled, unlabelled). The box size is a fixed fraction or drawn from a
// range per mask, so a "dynamic mask" schedule can vary it over training.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import type { Rng } from '../random/rng.js';

export interface CopyPasteBox {
  /** First voxel of the box per axis (array-axis order). */
  start: number[];
  /** Box size per axis, in voxels. */
  size: number[];
}

export interface CopyPasteBoxOptions {
  /**
   * Box side as a fraction of the patch side: a number (BCP: 2/3), or
   * [low, high] drawn uniformly per box. Sides are ⌊fraction · n⌋ (at least 1), as BCP's int().
   */
  fraction?: number | readonly [number, number];
  /** With a range: one fraction per axis (true) or one for all axes (false, default). */
  perAxis?: boolean;
  /**
   * 'inclusive' (default): every position where the box fits is equally
   * likely. 'bcp': BCP's numpy randint(0, n − s), which never puts the box
   * against the far border (and fails when s = n); for exact reproduction.
   */
  position?: 'inclusive' | 'bcp';
}

/** Draws one box for a patch of spatial `shape`. */
export function sampleCopyPasteBox(rng: Rng, shape: readonly number[], options: CopyPasteBoxOptions = {}): CopyPasteBox {
  const fr = options.fraction ?? 2 / 3;
  const [lo, hi] = typeof fr === 'number' ? [fr, fr] : fr;
  if (!(lo > 0 && lo <= hi && hi <= 1)) throw new RangeError(`sampleCopyPasteBox: fraction must be in (0, 1] (or a range [low, high] within it), got ${JSON.stringify(fr)}`);
  if (shape.length < 1 || shape.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`sampleCopyPasteBox: bad patch shape [${shape.join(', ')}]`);
  const shared = rng.uniform(lo, hi);
  const size = shape.map((n) => Math.max(1, Math.floor(n * (options.perAxis ? rng.uniform(lo, hi) : shared))));
  const start = size.map((s, a) => {
    const room = shape[a] - s;
    if (options.position === 'bcp') {
      if (room < 1) throw new RangeError(`sampleCopyPasteBox: position 'bcp' (numpy randint(0, n − s)) needs a box smaller than the patch on axis ${a}: n = ${shape[a]}, s = ${s}`);
      return rng.int(0, room);
    }
    return rng.int(0, room + 1);
  });
  return { start, size };
}

/**
 * BCP's mask for a batch: [B, ...shape] float32, 1 outside and 0 inside each
 * sample's box (`boxes[b]`; one box per sample, or several).
 */
export function copyPasteMask(shape: readonly number[], boxes: readonly (CopyPasteBox | readonly CopyPasteBox[])[]): Tensor {
  return torch.tidy(() => {
    const m = torch.ones([boxes.length, ...shape]);
    boxes.forEach((entry, b) => {
      const list = Array.isArray(entry) ? (entry as readonly CopyPasteBox[]) : [entry as CopyPasteBox];
      for (const box of list) {
        if (box.start.length !== shape.length || box.size.length !== shape.length) {
          throw new RangeError(`copyPasteMask: box of sample ${b} has ${box.start.length} starts / ${box.size.length} sizes for a ${shape.length}-D patch`);
        }
        let v: Tensor | null = m.select(0, b);
        for (let a = 0; a < shape.length && v; a++) {
          const s0 = Math.max(0, box.start[a]);
          const s1 = Math.min(shape[a], box.start[a] + box.size[a]);
          v = s1 > s0 ? v.narrow(a, s0, s1 - s0) : null;
        }
        v?.zero_();
      }
    });
    return m;
  });
}

/** Convenience: draws one box per sample and returns the mask and the boxes (record them to replay). */
export function randomCopyPasteMask(rng: Rng, batch: number, shape: readonly number[], options: CopyPasteBoxOptions = {}): { mask: Tensor; boxes: CopyPasteBox[] } {
  const boxes = Array.from({ length: batch }, (_, b) => sampleCopyPasteBox(rng.fork('copy-paste', b), shape, options));
  return { mask: copyPasteMask(shape, boxes), boxes };
}

/**
 * a·M + b·(1 − M) with M from copyPasteMask ([B, ...spatial]): images
 * [B, C, ...spatial] or labels [B, ...spatial] / [B, C, ...spatial]. Integer
 * (label) tensors take a where M = 1 and b elsewhere, keeping their dtype.
 */
export function mixCopyPaste(a: Tensor, b: Tensor, mask: Tensor): Tensor {
  if (a.shape.length !== b.shape.length || a.shape.some((n, i) => n !== b.shape[i])) {
    throw new RangeError(`mixCopyPaste: a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] must have the same shape`);
  }
  const spatial = mask.shape.slice(1);
  const B = mask.shape[0];
  const ok = a.shape[0] === B && (a.ndim === mask.ndim || a.ndim === mask.ndim + 1) && a.shape.slice(a.ndim - spatial.length).every((n, i) => n === spatial[i]);
  if (!ok) throw new RangeError(`mixCopyPaste: mask [${mask.shape.join(', ')}] does not fit tensors [${a.shape.join(', ')}]; expected [B, ...spatial] or [B, C, ...spatial] with the mask's B and spatial size`);
  return torch.tidy(() => {
    const m = a.ndim === mask.ndim + 1 ? mask.unsqueeze(1) : mask;
    if (torch.isFloatingPoint(a.dtype)) {
      const mf = m.to(a.dtype);
      return a.mul(mf).add_(b.mul(torch.rsub(mf, 1)));
    }
    return torch.where(m.gt(0.5), a, b);
  });
}
