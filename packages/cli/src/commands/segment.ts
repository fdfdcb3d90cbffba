// `labelwise segment`: interactive segmentation of one image from clicks
// (foreground/background points), refining a trained model's prediction
// (toolkit methods/weak/interactive.ts); writes one label map atomically.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as torch from '@labelwise/torch';
import { readImage, writeNifti } from '@labelwise/toolkit/io';
import { loadPredictor, resolveCheckpointDir } from '@labelwise/toolkit/inference';
import { readClicks, segmentInteractive } from '@labelwise/toolkit/methods/weak';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import * as output from '../output.js';

const help = `usage: labelwise segment --image IMAGE --points POINTS -m MODEL [-o OUT] [options]

Segments one image with a trained model refined by clicks: the image is
predicted as 'labelwise predict' does, the clicks grow into a partial label
map through a geodesic prior (PA-Seg seed expansion when each lesion has a
foreground point with background points on both sides along every axis,
otherwise a geodesic ball around each click), a copy of the network is
fine-tuned for a few steps on the region around the clicks, and that region
is predicted again. The model folder is not modified.

POINTS: a JSON point list {"coordinates": "world"|"voxel", "points": [{"position":
[x, y, z], "label": "foreground"|"background"|<class>, "lesion": <int>}]} or a
PA-Seg point map (*_7points.nii.gz on the image's grid).

options:
  --image PATH        the image (.nii.gz, .nii, ...)
  --points PATH       the clicks (JSON point list or PA-Seg point map)
  -m, --model PATH    checkpoint folder or run folder (checkpoints/best, else last)
  -o, --output PATH   label map to write (default <image stem>_segment.nii.gz next to the image)
  --steps N           fine-tuning steps (default 15; 0 = no fine-tuning)
  --lr X              learning rate (default 1e-3)
  --seed S            seed of the fine-tuning (default 0)
  --threads N         CPU threads (default: all cores)
  --quiet             no timings on stderr

exit codes: 0 written; 1 failure while working; 2 bad options or input (points
outside the image, no foreground point, missing model): nothing is written.

example:
  labelwise segment --image case.nii.gz --points clicks.json -m runs/weak -o case_seg.nii.gz --steps 20
`;

const OPTIONS = {
  image: { type: 'string' },
  points: { type: 'string' },
  model: { type: 'string', short: 'm' },
  output: { type: 'string', short: 'o' },
  steps: { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

function int(text: string, flag: string, min: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min) throw new UsageError(`${flag} expects an integer >= ${min}, got '${text}'`);
  return v;
}

export const command: Command = {
  summary: 'segment one image from clicks, refining a trained model',
  help,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.image) throw new UsageError('--image PATH is required');
    if (!values.points) throw new UsageError('--points PATH is required (a JSON point list or a PA-Seg point map)');
    if (!values.model) throw new UsageError('-m/--model PATH is required (a checkpoint folder or a run folder)');
    if (!fs.existsSync(values.image)) throw new UsageError(`--image ${values.image}: no such file`);
    if (!fs.existsSync(values.points)) throw new UsageError(`--points ${values.points}: no such file`);
    if (!fs.existsSync(values.model)) throw new UsageError(`--model ${values.model}: no such file or folder`);
    const steps = values.steps === undefined ? undefined : int(values.steps, '--steps', 0);
    const seed = values.seed === undefined ? undefined : int(values.seed, '--seed', 0);
    let lr: number | undefined;
    if (values.lr !== undefined) {
      lr = Number(values.lr);
      if (values.lr.trim() === '' || !(lr > 0)) throw new UsageError(`--lr must be a positive number, got '${values.lr}'`);
    }
    if (values.threads !== undefined) torch.setNumThreads(int(values.threads, '--threads', 1));
    const out = values.output ?? path.join(path.dirname(values.image), `${path.basename(values.image).replace(/\.(nii\.gz|nii|h5|hdf5|png|jpe?g|bmp)$/i, '')}_segment.nii.gz`);
    let ckpt: string;
    try {
      ckpt = resolveCheckpointDir(values.model);
    } catch (e) {
      throw new UsageError(`--model: ${(e as Error).message}`);
    }
    const image = await readImage(values.image);
    let clicks;
    try {
      clicks = readClicks(values.points, image);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const predictor = loadPredictor(ckpt);
    let r;
    try {
      r = segmentInteractive(image, predictor, clicks, { steps, lr, seed }, values.points);
    } catch (e) {
      if ((e as Error).name === 'AnnotationError') throw new UsageError((e as Error).message);
      throw e;
    }
    writeNifti(out, r.labels);
    if (!values.quiet) {
      const t = r.timings;
      output.err(`prior ${r.priorKind}; predict ${(t.predictMs / 1000).toFixed(2)} s, fine-tune ${r.losses.length} steps ${(t.finetuneMs / 1000).toFixed(2)} s, re-predict ${(t.repredictMs / 1000).toFixed(2)} s, total ${(t.totalMs / 1000).toFixed(2)} s\n`);
    }
    output.out(`wrote ${out}\n`);
    return 0;
  },
};
