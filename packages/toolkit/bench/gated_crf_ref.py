#!/usr/bin/python3
"""Python side of `bench/gated-crf.ts`: the gated CRF loss (Potts, PA-Seg's
kernel) forward + backward in PyTorch, two ways, on inputs written by Node:
  (a) 'seed': PA-Seg's unfold formulation (ModelLossSemsegGatedCRF3D22D),
      shared with test/fixtures/weak_losses_ref.py (crf2d / multiview);
  (b) 'loop': Labelwise's formulation (losses/gated-crf.ts) re-written in
      PyTorch: the canonical half of the window walked one offset at a time
      over shifted views, the message m = Σ_j k_ij p_j built without grad,
      and the loss (Σk − (2Σ p·m − Σ p̄·m)) / denom, whose gradient is the true one.
Both run in float32 (the fixture script's float64 default is undone here).

Protocol (py_serve.py): one JSON command per line on stdin, one reply per line:
  {"op": "setup", "threads": n}  -> {"versions": {...}, "threads": n}
  {"op": "load", "case": name, "kind": "3d"|"2d", "x": path, "xshape": [...],
   "image": path, "ishape": [...], "radius": r, "sigma_xy": s, "sigma_rgb": s,
   "down": [d, h, w] | null}     -> {}
     x: logits (both kinds; the 2D loss takes softmax(x) over dim 1)
  {"op": "check", "case": name, "impl": "seed"|"loop", "grad": path}
                                 -> {"loss": v}  (d loss / d x written to `grad`)
  {"op": "time", "case": name, "impl": "seed"|"loop"} -> {"ms": t}
  {"op": "quit"}
Files hold float32 in C order.
"""
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures'))
import weak_losses_ref as seed  # noqa: E402  (sets float64 as the default dtype on import)
from py_serve import serve  # noqa: E402

torch.set_default_dtype(torch.float32)

CASES = {}


# --- (b) Labelwise's offset loop -------------------------------------------------------------

def crf_message(pd, f, planes, sigma_xy):
    """kSum (0-d) and message m (like pd) over the planes' windows; f = image / sigma_rgb."""
    spatial = pd.shape[2:]
    rank = len(spatial)
    offsets = {}
    for axes, (ra, rb) in planes:
        for u in range(-ra, ra + 1):
            for v in range(-rb, rb + 1):
                off = [0] * rank
                off[axes[0]] = u
                off[axes[1]] = v
                lead = next((x for x in off if x != 0), None)
                if lead is None or lead < 0:
                    continue
                key = tuple(off)
                offsets[key] = offsets.get(key, 0) + 1
    m = torch.zeros_like(pd)
    k_sum = torch.zeros((), dtype=pd.dtype)
    b = -0.5 / (sigma_xy * sigma_xy)
    for off, weight in offsets.items():
        if any(abs(d) >= spatial[ax] for ax, d in enumerate(off)):
            continue
        f_lo, f_hi, p_lo, p_hi, m_lo, m_hi = f, f, pd, pd, m, m
        for ax, d in enumerate(off):
            if d == 0:
                continue
            n = spatial[ax] - abs(d)
            s0, s1 = (0, d) if d > 0 else (-d, 0)
            f_lo, f_hi = f_lo.narrow(ax + 2, s0, n), f_hi.narrow(ax + 2, s1, n)
            p_lo, p_hi = p_lo.narrow(ax + 2, s0, n), p_hi.narrow(ax + 2, s1, n)
            m_lo, m_hi = m_lo.narrow(ax + 2, s0, n), m_hi.narrow(ax + 2, s1, n)
        d2 = sum(d * d for d in off)
        k = (f_lo - f_hi).square_()
        if k.shape[1] > 1:
            k = k.sum(1, keepdim=True)
        k.mul_(-0.5).add_(b * d2 + math.log(weight)).exp_()
        k_sum.add_(k.sum(), alpha=2)
        m_lo.addcmul_(k, p_hi)
        m_hi.addcmul_(k, p_lo)
    # The seed's zero-padded neighbours (border 'seed'): g_i times a per-plane-position weight.
    g = f.square().sum(1, keepdim=True).mul_(-0.5).exp_()
    for axes, (ra, rb) in planes:
        A, B = spatial[axes[0]], spatial[axes[1]]
        x = np.arange(A)[:, None]
        y = np.arange(B)[None, :]
        inside = lambda t, n, r: np.minimum(t, r) + np.minimum(n - 1 - t, r) + 1  # noqa: E731
        cnt = (2 * ra + 1) * (2 * rb + 1) - inside(x, A, ra) * inside(y, B, rb)
        w = np.where(cnt == 0, 0.0, cnt * np.exp(b * (x * x + y * y)))
        wt = torch.from_numpy(w)
        if axes[0] > axes[1]:
            wt = wt.t()
        shape = [1] * rank
        shape[axes[0]] = A
        shape[axes[1]] = B
        k_sum.add_((g * wt.to(pd.dtype).reshape([1, 1] + shape)).sum())
    return k_sum, m


