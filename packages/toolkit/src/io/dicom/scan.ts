// Finding DICOM series: read each file's header (stopping at Pixel Data),
// group images by SeriesInstanceUID, and split a UID that mixes incompatible
// stacks (image size, orientation, echo, magnitude/phase) the way dcm2niix
// splits its outputs. Non-DICOM and non-image files are skipped with a note.
import fs from 'node:fs';
import path from 'node:path';
import { DicomDataset, DicomError, parseDicomBytes, readDicomFile } from './dataset.js';
import { TAG, UID, sopClassName } from './tags.js';
import { numberOfFrames, pixelTagOf } from './pixels.js';

/** One series found by a scan (what `readDicomSeries` can be asked for). */
export interface SeriesInfo {
  /** Selects this series in `readDicomSeries(.., { seriesUid })`: the SeriesInstanceUID, or `UID#n` when one UID holds several stacks. */
  key: string;
  seriesInstanceUid: string;
  studyInstanceUid?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  modality?: string;
  sopClassUid?: string;
  /** Image files, sorted by InstanceNumber then path. */
  files: string[];
  /** Files left out because another file holds the same SOPInstanceUID (copies). */
  duplicates: string[];
  /** 2D images in the series (frames of multi-frame files counted). */
  images: number;
  rows: number;
  columns: number;
  transferSyntaxes: string[];
}

export interface SkippedFile {
  file: string;
  reason: string;
}

/** Header facts of one image file, enough to group it into a series. */
export interface ImageHeader {
  file: string;
  seriesUid: string;
  studyUid?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  modality?: string;
  sopClassUid?: string;
  sopInstanceUid?: string;
  transferSyntax: string;
  rows: number;
  columns: number;
  frames: number;
  instanceNumber?: number;
  echoNumber?: number;
  orientation?: number[];
  imageType: string[];
}

export interface DicomScan {
  series: SeriesInfo[];
  /** Files that are not DICOM, hold no image, or could not be read. */
  skipped: SkippedFile[];
  headers: Map<string, ImageHeader[]>;
}

const HEADER_PROBE_BYTES = 256 * 1024;

function safeNumber(ds: DicomDataset, tag: string): number | undefined {
  try {
    return ds.number(tag);
  } catch {
    return undefined;
  }
}

