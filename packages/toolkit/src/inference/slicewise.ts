// Slice-by-slice prediction of a 3D volume with a 2D network, as the 2D
// semi-supervised literature evaluates ACDC: each slice may be resized to
// the training size (BCP/SSL4MIS: scipy zoom with order 0) and the
// prediction resized back with nearest neighbours.
import * as torch from '@labelwise/torch';
import { type Predictor, argmaxClasses } from './sliding-window.js';

export interface SlicewiseOptions {
  /** Slices per forward pass. */
  batchSize?: number;
  /** Resize each slice to [H, W] before the network (e.g. [256, 256]). */
  resizeTo?: readonly [number, number];
  /** How the image is resized: 'nearest' reproduces scipy.ndimage.zoom(order=0) as the seeds use; 'bilinear' is smoother. */
  imageResize?: 'nearest' | 'bilinear';
  returnProbabilities?: boolean;
}

/** scipy.ndimage.zoom(order=0) index map: output o samples input round(o·(in−1)/(out−1)). */
export function zoomNearestIndex(inSize: number, outSize: number): torch.Tensor {
  const idx = new Array<number>(outSize);
  for (let o = 0; o < outSize; o++) idx[o] = outSize === 1 ? 0 : Math.min(inSize - 1, Math.floor((o * (inSize - 1)) / (outSize - 1) + 0.5));
  return torch.tensor(idx, { dtype: 'int64' });
}

function resizeNearest(x: torch.Tensor, size: readonly [number, number]): torch.Tensor {
  const [h, w] = x.shape.slice(-2);
  return torch.indexSelect(torch.indexSelect(x, -2, zoomNearestIndex(h, size[0])), -1, zoomNearestIndex(w, size[1]));
}

/**
 * Predicts a volume [C, Z, Y, X] slice by slice. Returns labels uint8
 * [Z, Y, X] and, when asked, probabilities [K, Z, Y, X].
 */
export function predictSlices(volume: torch.Tensor, predict: Predictor, options: SlicewiseOptions = {}): { labels: torch.Tensor; probabilities?: torch.Tensor } {
  if (volume.ndim !== 4) throw new Error(`predictSlices: expected a volume [C, Z, Y, X], got shape [${volume.shape.join(', ')}]`);
  const [, z, h, w] = volume.shape;
  const bs = options.batchSize ?? 16;
  return torch.noGrad(() => torch.tidy(() => {
    const labels: torch.Tensor[] = [];
    const probs: torch.Tensor[] = [];
    for (let s = 0; s < z; s += bs) {
      const n = Math.min(bs, z - s);
      const r = torch.tidy(() => {
        let x = volume.narrow(1, s, n).transpose(0, 1); // [n, C, Y, X]
        if (options.resizeTo) {
          x = options.imageResize === 'bilinear'
            ? torch.F.interpolate(x, { size: [...options.resizeTo], mode: 'bilinear', alignCorners: false })
            : resizeNearest(x, options.resizeTo);
        }
        let logits = predict(x.contiguous());
        let p = torch.F.softmax(logits, 1);
        if (options.resizeTo) {
          // Back to the slice's size: labels nearest (zoom order 0), probabilities bilinear.
          const lab = resizeNearest(argmaxClasses(p, 1).unsqueeze(1).float(), [h, w]).squeeze(1).to('uint8');
          p = options.returnProbabilities ? torch.F.interpolate(p, { size: [h, w], mode: 'bilinear', alignCorners: false }) : p;
          logits = lab;
          return { lab, p: options.returnProbabilities ? p : null };
        }
        return { lab: argmaxClasses(p, 1).to('uint8'), p: options.returnProbabilities ? p : null };
      });
      labels.push(r.lab);
      if (r.p) probs.push(r.p.transpose(0, 1));
    }
    const out: { labels: torch.Tensor; probabilities?: torch.Tensor } = { labels: torch.cat(labels, 0) };
    if (probs.length) out.probabilities = torch.cat(probs, 1);
    return out;
  }));
}
