// Folders of 2D images with masks: every directory that holds an image
// folder (images/, image/, imgs/, img/) and optionally a mask folder
// (masks/, mask/, labels/, label/, gt/) is a "pair folder". Pair folders
// under one root are the centres (domains, sites) of one project, e.g.
//   ProstateSlice/{BIDMC,BMC,HK,...}/{train,test}/{image,mask}/*.png
//   Fundus/Domain1/train/ROIs/{image,mask}/*.png
// The centre is the pair folder's path below the root up to the first
// split-named part (train/val/test/...); that part sets the case's split.
// Images pair with masks by file name (also accepting a mask suffix such as
// _mask or _seg); anything left unpaired is reported, because a folder whose
// names do not pair one to one (e.g. shifted by one) would otherwise train
// on wrong image/mask pairs silently.
import path from 'node:path';
import { type MaskEncoding, parseMaskEncoding } from '../../io/mask-encoding.js';
import { type Case, type DatasetProblem, type LabelMap, type Project, type SplitName, labelValues, makeProject, validateLabelMap } from '../dataset.js';
import { type OpenDatasetOptions, applyPatterns, listDirs, listFiles, rel, stripImageExt } from './common.js';

export const IMAGE_DIR_NAMES = ['images', 'image', 'imgs', 'img'];
export const MASK_DIR_NAMES = ['masks', 'mask', 'labels', 'label', 'gt', 'groundtruth', 'ground_truth'];
export const IMAGE_2D_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp'];
const MASK_SUFFIXES = ['', '_mask', '_seg', '_label', '_gt', '-mask', '_segmentation', '_Segmentation'];
const SPLIT_WORDS: Record<string, SplitName> = {
  train: 'train', training: 'train', trainset: 'train', train_set: 'train', training_set: 'train',
  val: 'val', valid: 'val', validation: 'val', val_set: 'val',
  test: 'test', testing: 'test', testset: 'test', test_set: 'test',
};
const MAX_DEPTH = 6;

interface PairDir { dir: string; parts: string[]; imageDir: string; maskDir?: string }

function findChild(dir: string, names: readonly string[]): string | undefined {
  const children = listDirs(dir);
  for (const n of names) {
    const hit = children.find((c) => c.toLowerCase() === n);
    if (hit) return path.join(dir, hit);
  }
  return undefined;
}

/** Every pair folder under `root` (breadth-first, bounded depth). */
export function findPairDirs(root: string): PairDir[] {
  const out: PairDir[] = [];
  const queue: { dir: string; parts: string[] }[] = [{ dir: root, parts: [] }];
  while (queue.length) {
    const { dir, parts } = queue.shift() as { dir: string; parts: string[] };
    const imageDir = findChild(dir, IMAGE_DIR_NAMES);
    if (imageDir && listFiles(imageDir).some(is2dImage)) {
      out.push({ dir, parts, imageDir, maskDir: findChild(dir, MASK_DIR_NAMES) });
      continue;
    }
    if (parts.length >= MAX_DEPTH) continue;
    for (const d of listDirs(dir)) queue.push({ dir: path.join(dir, d), parts: [...parts, d] });
  }
  // Path order (not search order): centres and cases come out alphabetically.
  return out.sort((a, b) => { const x = a.parts.join('/'); const y = b.parts.join('/'); return x < y ? -1 : x > y ? 1 : 0; });
}

function is2dImage(name: string): boolean {
  const l = name.toLowerCase();
  return IMAGE_2D_EXTENSIONS.some((e) => l.endsWith(e));
}

/** Mask encoding declared for a centre: exact id, then the longest 'prefix/' match, then '*'. */
export function encodingForCentre(spec: OpenDatasetOptions['maskEncoding'], centre: string): string | MaskEncoding | undefined {
  if (spec === undefined || typeof spec === 'string') return spec;
  if (typeof (spec as { kind?: unknown }).kind === 'string') return spec as MaskEncoding;
  const map = spec as Record<string, string | MaskEncoding>;
  if (map[centre]) return map[centre];
  let best: string | MaskEncoding | undefined;
  let bestLen = -1;
  for (const [k, v] of Object.entries(map)) {
    if (k.endsWith('/') && centre.startsWith(k) && k.length > bestLen) { best = v; bestLen = k.length; }
  }
  return best ?? map['*'];
}

/** Class names of the ready-made encodings; other encodings get class_<value>. */
const ENCODING_CLASS_NAMES: Record<string, Record<number, string>> = {
  fundusRimCup: { 1: 'rim', 2: 'cup' },
  prostateZeroIsOrgan: { 1: 'prostate' },
};

