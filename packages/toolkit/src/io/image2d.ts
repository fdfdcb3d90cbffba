// 2D images (PNG, JPEG, BMP) as Volumes, and PNG writing.
//
// A 2D image becomes a Volume with dims [W, H, 1]: i runs along a row (x),
// j down the rows (y), one slice. Colour images have 3 channels (R, G, B)
// stored plane after plane, as every Volume stores channels; greyscale and
// palette-index images have 1. Alpha is dropped unless asked for.
//
// Values are what PIL's `np.array(Image.open(f))` gives, so results match
// the Python pipelines these datasets come from:
// - 8-bit samples → uint8; 16-bit PNG → uint16 (PIL keeps 16-bit grey, but
//   reduces 16-bit RGB to 8 bits; we keep all 16);
// - 1/2/4-bit greyscale is scaled to 0-255 (a 1-bit mask reads 0/255);
// - palette PNG/BMP → the palette INDEX (class ids of VOC-style masks), with
//   the colour table in meta.palette; `{ palette: 'rgb' }` gives colours;
// - JPEG is decoded by libjpeg-turbo (the decoder PIL uses): identical values.
//
// Spacing: 1 mm, unless the file states a physical pixel size — a PNG pHYs
// chunk in pixels per metre, or a BMP's pixels-per-metre fields — which
// gives 1000 / ppm mm, as ITK's PNG reader does. JPEG density (dpi) is
// display metadata and ignored. `spacing` overrides either way, and
// meta.spacingSource records which applied.
import fs from 'node:fs';
import { composeAffine } from './affine.js';
import { writeFileAtomic } from './atomic.js';
import { decodeJpeg } from './dicom/codecs.js';
import { decodeBmp } from './image2d-bmp.js';
import { type Decoded2d, PNG_SIGNATURE, decodePng, encodePngSamples } from './image2d-png.js';
import { castVoxels } from './hdf5.js';
import { Volume } from './volume.js';

export interface ReadImage2dOptions {
  /** Keep the alpha channel as the last channel; default false. */
  alpha?: boolean;
  /** Palette images: 'index' (default, as PIL) or 'rgb' colours. */
  palette?: 'index' | 'rgb';
  /** Convert colour to one luma channel with PIL's convert('L') weights (0.299, 0.587, 0.114); default false. */
  grey?: boolean;
  /** Pixel spacing (x, y) in mm overriding the file's. */
  spacing?: readonly number[];
  /** Refuse images with more pixels than this (corrupt headers); default 2^28. */
  maxPixels?: number;
}

export type Image2dFormat = 'png' | 'jpeg' | 'bmp';

/** The format from the file's first bytes (extensions lie). */
export function sniffImage2d(b: Uint8Array): Image2dFormat | undefined {
  if (b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v)) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return undefined;
}

/** Width/height/components from a JPEG's frame header, read before decoding to check the size. */
function jpegFrameSize(b: Uint8Array): { width: number; height: number; components: number } | undefined {
  let p = 2;
  while (p + 9 < b.length) {
    if (b[p] !== 0xff) { p++; continue; }
    const m = b[p + 1];
    if (m === 0xff || m === 0x01 || (m >= 0xd0 && m <= 0xd8)) { p += m === 0xff ? 1 : 2; continue; }
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: (b[p + 5] << 8) | b[p + 6], width: (b[p + 7] << 8) | b[p + 8], components: b[p + 9] };
    }
    if (m === 0xda || m === 0xd9) return undefined;
    p += 2 + ((b[p + 2] << 8) | b[p + 3]);
  }
  return undefined;
}

function decodeJpegFile(b: Uint8Array, file: string, maxPixels: number): Decoded2d {
  const size = jpegFrameSize(b);
  if (!size) throw new Error(`JPEG ${file}: no frame header (SOF marker) found (truncated or not a JPEG image)`);
  if (size.width === 0 || size.height === 0) throw new Error(`JPEG ${file}: frame header declares an empty ${size.width}×${size.height} image`);
  if (size.width * size.height > maxPixels) throw new Error(`JPEG ${file}: ${size.width}×${size.height} pixels exceeds the limit of ${maxPixels}`);
  if (size.components !== 1 && size.components !== 3) throw new Error(`JPEG ${file}: ${size.components}-component (CMYK/YCCK) JPEG is not supported; grey and colour are`);
  let frame;
  try {
    frame = decodeJpeg(b);
  } catch (e) {
    // The wasm decoder may report only an exception pointer: drop a bare number.
    const why = (e as Error).message.replace(/:\s*\d+$/, '');
    throw new Error(`JPEG ${file}: ${why} (corrupt or truncated file?)`);
  }
  const { width, height, components } = frame;
  const n = width * height * components;
  if (frame.data.length < n) throw new Error(`JPEG ${file}: decoder returned ${frame.data.length} samples, expected ${n}`);
  const data = frame.data instanceof Int16Array ? Uint16Array.from(frame.data.subarray(0, n)) : frame.data.subarray(0, n);
  return { width, height, samples: components as 1 | 3, data, meta: { format: 'jpeg', bitDepth: frame.bitsPerSample } };
}

/** Decodes PNG, JPEG or BMP bytes; `file` names the source in errors and meta. */
export function decodeImage2d(bytes: Uint8Array, opts: ReadImage2dOptions & { file?: string } = {}): Volume {
  const file = opts.file ?? '<bytes>';
  const maxPixels = opts.maxPixels ?? 2 ** 28;
  const palette = opts.palette ?? 'index';
  if (palette !== 'index' && palette !== 'rgb') throw new Error(`readImage2d ${file}: options.palette must be 'index' or 'rgb', got ${JSON.stringify(palette)}`);
  const format = sniffImage2d(bytes);
  let img: Decoded2d;
  if (format === 'png') img = decodePng(bytes, file, { palette, maxPixels });
  else if (format === 'jpeg') img = decodeJpegFile(bytes, file, maxPixels);
  else if (format === 'bmp') img = decodeBmp(bytes, file, { palette, maxPixels });
  else {
    const head = Array.from(bytes.subarray(0, 8), (v) => v.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`readImage2d: ${file} is not a PNG, JPEG or BMP image (starts with bytes ${head || '(empty file)'})`);
  }
  return toVolume(img, file, opts);
}

