// Manifests: a table of cases (CSV/TSV or JSON) for data that follows no
// folder convention — several hospitals' exports side by side, point
// annotations, mixed labelled/unlabelled cases.
//
// Columns (header names, case-insensitive; `centre` also accepts `center`,
// `site`, `hospital`):
//   case      unique id (required)
//   centre    centre id (default: the project name)
//   patient   patient id (cases of one patient never straddle a split)
//   image     channel files separated by ';' — or columns image_0000,
//             image_0001, ... (one per channel)
//   label     label file (optional)
//   points    a .json file with [{class, ijk | xyz}], an inline JSON list,
//             or a point-map volume (.nii/.nii.gz: value v = class v - 1)
//   status    labelled | points | unlabelled (default: from label/points)
//   split     train | val | test (optional)
//   spacing   "si;sj;sk" in mm (optional)
//   encoding  mask encoding of 2D label files (optional)
// Relative paths resolve against the manifest's folder. A JSON manifest is
// a list of such rows (image may be a list, points a list) or an object
// {name, labels, channel_names, cases: [...]}. Labels and channel names come
// from the JSON object, the options, or a dataset.json beside the manifest.
import fs from 'node:fs';
import path from 'node:path';
import type { Vec3 } from '../io/affine.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type MaskEncoding, parseMaskEncoding } from '../io/mask-encoding.js';
import { type Case, type CaseStatus, type LabelMap, type Project, CASE_STATUSES, SPLIT_NAMES, type SplitName, allCases, casePath, inferStatus, makeProject, parsePoints, validateLabelMap } from './dataset.js';
import { type OpenDatasetOptions, applyPatterns, isFile, readJsonFile, rel } from './sources/common.js';
import { msdLabelsToMap } from './sources/msd.js';
import { parseChannelNames } from './sources/nnunet.js';

