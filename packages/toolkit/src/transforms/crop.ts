// Cropping to the non-zero region, as nnU-Net does before anything else.
//
// The mask is the union over channels of `voxel != 0`, with enclosed holes
// filled (scipy's binary_fill_holes, 6-connectivity), so dark structures
// inside the body are kept. Everything is cropped to the mask's bounding box;
// label voxels that are background AND outside the mask become -1, which
// marks "outside the imaged region" for mask-restricted normalisation
// (nnU-Net's use_mask_for_norm) and can be ignored by the loss.
//
// Tensors are [C, Z, Y, X] (Volume.toTensor order); boxes are
// [[zLo, zHi), [yLo, yHi), [xLo, xHi)] in that same order.
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';

/** Half-open voxel ranges per spatial axis, in tensor order (z, y, x). */
export type BBox = [number, number][];

export interface CropResult {
  image: Tensor;
  /** Label cropped, with background outside the non-zero mask set to `outsideLabel`; absent if no label was given. */
  label?: Tensor;
  /** The hole-filled non-zero mask inside the box, uint8 [Z, Y, X]. */
  mask: Uint8Array;
  bbox: BBox;
  /** Spatial shape before cropping. */
  shapeBefore: number[];
  /** Spatial shape after cropping. */
  shapeAfter: number[];
}

export interface CropOptions {
  /** Value given to background label voxels outside the non-zero mask (nnU-Net: -1). */
  outsideLabel?: number;
  /** Fill enclosed holes of the mask (nnU-Net: true). */
  fillHoles?: boolean;
}

function spatial3(shape: readonly number[], what: string): [number, number, number] {
  if (shape.length !== 4) throw new Error(`${what}: expected a tensor [C, Z, Y, X], got shape [${shape.join(', ')}]`);
  return [shape[1], shape[2], shape[3]];
}

/**
 * The union over channels of `voxel != 0` (NaN counts as non-zero, as in
 * numpy), as a uint8 array in [Z, Y, X] order.
 */
export function nonzeroMask(image: Tensor): Uint8Array {
  spatial3(image.shape, 'nonzeroMask');
  return torch.tidy(() => {
    const m = image.ne(0).any(0).to('uint8').contiguous();
    return Uint8Array.from(m.dataView() as Uint8Array);
  });
}

/** Bounding box of the non-zero voxels of a [Z, Y, X] mask; null when the mask is empty. */
export function bboxOfMask(mask: Uint8Array, shape: readonly number[]): BBox | null {
  const [nz, ny, nx] = shape;
  if (mask.length !== nz * ny * nx) throw new Error(`bboxOfMask: mask has ${mask.length} voxels, expected ${nz * ny * nx} for shape [${shape.join(', ')}]`);
  let z0 = nz, z1 = -1, y0 = ny, y1 = -1, x0 = nx, x1 = -1;
  let p = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      // Scan the row once for its first and last set voxel.
      let first = -1, last = -1;
      for (let x = 0; x < nx; x++, p++) {
        if (mask[p] !== 0) {
          if (first < 0) first = x;
          last = x;
        }
      }
      if (first >= 0) {
        if (z < z0) z0 = z;
        z1 = z;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (first < x0) x0 = first;
        if (last > x1) x1 = last;
      }
    }
  }
  if (z1 < 0) return null;
  return [[z0, z1 + 1], [y0, y1 + 1], [x0, x1 + 1]];
}

/**
 * Fills enclosed background cavities of a [Z, Y, X] mask in place:
 * background not 6-connected to the array border becomes foreground
 * (scipy.ndimage.binary_fill_holes with its default structure).
 */
export function fillHoles(mask: Uint8Array, shape: readonly number[]): Uint8Array {
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  if (mask.length !== n) throw new Error(`fillHoles: mask has ${mask.length} voxels, expected ${n}`);
  // state: 0 = background not yet reached, 1 = foreground, 2 = background reached from the border.
  const OUT = 2;
  const sy = nx, sz = nx * ny;
  // Breadth-first flood from the border; the queue grows on demand because
  // the front is usually a thin surface, far smaller than the volume.
  let queue = new Int32Array(Math.min(n, 1 << 16));
  let head = 0, tail = 0, size = 0;
  const push = (p: number) => {
    if (size === queue.length) {
      const bigger = new Int32Array(queue.length * 2);
      for (let i = 0; i < size; i++) bigger[i] = queue[(head + i) % queue.length];
      queue = bigger;
      head = 0;
      tail = size;
    }
    queue[tail] = p;
    tail = (tail + 1) % queue.length;
    size++;
  };
  const seed = (p: number) => {
    if (mask[p] === 0) {
      mask[p] = OUT;
      push(p);
    }
  };
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = z * sz + y * sy;
      if (z === 0 || z === nz - 1 || y === 0 || y === ny - 1) {
        for (let x = 0; x < nx; x++) seed(row + x);
      } else {
        seed(row);
        seed(row + nx - 1);
      }
    }
  }
  while (size > 0) {
    const p = queue[head];
    head = (head + 1) % queue.length;
    size--;
    const x = p % nx;
    const y = ((p - x) / nx) % ny;
    const z = (p - x - y * nx) / sz;
    if (x > 0 && mask[p - 1] === 0) { mask[p - 1] = OUT; push(p - 1); }
    if (x < nx - 1 && mask[p + 1] === 0) { mask[p + 1] = OUT; push(p + 1); }
    if (y > 0 && mask[p - sy] === 0) { mask[p - sy] = OUT; push(p - sy); }
    if (y < ny - 1 && mask[p + sy] === 0) { mask[p + sy] = OUT; push(p + sy); }
    if (z > 0 && mask[p - sz] === 0) { mask[p - sz] = OUT; push(p - sz); }
    if (z < nz - 1 && mask[p + sz] === 0) { mask[p + sz] = OUT; push(p + sz); }
  }
  for (let i = 0; i < n; i++) mask[i] = mask[i] === OUT ? 0 : 1;
  return mask;
}

