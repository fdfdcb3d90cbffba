// `labelwise predict`: segment images with a trained checkpoint and write
// one label map per case (NIfTI, on the input's grid), optionally with the
// class probabilities.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as torch from '@labelwise/torch';
import { type PredictMode, type PredictOptions, PREDICT_MODES, loadPredictor, resolveCheckpointDir } from '@labelwise/toolkit/inference';
import { Volume, imageFormatOf, readImage, writeNifti } from '@labelwise/toolkit/io';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import * as output from '../output.js';

const help = `usage: labelwise predict -m MODEL -i INPUT [-i INPUT ...] -o OUT_DIR [options]

Segments every case in INPUT with the network of a checkpoint and writes
OUT_DIR/<case>.nii.gz: a uint8 label map with the input's dimensions and
affine (sform and qform), written atomically. Normalisation, patch size and
mode come from the checkpoint (checkpoint.json "preprocessing", then the
experiment config it was trained with); the options below override them.
With nnU-Net preprocessing in the checkpoint (target spacing, crop), images
are resampled for the network and the probabilities mapped back before the
argmax, as nnU-Net exports them.

Inputs: an image file (.nii.gz, .nii, .hdr/.img, .h5, .png, .jpg, .bmp, .dcm)
or a folder of them. Files named nnU-Net style, <case>_0000.nii.gz,
<case>_0001.nii.gz, ..., are the channels of one case. A folder holding only
DICOM files is read as one DICOM series (the case is the folder's name).

options:
  -m, --model PATH       checkpoint folder (checkpoint.json + model.safetensors)
                         or a run folder (uses checkpoints/best, else checkpoints/last)
  --checkpoint NAME      with a run folder: the checkpoint to use (e.g. last)
  -i, --input PATH       image file or folder; repeat for more
  -o, --output DIR       where to write <case>.nii.gz (created if missing)
  --mode MODE            sliding3d: overlapping 3D windows, Gaussian-weighted
                         (nnU-Net); slices2d: a 2D network on every slice of the
                         image's third voxel axis (k). Default: from the network.
  --patch-size LIST      window size, Z,Y,X for sliding3d (e.g. 128,128,128) or
                         Y,X for 2D windows on each slice
  --overlap X            window overlap fraction in [0, 1) (default 0.5)
  --batch-size N         windows or slices per forward pass (default 1 in 3D, 16 in 2D)
  --no-gaussian          average windows uniformly instead of Gaussian weighting
  --mirror               test-time augmentation: average the softmax over every
                         combination of flipped spatial axes (nnU-Net: 8 passes in 3D)
  --mirror-axes LIST     mirror only these axes, 0-based in the network's order:
                         Z,Y,X in 3D (the image's k, j, i axes), Y,X in 2D; e.g. 1,2
  --resize H,W           slices2d: resize each slice to H×W for the network (nearest,
                         as the 2D semi-supervised papers evaluate) and the labels back
  --probabilities        also write OUT_DIR/<case>_probabilities.nii.gz (float32,
                         one volume per class)
  --lcc                  keep only the largest connected component of each class
  --lcc-classes LIST     ... of these classes only, e.g. 1,3
  --threads N            CPU threads (default: all cores)
  --skip-existing        leave cases whose label map already exists
  --quiet                no per-case progress on stderr

exit codes: 0 every case written; 1 a case failed (the others are still
written; the message names the case) or the checkpoint cannot be loaded;
2 bad options, or a model/input path that does not exist.

examples:
  labelwise predict -m runs/brats -i imagesTs -o predictions --mirror
  labelwise predict -m runs/acdc/checkpoints/best -i patient101_frame01.nii.gz -o out --lcc
  labelwise predict -m runs/ct -i ct_0000.nii.gz -o out --patch-size 96,160,160 --probabilities
`;

const OPTIONS = {
  model: { type: 'string', short: 'm' },
  checkpoint: { type: 'string' },
  input: { type: 'string', short: 'i', multiple: true },
  output: { type: 'string', short: 'o' },
  mode: { type: 'string' },
  'patch-size': { type: 'string' },
  overlap: { type: 'string' },
  'batch-size': { type: 'string' },
  'no-gaussian': { type: 'boolean' },
  mirror: { type: 'boolean' },
  'mirror-axes': { type: 'string' },
  resize: { type: 'string' },
  probabilities: { type: 'boolean' },
  lcc: { type: 'boolean' },
  'lcc-classes': { type: 'string' },
  threads: { type: 'string' },
  'skip-existing': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

function intList(text: string, flag: string, min: number): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const out = parts.map(Number);
  if (parts.some((s) => s === '') || out.some((v) => !Number.isInteger(v) || v < min)) {
    throw new UsageError(`${flag} expects comma-separated integers >= ${min}, got '${text}'`);
  }
  return out;
}

