#!/usr/bin/python3
"""Python side of `bench/geodesic.ts`: the exact geodesic distance by
scipy.sparse.csgraph.dijkstra on the same 26-neighbour graph as the raster
scan (edge cost len / ((1 - lam) + lam / (|dI| + 1e-5)), GeodisTK's step),
from all seeds at once (min_only). Graph building and Dijkstra are timed apart.

Protocol: one JSON command per line on stdin, one JSON reply per line:
  {"op": "setup", "file": path, "dims": [nx, ny, nz], "spacing": [sx, sy, sz],
   "seeds": [linear index, ...], "lambda": l}               -> {"versions": {...}}
  {"op": "run", "out": path}  -> {"build_ms": t, "dijkstra_ms": t, "edges": m}
                                 (distances written to `out` as float64, x fastest)
  {"op": "quit"}
The file holds the float32 image, x fastest (numpy C order (z, y, x)).
"""
import sys
import time

import numpy as np
import scipy
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from py_serve import serve

STATE = {}


def build_graph(img, sp_zyx, lam):
    nz, ny, nx = img.shape
    idx = np.arange(img.size, dtype=np.int32).reshape(img.shape)
    rows, cols, ws = [], [], []
    for dz in (-1, 0, 1):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dz == dy == dx == 0:
                    continue
                a = tuple(slice(max(0, -d), n - max(0, d)) for d, n in ((dz, nz), (dy, ny), (dx, nx)))
                b = tuple(slice(max(0, d), n - max(0, -d)) for d, n in ((dz, nz), (dy, ny), (dx, nx)))
                length = np.sqrt((dz * sp_zyx[0]) ** 2 + (dy * sp_zyx[1]) ** 2 + (dx * sp_zyx[2]) ** 2)
                g = np.abs(img[a] - img[b]).ravel() + 1e-5
                rows.append(idx[a].ravel())
                cols.append(idx[b].ravel())
                ws.append(length / ((1.0 - lam) + lam / g))
    return csr_matrix((np.concatenate(ws), (np.concatenate(rows), np.concatenate(cols))), shape=(img.size, img.size))


def run(out):
    t0 = time.perf_counter()
    g = build_graph(STATE['img'], STATE['sp'], STATE['lam'])
    t1 = time.perf_counter()
    d = dijkstra(g, directed=True, indices=STATE['seeds'], min_only=True)
    t2 = time.perf_counter()
    d.astype(np.float64).tofile(out)
    return {'build_ms': (t1 - t0) * 1000, 'dijkstra_ms': (t2 - t1) * 1000, 'edges': int(g.nnz)}


def setup(cmd):
    nx, ny, nz = cmd['dims']
    img = np.fromfile(cmd['file'], dtype=np.float32).reshape(nz, ny, nx).astype(np.float64)
    STATE.update(img=img, sp=cmd['spacing'][::-1], seeds=np.asarray(cmd['seeds'], np.int64), lam=cmd['lambda'])
    return {'versions': {'python': sys.version.split()[0], 'numpy': np.__version__, 'scipy': scipy.__version__}}


def main():
    serve({'setup': setup, 'run': lambda cmd: run(cmd['out'])})


if __name__ == '__main__':
    main()
