// PA-Seg's gated CRF regulariser (Obukhov et al.'s Gated CRF loss with the
// Potts compatibility, as in PA-Seg's utilities/gated_crf_loss3d.py) in its
// 2D form and PA-Seg's 3D→2D multi-view form.
//
// The seed unfolds a (2r+1)² window per pixel (memory O(N·r²)); here the
// window is walked one offset at a time over shifted views, and each
// unordered pixel pair is visited once (the kernel is symmetric), so extra
// memory stays O(N·C) whatever the radius.
import * as torch from '@labelwise/torch';
import { type Tensor, F } from '@labelwise/torch';
import { shapeText } from './common.js';

export interface GatedCrfOptions {
  /** Spatial bandwidth in pixels (PA-Seg: 6). */
  sigmaXY?: number;
  /** Intensity bandwidth in image units (PA-Seg: 0.1 on the z-scored image). */
  sigmaRGB?: number;
  /** Window radius in pixels: one for both in-plane axes, or [first, second] plane axis (PA-Seg: 5, i.e. `--kernel_radius 5 5 -1`). */
  radius?: number | readonly [number, number];
  /**
   * What out-of-image neighbours add to the normaliser Σk. 'seed' (default):
   * as PA-Seg, whose unfold zero-pads the features, so a padded neighbour acts
   * as a virtual pixel at plane position (0, 0) with intensity 0 and adds
   * exp(−½(‖pos_i‖²/σxy² + ‖I_i‖²/σrgb²)) to Σk (never to the Potts term,
   * its probabilities being padded with 0 too). 'none': they add nothing.
   * Either way this is a constant of the image: gradients are identical.
   */
  border?: 'seed' | 'none';
}

export interface GatedCrf3dOptions extends GatedCrfOptions {
  /**
   * Resample logits and image to this spatial size first (trilinear,
   * align_corners=True, as PA-Seg; BraTS [64, 64, 64], VS [64, 64, 48]).
   * null (default): no resampling.
   */
  downSize?: readonly number[] | null;
}

interface Resolved { sigmaXY: number; sigmaRGB: number; radius: [number, number]; border: 'seed' | 'none' }

function resolve(fn: string, o: GatedCrfOptions): Resolved {
  const sigmaXY = o.sigmaXY ?? 6;
  const sigmaRGB = o.sigmaRGB ?? 0.1;
  const r = o.radius ?? 5;
  const radius: [number, number] = typeof r === 'number' ? [r, r] : [r[0], r[1]];
  const border = o.border ?? 'seed';
  if (!(sigmaXY > 0) || !Number.isFinite(sigmaXY)) throw new RangeError(`${fn}: sigmaXY must be a positive number, got ${sigmaXY}`);
  if (!(sigmaRGB > 0) || !Number.isFinite(sigmaRGB)) throw new RangeError(`${fn}: sigmaRGB must be a positive number, got ${sigmaRGB}`);
  if ((typeof r !== 'number' && r.length !== 2) || radius.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new RangeError(`${fn}: radius must be an integer ≥ 1 or a pair of them, got ${JSON.stringify(r)}`);
  }
  if (border !== 'seed' && border !== 'none') throw new RangeError(`${fn}: border must be 'seed' or 'none', got ${String(border)}`);
  return { sigmaXY, sigmaRGB, radius, border };
}

function checkPair(fn: string, pName: string, p: Tensor, rank: number, layout: string, image: Tensor): void {
  if (p.ndim !== rank) throw new Error(`${fn}: ${pName} must be ${layout}, got shape ${shapeText(p.shape)}`);
  const want = `[${p.shape[0]}, Ci, ${p.shape.slice(2).join(', ')}]`;
  if (image.ndim !== rank) throw new Error(`${fn}: image must be ${layout.replace('C,', 'Ci,')} matching ${pName}, i.e. ${want}; got shape ${shapeText(image.shape)}`);
  if (image.shape[0] !== p.shape[0] || image.shape.slice(2).some((v, i) => v !== p.shape[2 + i])) {
    throw new Error(`${fn}: image shape ${shapeText(image.shape)} does not match ${pName} ${shapeText(p.shape)}; expected ${want}`);
  }
  if (!torch.isFloatingPoint(p.dtype)) throw new Error(`${fn}: ${pName} must be floating point, got ${p.dtype}`);
}

/** One 2D CRF plane: the two spatial axes (0-based, after B and C) it spans and the window radius along each. */
interface Plane { axes: [number, number]; radii: [number, number] }

