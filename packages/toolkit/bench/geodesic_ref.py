#!/usr/bin/python3
"""Python side of `bench/geodesic.ts`: the exact geodesic distance by
scipy.sparse.csgraph.dijkstra on the same 26-neighbour graph as the raster
scan (edge cost len / ((1 - lam) + lam / (|dI| + 1e-5)), GeodisTK's step),
from all seeds at once (min_only). Graph building and Dijkstra are timed apart.

The graph is built straight into CSR with 26 slots per voxel (a slot whose
neighbour falls outside the grid points back at the voxel itself with an
infinite cost, which never relaxes anything), so the full 240x240x155 BraTS
volume needs ~2.8 GB (int32 indices + float64 costs) rather than the ~3x that
a COO -> CSR conversion would peak at.

Protocol: one JSON command per line on stdin, one JSON reply per line:
  {"op": "setup", "file": path, "dims": [nx, ny, nz], "spacing": [sx, sy, sz],
   "seeds": [linear index, ...], "lambda": l}               -> {"versions": {...}}
  {"op": "run", "out": path}  -> {"build_ms": t, "dijkstra_ms": t, "edges": m, "peak_rss_mb": r}
                                 (distances written to `out` as float64, x fastest)
  {"op": "quit"}
The file holds the float32 image, x fastest (numpy C order (z, y, x)).
"""
import resource
import sys
import time

import numpy as np
import scipy
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from py_serve import serve

STATE = {}


def build_graph(img, sp_zyx, lam):
    shape = img.shape
    n = img.size
    offsets = [(dz, dy, dx) for dz in (-1, 0, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dz, dy, dx) != (0, 0, 0)]
    m = len(offsets)
    idx = np.arange(n, dtype=np.int32).reshape(shape)
    data = np.full((n, m), np.inf)
    indices = np.empty((n, m), dtype=np.int32)
    for t, off in enumerate(offsets):
        a = tuple(slice(max(0, -d), s - max(0, d)) for d, s in zip(off, shape))  # source voxels with an in-grid neighbour
        b = tuple(slice(max(0, d), s - max(0, -d)) for d, s in zip(off, shape))  # those neighbours
        ind = indices[:, t].reshape(shape)  # strided views into the slot column
        w = data[:, t].reshape(shape)
        ind[...] = idx
        ind[a] = idx[b]
        length = np.sqrt(sum((d * s) ** 2 for d, s in zip(off, sp_zyx)))
        w[a] = length / ((1.0 - lam) + lam / (np.abs(img[a] - img[b]) + 1e-5))
    indptr = np.arange(0, m * n + 1, m, dtype=np.int32)
    g = csr_matrix((data.reshape(-1), indices.reshape(-1), indptr), shape=(n, n))
    edges = int(np.isfinite(data).sum())
    return g, edges


def run(out):
    t0 = time.perf_counter()
    g, edges = build_graph(STATE['img'], STATE['sp'], STATE['lam'])
    t1 = time.perf_counter()
    d = dijkstra(g, directed=True, indices=STATE['seeds'], min_only=True)
    t2 = time.perf_counter()
    del g
    d.astype(np.float64).tofile(out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {'build_ms': (t1 - t0) * 1000, 'dijkstra_ms': (t2 - t1) * 1000, 'edges': edges, 'peak_rss_mb': peak}


def setup(cmd):
    nx, ny, nz = cmd['dims']
    img = np.fromfile(cmd['file'], dtype=np.float32).reshape(nz, ny, nx).astype(np.float64)
    STATE.update(img=img, sp=cmd['spacing'][::-1], seeds=np.asarray(cmd['seeds'], np.int64), lam=cmd['lambda'])
    return {'versions': {'python': sys.version.split()[0], 'numpy': np.__version__, 'scipy': scipy.__version__}}


def main():
    serve({'setup': setup, 'run': lambda cmd: run(cmd['out'])})


if __name__ == '__main__':
    main()