/** The label map an encoding produces (undefined for 'labels', whose values are unknown until read). */
export function labelsOfEncoding(encoding: string | MaskEncoding): LabelMap | undefined {
  const enc = parseMaskEncoding(encoding);
  const names = typeof encoding === 'string' ? ENCODING_CLASS_NAMES[encoding] ?? {} : {};
  let values: number[];
  if (enc.kind === 'values' || enc.kind === 'colors') values = [...new Set(Object.values(enc.map))];
  else if (enc.kind === 'threshold' || enc.kind === 'invert') values = [0, 1];
  else return undefined;
  const out: LabelMap = { background: 0 };
  for (const v of values.sort((a, b) => a - b)) if (v !== 0) out[names[v] ?? (values.length === 2 ? 'foreground' : `class_${v}`)] = v;
  return out;
}

export function openImage2dDataset(root: string, opts: OpenDatasetOptions = {}): Project {
  const absRoot = path.resolve(root);
  const name = opts.name ?? path.basename(absRoot);
  const pairs = findPairDirs(absRoot);
  if (pairs.length === 0) throw new Error(`${root}: no folder with an images/ (or image/, img/) subfolder of ${IMAGE_2D_EXTENSIONS.join('/')} files found within ${MAX_DEPTH} levels`);
  const cases: Case[] = [];
  const problems: DatasetProblem[] = [];
  const encodings: (string | MaskEncoding | undefined)[] = [];
  for (const pd of pairs) {
    const splitAt = pd.parts.findIndex((p) => SPLIT_WORDS[p.toLowerCase()] !== undefined);
    const split = splitAt >= 0 ? SPLIT_WORDS[pd.parts[splitAt].toLowerCase()] : undefined;
    const centreParts = splitAt >= 0 ? pd.parts.slice(0, splitAt) : pd.parts;
    const centre = opts.centre ?? (centreParts.length && pairs.length > 1 ? centreParts.join('/') : name);
    const encoding = encodingForCentre(opts.maskEncoding, centre);
    if (encoding !== undefined) parseMaskEncoding(encoding, `for centre '${centre}'`);
    encodings.push(encoding);
    const images = listFiles(pd.imageDir).filter(is2dImage);
    const masks = pd.maskDir ? listFiles(pd.maskDir).filter(is2dImage) : [];
    const maskByStem = new Map(masks.map((m) => [stripImageExt(m), m]));
    const used = new Set<string>();
    const relDir = rel(absRoot, pd.imageDir);
    for (const img of images) {
      const stem = stripImageExt(img);
      const id = [...pd.parts, stem].join('/');
      const c: Case = { id, centre, images: [rel(absRoot, path.join(pd.imageDir, img))], status: 'unlabelled' };
      if (split) c.split = split;
      const hit = MASK_SUFFIXES.map((s) => maskByStem.get(stem + s)).find((m) => m !== undefined);
      if (hit) {
        used.add(hit);
        c.label = rel(absRoot, path.join(pd.maskDir as string, hit));
        c.status = 'labelled';
        if (encoding) c.labelEncoding = encoding;
      } else if (pd.maskDir) {
        problems.push({ severity: 'error', code: 'unpaired-image', case: id, centre, file: path.join(pd.imageDir, img), message: `image ${path.join(relDir, img)} has no mask named ${stem}.* in ${rel(absRoot, pd.maskDir)}` });
      }
      cases.push(c);
    }
    for (const m of masks) {
      if (used.has(m)) continue;
      problems.push({ severity: 'error', code: 'unpaired-mask', centre, file: path.join(pd.maskDir as string, m), message: `mask ${path.join(rel(absRoot, pd.maskDir as string), m)} has no image of the same name in ${relDir}` });
    }
    const nUnpaired = problems.filter((p) => p.centre === centre && p.file?.startsWith(pd.dir + path.sep)).length;
    if (nUnpaired > 0 && masks.length > 0) {
      problems.push({ severity: 'error', code: 'pairing-mismatch', centre, file: pd.dir, message: `${rel(absRoot, pd.dir) || '.'}: ${images.length} image(s) and ${masks.length} mask(s), ${used.size} paired by name — names do not pair one to one (check for shifted or renamed files before training)` });
    }
  }
  applyPatterns(cases, opts);
  // Labels: given, else what the encodings produce (all centres must agree on it).
  let labels: LabelMap | undefined = opts.labels ? validateLabelMap(opts.labels, 'labels option') : undefined;
  if (!labels && encodings.length && encodings.every((e) => e !== undefined)) {
    const maps = encodings.map((e) => labelsOfEncoding(e as string | MaskEncoding));
    if (maps.every((m) => m !== undefined)) {
      const key = (m: LabelMap): string => labelValues(m).join(',');
      if (maps.some((m) => key(m as LabelMap) !== key(maps[0] as LabelMap))) {
        throw new Error(`${root}: the centres' mask encodings produce different label values (${[...new Set(maps.map((m) => key(m as LabelMap)))].join(' vs ')}); open them as separate projects or pass labels`);
      }
      labels = maps[0];
    }
  }
  return makeProject({
    name, root: absRoot, layout: 'image2d', channelNames: opts.channelNames ?? [], labels: labels ?? { background: 0 }, cases, problems,
    meta: { labelsDeclared: labels !== undefined, maskEncoding: opts.maskEncoding ?? null },
  });
}
