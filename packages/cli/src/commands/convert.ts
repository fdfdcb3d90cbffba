// `labelwise convert`: DICOM series (folder, DICOMDIR or file) to NIfTI, one
// file per series named like dcm2niix's default "%s_%d" (series number and
// description), plus a JSON sidecar; other readable images (NIfTI, HDF5,
// PNG/JPEG/BMP) are rewritten as NIfTI.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type ReadDicomOptions, type SeriesInfo, type Volume, describeSeries, imageFormatOf, readDicomSeries, readImage, scanDicomPath, writeFileAtomic, writeNifti } from '@labelwise/toolkit/io';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import * as output from '../output.js';

const help = `usage: labelwise convert <input> -o <out.nii.gz | out-folder> [options]

Converts DICOM to NIfTI with the geometry dcm2niix produces (same voxel
order for 2D acquisitions: rows stored bottom-up; voxel → RAS affine from
ImagePositionPatient/ImageOrientationPatient). Slices are sorted along the
slice normal; spacing comes from the positions; Rescale Slope/Intercept is
applied (integer types when exact, float32 otherwise). Enhanced multi-frame,
Siemens mosaics, 4D series (diffusion, time) and RT Dose are supported.

<input> is one of
  - a folder (searched recursively) holding DICOM series,
  - a DICOMDIR file (the files it references are read),
  - one DICOM file (.dcm, .dcm.gz, or any name),
  - a NIfTI / HDF5 / PNG / JPEG / BMP image (rewritten as NIfTI).

-o, --out <path>        a .nii.gz / .nii file (one series), or a folder: one
                        file per series, named by --name (created if needed)

options:
  --series <uid>          convert only this SeriesInstanceUID (or a listed key
                          "UID#n" when one UID holds several stacks)
  --name <pattern>        file name pattern in a folder (default "%s_%d"):
                          %s series number, %d series description,
                          %p protocol name, %m modality, %u series UID
  --non-uniform <mode>    slice gaps that differ: error (default), keep (mean
                          step, warning), resample (linear, median gap)
  --layout <dcm2niix|dicom>  voxel row order (default dcm2niix: bottom-up)
  --invert-monochrome1    store MONOCHROME1 images inverted (bright = high)
  --no-rescale            keep stored values (ignore Rescale Slope/Intercept)
  --uncompressed          write .nii instead of .nii.gz in a folder
  --no-sidecar            do not write the <name>.json sidecar
  --list                  list the series found and exit
  --quiet                 only errors on stderr

exit codes: 0 all converted, 1 some series failed, 2 usage or input error.

examples:
  labelwise convert /data/patient01/ -o nifti/
  labelwise convert /data/ct_series -o ct.nii.gz --non-uniform resample
  labelwise convert /data/DICOMDIR --list
`;

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  series: { type: 'string' },
  name: { type: 'string' },
  'non-uniform': { type: 'string' },
  layout: { type: 'string' },
  'invert-monochrome1': { type: 'boolean' },
  'no-rescale': { type: 'boolean' },
  uncompressed: { type: 'boolean' },
  'no-sidecar': { type: 'boolean' },
  list: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

const NIFTI_FILE = /\.nii(\.gz)?$/i;

/** dcm2niix-style file name: spaces → '_', characters unsafe in file names dropped. */
export function seriesFileName(pattern: string, s: { seriesNumber?: number; seriesDescription?: string; protocolName?: string; modality?: string; seriesInstanceUid?: string }): string {
  const fields: Record<string, string> = {
    s: s.seriesNumber === undefined ? '' : String(s.seriesNumber),
    d: s.seriesDescription ?? '',
    p: s.protocolName ?? '',
    m: s.modality ?? '',
    u: s.seriesInstanceUid ?? '',
  };
  const raw = pattern.replace(/%([sdpmu%])/g, (_, k: string) => (k === '%' ? '%' : fields[k]));
  const clean = raw
    .replace(/\s+/g, '_')
    .replace(/[^A-Za-z0-9._+-]/g, '')
    .replace(/_+/g, '_')
    .replace(/^[_.]+|_+$/g, '');
  return clean === '' ? 'series' : clean;
}

function describeVolume(vol: Volume): string {
  const sp = vol.spacing.map((v) => Number(v.toFixed(4)));
  const c = vol.channels > 1 ? `×${vol.channels}` : '';
  return `${vol.dims.join('×')}${c} ${vol.voxelType}, spacing ${sp.join('×')} mm, ${vol.orientation}`;
}

/** JSON sidecar beside the NIfTI (like dcm2niix's): the reader's meta plus the written geometry. */
function sidecar(vol: Volume, out: string): string {
  const extra = { output: path.basename(out), dims: vol.dims, channels: vol.channels, spacing: vol.spacing, orientation: vol.orientation, voxelType: vol.voxelType, conversionSoftware: 'labelwise convert' };
  return `${JSON.stringify({ ...vol.meta, ...extra }, null, 2)}\n`;
}

function writeVolume(vol: Volume, out: string, withSidecar: boolean): void {
  const rgb = vol.channels === 3 && vol.meta.photometricInterpretation === 'RGB' && vol.voxelType === 'uint8';
  writeNifti(out, vol, rgb ? { datatype: 'RGB24', descrip: 'labelwise convert' } : { descrip: 'labelwise convert' });
  if (withSidecar) writeFileAtomic(out.replace(NIFTI_FILE, '.json'), sidecar(vol, out));
}