/** Parses the header of a file (up to Pixel Data), reading only its start when that suffices. */
export function readHeader(file: string): DicomDataset {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DicomError(file, err.code === 'ENOENT' ? 'file not found' : `cannot read: ${err.message}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size > HEADER_PROBE_BYTES) {
      const head = Buffer.alloc(HEADER_PROBE_BYTES);
      fs.readSync(fd, head, 0, HEADER_PROBE_BYTES, 0);
      try {
        const ds = parseDicomBytes(head, file, { untilTag: TAG.PixelData });
        // Only trust a partial read that actually reached the pixel data.
        if (ds.has(TAG.PixelData)) return ds;
      } catch {
        // Header longer than the probe (or compressed file): read it all.
      }
    }
    const all = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, all, off, size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return parseDicomBytes(all.subarray(0, off), file, { untilTag: TAG.PixelData });
  } finally {
    fs.closeSync(fd);
  }
}

/** Why a parsed DICOM file is not an image, or undefined if it is one. */
export function nonImageReason(ds: DicomDataset): string | undefined {
  if (isDicomdir(ds)) {
    return 'is a DICOMDIR (media directory index), not an image';
  }
  const sop = ds.str(TAG.SOPClassUID) ?? ds.str(TAG.MediaStorageSOPClassUID);
  const modality = ds.str(TAG.Modality);
  if (!pixelTagOf(ds)) {
    return `holds no image: SOP class ${sopClassName(sop)}${modality ? `, Modality ${modality}` : ''} has no Pixel Data (7FE0,0010)`;
  }
  return undefined;
}

export function imageHeaderOf(ds: DicomDataset): ImageHeader {
  const file = ds.file;
  return {
    file,
    seriesUid: ds.str(TAG.SeriesInstanceUID) ?? `(no SeriesInstanceUID: ${path.dirname(file)})`,
    studyUid: ds.str(TAG.StudyInstanceUID),
    seriesNumber: safeNumber(ds, TAG.SeriesNumber),
    seriesDescription: ds.text(TAG.SeriesDescription),
    modality: ds.str(TAG.Modality),
    sopClassUid: ds.str(TAG.SOPClassUID) ?? ds.str(TAG.MediaStorageSOPClassUID),
    sopInstanceUid: ds.str(TAG.SOPInstanceUID),
    transferSyntax: ds.transferSyntax,
    rows: ds.us(TAG.Rows) ?? 0,
    columns: ds.us(TAG.Columns) ?? 0,
    frames: (() => {
      try {
        return numberOfFrames(ds);
      } catch {
        return 1;
      }
    })(),
    instanceNumber: safeNumber(ds, TAG.InstanceNumber),
    echoNumber: safeNumber(ds, TAG.EchoNumbers),
    orientation: (() => {
      try {
        return ds.numbers(TAG.ImageOrientationPatient);
      } catch {
        return undefined;
      }
    })(),
    imageType: ds.strings(TAG.ImageType).map((s) => s.toUpperCase()),
  };
}

/** Magnitude/phase/real/imaginary, from ImageType (dcm2niix writes these to separate files). */
function complexPart(imageType: string[]): string {
  const t = imageType.slice(2);
  if (t.includes('P') || t.includes('PHASE')) return 'phase';
  if (t.includes('R') || t.includes('REAL')) return 'real';
  if (t.includes('I') || t.includes('IMAGINARY')) return 'imaginary';
  return 'magnitude';
}

function stackKey(h: ImageHeader): string {
  const iop = h.orientation ? h.orientation.map((v) => v.toFixed(3)).join(',') : 'none';
  return [h.rows, h.columns, iop, h.echoNumber ?? '', complexPart(h.imageType)].join('|');
}

function compareHeaders(a: ImageHeader, b: ImageHeader): number {
  const ia = a.instanceNumber ?? Number.POSITIVE_INFINITY;
  const ib = b.instanceNumber ?? Number.POSITIVE_INFINITY;
  if (ia !== ib) return ia < ib ? -1 : 1;
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

/** Groups image headers into series (and stacks within a series UID). */
export function groupSeries(headers: ImageHeader[]): { series: SeriesInfo[]; members: Map<string, ImageHeader[]> } {
  const byUid = new Map<string, ImageHeader[]>();
  for (const h of headers) {
    const list = byUid.get(h.seriesUid) ?? [];
    list.push(h);
    byUid.set(h.seriesUid, list);
  }
  const series: SeriesInfo[] = [];
  const members = new Map<string, ImageHeader[]>();
  for (const [uid, list] of byUid) {
    const stacks = new Map<string, ImageHeader[]>();
    // Copies of one instance (a folder copied into itself, an export made twice) count once.
    const seen = new Map<string, ImageHeader>();
    const dups: ImageHeader[] = [];
    for (const h of [...list].sort(compareHeaders)) {
      if (h.sopInstanceUid) {
        if (seen.has(h.sopInstanceUid)) {
          dups.push(h);
          continue;
        }
        seen.set(h.sopInstanceUid, h);
      }
      const k = stackKey(h);
      const s = stacks.get(k) ?? [];
      s.push(h);
      stacks.set(k, s);
    }
    let n = 0;
    for (const stack of stacks.values()) {
      n++;
      const key = stacks.size === 1 ? uid : `${uid}#${n}`;
      const first = stack[0];
      members.set(key, stack);
      series.push({
        key,
        seriesInstanceUid: uid,
        studyInstanceUid: first.studyUid,
        seriesNumber: first.seriesNumber,
        seriesDescription: first.seriesDescription,
        modality: first.modality,
        sopClassUid: first.sopClassUid,
        files: stack.map((h) => h.file),
        duplicates: dups.filter((d) => stackKey(d) === stackKey(first)).map((d) => d.file),
        images: stack.reduce((s, h) => s + h.frames, 0),
        rows: first.rows,
        columns: first.columns,
        transferSyntaxes: [...new Set(stack.map((h) => h.transferSyntax))],
      });
    }
  }
  series.sort((a, b) => (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { series, members };
}

function listFiles(folder: string, recursive: boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      throw new DicomError(dir, `cannot list folder: ${(e as Error).message}`);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (recursive) walk(p);
      } else if (e.isFile() || e.isSymbolicLink()) {
        out.push(p);
      }
    }
  };
  walk(folder);
  return out;
}