/**
 * Σ over planes of the seed's per-plane sums, for probabilities p (B, C, *S)
 * and features f = image/σrgb (B, Ci, *S), without unfolding:
 *  - kSum: Σ_i Σ_{j ≠ i in window} k_ij (plus the seed's padded-neighbour
 *    term when border is 'seed'), a 0-d tensor;
 *  - m: the message m_i = Σ_j k_ij p_j (B, C, *S), so the Potts sum is Σ p·m.
 * Planes sharing an offset (the axis lines in the multi-view form) visit it once, weighted.
 */
function crfMessage(pd: Tensor, f: Tensor, planes: readonly Plane[], o: Resolved): { kSum: Tensor; m: Tensor } {
  const spatial = pd.shape.slice(2);
  const rank = spatial.length;
  // Canonical half of every plane's window: offset o and −o give the same unordered pairs.
  const offsets = new Map<string, { off: number[]; weight: number }>();
  for (const { axes, radii } of planes) {
    for (let u = -radii[0]; u <= radii[0]; u++) {
      for (let v = -radii[1]; v <= radii[1]; v++) {
        const off = new Array<number>(rank).fill(0);
        off[axes[0]] = u;
        off[axes[1]] = v;
        const lead = off.find((x) => x !== 0);
        if (lead === undefined || lead < 0) continue;
        const key = off.join(',');
        const e = offsets.get(key);
        if (e) e.weight++;
        else offsets.set(key, { off, weight: 1 });
      }
    }
  }
  const m = torch.zerosLike(pd);
  const kSum = torch.zeros([], { dtype: pd.dtype, device: pd.device });
  const a = -0.5;
  const b = -0.5 / (o.sigmaXY * o.sigmaXY);
  for (const { off, weight } of offsets.values()) {
    if (off.some((d, ax) => Math.abs(d) >= spatial[ax])) continue; // no pair fits inside the image
    torch.tidy(() => {
      // Pairs (i, j = i + off): region `lo` holds the i, region `hi` the j.
      let fLo = f; let fHi = f; let pLo = pd; let pHi = pd; let mLo = m; let mHi = m;
      off.forEach((d, ax) => {
        if (d === 0) return;
        const len = spatial[ax] - Math.abs(d);
        const s = d > 0 ? [0, d] : [-d, 0];
        fLo = fLo.narrow(ax + 2, s[0], len); fHi = fHi.narrow(ax + 2, s[1], len);
        pLo = pLo.narrow(ax + 2, s[0], len); pHi = pHi.narrow(ax + 2, s[1], len);
        mLo = mLo.narrow(ax + 2, s[0], len); mHi = mHi.narrow(ax + 2, s[1], len);
      });
      const d2 = off.reduce((acc, d) => acc + d * d, 0);
      // k = exp(−½‖Δf‖² − ½‖Δpos‖²/σxy²), the position term folded into the exponent.
      let k = fLo.sub(fHi).square_();
      if (k.shape[1] > 1) k = k.sum(1, true);
      k.mul_(a).add_(b * d2 + Math.log(weight)).exp_();
      kSum.add_(k.sum(), 2);
      mLo.addcmul_(k, pHi);
      mHi.addcmul_(k, pLo);
    });
  }
  if (o.border === 'seed') {
    torch.tidy(() => {
      // The seed's padded neighbours: feature 0 (position (0,0), intensity 0),
      // so each adds g_i = exp(−½(‖pos_i‖²/σxy² + ‖f_i‖²)), pos in the plane;
      // pixel i has (2ra+1)(2rb+1) − n_a(i)·n_b(i) of them (n: in-image window length).
      const g = f.square().sum(1, true).mul_(a).exp_();
      for (const { axes, radii } of planes) {
        const [A, B] = [spatial[axes[0]], spatial[axes[1]]];
        const inside = (x: number, n: number, r: number) => Math.min(x, r) + Math.min(n - 1 - x, r) + 1;
        const total = (2 * radii[0] + 1) * (2 * radii[1] + 1);
        const w = new Float64Array(A * B);
        for (let x = 0; x < A; x++) {
          for (let y = 0; y < B; y++) {
            const cnt = total - inside(x, A, radii[0]) * inside(y, B, radii[1]);
            w[x * B + y] = cnt === 0 ? 0 : cnt * Math.exp(b * (x * x + y * y));
          }
        }
        const shape = spatial.map(() => 1);
        shape[axes[0]] = A;
        shape[axes[1]] = B;
        let wt = torch.tensor(w, { shape: [A, B] });
        if (axes[0] > axes[1]) wt = wt.t();
        wt = wt.to({ dtype: pd.dtype, device: pd.device }).reshape([1, 1, ...shape]);
        kSum.add_(g.mul(wt).sum());
      }
    });
  }
  return { kSum, m };
}

/**
 * The loss from probabilities p (with grad) and the message of their
 * detached copy: value (Σk − Σ p·m)/denom; since m is linear in p with a
 * symmetric kernel, d(Σ p·m)/dp = 2m, which 2Σ p·m − Σ p̄·m carries.
 */
