// A synthetic segmentation task that a semi-supervised recipe can only solve
// with its unlabelled images: every image holds one bright square of side
// 10–13 (the object, label 1) on a noisy background. Labelled images hold
// nothing else; unlabelled and test images also hold two 6×6 bright squares
// ("specks", label 0) that look locally like the object. A network trained
// on the labelled images alone has never seen a speck and calls it object;
// BCP's pseudo-labels keep only the largest connected component, so on the
// unlabelled images they mark the specks as background, and the student
// learns to tell a speck from the object by its size.
import * as torch from '@labelwise/torch';
import { Rng } from '../src/random/rng.js';
import type { BatchSource } from '../src/training/trainer.js';

export const SIZE = 32;
/** Object sides (inclusive range) and the distractor side. */
export const OBJECT_SIDE: readonly [number, number] = [10, 13];
export const SPECK_SIDE = 6;

export interface SyntheticImage {
  image: Float32Array;
  label: Uint8Array;
  /** Pixels of specks (false-positive bait). */
  speck: Uint8Array;
}

export function syntheticImage(seed: number, kind: string, index: number, specks: number, speckSide = SPECK_SIDE): SyntheticImage {
  const rng = Rng.from(seed, kind, index);
  const n = SIZE * SIZE;
  const image = new Float32Array(n);
  const label = new Uint8Array(n);
  const speck = new Uint8Array(n);
  const side = rng.int(OBJECT_SIDE[0], OBJECT_SIDE[1] + 1);
  const y0 = rng.int(1, SIZE - side);
  const x0 = rng.int(1, SIZE - side);
  for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) label[y * SIZE + x] = 1;
  let placed = 0;
  for (let tries = 0; placed < specks && tries < 200; tries++) {
    const sy = rng.int(0, SIZE - speckSide);
    const sx = rng.int(0, SIZE - speckSide);
    // Keep specks apart from the object and each other (a 1-pixel gap).
    let free = true;
    for (let y = sy - 2; y < sy + speckSide + 2 && free; y++) for (let x = sx - 2; x < sx + speckSide + 2; x++) {
      if (y < 0 || x < 0 || y >= SIZE || x >= SIZE) continue;
      if (label[y * SIZE + x] || speck[y * SIZE + x]) { free = false; break; }
    }
    if (!free) continue;
    for (let y = sy; y < sy + speckSide; y++) for (let x = sx; x < sx + speckSide; x++) speck[y * SIZE + x] = 1;
    placed++;
  }
  for (let i = 0; i < n; i++) image[i] = (label[i] || speck[i] ? 1 : 0) + rng.normal(0, 0.1);
  return { image, label, speck };
}

export function stackImages(items: SyntheticImage[]): { image: torch.Tensor; label: torch.Tensor; speck: torch.Tensor } {
  const n = SIZE * SIZE;
  const image = new Float32Array(items.length * n);
  const label = new Uint8Array(items.length * n);
  const speck = new Uint8Array(items.length * n);
  items.forEach((it, b) => { image.set(it.image, b * n); label.set(it.label, b * n); speck.set(it.speck, b * n); });
  return {
    image: torch.fromTypedArray(image, [items.length, 1, SIZE, SIZE]),
    label: torch.fromTypedArray(label, [items.length, SIZE, SIZE], 'uint8'),
    speck: torch.fromTypedArray(speck, [items.length, SIZE, SIZE], 'uint8'),
  };
}

export interface SyntheticSets {
  labelled: SyntheticImage[];
  unlabelled: SyntheticImage[];
  test: SyntheticImage[];
}

export function syntheticSets(seed: number, counts = { labelled: 8, unlabelled: 48, test: 16 }, specks = 2): SyntheticSets {
  return {
    labelled: Array.from({ length: counts.labelled }, (_, i) => syntheticImage(seed, 'labelled', i, 0)),
    unlabelled: Array.from({ length: counts.unlabelled }, (_, i) => syntheticImage(seed, 'unlabelled', i, specks)),
    test: Array.from({ length: counts.test }, (_, i) => syntheticImage(seed, 'test', i, specks)),
  };
}