def potts_loss(p, pd, k_sum, m, denom):
    potts = (p * m).sum() * 2 - (pd * m).sum()
    return (k_sum - potts) / denom


def loop_2d(probs, image, radius, sigma_xy, sigma_rgb):
    with torch.no_grad():
        pd = probs.detach()
        k_sum, m = crf_message(pd, image / sigma_rgb, [((0, 1), (radius, radius))], sigma_xy)
    b, _, h, w = probs.shape
    return potts_loss(probs, pd, k_sum, m, b * h * w)


def loop_3d(logits, image, down, radius, sigma_xy, sigma_rgb):
    x = logits if down is None else F.interpolate(logits, size=down, mode='trilinear', align_corners=True)
    probs = torch.softmax(x, 1)
    rr = (radius, radius)
    planes = [((0, 1), rr), ((2, 0), rr), ((1, 2), rr)]
    with torch.no_grad():
        im = image if down is None else F.interpolate(image, size=down, mode='trilinear', align_corners=True)
        pd = probs.detach()
        k_sum, m = crf_message(pd, im / sigma_rgb, planes, sigma_xy)
    n = probs.shape[0] * probs[0, 0].numel()
    return potts_loss(probs, pd, k_sum, m, n * len(planes))


# --- (a) the seed's unfold form (shared with the fixture script) ----------------------------

def seed_2d(probs, image, radius, sigma_xy, sigma_rgb):
    b, _, h, w = probs.shape
    return seed.crf2d(probs, image, (radius, radius), sigma_xy, sigma_rgb) / (b * h * w)


def seed_3d(logits, image, down, radius, sigma_xy, sigma_rgb):
    return seed.multiview(logits, image, down, (radius, radius), sigma_xy, sigma_rgb)


def run(case, impl):
    """One forward + backward from a fresh leaf; returns (loss, grad)."""
    c = CASES[case]
    x = c['x'].clone().requires_grad_(True)
    if c['kind'] == '2d':
        fn = seed_2d if impl == 'seed' else loop_2d
        loss = fn(torch.softmax(x, 1), c['image'], c['radius'], c['sigma_xy'], c['sigma_rgb'])
    else:
        fn = seed_3d if impl == 'seed' else loop_3d
        loss = fn(x, c['image'], c['down'], c['radius'], c['sigma_xy'], c['sigma_rgb'])
    loss.backward()
    return loss.item(), x.grad


def read(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype=np.float32).reshape(shape))


def setup(cmd):
    torch.set_num_threads(int(cmd['threads']))
    return {'versions': {'python': sys.version.split()[0], 'torch': torch.__version__}, 'threads': torch.get_num_threads()}


def load(cmd):
    CASES[cmd['case']] = {
        'kind': cmd['kind'], 'x': read(cmd['x'], cmd['xshape']), 'image': read(cmd['image'], cmd['ishape']),
        'radius': int(cmd['radius']), 'sigma_xy': float(cmd['sigma_xy']), 'sigma_rgb': float(cmd['sigma_rgb']),
        'down': cmd.get('down'),
    }
    return {}


def check(cmd):
    loss, grad = run(cmd['case'], cmd['impl'])
    grad.numpy().astype(np.float32).tofile(cmd['grad'])
    return {'loss': loss}


def timed(cmd):
    t0 = time.perf_counter()
    run(cmd['case'], cmd['impl'])
    return {'ms': (time.perf_counter() - t0) * 1000}


if __name__ == '__main__':
    serve({'setup': setup, 'load': load, 'check': check, 'time': timed})