function pottsLoss(p: Tensor, pd: Tensor, kSum: Tensor, m: Tensor, denom: number): Tensor {
  const potts = p.mul(m).sum().mul(2).sub(pd.mul(m).sum());
  return kSum.sub(potts).div(denom);
}

/**
 * PA-Seg's 2D gated CRF loss (ModelLossSemsegGatedCRF3D22D on a batch of
 * slices), Potts compatibility:
 *
 *   L = [Σ_i Σ_{j∈W(i), j≠i} k_ij − Σ_i Σ_{j∈W(i)} k_ij Σ_c p_i^c p_j^c] / (B·H·W)
 *   k_ij = exp(−½ (‖pos_i − pos_j‖²/σxy² + ‖I_i − I_j‖²/σrgb²)),  k_ii = 0,
 *
 * W(i) the (2r+1)² window, positions in pixels, I the image's Ci channels.
 * Out-of-image neighbours add nothing to the Potts term; what they add to
 * Σk is set by `border` (default 'seed': as the seed's zero padding).
 * Departs from the seed only where the seed would average-pool an image
 * larger than the prediction: here image and probs must share H×W.
 *
 * @param probs (B, C, H, W) class probabilities (softmax output).
 * @param image (B, Ci, H, W) image, same B, H, W.
 * @returns a 0-d tensor in probs' dtype.
 */
export function gatedCrfLoss2d(probs: Tensor, image: Tensor, opts: GatedCrfOptions = {}): Tensor {
  const fn = 'gatedCrfLoss2d';
  const o = resolve(fn, opts);
  checkPair(fn, 'probs', probs, 4, '[B, C, H, W]', image);
  return torch.tidy(() => {
    const [B, , H, W] = probs.shape;
    const { kSum, m, pd } = torch.noGrad(() => {
      const pd = probs.detach();
      const f = image.to(probs.dtype).div(o.sigmaRGB);
      return { ...crfMessage(pd, f, [{ axes: [0, 1], radii: o.radius }], o), pd };
    });
    return pottsLoss(probs, pd, kSum, m, B * H * W);
  });
}

/**
 * PA-Seg's multi-view gated CRF (train_gatedcrfloss3d22d_multiview_varianceloss.py):
 * logits and image are resampled to `downSize` (trilinear, align_corners=True;
 * skipped when null), softmax is taken over classes after resampling, and the
 * 2D gated CRF of gatedCrfLoss2d is applied to every slice of the three
 * orientations and averaged:
 *
 *   L = ⅓ Σ_{views} L2d(all slices of the view),  each normalised by B·D·H·W.
 *
 * With spatial axes (a0, a1, a2) (the seed's H, W, D) the views are the seed's
 * permutations: planes (a0, a1) [HWD], (a2, a0) [DHW] and (a1, a2) [WDH],
 * the radius pair applying to (first, second) plane axis in that order.
 *
 * @param logits (B, C, D, H, W) network output before softmax.
 * @param image (B, Ci, D, H, W) image of the same spatial shape.
 */
export function gatedCrfLoss3dMultiView(logits: Tensor, image: Tensor, opts: GatedCrf3dOptions = {}): Tensor {
  const fn = 'gatedCrfLoss3dMultiView';
  const o = resolve(fn, opts);
  checkPair(fn, 'logits', logits, 5, '[B, C, D, H, W]', image);
  const down = opts.downSize ?? null;
  if (down !== null && (down.length !== 3 || down.some((v) => !Number.isInteger(v) || v < 1))) {
    throw new RangeError(`${fn}: downSize must be three positive integers [D, H, W] or null, got ${JSON.stringify(down)}`);
  }
  return torch.tidy(() => {
    const x = down === null ? logits : F.interpolate(logits, { size: down, mode: 'trilinear', alignCorners: true });
    const probs = F.softmax(x, 1);
    const spatial = probs.shape.slice(2);
    const planes: Plane[] = [
      { axes: [0, 1], radii: o.radius },
      { axes: [2, 0], radii: o.radius },
      { axes: [1, 2], radii: o.radius },
    ];
    const { kSum, m, pd } = torch.noGrad(() => {
      const img = image.to(logits.dtype);
      const im = down === null ? img : F.interpolate(img, { size: down, mode: 'trilinear', alignCorners: true });
      const pd = probs.detach();
      return { ...crfMessage(pd, im.div(o.sigmaRGB), planes, o), pd };
    });
    const n = probs.shape[0] * spatial.reduce((s, v) => s * v, 1);
    return pottsLoss(probs, pd, kSum, m, n * planes.length);
  });
}
