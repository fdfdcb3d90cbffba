#!/usr/bin/python3
"""Python side of `bench/io.ts`: the reference implementations, timed here.

Waits for one JSON command per line on stdin and answers one JSON line with
the wall and CPU milliseconds of the operation alone (interpreter start-up
and command parsing excluded) and a checksum of what was read, so the TS side
can check both sides loaded the same voxels. Run by bench/io.ts with
Debian's /usr/bin/python3 (nibabel 5, pydicom, h5py).
"""
import json
import os
import sys
import time

import numpy as np

STATE = {}


class Timer:
    """Wall and process CPU time (all threads) of the enclosed block, in ms."""

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = (time.perf_counter() - self.w) * 1e3
        self.cpu = (time.process_time() - self.c) * 1e3


def nifti_read(cmd):
    import nibabel as nib
    with Timer() as t:
        data = nib.load(cmd['path']).get_fdata(dtype=np.float32)
    return t, float(data.sum(dtype=np.float64))


def nifti_prepare(cmd):
    import nibabel as nib
    img = nib.load(cmd['path'])
    STATE['nifti'] = (img.get_fdata(dtype=np.float32), img.affine)
    return None, 0.0


def nifti_write(cmd):
    import nibabel as nib
    data, affine = STATE['nifti']
    with Timer() as t:
        nib.save(nib.Nifti1Image(data, affine), cmd['out'])
    return t, float(os.path.getsize(cmd['out']))


def dicom_read(cmd):
    """Read every file of the series, order slices along the normal, stack and rescale."""
    import pydicom
    with Timer() as t:
        folder = cmd['path']
        dss = [pydicom.dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder))]
        iop = np.array(dss[0].ImageOrientationPatient, dtype=np.float64)
        normal = np.cross(iop[:3], iop[3:])
        dss.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, dtype=np.float64))))
        vol = np.stack([d.pixel_array for d in dss]).astype(np.float32)
        slope = float(getattr(dss[0], 'RescaleSlope', 1.0))
        inter = float(getattr(dss[0], 'RescaleIntercept', 0.0))
        if slope != 1.0 or inter != 0.0:
            vol = vol * np.float32(slope) + np.float32(inter)
    return t, float(vol.sum(dtype=np.float64))


def h5_read(cmd):
    import h5py
    with Timer() as t:
        with h5py.File(cmd['path'], 'r') as f:
            img = f['image'][()]
    return t, float(img.sum(dtype=np.float64))


OPS = {'nifti_read': nifti_read, 'nifti_prepare': nifti_prepare, 'nifti_write': nifti_write,
       'dicom_read': dicom_read, 'h5_read': h5_read}


def versions():
    out = {'python': sys.version.split()[0], 'numpy': np.__version__}
    for mod in ('nibabel', 'pydicom', 'h5py'):
        try:
            out[mod] = __import__(mod).__version__
        except Exception as e:  # noqa: BLE001 - report, the TS side skips that part
            out[mod] = f'missing ({type(e).__name__})'
    return out


def main():
    print(json.dumps({'ready': True, 'versions': versions()}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd['op'] == 'quit':
            break
        try:
            t, check = OPS[cmd['op']](cmd)
            print(json.dumps({'ms': t.wall if t else 0.0, 'cpu': t.cpu if t else 0.0, 'check': check}), flush=True)
        except Exception as e:  # noqa: BLE001 - report to the TS side
            print(json.dumps({'error': f'{type(e).__name__}: {e}'}), flush=True)


if __name__ == '__main__':
    main()