function toVolume(img: Decoded2d, file: string, opts: ReadImage2dOptions): Volume {
  const { width, height, samples, data } = img;
  const n = width * height;
  const colour = samples >= 3;
  const hasAlpha = samples === 2 || samples === 4;
  const colourCh = colour ? 3 : 1;
  const outColour = colour && opts.grey ? 1 : colourCh;
  const keepAlpha = Boolean(opts.alpha) && hasAlpha;
  const channels = outColour + (keepAlpha ? 1 : 0);
  const out: Uint8Array | Uint16Array = data instanceof Uint16Array ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  if (colour && opts.grey) {
    // PIL's ITU-R 601-2 luma in 16.16 fixed point, rounded.
    for (let i = 0; i < n; i++) {
      const o = i * samples;
      out[i] = Math.floor((data[o] * 19595 + data[o + 1] * 38470 + data[o + 2] * 7471 + 0x8000) / 65536);
    }
  } else {
    for (let c = 0; c < colourCh; c++) {
      const plane = c * n;
      for (let i = 0; i < n; i++) out[plane + i] = data[i * samples + c];
    }
  }
  if (keepAlpha) {
    const plane = outColour * n;
    for (let i = 0; i < n; i++) out[plane + i] = data[i * samples + samples - 1];
  }
  let spacing: [number, number] = [1, 1];
  let spacingSource = 'default';
  if (opts.spacing) {
    if (opts.spacing.length < 2 || opts.spacing.slice(0, 2).some((v) => !Number.isFinite(v) || v <= 0)) {
      throw new Error(`readImage2d ${file}: options.spacing must be two positive numbers (x, y mm), got [${opts.spacing.join(', ')}]`);
    }
    spacing = [opts.spacing[0], opts.spacing[1]];
    spacingSource = 'option';
  } else if (img.spacing) {
    spacing = img.spacing;
    spacingSource = img.meta.format === 'png' ? 'pHYs' : 'pixelsPerMetre';
  }
  const meta: Record<string, unknown> = {
    ...img.meta, source: file, spacingSource,
    channelNames: outColour === 3 ? ['R', 'G', 'B', ...(keepAlpha ? ['A'] : [])] : outColour === 1 && keepAlpha ? ['L', 'A'] : ['L'],
  };
  return new Volume({ data: out, dims: [width, height, 1], channels, affine: composeAffine([spacing[0], spacing[1], 1], [0, 0, 0]), meta });
}

/** Reads a PNG, JPEG or BMP file (the format is taken from its bytes, not its name). */
export function readImage2d(file: string, opts: ReadImage2dOptions = {}): Volume {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`readImage2d: file not found: ${file}`);
    if (code === 'EISDIR') throw new Error(`readImage2d: ${file} is a directory, expected an image file`);
    throw e;
  }
  return decodeImage2d(bytes, { ...opts, file });
}

export interface EncodePngOptions {
  /** 8 or 16 bits per sample; default 16 for uint16 volumes, else 8 (values must fit). */
  bitDepth?: 8 | 16;
  /** Write a pHYs chunk with the volume's x/y spacing; default: when it is not 1 mm. */
  spacing?: boolean;
}

/**
 * A single-slice volume as PNG bytes: 1 channel → grey, 2 → grey+alpha,
 * 3 → RGB, 4 → RGBA. Integer (or integral float) values must fit the bit
 * depth; nothing is rescaled or clipped silently.
 */
export function encodePng(vol: Volume, opts: EncodePngOptions = {}, file = '<png>'): Uint8Array {
  const [w, h, nk] = vol.dims;
  if (nk !== 1) throw new Error(`writePng ${file}: a PNG holds one slice, the volume has dims [${vol.dims.join(', ')}]`);
  if (vol.channels < 1 || vol.channels > 4) throw new Error(`writePng ${file}: PNG holds 1 to 4 channels (grey, grey+alpha, RGB, RGBA), the volume has ${vol.channels}`);
  const depth = opts.bitDepth ?? (vol.voxelType === 'uint16' ? 16 : 8);
  if (depth !== 8 && depth !== 16) throw new Error(`writePng ${file}: bitDepth must be 8 or 16, got ${JSON.stringify(depth)}`);
  const planes = castVoxels(vol.data, depth === 16 ? 'uint16' : 'uint8', `writePng ${file}`) as Uint8Array | Uint16Array;
  const n = w * h;
  const ch = vol.channels;
  const inter: Uint8Array | Uint16Array = depth === 16 ? new Uint16Array(n * ch) : new Uint8Array(n * ch);
  for (let c = 0; c < ch; c++) for (let i = 0; i < n; i++) inter[i * ch + c] = planes[c * n + i];
  const [sx, sy] = vol.spacing;
  const writeSpacing = opts.spacing ?? (Math.abs(sx - 1) > 1e-9 || Math.abs(sy - 1) > 1e-9);
  return encodePngSamples(inter, w, h, ch as 1 | 2 | 3 | 4, writeSpacing ? [sx, sy] : undefined);
}

/** Writes a single-slice uint8/uint16 volume as PNG, atomically. */
export function writePng(file: string, vol: Volume, opts: EncodePngOptions = {}): void {
  writeFileAtomic(file, encodePng(vol, opts, file));
}

