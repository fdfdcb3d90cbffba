// Engine demo: trains a small 2D U-Net with cross-entropy + soft Dice on a
// synthetic segmentation task (noisy ellipses under a smooth bias field),
// evaluates Dice on held-out images, saves the weights as safetensors and
// checks that a fresh model loaded from them predicts identically.
// The backbone issue replaces this with a demo on bundled real data.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../src/index.js';
import { F, nn, optim, type Tensor } from '../src/index.js';

const SIZE = 64;

/** N images [N,1,S,S] with 1–3 random ellipses each, and their masks [N,S,S]. */
function makeData(n: number, gen: torch.Generator): { x: Tensor; y: Tensor } {
  return torch.tidy(() => {
    const coords = torch.linspace(-1, 1, SIZE);
    const yy = coords.view([1, SIZE, 1]);
    const xx = coords.view([1, 1, SIZE]);
    let mask = torch.zeros([n, SIZE, SIZE], { dtype: 'bool' });
    for (let k = 0; k < 3; k++) {
      const r = torch.rand([n, 5, 1, 1], { generator: gen });
      const cy = r.index([':', 0]).mul(1.2).sub(0.6);
      const cx = r.index([':', 1]).mul(1.2).sub(0.6);
      const ry = r.index([':', 2]).mul(0.25).add(0.12);
      const rx = r.index([':', 3]).mul(0.25).add(0.12);
      const present = r.index([':', 4]).gt(k === 0 ? -1 : 0.5);
      const inside = yy.sub(cy).div(ry).square().add(xx.sub(cx).div(rx).square()).lt(1).logicalAnd(present);
      mask = mask.logicalOr(inside);
    }
    const bias = yy.mul(0.6).add(xx.mul(0.3)).add(1);
    const noise = torch.randn([n, SIZE, SIZE], { generator: gen }).mul(0.45);
    const image = mask.float().mul(bias).add(noise).unsqueeze(1);
    return { x: image, y: mask.long() };
  });
}

function block(cin: number, cout: number): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(cin, cout, 3, { padding: 1 }),
    new nn.InstanceNorm2d(cout, { affine: true }),
    new nn.LeakyReLU(0.01),
    new nn.Conv2d(cout, cout, 3, { padding: 1 }),
    new nn.InstanceNorm2d(cout, { affine: true }),
    new nn.LeakyReLU(0.01),
  );
}

class TinyUNet extends nn.Module {
  enc1 = this.addModule('enc1', block(1, 8));
  enc2 = this.addModule('enc2', block(8, 16));
  bottom = this.addModule('bottom', block(16, 32));
  up2 = this.addModule('up2', new nn.ConvTranspose2d(32, 16, 2, { stride: 2 }));
  dec2 = this.addModule('dec2', block(32, 16));
  up1 = this.addModule('up1', new nn.ConvTranspose2d(16, 8, 2, { stride: 2 }));
  dec1 = this.addModule('dec1', block(16, 8));
  head = this.addModule('head', new nn.Conv2d(8, 2, 1));

  forward(x: Tensor): Tensor {
    const s1 = this.enc1.forward(x);
    const s2 = this.enc2.forward(F.maxPool2d(s1, 2));
    const b = this.bottom.forward(F.maxPool2d(s2, 2));
    const d2 = this.dec2.forward(torch.cat([this.up2.forward(b), s2], 1));
    const d1 = this.dec1.forward(torch.cat([this.up1.forward(d2), s1], 1));
    return this.head.forward(d1);
  }
}

function softDiceLoss(logits: Tensor, target: Tensor): Tensor {
  const probs = F.softmax(logits, 1);
  const onehot = F.oneHot(target, 2).permute([0, 3, 1, 2]).float();
  const inter = probs.mul(onehot).sum([0, 2, 3]);
  const denom = probs.sum([0, 2, 3]).add(onehot.sum([0, 2, 3]));
  return torch.onesLike(inter).sub(inter.mul(2).add(1e-5).div(denom.add(1e-5))).mean();
}

function dice(pred: Tensor, target: Tensor): number {
  return torch.tidy(() => {
    const p = pred.eq(1);
    const t = target.eq(1);
    const inter = p.logicalAnd(t).sum().item();
    return (2 * inter) / (p.sum().item() + t.sum().item());
  });
}

function predict(model: TinyUNet, x: Tensor): Tensor {
  return torch.noGrad(() => torch.tidy(() => model.forward(x).argmax(1)));
}

const started = Date.now();
console.log(`Labelwise engine demo — libtorch ${torch.version()}, ${torch.getNumThreads()} threads`);
torch.manualSeed(0);
const gen = new torch.Generator(1234);
const train = makeData(96, gen);
const test = makeData(32, gen);
const model = new TinyUNet();
console.log(`model: ${model.numParameters()} parameters; data: ${train.x.shape[0]} training and ${test.x.shape[0]} test images of ${SIZE}x${SIZE}`);

const steps = 120;
const batch = 12;
const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 3e-5 });
const sched = new optim.lrScheduler.PolyLR(opt, steps);
const before = dice(predict(model, test.x), test.y);
const order = new torch.Generator(7);
for (let step = 0; step < steps; step++) {
  const loss = torch.tidy(() => {
    const idx = torch.randperm(train.x.shape[0], { generator: order }).narrow(0, 0, batch);
    const x = train.x.indexSelect(0, idx);
    const y = train.y.indexSelect(0, idx);
    opt.zeroGrad();
    const logits = model.forward(x);
    const l = F.crossEntropy(logits, y).add(softDiceLoss(logits, y));
    l.backward();
    opt.step();
    return l.item();
  });
  sched.step();
  if (step % 20 === 0 || step === steps - 1) console.log(`step ${String(step).padStart(3)}  loss ${loss.toFixed(4)}  lr ${sched.getLastLr()[0].toFixed(4)}`);
}
model.eval();
const pred = predict(model, test.x);
const after = dice(pred, test.y);
console.log(`test Dice: ${before.toFixed(3)} before training -> ${after.toFixed(3)} after ${steps} steps`);

const outDir = join(process.cwd(), 'out', 'demo');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, 'tiny_unet.safetensors');
torch.saveSafetensors(file, model.stateDict(), { format: 'pt', model: 'TinyUNet' });
const reloaded = new TinyUNet();
reloaded.loadStateDict(torch.loadSafetensors(file));
reloaded.eval();
const same = predict(reloaded, test.x).equal(pred);
console.log(`weights saved to ${file}; reloaded model predicts identically: ${same}`);
console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (!same || after < 0.8) process.exitCode = 1;
