#!/usr/bin/python3
"""PyTorch side of `npm run bench:engine`.

Started by packages/torch/bench/engine.ts as a child process. It builds the
same U-Net as bench/unet.ts (same module tree and state-dict names) and waits
for one command per line on stdin, answering each with one line of JSON on
stdout (diagnostics go to stderr). The TypeScript side alternates between
timing itself and sending commands here, so the two never run at once.

Commands:
  env                          versions and threads
  threads N                    torch.set_num_threads(N)
  build DIMS WEIGHTS DATA      build the U-Net (DIMS = 2d | 3d), load the
                               TypeScript init and the input / labels from
                               safetensors files; answers the parameter count
  step DIMS K                  K timed training steps: wall, user and system
                               seconds, minor page faults, losses
  free DIMS                    drop that model
  ops NAME N REPS              REPS timings of N calls of a small op: µs/op
  quit
"""
import json
import platform
import resource
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- safetensors, read with the standard library + torch.frombuffer ---------

ST_DTYPES = {
    'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
    'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8,
    'U8': torch.uint8, 'BOOL': torch.bool,
}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        dtype = ST_DTYPES[info['dtype']]
        if end == start:
            t = torch.empty(0, dtype=dtype)
        else:
            # bytearray: a writable copy, so the tensor owns its memory.
            t = torch.frombuffer(bytearray(data[base + start:base + end]), dtype=dtype)
        out[name] = t.reshape(info['shape'])
    return out


# ---- the model: the same tree and names as bench/unet.ts ---------------------

class ConvBlock(nn.Module):
    def __init__(self, dims, cin, cout, stride):
        super().__init__()
        Conv = nn.Conv3d if dims == 3 else nn.Conv2d
        Norm = nn.InstanceNorm3d if dims == 3 else nn.InstanceNorm2d
        self.conv1 = Conv(cin, cout, 3, stride=stride, padding=1)
        self.norm1 = Norm(cout, affine=True)
        self.act1 = nn.LeakyReLU(0.01, inplace=True)
        self.conv2 = Conv(cout, cout, 3, padding=1)
        self.norm2 = Norm(cout, affine=True)
        self.act2 = nn.LeakyReLU(0.01, inplace=True)

    def forward(self, x):
        x = self.act1(self.norm1(self.conv1(x)))
        return self.act2(self.norm2(self.conv2(x)))


class UNet(nn.Module):
    def __init__(self, dims, in_channels, num_classes, channels):
        super().__init__()
        ConvT = nn.ConvTranspose3d if dims == 3 else nn.ConvTranspose2d
        Conv = nn.Conv3d if dims == 3 else nn.Conv2d
        ch = channels
        self.enc = nn.ModuleList(
            ConvBlock(dims, in_channels if i == 0 else ch[i - 1], c, 1 if i == 0 else 2) for i, c in enumerate(ch))
        self.up = nn.ModuleList(ConvT(ch[i], ch[i - 1], 2, stride=2) for i in range(len(ch) - 1, 0, -1))
        self.dec = nn.ModuleList(ConvBlock(dims, 2 * ch[i - 1], ch[i - 1], 1) for i in range(len(ch) - 1, 0, -1))
        self.head = Conv(ch[0], num_classes, 1)

    def forward(self, x):
        skips = []
        h = x
        for i, block in enumerate(self.enc):
            h = block(h)
            if i < len(self.enc) - 1:
                skips.append(h)
        for j, (up, dec) in enumerate(zip(self.up, self.dec)):
            h = dec(torch.cat([up(h), skips[-1 - j]], 1))
        return self.head(h)


def ce_dice_loss(logits, labels, num_classes, smooth=1e-5):
    nd = logits.dim() - 2
    ce = F.cross_entropy(logits, labels)
    p = F.softmax(logits, 1)
    spatial = list(range(1, nd + 1))
    y = F.one_hot(labels, num_classes).permute(0, nd + 1, *spatial).float()
    dims = [0] + [d + 1 for d in spatial]
    inter = (p * y).sum(dims)
    denom = p.sum(dims) + y.sum(dims)
    dice = (inter * 2 + smooth) / (denom + smooth)
    return ce + (1 - dice.mean())


class Trainer:
    def __init__(self, model, x, y, num_classes):
        self.model, self.x, self.y, self.num_classes = model, x, y, num_classes
        # foreach=True: the same _foreach_* kernels as the TypeScript SGD
        # (1.13's default is the per-parameter loop).
        self.opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99, nesterov=True,
                                   weight_decay=3e-5, foreach=True)

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = ce_dice_loss(self.model(self.x), self.y, self.num_classes)
        loss.backward()
        self.opt.step()
        return loss.item()


# ---- small-op dispatch overhead ----------------------------------------------

def make_op(name):
    a = torch.tensor([1.0, -2.0, 3.0, -4.0])
    b = torch.tensor([0.5, 0.25, -1.0, 2.0])
    m = a.reshape(2, 2)
    if name == 'add':
        return lambda: torch.add(a, b)
    if name == 'mul':
        return lambda: torch.mul(a, b)
    if name == 'relu':
        return lambda: torch.relu(a)
    if name == 'sum':
        return lambda: torch.sum(m, 1, keepdim=True)
    raise ValueError(f'unknown op {name}')


def time_op(name, n, reps):
    fn = make_op(name)
    per_op = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        per_op.append((time.perf_counter() - t0) / n * 1e6)
    return per_op


# ---- command loop ----------------------------------------------------------------

def main():
    trainers = {}
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        cmd, args = parts[0], parts[1:]
        try:
            if cmd == 'env':
                reply = {'torch': torch.__version__, 'python': platform.python_version(),
                         'threads': torch.get_num_threads()}
            elif cmd == 'threads':
                torch.set_num_threads(int(args[0]))
                reply = {'threads': torch.get_num_threads()}
            elif cmd == 'build':
                dims = 3 if args[0] == '3d' else 2
                cfg = json.loads(args[3])
                model = UNet(dims, cfg['inChannels'], cfg['numClasses'], cfg['channels'])
                model.load_state_dict(read_safetensors(args[1]), strict=True)
                data = read_safetensors(args[2])
                trainers[args[0]] = Trainer(model, data['x'], data['y'], cfg['numClasses'])
                reply = {'params': sum(p.numel() for p in model.parameters())}
            elif cmd == 'step':
                tr = trainers[args[0]]
                reply = {'seconds': [], 'user': [], 'sys': [], 'minflt': [], 'losses': []}
                for _ in range(int(args[1])):
                    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
                    reply['losses'].append(tr.step())
                    reply['seconds'].append(time.perf_counter() - t0)
                    r1 = resource.getrusage(resource.RUSAGE_SELF)
                    reply['user'].append(r1.ru_utime - r0.ru_utime)
                    reply['sys'].append(r1.ru_stime - r0.ru_stime)
                    reply['minflt'].append(r1.ru_minflt - r0.ru_minflt)
            elif cmd == 'free':
                trainers.pop(args[0], None)
                reply = {}
            elif cmd == 'ops':
                reply = {'us': time_op(args[0], int(args[1]), int(args[2]))}
            elif cmd == 'quit':
                print(json.dumps({}), flush=True)
                return
            else:
                reply = {'error': f'unknown command {cmd!r}'}
        except Exception as e:  # reported to the TypeScript side, which aborts
            reply = {'error': f'{type(e).__name__}: {e}'}
        print(json.dumps(reply), flush=True)


if __name__ == '__main__':
    main()