/** Scans files (header only) and groups the images into series. */
export function scanFiles(files: readonly string[]): DicomScan {
  const headers: ImageHeader[] = [];
  const skipped: SkippedFile[] = [];
  for (const file of files) {
    let ds: DicomDataset;
    try {
      ds = readHeader(file);
    } catch (e) {
      const msg = e instanceof DicomError ? e.message.slice(file.length + 2) : (e as Error).message;
      skipped.push({ file, reason: msg });
      continue;
    }
    const why = nonImageReason(ds);
    if (why) {
      skipped.push({ file, reason: why });
      continue;
    }
    headers.push(imageHeaderOf(ds));
  }
  const { series, members } = groupSeries(headers);
  return { series, skipped, headers: members };
}

/** Scans a folder (recursively by default) for DICOM series. */
export function scanDicom(folder: string, opts: { recursive?: boolean } = {}): DicomScan {
  let st: fs.Stats;
  try {
    st = fs.statSync(folder);
  } catch {
    throw new DicomError(folder, 'folder not found');
  }
  if (!st.isDirectory()) throw new DicomError(folder, 'is not a folder');
  return scanFiles(listFiles(path.resolve(folder), opts.recursive ?? true));
}

/**
 * The DICOM series in a folder (recursive), grouped by SeriesInstanceUID.
 * Non-DICOM and non-image files are skipped; pass `onSkip` to hear about them.
 */
export function scanDicomFolder(folder: string, opts: { recursive?: boolean; onSkip?: (file: string, reason: string) => void } = {}): SeriesInfo[] {
  const scan = scanDicom(folder, opts);
  if (opts.onSkip) for (const s of scan.skipped) opts.onSkip(s.file, s.reason);
  return scan.series;
}

/** True when a parsed file is a DICOMDIR (media directory index). */
export function isDicomdir(ds: DicomDataset): boolean {
  return ds.str(TAG.MediaStorageSOPClassUID) === UID.MediaStorageDirectoryStorage || ds.has(TAG.DirectoryRecordSequence);
}

/**
 * Scans a folder (recursively) or a DICOMDIR (its referenced files) for
 * series; returns undefined for any other file (a single image).
 */
export function scanDicomPath(target: string, opts: { recursive?: boolean } = {}): DicomScan | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    throw new DicomError(target, 'no such file or folder');
  }
  if (st.isDirectory()) return scanDicom(target, opts);
  const head = readHeader(target);
  if (!isDicomdir(head)) return undefined;
  const full = readDicomFile(target);
  const { files, missing } = dicomdirFiles(full);
  const scan = scanFiles(files);
  scan.skipped.push(...missing.map((m) => ({ file: m, reason: 'referenced by the DICOMDIR but missing' })));
  return scan;
}

/** Files a DICOMDIR references (ReferencedFileID of its directory records), resolved against its folder. */
export function dicomdirFiles(ds: DicomDataset): { files: string[]; missing: string[] } {
  const base = path.dirname(ds.file);
  const files: string[] = [];
  const missing: string[] = [];
  for (const rec of ds.sequence(TAG.DirectoryRecordSequence)) {
    const parts = rec.strings(TAG.ReferencedFileID).filter((p) => p !== '');
    if (parts.length === 0) continue;
    const p = resolveCaseInsensitive(base, parts);
    if (p) files.push(p);
    else missing.push(path.join(base, ...parts));
  }
  return { files: [...new Set(files)], missing };
}

/** Media file IDs are upper case; file systems may have lowered them. */
function resolveCaseInsensitive(base: string, parts: string[]): string | undefined {
  let cur = base;
  for (const part of parts) {
    const direct = path.join(cur, part);
    if (fs.existsSync(direct)) {
      cur = direct;
      continue;
    }
    let entries: string[];
    try {
      entries = fs.readdirSync(cur);
    } catch {
      return undefined;
    }
    const hit = entries.find((e) => e.toUpperCase() === part.toUpperCase());
    if (!hit) return undefined;
    cur = path.join(cur, hit);
  }
  return fs.existsSync(cur) ? cur : undefined;
}

/** Short description of a series for listings and error messages. */
export function describeSeries(s: SeriesInfo): string {
  const parts = [`${s.key}`];
  if (s.seriesNumber !== undefined) parts.push(`#${s.seriesNumber}`);
  if (s.seriesDescription) parts.push(`'${s.seriesDescription}'`);
  if (s.modality) parts.push(s.modality);
  parts.push(`${s.images} image(s) ${s.columns}×${s.rows}`);
  return parts.join(' ');
}
