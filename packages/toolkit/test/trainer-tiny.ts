// A tiny but complete training setup for trainer tests: a conv net with
// dropout (so the RNG matters), SGD with momentum, a poly schedule, and
// batches that are a pure function of the step. Run as a script it trains
// the run folder given on the command line and prints each step, so a test
// can SIGKILL it mid-run.
import * as torch from '@labelwise/torch';
import { supervisedRecipe } from '../src/training/recipe.js';
import { Trainer, type BatchSource, type TrainerOptions } from '../src/training/trainer.js';

export function tinyBatch(step: number): Record<string, torch.Tensor> {
  return torch.tidy(() => {
    const g = new torch.Generator(1000 + step);
    const image = torch.randn([4, 1, 12, 12], { generator: g });
    const label = image.gt(0.3).long().squeeze(1);
    return { image: torch.keep(image), label: torch.keep(label) };
  });
}

export function tinySource(start: number): BatchSource {
  let step = start;
  return { next: () => Promise.resolve(tinyBatch(step++)), close: () => Promise.resolve() };
}

export function tinyTrainer(runDir: string, totalSteps: number, extra: Partial<TrainerOptions> = {}): { trainer: Trainer; model: torch.nn.Module } {
  torch.manualSeed(5);
  const model = new torch.nn.Sequential(
    new torch.nn.Conv2d(1, 8, 3, { padding: 1 }),
    new torch.nn.ReLU(),
    new torch.nn.Dropout(0.3),
    new torch.nn.Conv2d(8, 2, 3, { padding: 1 }),
  );
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const scheduler = new torch.optim.lrScheduler.PolyLR(optimizer, totalSteps, { exponent: 0.9 });
  const recipe = supervisedRecipe(model, (out, target) => torch.F.crossEntropy(out as torch.Tensor, target));
  const trainer = new Trainer({
    runDir, model, recipe, optimizer, scheduler, totalSteps, data: tinySource,
    checkpointEvery: 2, logEvery: 1, describe: { network: { name: 'tiny' } }, ...extra,
  });
  return { trainer, model };
}

/**
 * A two-optimizer setup, as adversarial domain adaptation trains: a
 * segmenter (SGD, poly) whose loss includes fooling a discriminator, and the
 * discriminator (Adam, its own step schedule) telling segmentations of two
 * "sites" apart. Each loss reaches only its own optimizer's parameters.
 */
export function tinyAdversarialTrainer(runDir: string, totalSteps: number, extra: Partial<TrainerOptions> = {}): { trainer: Trainer; model: torch.nn.Module; discriminator: torch.nn.Module } {
  torch.manualSeed(6);
  const model = new torch.nn.Sequential(new torch.nn.Conv2d(1, 8, 3, { padding: 1 }), new torch.nn.ReLU(), new torch.nn.Dropout(0.2), new torch.nn.Conv2d(8, 2, 3, { padding: 1 }));
  const discriminator = new torch.nn.Sequential(new torch.nn.Conv2d(2, 4, 3, { stride: 2, padding: 1 }), new torch.nn.LeakyReLU(0.2), new torch.nn.Conv2d(4, 1, 3, { stride: 2, padding: 1 }));
  const segOpt = new torch.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const discOpt = new torch.optim.Adam(discriminator.parameters(), { lr: 1e-3 });
  const recipe = {
    name: 'tiny_adversarial',
    inputs: ['image', 'label'],
    modules: () => ({ discriminator }),
    step(batch: Record<string, torch.Tensor>) {
      const half = batch.image.shape[0] / 2;
      const out = model.forward(batch.image);
      const source = out.narrow(0, 0, half);
      const target = out.narrow(0, half, half);
      const seg = torch.F.crossEntropy(source, batch.label.narrow(0, 0, half));
      const bce = (x: torch.Tensor, y: number) => torch.F.binaryCrossEntropyWithLogits(x, torch.fullLike(x, y));
      // The segmenter wants target-site outputs to look like the source site's.
      const adv = bce(discriminator.forward(torch.F.softmax(target, 1)), 1);
      const disc = bce(discriminator.forward(torch.F.softmax(source.detach(), 1)), 1).add(bce(discriminator.forward(torch.F.softmax(target.detach(), 1)), 0));
      return { losses: { segmenter: seg.add(adv.mul(0.01)), discriminator: disc }, logs: { adv } };
    },
  };
  const trainer = new Trainer({
    runDir, model, recipe, totalSteps, data: tinySource,
    optimizers: {
      segmenter: { optimizer: segOpt, scheduler: new torch.optim.lrScheduler.PolyLR(segOpt, totalSteps, { exponent: 0.9 }) },
      discriminator: { optimizer: discOpt, scheduler: new torch.optim.lrScheduler.StepLR(discOpt, 3, { gamma: 0.5 }) },
    },
    checkpointEvery: 2, logEvery: 1, describe: { network: { name: 'tiny' } }, ...extra,
  });
  return { trainer, model, discriminator };
}

// Only when spawned by the resume test (node --test also loads helper modules).
if (process.env.LABELWISE_TINY_TRAINER === '1' || process.env.LABELWISE_TINY_TRAINER === 'adversarial') {
  const [runDir, steps] = process.argv.slice(2);
  const make = process.env.LABELWISE_TINY_TRAINER === 'adversarial' ? tinyAdversarialTrainer : tinyTrainer;
  const { trainer } = make(runDir, Number(steps), {
    onEvent: (e) => { if (e.kind === 'checkpoint' || e.kind === 'step') process.stdout.write(`${e.kind} ${e.step}\n`); },
    // Slow steps down so the parent can kill the run in the middle.
    validate: async () => { await new Promise((r) => setTimeout(r, 40)); return { metrics: {}, score: 0 }; },
    validateEvery: 1,
  });
  await trainer.run({ resume: true });
}

/** A job function for the job-runner test: trains the tiny setup, reporting steps, cancellable. */
export async function tinyTrainingJob(o: { runDir: string; steps: number; stepDelayMs: number }, ctx: { signal: AbortSignal; emit: (e: unknown) => void }): Promise<{ step: number; completed: boolean }> {
  const { trainer } = tinyTrainer(o.runDir, o.steps, {
    signal: ctx.signal,
    onEvent: (e) => ctx.emit(e),
    validate: async () => { await new Promise((r) => setTimeout(r, o.stepDelayMs)); return { metrics: {}, score: 0 }; },
    validateEvery: 1,
  });
  const r = await trainer.run();
  return { step: r.step, completed: r.completed };
}