/** RFC 4180 CSV (quotes, doubled quotes, CRLF); `sep` ',' or '\t'. */
export function parseCsv(text: string, sep = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM from spreadsheet exports
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += ch;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === sep) { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (quoted) throw new Error('CSV: unterminated quoted field');
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

const CENTRE_ALIASES = ['centre', 'center', 'site', 'hospital', 'domain'];

type Row = Record<string, unknown>;

function rowsFromCsv(file: string): Row[] {
  const text = fs.readFileSync(file, 'utf8');
  const rows = parseCsv(text, file.toLowerCase().endsWith('.tsv') ? '\t' : ',');
  if (rows.length === 0) throw new Error(`${file}: empty manifest`);
  const header = rows[0].map((h) => h.trim().toLowerCase());
  if (!header.includes('case')) throw new Error(`${file}: the header row needs a 'case' column (found: ${header.join(', ')})`);
  return rows.slice(1).map((r, n) => {
    if (r.length !== header.length) throw new Error(`${file}: line ${n + 2} has ${r.length} field(s), the header has ${header.length}`);
    const o: Row = { __line: n + 2 };
    header.forEach((h, i) => { if (r[i].trim() !== '') o[h] = r[i].trim(); });
    return o;
  });
}

function imagesOf(row: Row, where: string): string[] {
  const chCols = Object.keys(row).filter((k) => /^image_\d{4}$/.test(k)).sort();
  if (chCols.length) {
    chCols.forEach((k, i) => { if (k !== `image_${String(i).padStart(4, '0')}`) throw new Error(`${where}: channel columns must be image_0000, image_0001, ... without gaps (found ${chCols.join(', ')})`); });
    if (row.image !== undefined) throw new Error(`${where}: give either 'image' or 'image_0000...' columns, not both`);
    return chCols.map((k) => String(row[k]));
  }
  const img = row.image ?? row.images;
  if (Array.isArray(img) && img.length && img.every((x) => typeof x === 'string')) return img as string[];
  if (typeof img === 'string' && img) return img.split(';').map((s) => s.trim()).filter(Boolean);
  throw new Error(`${where}: missing 'image' (a path, paths separated by ';', or image_0000... columns)`);
}

function caseFromRow(row: Row, base: string, defaultCentre: string, where: string): Case {
  const id = row.case ?? row.id;
  if (typeof id !== 'string' || !id) throw new Error(`${where}: missing 'case' id`);
  const w = `${where} (case '${id}')`;
  const abs = (p: string): string => path.resolve(base, p);
  const images = imagesOf(row, w).map(abs);
  for (const f of images) if (!fs.existsSync(f)) throw new Error(`${w}: image ${f} does not exist`);
  const centreKey = CENTRE_ALIASES.find((k) => row[k] !== undefined);
  const c: Case = { id, centre: centreKey ? String(row[centreKey]) : defaultCentre, images, status: 'unlabelled' };
  if (row.patient !== undefined) c.patient = String(row.patient);
  if (row.label !== undefined) {
    c.label = abs(String(row.label));
    if (!isFile(c.label)) throw new Error(`${w}: label ${c.label} does not exist`);
  }
  const enc = row.encoding ?? row.mask_encoding ?? row.label_encoding;
  if (enc !== undefined) {
    let e: unknown = enc;
    if (typeof enc === 'string' && enc.trim().startsWith('{')) {
      try { e = JSON.parse(enc); } catch (err) { throw new Error(`${w}: 'encoding' is not valid JSON: ${(err as Error).message}`); }
    }
    parseMaskEncoding(e, `${w} 'encoding'`);
    c.labelEncoding = e as string | MaskEncoding;
  }
  const pts = row.points;
  if (pts !== undefined) {
    if (Array.isArray(pts)) c.points = parsePoints(pts, `${w} points`);
    else {
      const s = String(pts).trim();
      if (s.startsWith('[')) {
        let parsed: unknown;
        try { parsed = JSON.parse(s); } catch (e) { throw new Error(`${w}: 'points' is not valid JSON: ${(e as Error).message}`); }
        c.points = parsePoints(parsed, `${w} points`);
      } else if (s.toLowerCase().endsWith('.json')) {
        c.points = parsePoints(readJsonFile(abs(s)), abs(s));
      } else {
        c.pointsMap = abs(s);
        if (!isFile(c.pointsMap)) throw new Error(`${w}: points map ${c.pointsMap} does not exist`);
      }
    }
  }
  if (row.spacing !== undefined) {
    const s = Array.isArray(row.spacing) ? (row.spacing as number[]) : String(row.spacing).split(/[;x ]+/).map(Number);
    if (s.length !== 3 || s.some((v) => !(v > 0))) throw new Error(`${w}: 'spacing' must be 3 positive numbers like "0.8;0.8;5", got ${JSON.stringify(row.spacing)}`);
    c.spacing = [s[0], s[1], s[2]] as Vec3;
  }
  if (row.split !== undefined) {
    const s = String(row.split).toLowerCase();
    const norm = s === 'validation' ? 'val' : s === 'training' ? 'train' : s === 'testing' ? 'test' : s;
    if (!SPLIT_NAMES.includes(norm as SplitName)) throw new Error(`${w}: 'split' must be one of ${SPLIT_NAMES.join(', ')}, got '${String(row.split)}'`);
    c.split = norm as SplitName;
  }
  const implied = inferStatus(c);
  if (row.status !== undefined) {
    const s = String(row.status).toLowerCase() as CaseStatus;
    if (!CASE_STATUSES.includes(s)) throw new Error(`${w}: 'status' must be one of ${CASE_STATUSES.join(', ')}, got '${String(row.status)}'`);
    if (s === 'labelled' && !c.label) throw new Error(`${w}: status 'labelled' but no 'label' file`);
    if (s === 'points' && !c.points && !c.pointsMap) throw new Error(`${w}: status 'points' but no 'points'`);
    c.status = s;
  } else c.status = implied;
  return c;
}

function sideLabels(dir: string): { labels?: LabelMap; channelNames?: string[] } {
  const f = path.join(dir, 'dataset.json');
  if (!isFile(f)) return {};
  const j = readJsonFile(f) as Record<string, unknown>;
  const out: { labels?: LabelMap; channelNames?: string[] } = {};
  if (j.labels) {
    const keys = Object.keys(j.labels as object);
    out.labels = keys.every((k) => /^\d+$/.test(k)) ? msdLabelsToMap(j.labels, f) : validateLabelMap(j.labels, f);
  }
  const ch = j.channel_names ?? j.modality;
  if (ch) out.channelNames = parseChannelNames(ch, `${f} 'channel_names'`);
  return out;
}

/** Opens a CSV/TSV/JSON manifest file as a project. */
export function openManifestDataset(file: string, opts: OpenDatasetOptions = {}): Project {
  const base = path.dirname(path.resolve(file));
  const lower = file.toLowerCase();
  let rows: Row[];
  let jsonMeta: Record<string, unknown> = {};
  if (lower.endsWith('.json')) {
    const j = readJsonFile(file);
    if (Array.isArray(j)) rows = j as Row[];
    else if (j && typeof j === 'object' && Array.isArray((j as Row).cases)) {
      jsonMeta = j as Record<string, unknown>;
      rows = jsonMeta.cases as Row[];
    } else throw new Error(`${file}: a JSON manifest must be a list of cases or an object with a 'cases' list`);
  } else if (lower.endsWith('.csv') || lower.endsWith('.tsv')) rows = rowsFromCsv(file);
  else throw new Error(`${file}: manifest must be .csv, .tsv or .json`);
  if (rows.length === 0) throw new Error(`${file}: the manifest lists no cases`);
  const side = sideLabels(base);
  const name = opts.name ?? (typeof jsonMeta.name === 'string' ? jsonMeta.name : path.basename(base));
  const defaultCentre = opts.centre ?? name;
  const cases = rows.map((r, i) => {
    if (!r || typeof r !== 'object') throw new Error(`${file}: case ${i} is not an object`);
    const where = `${file}: ${r.__line !== undefined ? `line ${String(r.__line)}` : `cases[${i}]`}`;
    return caseFromRow(r, base, defaultCentre, where);
  });
  applyPatterns(cases, opts);
  for (const c of cases) {
    c.images = c.images.map((p) => rel(base, p));
    if (c.label) c.label = rel(base, c.label);
    if (c.pointsMap) c.pointsMap = rel(base, c.pointsMap);
  }
  let labels: LabelMap;
  let declared = true;
  if (opts.labels) labels = validateLabelMap(opts.labels, 'labels option');
  else if (jsonMeta.labels !== undefined) {
    const keys = Object.keys(jsonMeta.labels as object);
    labels = keys.every((k) => /^\d+$/.test(k)) ? msdLabelsToMap(jsonMeta.labels, file) : validateLabelMap(jsonMeta.labels, file);
  } else if (side.labels) labels = side.labels;
  else { labels = { background: 0 }; declared = false; }
  const chRaw = jsonMeta.channel_names ?? jsonMeta.modality;
  const channelNames = opts.channelNames ?? (chRaw ? parseChannelNames(chRaw, `${file} 'channel_names'`) : side.channelNames ?? []);
  return makeProject({ name, root: base, layout: 'manifest', channelNames, labels, cases, meta: { manifest: path.resolve(file), labelsDeclared: declared } });
}

/** Writes a project as a manifest (CSV when the name ends in .csv, else JSON), paths relative to the file. */
export function writeManifest(file: string, project: Project): void {
  const base = path.dirname(path.resolve(file));
  const relp = (p: string): string => path.relative(base, casePath(project, p)) || '.';
  const cases = allCases(project);
  if (file.toLowerCase().endsWith('.csv')) {
    const nCh = Math.max(...cases.map((c) => c.images.length));
    const header = ['case', 'centre', 'patient', ...Array.from({ length: nCh }, (_, i) => `image_${String(i).padStart(4, '0')}`), 'label', 'points', 'status', 'split', 'spacing', 'encoding'];
    const lines = [header.join(',')];
    for (const c of cases) {
      const imgs = Array.from({ length: nCh }, (_, i) => (c.images[i] ? relp(c.images[i]) : ''));
      const pts = c.pointsMap ? relp(c.pointsMap) : c.points ? JSON.stringify(c.points) : '';
      lines.push([c.id, c.centre, c.patient ?? '', ...imgs, c.label ? relp(c.label) : '', pts, c.status, c.split ?? '', c.spacing ? c.spacing.join(';') : '', typeof c.labelEncoding === 'object' ? JSON.stringify(c.labelEncoding) : c.labelEncoding ?? ''].map(csvField).join(','));
    }
    writeFileAtomic(file, lines.join('\n') + '\n');
    return;
  }
  const json = {
    name: project.name,
    labels: project.labels,
    ...(project.channelNames.length ? { channel_names: Object.fromEntries(project.channelNames.map((n, i) => [String(i), n])) } : {}),
    cases: cases.map((c) => ({
      case: c.id, centre: c.centre, ...(c.patient ? { patient: c.patient } : {}),
      image: c.images.map(relp), ...(c.label ? { label: relp(c.label) } : {}),
      ...(c.points ? { points: c.points } : c.pointsMap ? { points: relp(c.pointsMap) } : {}),
      status: c.status, ...(c.split ? { split: c.split } : {}), ...(c.spacing ? { spacing: c.spacing } : {}),
      ...(c.labelEncoding ? { encoding: c.labelEncoding } : {}),
    })),
  };
  writeFileAtomic(file, JSON.stringify(json, null, 2) + '\n');
}
