// Whole-image prediction: a Volume in, a label map (and optionally class
// probabilities) out on the input's own grid, ready to write as NIfTI. Ties
// together normalisation (or nnU-Net's full preprocessing and its inverse),
// sliding-window or slice-wise inference, mirroring TTA and largest-component
// post-processing; `loadPredictor` rebuilds a trained model and these
// settings from a checkpoint folder.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '@labelwise/torch';
import type { Tensor } from '@labelwise/torch';
import { Volume } from '../io/volume.js';
import { createNetwork, type NetworkConfig } from '../nn/registry.js';
import type { NetworkInfo } from '../nn/network.js';
import { type CheckpointMeta, findCheckpoint, loadCheckpoint, readCheckpointMeta } from '../checkpoint/checkpoint.js';
import { type NormalizationConfig, normalize as normalizeImage, schemeFromName, validateNormalization } from '../transforms/normalize.js';
import { type PreprocessConfig, preprocessCase, revertPreprocessing, validatePreprocessConfig } from '../transforms/preprocess.js';
import { keepLargestComponentTensor } from './postprocess.js';
import { predictSlices } from './slicewise.js';
import { type Predictor, argmaxClasses, predictMirrored, slidingWindowInference } from './sliding-window.js';

export type PredictMode = 'sliding3d' | 'slices2d';
export const PREDICT_MODES: readonly PredictMode[] = ['sliding3d', 'slices2d'];

/** A network (one tensor in, logits out) or a plain function doing the same. */
export type PredictModel = torch.nn.Module<[Tensor], Tensor> | Predictor;

export interface PredictOptions {
  /**
   * 'sliding3d': overlapping 3D windows of `patchSize` (Z, Y, X) with
   * Gaussian weighting (nnU-Net). 'slices2d': a 2D network on every slice
   * of the first tensor axis (the NIfTI k axis): whole slices (optionally
   * resized to `resizeTo`, as the 2D semi-supervised papers evaluate), or
   * 2D windows when `patchSize` has two entries (nnU-Net's 2d configuration).
   * Default: from the network's dimensionality.
   */
  mode?: PredictMode;
  /** Window size: 3 entries (Z, Y, X) for sliding3d, 2 (Y, X) for windowed slices2d. */
  patchSize?: readonly number[];
  /** Window overlap fraction (nnU-Net 0.5). */
  overlap?: number;
  /** Windows (or slices) per forward pass; default 1 for 3D windows, 16 for 2D. */
  batchSize?: number;
  /** Gaussian window weighting (default true). */
  gaussian?: boolean;
  /**
   * Test-time mirroring: true = every spatial axis of the network input, or
   * a list of those axes, 0-based in tensor order (Z, Y, X = the volume's k,
   * j, i in 3D; Y, X of a slice in 2D).
   */
  mirror?: boolean | readonly number[];
  /** slices2d: resize every slice to [H, W] for the network and the labels back (nearest, as scipy zoom order 0). */
  resizeTo?: readonly [number, number];
  /** How the image is resized with resizeTo: 'nearest' (default; the 2D seeds' zoom order 0) or 'bilinear'. */
  imageResize?: 'nearest' | 'bilinear';
  /** Intensity normalisation of the image tensor [C, Z, Y, X] (float32) before the network. */
  normalize?: (t: Tensor) => Tensor;
  /**
   * nnU-Net preprocessing instead of `normalize`: crop to non-zero,
   * normalise, resample to the target spacing; the probabilities are mapped
   * back to the input grid (resampled, uncropped) before the argmax.
   */
  preprocess?: PreprocessConfig;
  /** Keep only the largest connected component of every class (true) or of these classes. */
  largestComponent?: boolean | readonly number[];
  /** Also return the softmax probabilities (K channels, float32). */
  probabilities?: boolean;
}

export interface PredictResult {
  /** Label map, uint8 (int64 past 255 classes), the input's dims and affine. */
  labels: Volume;
  /** Softmax probabilities, K channels, float32, on the input's grid. */
  probabilities?: Volume;
}

function infoOf(model: PredictModel): NetworkInfo | undefined {
  const info = (model as { info?: NetworkInfo }).info;
  return info && typeof info === 'object' && typeof info.spatialDims === 'number' ? info : undefined;
}

function asPredictor(model: PredictModel): Predictor {
  return typeof model === 'function' ? model : (x) => model.forward(x);
}

