#!/usr/bin/python3
"""Python side of `bench/metrics.ts`: HD95 and ASSD the MedPy way, timed here.

ASSD is the pooled mean of both directed distance sets (MedPy >= 0.5.2 after
its PR #110, MONAI's symmetric average surface distance), Labelwise's default;
not MedPy 0.4's mean of the two directed means.

MedPy's __surface_distances: border = mask ^ binary_erosion(mask,
generate_binary_structure(3, 1)), then distance_transform_edt(~reference_border,
sampling=spacing)[result_border]. MedPy's hd95() and assd() each call it twice
(8 erosions and 4 full-volume EDTs for the pair); this baseline computes each
direction once and derives both metrics from it (1 erosion of each mask per direction,
2 EDTs in all), i.e. the least work a MedPy-style evaluation does.

Protocol: one JSON command per line on stdin, one JSON reply per line:
  {"op": "setup", "file": path, "size": n, "sampling": [sz, sy, sx]} -> {"versions": {...}}
  {"op": "run"}  -> {"ms": t, "hd95": x, "assd": y, "n_border": [na, nb]}
  {"op": "quit"}
The file holds two uint8 masks of n^3 voxels, x fastest (numpy C order (z, y, x)).
"""
import sys
import time

import numpy as np
import scipy
from scipy.ndimage import binary_erosion, distance_transform_edt, generate_binary_structure

from py_serve import serve

STATE = {}


def surface_distances(result, reference, sampling, footprint):
    result_border = result ^ binary_erosion(result, structure=footprint, iterations=1)
    reference_border = reference ^ binary_erosion(reference, structure=footprint, iterations=1)
    dt = distance_transform_edt(~reference_border, sampling=sampling)
    return dt[result_border]


def run():
    a, b, sampling = STATE['a'], STATE['b'], STATE['sampling']
    fp = generate_binary_structure(a.ndim, 1)
    t0 = time.perf_counter()
    d_ab = surface_distances(a, b, sampling, fp)
    d_ba = surface_distances(b, a, sampling, fp)
    hd95 = np.percentile(np.hstack((d_ab, d_ba)), 95)
    assd = (d_ab.sum() + d_ba.sum()) / (d_ab.size + d_ba.size)
    ms = (time.perf_counter() - t0) * 1000
    return {'ms': ms, 'hd95': float(hd95), 'assd': float(assd), 'n_border': [int(d_ab.size), int(d_ba.size)]}


def setup(cmd):
    n = cmd['size']
    raw = np.fromfile(cmd['file'], dtype=np.uint8)
    STATE['a'] = raw[:n ** 3].reshape(n, n, n).astype(bool)
    STATE['b'] = raw[n ** 3:].reshape(n, n, n).astype(bool)
    STATE['sampling'] = cmd['sampling']
    return {'versions': {'python': sys.version.split()[0], 'numpy': np.__version__, 'scipy': scipy.__version__}}


def main():
    serve({'setup': setup, 'run': lambda cmd: run()})


if __name__ == '__main__':
    main()