function oneInt(text: string, flag: string, min: number): number {
  const [v, ...rest] = intList(text, flag, min);
  if (rest.length) throw new UsageError(`${flag} expects one integer, got '${text}'`);
  return v;
}

/** One case: its id and the files holding its channels, in channel order. */
export interface InputCase {
  id: string;
  files: string[];
}

const STRIP = /\.(nii\.gz|nii|hdr|hdr\.gz|img|img\.gz|h5|hdf5|png|jpe?g|bmp|dcm|dicom)$/i;
const CHANNEL = /^(.*)_(\d{4})$/;

/**
 * Cases from the -i paths: files (nnU-Net <case>_XXXX channel files grouped),
 * folders of image files, or folders holding one DICOM series.
 */
export function discoverCases(inputs: readonly string[]): InputCase[] {
  const singles: InputCase[] = [];
  const channels = new Map<string, Map<number, string>>();
  const addFile = (file: string) => {
    const stem = path.basename(file).replace(STRIP, '');
    const m = CHANNEL.exec(stem);
    if (!m) {
      singles.push({ id: stem, files: [file] });
      return;
    }
    const group = channels.get(m[1]) ?? new Map<number, string>();
    const c = Number(m[2]);
    if (group.has(c)) throw new UsageError(`channel ${m[2]} of case '${m[1]}' is given twice: ${group.get(c)} and ${file}`);
    group.set(c, file);
    channels.set(m[1], group);
  };
  for (const p of inputs) {
    if (!fs.existsSync(p)) throw new UsageError(`--input ${p}: no such file or folder`);
    if (!fs.statSync(p).isDirectory()) {
      if (!imageFormatOf(p)) throw new UsageError(`--input ${p}: not a readable image (expected .nii.gz, .nii, .hdr/.img, .h5, .png, .jpg, .bmp or DICOM)`);
      addFile(p);
      continue;
    }
    const files = fs.readdirSync(p).sort().map((f) => path.join(p, f)).filter((f) => fs.statSync(f).isFile() && !path.basename(f).startsWith('.'));
    const images = files.filter((f) => {
      const fmt = imageFormatOf(f);
      return fmt !== undefined && fmt !== 'dicom' && !/\.img(\.gz)?$/i.test(f); // .img belongs to its .hdr
    });
    if (images.length) images.forEach(addFile);
    else if (files.some((f) => imageFormatOf(f) === 'dicom')) singles.push({ id: path.basename(path.resolve(p)), files: [p] });
    else throw new UsageError(`--input ${p}: the folder holds no readable images`);
  }
  const cases = [...singles];
  for (const [id, group] of channels) {
    const idx = [...group.keys()].sort((a, b) => a - b);
    if (idx.some((v, i) => v !== i)) throw new UsageError(`case '${id}': channel files must be numbered _0000, _0001, ... without gaps, got ${idx.map((v) => `_${String(v).padStart(4, '0')}`).join(', ')}`);
    cases.push({ id, files: idx.map((i) => group.get(i)!) });
  }
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new UsageError(`two inputs give the case name '${c.id}' (their outputs would overwrite each other)`);
    seen.add(c.id);
  }
  return cases.sort((a, b) => a.id.localeCompare(b.id));
}

/** Reads a case's channel files into one Volume (channels stacked, grids checked). */
async function readCase(c: InputCase): Promise<Volume> {
  const vols = [];
  for (const f of c.files) vols.push(await readImage(f));
  if (vols.length === 1) return vols[0];
  const first = vols[0];
  const n = first.numVoxels;
  vols.forEach((v, i) => {
    if (v.dims.join() !== first.dims.join()) throw new Error(`${c.files[i]}: dims [${v.dims.join(', ')}] differ from channel 0's [${first.dims.join(', ')}] (${c.files[0]})`);
    if (v.affine.some((x, j) => Math.abs(x - first.affine[j]) > 1e-4 * Math.max(1, Math.abs(x)))) throw new Error(`${c.files[i]}: affine differs from channel 0's (${c.files[0]})`);
  });
  const total = vols.reduce((s, v) => s + v.channels, 0);
  const data = new Float32Array(n * total);
  let off = 0;
  for (const v of vols) {
    for (let i = 0; i < v.data.length; i++) data[off + i] = Number(v.data[i]);
    off += v.data.length;
  }
  return first.withData(data, total, { ...first.meta, path: c.files[0] });
}

