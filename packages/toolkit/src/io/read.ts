// One entry point for every image format Labelwise reads: the format comes
// from the path (extension, or a folder for a DICOM series). The readers of
// heavier formats (DICOM codecs, HDF5's wasm) are imported on first use so
// reading a NIfTI file never pays for them.
import fs from 'node:fs';
import path from 'node:path';
import { type ReadNiftiOptions, type WriteNiftiOptions, readNifti, writeNifti } from './nifti.js';
import type { ReadDicomOptions } from './dicom/index.js';
import type { ReadH5VolumeOptions, WriteH5CaseOptions } from './hdf5.js';
import type { ReadImage2dOptions, EncodePngOptions } from './image2d.js';
import type { Volume } from './volume.js';

export type ImageFormat = 'nifti' | 'dicom' | 'hdf5' | 'image2d';

const FORMAT_EXTENSIONS: readonly (readonly [string, ImageFormat])[] = [
  ['.nii.gz', 'nifti'], ['.nii', 'nifti'], ['.hdr', 'nifti'], ['.hdr.gz', 'nifti'], ['.img', 'nifti'], ['.img.gz', 'nifti'],
  ['.dcm', 'dicom'], ['.dcm.gz', 'dicom'], ['.dicom', 'dicom'],
  ['.h5', 'hdf5'], ['.hdf5', 'hdf5'],
  ['.png', 'image2d'], ['.jpg', 'image2d'], ['.jpeg', 'image2d'], ['.bmp', 'image2d'],
];

/** Extensions readImage understands (plus folders, read as a DICOM series). */
export const READABLE_EXTENSIONS: readonly string[] = FORMAT_EXTENSIONS.map(([e]) => e);
/** Extensions writeImage understands. */
export const WRITABLE_EXTENSIONS: readonly string[] = ['.nii.gz', '.nii', '.hdr', '.img', '.img.gz', '.h5', '.png'];

function byExtension(file: string): ImageFormat | undefined {
  const lower = path.basename(file).toLowerCase();
  return FORMAT_EXTENSIONS.find(([e]) => lower.endsWith(e))?.[1];
}

/** DICOM Part 10 files carry "DICM" after a 128-byte preamble, whatever their name. */
function hasDicomMagic(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const b = Buffer.alloc(132);
    const n = fs.readSync(fd, b, 0, 132, 0);
    return n === 132 && b.toString('latin1', 128, 132) === 'DICM';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The format readImage would use for `file` (folders are DICOM series); undefined when unknown. */
export function imageFormatOf(file: string): ImageFormat | undefined {
  let stat: fs.Stats | undefined;
  try { stat = fs.statSync(file); } catch { stat = undefined; }
  if (stat?.isDirectory()) return 'dicom';
  return byExtension(file) ?? (stat?.isFile() && hasDicomMagic(file) ? 'dicom' : undefined);
}

export interface ReadImageOptions {
  nifti?: ReadNiftiOptions;
  dicom?: ReadDicomOptions;
  hdf5?: ReadH5VolumeOptions;
  image2d?: ReadImage2dOptions;
}

/**
 * Reads any supported image into a Volume: NIfTI (.nii, .nii.gz, .hdr/.img),
 * DICOM (a .dcm file, a file with the DICM preamble, or a folder holding one
 * series), HDF5 (.h5: the "image" dataset), PNG/JPEG/BMP.
 */
export async function readImage(file: string, opts: ReadImageOptions = {}): Promise<Volume> {
  if (!fs.existsSync(file)) throw new Error(`readImage: ${file}: file not found`);
  const format = imageFormatOf(file);
  switch (format) {
    case 'nifti':
      return readNifti(file, opts.nifti);
    case 'dicom': {
      const { readDicomSeries } = await import('./dicom/index.js');
      return readDicomSeries(file, opts.dicom);
    }
    case 'hdf5': {
      const { readH5Volume } = await import('./hdf5.js');
      return readH5Volume(file, opts.hdf5);
    }
    case 'image2d': {
      const { readImage2d } = await import('./image2d.js');
      return readImage2d(file, opts.image2d);
    }
    default:
      throw new Error(`readImage: ${file}: unknown image format; supported: ${READABLE_EXTENSIONS.join(', ')}, a DICOM file (DICM preamble) or a folder holding a DICOM series`);
  }
}

export interface WriteImageOptions {
  nifti?: WriteNiftiOptions;
  hdf5?: WriteH5CaseOptions;
  png?: EncodePngOptions;
}

/**
 * Writes a Volume in the format named by the extension: NIfTI (.nii.gz,
 * .nii, .hdr/.img), HDF5 (.h5: "image" dataset in z, y, x order plus
 * "voxel_spacing"; the voxel type is kept unless options say otherwise)
 * or PNG (single slice). Writes are atomic.
 */
export async function writeImage(file: string, vol: Volume, opts: WriteImageOptions = {}): Promise<void> {
  const lower = path.basename(file).toLowerCase();
  if (/\.(nii|nii\.gz|hdr|img|img\.gz)$/.test(lower)) {
    writeNifti(file, vol, opts.nifti);
    return;
  }
  if (/\.(h5|hdf5)$/.test(lower)) {
    const { writeH5Case } = await import('./hdf5.js');
    await writeH5Case(file, { image: vol, spacing: vol.spacing }, 'zyx', { imageDtype: vol.voxelType, ...opts.hdf5 });
    return;
  }
  if (lower.endsWith('.png')) {
    const { writePng } = await import('./image2d.js');
    writePng(file, vol, opts.png);
    return;
  }
  const hint = /\.(dcm|dicom)$/.test(lower) ? ' (writing DICOM is not supported; write NIfTI instead)' : /\.(jpe?g|bmp)$/.test(lower) ? ' (lossy/legacy 2D formats are read-only; write .png)' : '';
  throw new Error(`writeImage: ${file}: cannot write this format${hint}; supported: ${WRITABLE_EXTENSIONS.join(', ')}`);
}