/** Batches of `batch` labelled (+ `batch` unlabelled) images, a pure function of the step. */
export function syntheticSource(sets: SyntheticSets, batch: number, seed: number, withUnlabelled: boolean): (start: number) => BatchSource {
  return (start) => {
    let step = start;
    return {
      next: () => {
        const rng = Rng.from(seed, 'batches', step++);
        const pick = (list: SyntheticImage[]) => Array.from({ length: batch }, () => list[rng.int(0, list.length)]);
        const l = stackImages(pick(sets.labelled));
        l.speck.dispose();
        const out: Record<string, torch.Tensor> = { image: l.image, label: l.label };
        if (withUnlabelled) {
          const u = stackImages(pick(sets.unlabelled));
          u.label.dispose();
          u.speck.dispose();
          out.uimage = u.image;
        }
        return Promise.resolve(out);
      },
      close: () => Promise.resolve(),
    };
  };
}

/** A small fully convolutional net whose receptive field (15 px) can tell a 2×2 speck from a 7–11 px square. */
export function tinySegNet(seed: number): torch.nn.Module {
  const g = new torch.Generator(seed);
  const net = new torch.nn.Sequential(
    new torch.nn.Conv2d(1, 8, 3, { padding: 1 }), new torch.nn.ReLU(),
    new torch.nn.Conv2d(8, 8, 3, { padding: 2, dilation: 2 }), new torch.nn.ReLU(),
    new torch.nn.Conv2d(8, 8, 3, { padding: 4, dilation: 4 }), new torch.nn.ReLU(),
    new torch.nn.Conv2d(8, 2, 1),
  );
  for (const p of net.parameters()) torch.noGrad(() => { torch.nn.init.uniform_(p, { a: -0.3, b: 0.3, generator: g }); });
  return net;
}

/** Object Dice and the fraction of speck pixels called object, on the test set. */
export function evaluateSynthetic(model: torch.nn.Module, test: SyntheticImage[]): { dice: number; speckFp: number } {
  return torch.noGrad(() => torch.tidy(() => {
    const t = stackImages(test);
    const was = model.training;
    model.eval();
    const pred = (model.forward(t.image) as torch.Tensor).argmax(1);
    model.train(was);
    const y = t.label.long();
    const inter = pred.eq(1).logicalAnd(y.eq(1)).sum().item();
    const dice = (2 * inter) / (pred.eq(1).sum().item() + y.eq(1).sum().item());
    const speckFp = pred.eq(1).logicalAnd(t.speck.eq(1)).sum().item() / t.speck.sum().item();
    return { dice, speckFp };
  }));
}

/** A two-layer conv net of either dimension, seeded (recipe tests: no dropout or batch norm, so passes are deterministic). */
export function tinyNet(dims: 2 | 3, numClasses: number, seed: number): torch.nn.Module {
  const g = new torch.Generator(seed);
  const Conv = dims === 2 ? torch.nn.Conv2d : torch.nn.Conv3d;
  const net = new torch.nn.Sequential(new Conv(1, 6, 3, { padding: 1 }), new torch.nn.ReLU(), new Conv(6, numClasses, 3, { padding: 1 }));
  for (const p of net.parameters()) torch.noGrad(() => { torch.nn.init.uniform_(p, { a: -0.5, b: 0.5, generator: g }); });
  return net;
}

/** Trains `model` with a registered method's phase on the synthetic sets (Adam, no validation), in a temporary run folder. */
export async function trainPhase(
  model: torch.nn.Module,
  method: string,
  phase: string,
  steps: number,
  sets: SyntheticSets,
  o: { seed: number; params?: Record<string, unknown>; lr?: number; runDir: string },
): Promise<void> {
  const { getMethod } = await import('../src/methods/index.js');
  const { DiceCELoss } = await import('../src/losses/index.js');
  const { Trainer } = await import('../src/training/trainer.js');
  const spec = getMethod(method);
  const recipe = spec.build({ model, makeNetwork: () => tinySegNet(999), loss: new DiceCELoss({ preset: 'bcp_acdc' }), numClasses: 2, spatialDims: 2, totalSteps: steps, seed: o.seed, params: o.params ?? {}, phase });
  const optimizer = new torch.optim.Adam(model.parameters(), { lr: o.lr ?? 0.01 });
  const trainer = new Trainer({
    runDir: o.runDir, model, recipe, optimizer, totalSteps: steps, plot: false, logEvery: 20, checkpointEvery: 1_000_000,
    data: syntheticSource(sets, 4, o.seed, spec.streams.includes('unlabelled')),
    describe: { network: { name: 'tiny' } },
  });
  const r = await trainer.run();
  if (!r.completed) throw new Error(`${method}/${phase} did not complete`);
}
