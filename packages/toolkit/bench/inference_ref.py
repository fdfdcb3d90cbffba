"""PyTorch side of bench/inference.ts: nnU-Net-style sliding-window prediction.

Run by the TypeScript benchmark as a child process (Debian's /usr/bin/python3,
torch 1.13); it reads one JSON command per line on stdin and answers one JSON
line on stdout, so the two sides take turns and never share the cores.

The loop is nnU-Net v2's predict_sliding_window_return_logits on the CPU:
window starts from compute_steps, one window per forward pass, logits
multiplied by the Gaussian importance map and added into a full-volume
accumulator, the map itself added into a full-volume weight sum, then one
division and an argmax. The network is dynamic_network_architectures'
PlainConvUNet (the twin in test/fixtures/nets_ref.py) with the TypeScript
side's weights, read from a safetensors file with json + numpy (torch 1.13
has no safetensors package).

Commands:
  {"op": "setup", "weights": F, "image": F, "shape": [C, Z, Y, X], "net": {...},
   "patch": [..], "overlap": 0.5, "threads": N}
  {"op": "run", "out": F | null}     time one prediction; with "out", write
                                      probabilities (float32 [K, Z, Y, X]) then
                                      labels (uint8 [Z, Y, X]) to F. Replies with
                                      the run's peak RSS (VmHWM reset before it)
  {"op": "forward"}                  time one forward pass of the first window
  {"op": "ctmem", "shape": [Z, Y, X], "patch": [..], "classes": K, "seed": S, "threads": N}
                                      the same loop with a pointwise
                                      one-convolution network on a synthetic
                                      CT-sized volume
  {"op": "quit"}
"""
import json
import os
import resource
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'test', 'fixtures'))
from nets_ref import PlainConvUNet  # noqa: E402

SAFETENSORS_DTYPES = {'F32': np.float32, 'F64': np.float64, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32,
                      'I16': np.int16, 'I8': np.int8, 'U8': np.uint8, 'BOOL': np.bool_}


def read_safetensors(path):
    """The format: u64 little-endian header length, a JSON header, raw little-endian tensor bytes."""
    with open(path, 'rb') as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], 'little')
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        begin, end = info['data_offsets']
        arr = np.frombuffer(blob, dtype=SAFETENSORS_DTYPES[info['dtype']], count=(end - begin) // np.dtype(SAFETENSORS_DTYPES[info['dtype']]).itemsize,
                            offset=base + begin)
        out[name] = torch.from_numpy(arr.reshape(info['shape']).copy())
    return out


def compute_steps(patch_size, image_size, step_size):
    """nnU-Net's compute_steps_for_sliding_window (step_size = 1 - overlap)."""
    assert all(i >= j for i, j in zip(image_size, patch_size)), 'image must be at least the patch size'
    target = [i * step_size for i in patch_size]
    num_steps = [int(np.ceil((i - k) / j)) + 1 for i, j, k in zip(image_size, target, patch_size)]
    steps = []
    for dim in range(len(patch_size)):
        max_step = image_size[dim] - patch_size[dim]
        actual = max_step / (num_steps[dim] - 1) if num_steps[dim] > 1 else 99999999999
        steps.append([int(np.round(actual * i)) for i in range(num_steps[dim])])
    return steps


def gaussian_importance(patch):
    """Labelwise's map: a separable Gaussian, sigma = patch / 8, centred at (p - 1) / 2, max 1 (float64 → float32)."""
    m = np.ones([1] * len(patch))
    for axis, p in enumerate(patch):
        sigma = p / 8
        x = np.arange(p, dtype=np.float64) - (p - 1) / 2
        shape = [1] * len(patch)
        shape[axis] = p
        m = m * np.exp(-(x * x) / (2 * sigma * sigma)).reshape(shape)
    m = m / m.max()
    m[m == 0] = m[m > 0].min()
    return torch.from_numpy(m.astype(np.float32))


