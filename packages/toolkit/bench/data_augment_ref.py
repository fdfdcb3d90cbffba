#!/usr/bin/python3
"""Python side of `bench/data-augment.ts`: batchgenerators-style augmentation
with numpy + scipy.ndimage, timed here.

The spatial part follows batchgenerators' augment_spatial (the code nnU-Net
v1 trained with): a zero-centred coordinate mesh, an elastic displacement
added to it (uniform noise in [-1, 1] smoothed by scipy.ndimage.gaussian_filter
with mode 'constant', times alpha, one field per axis), rotation of the
coordinates (3D: about each axis), isotropic scaling, then
scipy.ndimage.map_coordinates with order 1 for the image and order 0 for the
label (mode 'constant', cval 0). The intensity part follows augment_gamma
(retain_stats), augment_gaussian_noise and multiplicative brightness.

Protocol: one JSON command per line on stdin, one JSON reply per line:
  {"op": "setup", "shape": [...], "alpha": a, "sigma": s, "seed": n}
  {"op": "run", "n": k}   -> {"ms": [k per-patch times], "check": float, "cpu": seconds}
  {"op": "quit"}
Run with Debian's /usr/bin/python3 (numpy, scipy).
"""
import json
import math
import sys
import time

import numpy as np
import scipy
from scipy.ndimage import gaussian_filter, map_coordinates

STATE = {}


def rot_x(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rot_z(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def augment(img, seg, rng, alpha, sigma):
    shape = img.shape
    dim = len(shape)
    # create_zero_centered_coordinate_mesh
    coords = np.array(np.meshgrid(*[np.arange(s) for s in shape], indexing='ij')).astype(float)
    for d in range(dim):
        coords[d] -= (shape[d] - 1) / 2.0
    # elastic_deform_coordinates
    offsets = [gaussian_filter(rng.random(shape) * 2 - 1, sigma, mode='constant', cval=0) * alpha for _ in range(dim)]
    coords = coords + np.array(offsets)
    # rotate_coords_3d / rotate_coords_2d
    if dim == 3:
        a = rng.uniform(-math.pi / 6, math.pi / 6, 3)
        rot = rot_x(a[0]) @ rot_y(a[1]) @ rot_z(a[2])
    else:
        a = rng.uniform(-math.pi / 6, math.pi / 6)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    coords = np.dot(coords.reshape(dim, -1).transpose(), rot).transpose().reshape(coords.shape)
    # scale_coords
    coords *= rng.uniform(0.85, 1.25)
    for d in range(dim):
        coords[d] += (shape[d] - 1) / 2.0
    out = map_coordinates(img, coords, order=1, mode='constant', cval=0)
    out_seg = map_coordinates(seg.astype(float), coords, order=0, mode='constant', cval=0).astype(seg.dtype)
    # augment_gamma(retain_stats=True)
    gamma = rng.uniform(0.7, 1.0) if rng.random() < 0.5 else rng.uniform(1.0, 1.5)
    mn, sd = out.mean(), out.std()
    minm = out.min()
    rnge = out.max() - minm
    out = np.power((out - minm) / float(rnge + 1e-7), gamma) * rnge + minm
    out = out - out.mean()
    out = out / (out.std() + 1e-8) * sd
    out = out + mn
    # augment_gaussian_noise (std 0.1)
    out = out + rng.normal(0.0, 0.1, size=out.shape)
    # multiplicative brightness
    out *= rng.uniform(0.75, 1.25)
    return out, out_seg


def setup(cmd):
    shape = tuple(cmd['shape'])
    rng = np.random.default_rng(cmd['seed'])
    img = gaussian_filter(rng.standard_normal(shape).astype(np.float32), 2.0)
    img = (img - img.mean()) / img.std()
    seg = ((img > 0.5).astype(np.uint8) + (img > 1.5).astype(np.uint8))
    STATE.update(img=img, seg=seg, alpha=cmd['alpha'], sigma=cmd['sigma'], rng=np.random.default_rng(cmd['seed'] + 1))
    return {}


def run(cmd):
    times = []
    check = 0.0
    cpu0 = time.process_time()
    for _ in range(cmd['n']):
        t = time.perf_counter()
        out, seg = augment(STATE['img'], STATE['seg'], STATE['rng'], STATE['alpha'], STATE['sigma'])
        times.append((time.perf_counter() - t) * 1e3)
        check += float(np.abs(out).mean()) + float(seg.mean())
    return {'ms': times, 'check': check, 'cpu': time.process_time() - cpu0}


def main():
    print(json.dumps({'ready': True, 'versions': {'python': sys.version.split()[0], 'numpy': np.__version__, 'scipy': scipy.__version__}}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd['op'] == 'quit':
            break
        try:
            reply = setup(cmd) if cmd['op'] == 'setup' else run(cmd)
        except Exception as e:  # report, keep serving
            reply = {'error': f'{type(e).__name__}: {e}'}
        print(json.dumps(reply), flush=True)


if __name__ == '__main__':
    main()