/** Pads the last two axes up to multiples of `divisor` (zeros at the end) and crops the logits back. */
function padToDivisor(predict: Predictor, divisor: readonly number[]): Predictor {
  return (x) => {
    const [h, w] = x.shape.slice(-2);
    const ph = Math.ceil(h / divisor[0]) * divisor[0] - h;
    const pw = Math.ceil(w / divisor[1]) * divisor[1] - w;
    if (ph === 0 && pw === 0) return predict(x);
    return torch.tidy(() => predict(torch.F.pad(x, [0, pw, 0, ph], { mode: 'constant', value: 0 })).narrow(-2, 0, h).narrow(-1, 0, w));
  };
}

/** A 2D network applied to windows [B, C, 1, Y, X] (2D windows through the 3D sliding-window machinery). */
function squeezeDepth(predict: Predictor): Predictor {
  return (x) => torch.tidy(() => predict(x.squeeze(2)).unsqueeze(2));
}

function checkPositiveInts(values: readonly number[], n: number, what: string): number[] {
  if (!Array.isArray(values) || values.length !== n || !values.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`predictVolume: ${what} must be ${n} positive integers, got ${JSON.stringify(values)}`);
  }
  return [...values];
}

/** Only the header fields that still describe a label map (orientation codes, units). */
function derivedMeta(like: Volume, what: string): Record<string, unknown> {
  const n = like.meta.nifti as { qformCode?: number; sformCode?: number; xyztUnits?: number } | undefined;
  const meta: Record<string, unknown> = { source: like.meta.path ?? like.meta.source, derived: what };
  if (n && typeof n === 'object') meta.nifti = { qformCode: n.qformCode, sformCode: n.sformCode, xyztUnits: n.xyztUnits };
  return meta;
}

/** The non-zero mask [Z, Y, X] over all channels (nnU-Net create_nonzero_mask), for zscore with useMask. */
function nonzeroMask(image: Tensor): Tensor {
  return image.ne(0).any(0);
}

/** A `normalize` function for PredictOptions from normalisation configs (one per channel or one for all). */
export function normalizationFunction(configs: NormalizationConfig | readonly NormalizationConfig[]): (t: Tensor) => Tensor {
  const list = Array.isArray(configs) ? (configs as readonly NormalizationConfig[]) : [configs as NormalizationConfig];
  const masked = list.some((c) => c.scheme === 'zscore' && c.useMask);
  return (t) => torch.tidy(() => normalizeImage(t, list.length === 1 ? list[0] : list, masked ? nonzeroMask(t) : null));
}

/**
 * Predicts a tensor image [C, Z, Y, X] (already normalised) with the
 * network. Returns labels [Z, Y, X] and, when asked, probabilities [K, Z, Y, X].
 */