def sliding_window(network, data, patch, overlap, want_probs):
    """data: float32 [C, *spatial]. Returns (labels uint8, probabilities or None)."""
    spatial = data.shape[1:]
    steps = compute_steps(patch, spatial, 1 - overlap)
    gaussian = gaussian_importance(patch)
    predicted = None
    n_predictions = torch.zeros(spatial, dtype=torch.float32)
    for sx in steps[0]:
        for sy in steps[1]:
            for sz in steps[2]:
                sl = (slice(None), slice(sx, sx + patch[0]), slice(sy, sy + patch[1]), slice(sz, sz + patch[2]))
                prediction = network(data[sl][None])[0]
                if predicted is None:
                    predicted = torch.zeros((prediction.shape[0], *spatial), dtype=torch.float32)
                prediction *= gaussian
                predicted[sl] += prediction
                n_predictions[sl[1:]] += gaussian
    predicted /= n_predictions
    labels = predicted.argmax(0).to(torch.uint8)
    probs = torch.softmax(predicted, 0) if want_probs else None
    return labels, probs, steps


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reset_peak():
    """Linux: writing 5 to clear_refs resets VmHWM (the peak RSS) so one run's peak can be read."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def peak_mib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    return max_rss_mib()


class State:
    network = None
    data = None
    patch = None
    overlap = 0.5


def setup(cmd):
    torch.set_num_threads(int(cmd['threads']))
    n = cmd['net']
    net = PlainConvUNet(n['inChannels'], n['features'], 3, n['kernels'], n['strides'], [2] * len(n['features']), n['numClasses'],
                        [2] * (len(n['features']) - 1), bias=True, deep_supervision=False)
    weights = read_safetensors(cmd['weights'])
    net.load_state_dict(weights, strict=True)
    net.eval()
    State.network = net
    shape = cmd['shape']
    State.data = torch.from_numpy(np.fromfile(cmd['image'], dtype=np.float32).reshape(shape))
    State.patch = cmd['patch']
    State.overlap = cmd['overlap']
    params = sum(p.numel() for p in net.parameters())
    import platform
    import scipy  # noqa: F401  (versions only)
    return {'params': params, 'threads': torch.get_num_threads(), 'rss_mib': max_rss_mib(),
            'versions': {'python': platform.python_version(), 'torch': torch.__version__, 'numpy': np.__version__}}


def run(cmd):
    out = cmd.get('out')
    reset = reset_peak()
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    with torch.no_grad():
        labels, probs, steps = sliding_window(State.network, State.data, State.patch, State.overlap, out is not None)
    ms = (time.perf_counter() - t0) * 1000
    cpu = cpu_seconds() - c0
    run_peak = peak_mib() if reset else None
    if out:
        with open(out, 'wb') as f:
            f.write(probs.numpy().tobytes())
            f.write(labels.numpy().tobytes())
    return {'ms': ms, 'cpu_s': cpu, 'rss_mib': max_rss_mib(), 'run_peak_mib': run_peak, 'steps': steps, 'classes': int(probs.shape[0]) if probs is not None else None}


def forward(cmd):
    """One forward pass of the first window alone (the network's share of a run)."""
    p = State.patch
    x = State.data[:, :p[0], :p[1], :p[2]][None].contiguous()
    reset = reset_peak()
    rss0 = peak_mib()
    t0 = time.perf_counter()
    with torch.no_grad():
        State.network(x)
    return {'ms': (time.perf_counter() - t0) * 1000, 'run_peak_mib': peak_mib() - rss0 if reset else None}


def ctmem(cmd):
    torch.set_num_threads(int(cmd['threads']))
    torch.manual_seed(cmd['seed'])
    shape = cmd['shape']
    k = cmd['classes']
    net = torch.nn.Conv3d(1, k, 1)
    net.eval()
    g = torch.Generator().manual_seed(cmd['seed'])
    data = torch.rand([1, *shape], generator=g)
    before = max_rss_mib()
    t0 = time.perf_counter()
    with torch.no_grad():
        labels, _, _ = sliding_window(net, data, cmd['patch'], cmd['overlap'], False)
    return {'ms': (time.perf_counter() - t0) * 1000, 'rss_before_mib': before, 'rss_mib': max_rss_mib(), 'fg': int(labels.sum())}


def main():
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd.get('op')
        try:
            if op == 'quit':
                break
            if op == 'setup':
                reply = setup(cmd)
            elif op == 'run':
                reply = run(cmd)
            elif op == 'forward':
                reply = forward(cmd)
            elif op == 'ctmem':
                reply = ctmem(cmd)
            else:
                reply = {'error': f'unknown op {op}'}
        except Exception as e:  # reported to the TypeScript side, which stops
            reply = {'error': f'{type(e).__name__}: {e}'}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