export const command: Command = {
  summary: 'segment images with a trained checkpoint',
  help,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (inputs go after -i)`);
    if (!values.model) throw new UsageError('-m/--model PATH is required (a checkpoint folder or a run folder)');
    if (!values.input?.length) throw new UsageError('-i/--input PATH is required (an image file or a folder)');
    if (!values.output) throw new UsageError('-o/--output DIR is required');
    if (fs.existsSync(values.output) && !fs.statSync(values.output).isDirectory()) throw new UsageError(`--output ${values.output}: exists and is not a folder`);
    if (!fs.existsSync(values.model)) throw new UsageError(`--model ${values.model}: no such file or folder`);

    const overrides: PredictOptions = {};
    if (values.mode !== undefined) {
      if (!PREDICT_MODES.includes(values.mode as PredictMode)) throw new UsageError(`--mode must be one of ${PREDICT_MODES.join(', ')}, got '${values.mode}'`);
      overrides.mode = values.mode as PredictMode;
    }
    if (values['patch-size'] !== undefined) {
      const p = intList(values['patch-size'], '--patch-size', 1);
      if (p.length !== 2 && p.length !== 3) throw new UsageError(`--patch-size takes 3 sizes (Z,Y,X) or 2 (Y,X), got '${values['patch-size']}'`);
      overrides.patchSize = p;
    }
    if (values.overlap !== undefined) {
      const v = Number(values.overlap);
      if (values.overlap.trim() === '' || !(v >= 0 && v < 1)) throw new UsageError(`--overlap must be a number in [0, 1), got '${values.overlap}'`);
      overrides.overlap = v;
    }
    if (values['batch-size'] !== undefined) overrides.batchSize = oneInt(values['batch-size'], '--batch-size', 1);
    if (values['no-gaussian']) overrides.gaussian = false;
    if (values['mirror-axes'] !== undefined) overrides.mirror = intList(values['mirror-axes'], '--mirror-axes', 0);
    else if (values.mirror) overrides.mirror = true;
    if (values.resize !== undefined) {
      const r = intList(values.resize, '--resize', 1);
      if (r.length !== 2) throw new UsageError(`--resize takes H,W, got '${values.resize}'`);
      overrides.resizeTo = [r[0], r[1]];
    }
    if (values['lcc-classes'] !== undefined) overrides.largestComponent = intList(values['lcc-classes'], '--lcc-classes', 1);
    else if (values.lcc) overrides.largestComponent = true;
    if (values.probabilities) overrides.probabilities = true;
    if (values.threads !== undefined) torch.setNumThreads(oneInt(values.threads, '--threads', 1));

    const cases = discoverCases(values.input);
    if (!cases.length) throw new UsageError('no cases found in the inputs');
    let ckptDir: string;
    try {
      ckptDir = resolveCheckpointDir(values.model, values.checkpoint ? [values.checkpoint] : undefined);
    } catch (e) {
      throw new UsageError(`--model: ${(e as Error).message}`);
    }
    const predictor = loadPredictor(ckptDir);
    const quiet = values.quiet ?? false;
    const log = (s: string) => { if (!quiet) output.err(s + '\n'); };
    log(`model ${predictor.dir} (${String(predictor.meta.network.name)}, step ${predictor.meta.step}); ${cases.length} case(s)`);
    fs.mkdirSync(values.output, { recursive: true });
    const failed: string[] = [];
    let written = 0;
    for (const [i, c] of cases.entries()) {
      const out = path.join(values.output, `${c.id}.nii.gz`);
      if (values['skip-existing'] && fs.existsSync(out) && (!values.probabilities || fs.existsSync(path.join(values.output, `${c.id}_probabilities.nii.gz`)))) {
        log(`[${i + 1}/${cases.length}] ${c.id}: exists, skipped`);
        continue;
      }
      const t0 = performance.now();
      try {
        const vol = await readCase(c);
        const r = predictor.predict(vol, overrides);
        if (r.probabilities) writeNifti(path.join(values.output, `${c.id}_probabilities.nii.gz`), r.probabilities);
        // The label map last: its presence means the case is complete.
        writeNifti(out, r.labels);
        written++;
        log(`[${i + 1}/${cases.length}] ${c.id}: ${vol.dims.join('×')}×${vol.channels} → ${out} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed.push(c.id);
        output.err(`labelwise predict: case '${c.id}' (${c.files.join(', ')}): ${(e as Error).message}\n`);
      }
    }
    if (failed.length) {
      output.err(`labelwise predict: ${failed.length} of ${cases.length} case(s) failed: ${failed.join(', ')}\n`);
      return 1;
    }
    output.out(`wrote ${written} label map(s) to ${values.output}${written < cases.length ? ` (${cases.length - written} skipped)` : ''}\n`);
    return 0;
  },
};