export function predictTensor(image: Tensor, model: PredictModel, options: PredictOptions = {}): { labels: Tensor; probabilities?: Tensor } {
  if (image.ndim !== 4) throw new Error(`predictTensor: expected an image [C, Z, Y, X], got shape [${image.shape.join(', ')}]`);
  const info = infoOf(model);
  if (info && info.spatialDims !== 2 && info.spatialDims !== 3) throw new Error(`predictVolume: network '${info.name}' is not an image network (spatialDims ${info.spatialDims})`);
  if (info && image.shape[0] !== info.inChannels) {
    throw new Error(`predictVolume: network '${info.name}' expects ${info.inChannels} input channel(s), the image has ${image.shape[0]}`);
  }
  const mode = options.mode ?? (info?.spatialDims === 2 ? 'slices2d' : 'sliding3d');
  if (!PREDICT_MODES.includes(mode)) throw new Error(`predictVolume: mode must be one of ${PREDICT_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  if (info && info.spatialDims !== (mode === 'sliding3d' ? 3 : 2)) {
    throw new Error(`predictVolume: mode '${mode}' needs a ${mode === 'sliding3d' ? '3D' : '2D'} network, '${info.name}' is ${info.spatialDims}D`);
  }
  const divisor = info?.inputDivisor;
  const predict = asPredictor(model);
  const returnProbabilities = options.probabilities ?? false;
  const nd = mode === 'sliding3d' ? 3 : 2;
  const mirrorAxes = options.mirror === true ? Array.from({ length: nd }, (_, i) => i) : options.mirror ? [...options.mirror] : [];
  for (const a of mirrorAxes) if (!(Number.isInteger(a) && a >= 0 && a < nd)) throw new Error(`predictVolume: mirror axes must be in [0, ${nd}) for ${mode}, got ${JSON.stringify(options.mirror)}`);

  if (mode === 'sliding3d') {
    if (!options.patchSize) throw new Error('predictVolume: sliding3d needs patchSize (Z, Y, X), e.g. the training patch size');
    const patch = checkPositiveInts(options.patchSize, 3, 'patchSize for sliding3d');
    if (divisor && patch.some((p, i) => p % divisor[i] !== 0)) {
      throw new Error(`predictVolume: patchSize [${patch.join(', ')}] must be divisible by [${divisor.join(', ')}] (network '${info!.name}' down-samples by that much)`);
    }
    return slidingWindowInference(image, predict, {
      patchSize: patch, overlap: options.overlap ?? 0.5, batchSize: options.batchSize ?? 1, gaussian: options.gaussian ?? true, mirrorAxes, returnProbabilities,
    });
  }
  if (options.patchSize && !options.resizeTo) {
    // nnU-Net's 2d configuration: 2D windows on every slice, i.e. 3D windows one slice deep.
    const patch = checkPositiveInts(options.patchSize, 2, 'patchSize for slices2d');
    if (divisor && patch.some((p, i) => p % divisor[i] !== 0)) {
      throw new Error(`predictVolume: patchSize [${patch.join(', ')}] must be divisible by [${divisor.join(', ')}] (network '${info!.name}' down-samples by that much)`);
    }
    return slidingWindowInference(image, squeezeDepth(predict), {
      patchSize: [1, ...patch], overlap: options.overlap ?? 0.5, batchSize: options.batchSize ?? 16, gaussian: options.gaussian ?? true,
      mirrorAxes: mirrorAxes.map((a) => a + 1), returnProbabilities,
    });
  }
  if (options.resizeTo) checkPositiveInts(options.resizeTo, 2, 'resizeTo');
  let sliced = divisor ? padToDivisor(predict, divisor) : predict;
  if (mirrorAxes.length) {
    const inner = sliced;
    sliced = (x) => predictMirrored(inner, x, mirrorAxes);
  }
  return predictSlices(image, sliced, { batchSize: options.batchSize ?? 16, resizeTo: options.resizeTo, imageResize: options.imageResize, returnProbabilities });
}

/**
 * Segments a volume. The image is read as float32 [C, Z, Y, X]
 * (Volume.toTensor), normalised (`normalize`) or preprocessed
 * (`preprocess`), predicted, and the result is returned on the input's grid:
 * same dims and affine, labels uint8.
 */
export function predictVolume(volume: Volume, model: PredictModel, options: PredictOptions = {}): PredictResult {
  const largest = options.largestComponent;
  const wantProbs = options.probabilities ?? false;
  return torch.noGrad(() => torch.tidy(() => {
    let labels: Tensor;
    let probs: Tensor | undefined;
    if (options.preprocess) {
      const pre = preprocessCase(volume, null, options.preprocess);
      // nnU-Net's export: probabilities back to the original grid (linear), then argmax.
      const r = predictTensor(pre.image, model, { ...options, probabilities: true });
      pre.image.dispose();
      const back = revertPreprocessing(r.probabilities!, pre.props, { kind: 'probabilities', backgroundOne: true });
      r.probabilities!.dispose();
      labels = argmaxClasses(back, 0);
      if (wantProbs) probs = back;
    } else {
      let image = volume.toTensor('float32');
      if (options.normalize) {
        // Free the raw copy now: on a large CT every volume-sized tensor counts.
        const raw = image;
        image = options.normalize(raw);
        if (image !== raw) raw.dispose();
      }
      const r = predictTensor(image, model, { ...options, probabilities: wantProbs });
      labels = r.labels;
      probs = r.probabilities;
    }
    if (largest) {
      labels = keepLargestComponentTensor(labels, { classes: largest === true ? undefined : [...largest] });
    }
    const out: PredictResult = { labels: Volume.fromTensor(labels, volume, derivedMeta(volume, 'labels')) };
    if (probs) out.probabilities = Volume.fromTensor(probs.to('float32'), volume, derivedMeta(volume, 'probabilities'));
    return out;
  }));
}

// ---- checkpoints --------------------------------------------------------------

/**
 * The checkpoint folder for `dir`: the folder itself when it holds a
 * checkpoint.json, else a run folder's checkpoints/<name> for the first of
 * `prefer` that exists (default best, then last).
 */
export function resolveCheckpointDir(dir: string, prefer: readonly string[] = ['best', 'last']): string {
  if (!fs.existsSync(dir)) throw new Error(`checkpoint ${dir}: no such file or folder`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`checkpoint ${dir}: expected a checkpoint folder (with checkpoint.json) or a run folder (with checkpoints/), got a file`);
  if (fs.existsSync(path.join(dir, 'checkpoint.json'))) return dir;
  for (const name of prefer) {
    const found = findCheckpoint(dir, name);
    if (found) return found;
  }
  const root = path.join(dir, 'checkpoints');
  const have = fs.existsSync(root) ? fs.readdirSync(root).filter((f) => !f.startsWith('.')) : [];
  throw new Error(`checkpoint ${dir}: neither a checkpoint folder (no checkpoint.json) nor a run folder with checkpoints/${prefer.join(' or checkpoints/')}${have.length ? ` (checkpoints/ has: ${have.join(', ')})` : ''}`);
}

/** What a checkpoint says about inference (checkpoint.json `preprocessing`, then the training config). */
export interface CheckpointInference {
  mode?: PredictMode;
  patchSize?: number[];
  overlap?: number;
  resizeTo?: [number, number];
  imageResize?: 'nearest' | 'bilinear';
  normalization?: NormalizationConfig | NormalizationConfig[];
  /** Set when the checkpoint holds a full nnU-Net preprocessing config (spacing, crop, transpose). */
  preprocess?: PreprocessConfig;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads the inference settings a checkpoint implies. `preprocessing` may
 * hold `normalization` (one config, one per channel, or a scheme name),
 * `patchSize`, `mode`, `overlap`, `resizeTo`, `imageResize`, and — for
 * nnU-Net-style data — `spacing`, `transposeForward`, `cropToNonzero`,
 * `resampling`, which make it a PreprocessConfig. A slices2d checkpoint with
 * `imageResize` (what `labelwise train` writes for 2D runs) was trained on
 * slices resized to its patch size, so it predicts whole slices resized to
 * `patchSize`. Missing values come from the saved experiment config
 * (data.patchSize, data.normalization, validation.mode/overlap).
 */
export function checkpointInference(meta: CheckpointMeta, where = 'checkpoint'): CheckpointInference {
  const pre = isObject(meta.preprocessing) ? meta.preprocessing : {};
  const cfg = isObject(meta.config) ? meta.config : {};
  const data = isObject(cfg.data) ? cfg.data : {};
  const val = isObject(cfg.validation) ? cfg.validation : {};
  const out: CheckpointInference = {};
  const field = `${where} preprocessing`;

  const mode = pre.mode ?? (val.mode === 'none' ? undefined : val.mode);
  if (mode !== undefined) {
    if (!PREDICT_MODES.includes(mode as PredictMode)) throw new Error(`${field}.mode: expected one of ${PREDICT_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
    out.mode = mode as PredictMode;
  }
  const patch = pre.patchSize ?? data.patchSize;
  if (patch !== undefined) {
    if (!Array.isArray(patch) || !(patch.length === 2 || patch.length === 3) || !patch.every((v) => Number.isInteger(v) && (v as number) > 0)) {
      throw new Error(`${field}.patchSize: expected 2 or 3 positive integers, got ${JSON.stringify(patch)}`);
    }
    out.patchSize = patch as number[];
  }
  const overlap = pre.overlap ?? val.overlap;
  if (overlap !== undefined) {
    if (typeof overlap !== 'number' || !(overlap >= 0 && overlap < 1)) throw new Error(`${field}.overlap: expected a number in [0, 1), got ${JSON.stringify(overlap)}`);
    out.overlap = overlap;
  }
  if (pre.imageResize !== undefined) {
    if (pre.imageResize !== 'nearest' && pre.imageResize !== 'bilinear') throw new Error(`${field}.imageResize: expected 'nearest' or 'bilinear', got ${JSON.stringify(pre.imageResize)}`);
    out.imageResize = pre.imageResize;
  }
  const resize = pre.resizeTo ?? (out.mode === 'slices2d' && out.imageResize && out.patchSize?.length === 2 ? out.patchSize : undefined);
  if (resize !== undefined) {
    if (!Array.isArray(resize) || resize.length !== 2 || !resize.every((v) => Number.isInteger(v) && (v as number) > 0)) throw new Error(`${field}.resizeTo: expected [H, W] positive integers, got ${JSON.stringify(resize)}`);
    out.resizeTo = [resize[0] as number, resize[1] as number];
  }
  const norm = pre.normalization ?? data.normalization;
  if (norm !== undefined) {
    const one = (n: unknown, where: string): NormalizationConfig => {
      if (typeof n !== 'string') return validateNormalization(n, where);
      const scheme = schemeFromName(n);
      if (scheme === null || scheme === 'ct') throw new Error(`${where}: ${JSON.stringify(n)} is not a normalisation config; expected an object like {"scheme": "minmax"} (or a parameter-free scheme name)`);
      return validateNormalization({ scheme }, where);
    };
    out.normalization = Array.isArray(norm) ? norm.map((n, i) => one(n, `${field}.normalization[${i}]`)) : one(norm, `${field}.normalization`);
  }
  if (pre.spacing !== undefined || pre.transposeForward !== undefined || pre.cropToNonzero !== undefined) {
    if (out.normalization === undefined) throw new Error(`${field}: has spacing/transposeForward/cropToNonzero but no normalization`);
    const cfgPre: PreprocessConfig = {
      normalization: out.normalization,
      spacing: (pre.spacing as number[] | null | undefined) ?? null,
      transposeForward: pre.transposeForward as number[] | undefined,
      cropToNonzero: pre.cropToNonzero as boolean | undefined,
      resampling: pre.resampling as PreprocessConfig['resampling'],
    };
    const channels = Array.isArray(out.normalization) ? out.normalization.length : 1;
    out.preprocess = validatePreprocessConfig(cfgPre, channels, field);
  }
  return out;
}

/** A trained model ready for inference, with the settings its checkpoint implies. */
export interface LoadedPredictor {
  /** The checkpoint folder used. */
  dir: string;
  meta: CheckpointMeta;
  /** The network, weights loaded, in eval mode. */
  model: torch.nn.Module<[Tensor], Tensor>;
  info?: NetworkInfo;
  /** Class name → label value, when the checkpoint records them. */
  labels?: Record<string, number>;
  /** Defaults for predictVolume derived from the checkpoint. */
  options: PredictOptions;
  /** predictVolume with the checkpoint's settings, `overrides` on top. */
  predict(volume: Volume, overrides?: PredictOptions): PredictResult;
}

/**
 * Loads a checkpoint folder (or a run folder: its best, else last
 * checkpoint), rebuilds the network from checkpoint.json's `network`
 * config, loads model.safetensors strictly (after checking its sha256), and
 * derives inference settings (checkpointInference).
 */
export function loadPredictor(checkpointDir: string, options: { prefer?: readonly string[]; device?: string } = {}): LoadedPredictor {
  const dir = resolveCheckpointDir(checkpointDir, options.prefer);
  const meta = readCheckpointMeta(dir);
  const where = `checkpoint ${path.join(dir, 'checkpoint.json')}`;
  if (!isObject(meta.network) || typeof meta.network.name !== 'string') {
    throw new Error(`${where}: field 'network' must be a network config like {"name": "plain_unet", ...}, got ${JSON.stringify(meta.network)}`);
  }
  const model = createNetwork(meta.network as NetworkConfig, `${where} (network)`);
  loadCheckpoint(dir, { model }, { restoreRng: false });
  model.eval();
  const inf = checkpointInference(meta, where);
  const defaults: PredictOptions = {};
  if (inf.mode) defaults.mode = inf.mode;
  if (inf.overlap !== undefined) defaults.overlap = inf.overlap;
  if (inf.resizeTo) defaults.resizeTo = inf.resizeTo;
  if (inf.imageResize) defaults.imageResize = inf.imageResize;
  const dims = model.info.spatialDims;
  const mode = inf.mode ?? (dims === 2 ? 'slices2d' : 'sliding3d');
  // A 2D training patch with slices2d means 2D windows, unless slices are resized whole.
  if (inf.patchSize && inf.patchSize.length === (mode === 'sliding3d' ? 3 : 2) && !(mode === 'slices2d' && inf.resizeTo)) defaults.patchSize = inf.patchSize;
  if (inf.preprocess) defaults.preprocess = inf.preprocess;
  else if (inf.normalization) defaults.normalize = normalizationFunction(inf.normalization);
  const net = onDevice(model, options.device ?? 'cpu');
  return {
    dir,
    meta,
    model,
    info: model.info,
    labels: meta.labels,
    options: defaults,
    predict: (volume, overrides = {}) => predictVolume(volume, net, { ...defaults, ...overrides }),
  };
}

/** The network on `device` behind a CPU-in, CPU-out forward that keeps its NetworkInfo (checked by predictTensor). */
function onDevice(model: torch.nn.Module<[Tensor], Tensor> & { info: NetworkInfo }, device: string): PredictModel {
  if (device === 'cpu') return model;
  model.to(device as torch.Device);
  return Object.assign((x: Tensor) => torch.tidy(() => model.forward(x.to(device as torch.Device)).cpu()), { info: model.info });
}