/** Copies the box out of a [Z, Y, X] uint8 mask. */
function cropMask(mask: Uint8Array, shape: readonly number[], bbox: BBox): Uint8Array {
  const [, ny, nx] = shape;
  const [[z0, z1], [y0, y1], [x0, x1]] = bbox;
  const w = x1 - x0;
  const out = new Uint8Array((z1 - z0) * (y1 - y0) * w);
  let q = 0;
  for (let z = z0; z < z1; z++) {
    for (let y = y0; y < y1; y++, q += w) out.set(mask.subarray((z * ny + y) * nx + x0, (z * ny + y) * nx + x1), q);
  }
  return out;
}

/** The box as a view-then-copy of a [C, Z, Y, X] tensor. */
export function cropTensor(t: Tensor, bbox: BBox): Tensor {
  if (bbox.length !== 3) throw new Error(`cropTensor: bbox must have 3 ranges (z, y, x), got ${bbox.length}`);
  const s = t.shape;
  const off = s.length - 3;
  for (let a = 0; a < 3; a++) {
    const [lo, hi] = bbox[a];
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && hi <= s[off + a] && lo < hi)) {
      throw new Error(`cropTensor: range [${lo}, ${hi}) on spatial axis ${a} is outside [0, ${s[off + a]})`);
    }
  }
  return torch.tidy(() => t.narrow(off, bbox[0][0], bbox[0][1] - bbox[0][0])
    .narrow(off + 1, bbox[1][0], bbox[1][1] - bbox[1][0])
    .narrow(off + 2, bbox[2][0], bbox[2][1] - bbox[2][0])
    .contiguous());
}

/**
 * nnU-Net's crop_to_nonzero: crops image [C, Z, Y, X] (and label [1, Z, Y, X]
 * or [Z, Y, X]) to the bounding box of the hole-filled non-zero mask. An
 * all-zero image is kept whole. The returned label is int16 (so -1 fits).
 */
export function cropToNonzero(image: Tensor, label?: Tensor | null, options: CropOptions = {}): CropResult {
  const shape = spatial3(image.shape, 'cropToNonzero');
  if (label) {
    const ls = label.shape.length === 3 ? label.shape : label.shape.slice(1);
    if (ls.length !== 3 || ls.some((v, i) => v !== shape[i]) || (label.shape.length === 4 && label.shape[0] !== 1)) {
      throw new Error(`cropToNonzero: label shape [${label.shape.join(', ')}] does not match image spatial shape [${shape.join(', ')}] (expected [1, ${shape.join(', ')}])`);
    }
  }
  const outsideLabel = options.outsideLabel ?? -1;
  const full = nonzeroMask(image);
  let bbox = bboxOfMask(full, shape);
  if (bbox === null) bbox = shape.map((n) => [0, n] as [number, number]);
  let mask = cropMask(full, shape, bbox);
  const shapeAfter = bbox.map(([lo, hi]) => hi - lo);
  // Holes lie inside the box, and the box faces touch border-connected background, so filling the crop is exact.
  if (options.fillHoles ?? true) mask = fillHoles(mask, shapeAfter);
  const img = cropTensor(image, bbox);
  let lab: Tensor | undefined;
  if (label) {
    lab = torch.tidy(() => {
      const l4 = label.shape.length === 3 ? label.unsqueeze(0) : label;
      const c = cropTensor(l4, bbox).to('int16');
      const inside = torch.fromTypedArray(mask, [1, ...shapeAfter]).to({ dtype: 'bool', device: c.device });
      // seg[(seg == 0) & ~mask] = outsideLabel
      c.maskedFill_(c.eq(0).logicalAnd(inside.logicalNot()), outsideLabel);
      return c;
    });
  }
  return { image: img, label: lab, mask, bbox, shapeBefore: [...shape], shapeAfter };
}

/**
 * Puts a cropped tensor [C, z, y, x] back into the full spatial shape,
 * filling outside the box with `fill` (0 for probabilities and labels:
 * nnU-Net sets background there).
 */
export function uncrop(t: Tensor, bbox: BBox, fullShape: readonly number[], fill = 0): Tensor {
  const s = t.shape;
  if (s.length !== 4) throw new Error(`uncrop: expected a tensor [C, z, y, x], got shape [${s.join(', ')}]`);
  if (fullShape.length !== 3) throw new Error(`uncrop: fullShape must be [Z, Y, X], got [${fullShape.join(', ')}]`);
  for (let a = 0; a < 3; a++) {
    const [lo, hi] = bbox[a];
    if (hi - lo !== s[a + 1]) throw new Error(`uncrop: box [${lo}, ${hi}) on axis ${a} has size ${hi - lo} but the tensor has ${s[a + 1]}`);
    if (lo < 0 || hi > fullShape[a]) throw new Error(`uncrop: box [${lo}, ${hi}) on axis ${a} exceeds the full size ${fullShape[a]}`);
  }
  return torch.tidy(() => {
    const out = torch.full([s[0], ...fullShape], fill, { dtype: t.dtype, device: t.device });
    out.narrow(1, bbox[0][0], s[1]).narrow(2, bbox[1][0], s[2]).narrow(3, bbox[2][0], s[3]).copy_(t);
    return out;
  });
}

/** Fraction of voxels kept by a crop (nnU-Net's relative size after cropping). */
export function relativeSizeAfterCrop(shapeBefore: readonly number[], shapeAfter: readonly number[]): number {
  const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return prod(shapeAfter) / prod(shapeBefore);
}