export const command: Command = {
  summary: 'convert DICOM series and other formats to NIfTI',
  help,
  async run(argv) {
    const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError(`expected one input (a DICOM folder, DICOMDIR or file, or an image), got ${positionals.length}; see 'labelwise convert --help'`);
    const input = positionals[0];
    if (!fs.existsSync(input)) throw new UsageError(`input not found: ${input}`);
    const say = (s: string): void => {
      if (!v.quiet) output.err(`${s}\n`);
    };
    const nonUniform = v['non-uniform'] ?? 'error';
    if (!['error', 'keep', 'resample'].includes(nonUniform)) throw new UsageError(`--non-uniform: expected error, keep or resample, got '${nonUniform}'`);
    const layout = v.layout ?? 'dcm2niix';
    if (!['dcm2niix', 'dicom'].includes(layout)) throw new UsageError(`--layout: expected dcm2niix or dicom, got '${layout}'`);
    const opts: ReadDicomOptions = {
      nonUniformSpacing: nonUniform as ReadDicomOptions['nonUniformSpacing'],
      layout: layout as ReadDicomOptions['layout'],
      invertMonochrome1: v['invert-monochrome1'] ?? false,
      rescale: !v['no-rescale'],
    };
    const format = fs.statSync(input).isDirectory() ? 'dicom' : imageFormatOf(input);

    // Non-DICOM images: straight to NIfTI.
    if (format !== undefined && format !== 'dicom') {
      if (v.list) throw new UsageError('--list applies to DICOM input');
      if (!v.out || !NIFTI_FILE.test(v.out)) throw new UsageError('-o/--out: expected a .nii or .nii.gz file for a non-DICOM input');
      const vol = await readImage(input);
      writeVolume(vol, v.out, false);
      say(`wrote ${v.out} (${describeVolume(vol)})`);
      return 0;
    }

    // Which series: a folder or a DICOMDIR is scanned; any other file is one series.
    let series: SeriesInfo[] | undefined;
    const scan = scanDicomPath(input);
    if (scan) {
      series = scan.series;
      if (v.list && !v.quiet) for (const s of scan.skipped) output.err(`skipped ${s.file}: ${s.reason}\n`);
      if (series.length === 0) {
        const why = scan.skipped.slice(0, 3).map((s) => `${s.file}: ${s.reason}`).join('; ');
        throw new UsageError(`no DICOM image series in ${input}${why ? ` (${scan.skipped.length} file(s) skipped, e.g. ${why})` : ''}`);
      }
      if (v.series) {
        const hit = series.filter((s) => s.key === v.series || s.seriesInstanceUid === v.series);
        if (hit.length === 0) throw new UsageError(`--series ${v.series}: no such series in ${input}; found:\n${series.map((s) => `  ${describeSeries(s)}`).join('\n')}`);
        series = hit;
      }
    }
    if (v.list) {
      if (!series) throw new UsageError('--list needs a folder or a DICOMDIR');
      output.out(`${series.map((s) => describeSeries(s)).join('\n')}\n`);
      return 0;
    }
    if (!v.out) throw new UsageError('missing -o/--out (a .nii.gz file or an output folder)');

    const toFile = NIFTI_FILE.test(v.out);
    if (toFile) {
      if (series && series.length > 1) {
        throw new UsageError(`${input} holds ${series.length} series but -o names one file; give a folder, or pick one with --series:\n${series.map((s) => `  ${describeSeries(s)}`).join('\n')}`);
      }
      const vol = readDicomSeries(input, { ...opts, seriesUid: series?.[0].key ?? v.series });
      writeVolume(vol, v.out, !v['no-sidecar']);
      say(`wrote ${v.out} (${describeVolume(vol)})`);
      for (const w of (vol.meta.warnings as string[] | undefined) ?? []) say(`  warning: ${w}`);
      return 0;
    }

    if (fs.existsSync(v.out) && !fs.statSync(v.out).isDirectory()) throw new UsageError(`-o ${v.out} exists and is not a folder (use a .nii/.nii.gz name for a single file)`);
    fs.mkdirSync(v.out, { recursive: true });
    const ext = v.uncompressed ? '.nii' : '.nii.gz';
    const pattern = v.name ?? '%s_%d';
    const keys: (string | undefined)[] = series ? series.map((s) => s.key) : [v.series];
    const used = new Set<string>();
    let failed = 0;
    for (const key of keys) {
      let vol: Volume;
      try {
        vol = readDicomSeries(input, { ...opts, seriesUid: key });
      } catch (e) {
        failed++;
        output.err(`labelwise convert: ${(e as Error).message}\n`);
        continue;
      }
      const base = seriesFileName(pattern, vol.meta as Parameters<typeof seriesFileName>[1]);
      let name = base;
      for (let n = 2; used.has(name) || fs.existsSync(path.join(v.out, name + ext)); n++) name = `${base}_${n}`;
      used.add(name);
      const out = path.join(v.out, name + ext);
      writeVolume(vol, out, !v['no-sidecar']);
      say(`wrote ${out} (${describeVolume(vol)})`);
      for (const w of (vol.meta.warnings as string[] | undefined) ?? []) say(`  warning: ${w}`);
    }
    if (failed) output.err(`labelwise convert: ${failed} of ${keys.length} series failed\n`);
    return failed ? 1 : 0;
  },
};
