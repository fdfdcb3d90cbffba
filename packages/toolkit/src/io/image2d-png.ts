// PNG decoding and encoding on pngjs, plus the chunk-level work pngjs does
// not do: pHYs (pixel size), palette indices, and size checks before
// anything is inflated.
//
// pngjs always expands to RGBA. Two of its behaviours need care:
// - palette images come out as colours, but segmentation masks stored as
//   palette PNGs (PASCAL-VOC style) carry the class in the INDEX. To get the
//   indices we hand pngjs a copy of the file whose PLTE maps index i to the
//   colour (i, 0, 0): the red channel is then the index.
// - a tRNS chunk on a grey/RGB image makes pngjs zero the colour of matching
//   pixels as well as their alpha. We remove tRNS and compute alpha ourselves.
import zlib from 'node:zlib';
import { PNG } from 'pngjs';

export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Pixels of one decoded 2D image, interleaved (grey, grey+alpha, RGB or RGBA). */
export interface Decoded2d {
  width: number;
  height: number;
  /** Samples per pixel in `data`: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  samples: 1 | 2 | 3 | 4;
  data: Uint8Array | Uint16Array;
  /** Pixel size (x, y) in mm when the file states a physical one. */
  spacing?: [number, number];
  meta: Record<string, unknown>;
}

export interface PngDecodeOptions {
  palette: 'index' | 'rgb';
  maxPixels: number;
}

interface Chunk { type: string; start: number; length: number }

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

function chunksOf(b: Uint8Array, file: string): Chunk[] {
  const out: Chunk[] = [];
  let p = 8;
  for (;;) {
    if (p + 8 > b.length) throw new Error(`PNG ${file}: truncated (file ends at byte ${b.length} before the IEND chunk)`);
    const length = u32(b, p);
    const type = String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new Error(`PNG ${file}: corrupt chunk header at byte ${p}`);
    if (p + 12 + length > b.length) throw new Error(`PNG ${file}: truncated (chunk ${type} at byte ${p} declares ${length} bytes, file ends at ${b.length})`);
    // Checked here so a damaged chunk is reported as such (pngjs would stop
    // early and complain about "unrecognised content" instead).
    if (zlib.crc32(b.subarray(p + 4, p + 8 + length)) !== u32(b, p + 8 + length)) throw new Error(`PNG ${file}: CRC mismatch in chunk ${type} at byte ${p} (corrupt file)`);
    out.push({ type, start: p, length });
    p += 12 + length;
    if (type === 'IEND') return out;
  }
}

function chunkBytes(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, zlib.crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const VALID_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const SAMPLES_PER_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function decodePng(b: Uint8Array, file: string, opts: PngDecodeOptions): Decoded2d {
  const chunks = chunksOf(b, file);
  const ihdr = chunks[0];
  if (!ihdr || ihdr.type !== 'IHDR' || ihdr.length !== 13) throw new Error(`PNG ${file}: the first chunk must be a 13-byte IHDR`);
  const h0 = ihdr.start + 8;
  const width = u32(b, h0);
  const height = u32(b, h0 + 4);
  const depth = b[h0 + 8];
  const colorType = b[h0 + 9];
  const interlace = b[h0 + 12];
  if (width === 0 || height === 0) throw new Error(`PNG ${file}: IHDR size ${width}×${height} is empty`);
  if (!VALID_DEPTHS[colorType]?.includes(depth)) throw new Error(`PNG ${file}: IHDR colour type ${colorType} with bit depth ${depth} is not a valid PNG combination`);
  if (width * height > opts.maxPixels) throw new Error(`PNG ${file}: ${width}×${height} pixels exceeds the limit of ${opts.maxPixels} (raise maxPixels to read it)`);
  const idatBytes = chunks.filter((c) => c.type === 'IDAT').reduce((a, c) => a + c.length, 0);
  if (idatBytes === 0) throw new Error(`PNG ${file}: no image data (IDAT chunk)`);
  // Deflate cannot expand data more than ~1032:1, so a tiny file declaring a
  // huge image is corrupt; refuse it before pngjs allocates the pixels.
  const rawBytes = (Math.ceil((width * SAMPLES_PER_TYPE[colorType] * depth) / 8) + 1) * height;
  if (rawBytes > idatBytes * 1100 + 65536) throw new Error(`PNG ${file}: ${idatBytes} bytes of compressed data cannot hold a ${width}×${height} image (corrupt header?)`);

  const find = (t: string): Chunk | undefined => chunks.find((c) => c.type === t);
  const body = (c: Chunk): Uint8Array => b.subarray(c.start + 8, c.start + 8 + c.length);
  const meta: Record<string, unknown> = { format: 'png', bitDepth: depth, colorType, interlaced: interlace === 1 };

  let spacing: [number, number] | undefined;
  const phys = find('pHYs');
  if (phys && phys.length === 9) {
    const d = body(phys);
    const px = u32(d, 0);
    const py = u32(d, 4);
    if (d[8] === 1 && px > 0 && py > 0) {
      spacing = [1000 / px, 1000 / py];
      meta.pHYs = { pixelsPerMetre: [px, py] };
    }
  }

  const plte = find('PLTE');
  const trns = find('tRNS');
  let palette: number[][] | undefined;
  if (colorType === 3) {
    if (!plte || plte.length % 3 !== 0 || plte.length === 0) throw new Error(`PNG ${file}: palette image without a valid PLTE chunk`);
    const p = body(plte);
    const alpha = trns ? body(trns) : undefined;
    palette = [];
    for (let i = 0; i < p.length / 3; i++) palette.push([p[3 * i], p[3 * i + 1], p[3 * i + 2], alpha && i < alpha.length ? alpha[i] : 255]);
    meta.palette = palette;
  }

  // Rebuild the file when pngjs needs a different view of it (see header).
  const indexMode = colorType === 3 && opts.palette === 'index';
  const dropTrns = Boolean(trns) && (indexMode || colorType === 0 || colorType === 2);
  // Bytes after IEND are ignored, as PIL does (pngjs would reject them).
  const last = chunks[chunks.length - 1];
  let input = b.subarray(0, last.start + 12 + last.length);
  if (indexMode || dropTrns) {
    const parts: Uint8Array[] = [PNG_SIGNATURE];
    for (const c of chunks) {
      if (c.type === 'tRNS' && dropTrns) continue;
      if (c.type === 'PLTE' && indexMode) {
        const n = c.length / 3;
        const syn = new Uint8Array(c.length);
        for (let i = 0; i < n; i++) syn[3 * i] = i;
        parts.push(chunkBytes('PLTE', syn));
        continue;
      }
      parts.push(b.subarray(c.start, c.start + 12 + c.length));
    }
    input = Buffer.concat(parts);
  }

  let png: { data: Uint8Array | Uint16Array };
  try {
    png = PNG.sync.read(Buffer.from(input.buffer, input.byteOffset, input.byteLength), { skipRescale: depth === 16 }) as unknown as { data: Uint8Array | Uint16Array };
  } catch (e) {
    throw new Error(`PNG ${file}: ${(e as Error).message} (corrupt or truncated file?)`);
  }
  const rgba = png.data;
  const n = width * height;
  const sixteen = depth === 16;
  const max = sixteen ? 65535 : 255;
  const grey = colorType === 0 || colorType === 4;
  const hasAlpha = colorType === 4 || colorType === 6 || (Boolean(trns) && !indexMode);
  const samples = (indexMode || grey ? 1 : 3) + (hasAlpha ? 1 : 0);
  const out = sixteen ? new Uint16Array(n * samples) : new Uint8Array(n * samples);
  const colourSamples = indexMode || grey ? 1 : 3;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < colourSamples; c++) out[i * samples + c] = rgba[4 * i + c];
    if (hasAlpha) out[i * samples + colourSamples] = rgba[4 * i + 3];
  }
  // A tRNS colour key on grey/RGB images: that exact colour is transparent.
  if (trns && dropTrns && !indexMode && hasAlpha) {
    const t = body(trns);
    const scale = (v: number): number => (depth < 8 ? Math.floor((v * 255) / (2 ** depth - 1) + 0.5) : v);
    const key = colorType === 0 ? [scale((t[0] << 8) | t[1])] : [(t[0] << 8) | t[1], (t[2] << 8) | t[3], (t[4] << 8) | t[5]];
    for (let i = 0; i < n; i++) {
      let match = true;
      for (let c = 0; c < key.length; c++) if (out[i * samples + c] !== key[c]) match = false;
      out[i * samples + colourSamples] = match ? 0 : max;
    }
  }
  return { width, height, samples: samples as Decoded2d['samples'], data: out, spacing, meta };
}

/**
 * Encodes interleaved 8- or 16-bit samples (1 grey, 2 grey+alpha, 3 RGB,
 * 4 RGBA). A pHYs chunk is added when `spacing` (x, y mm) is given.
 */
export function encodePngSamples(data: Uint8Array | Uint16Array, width: number, height: number, samples: 1 | 2 | 3 | 4, spacing?: readonly [number, number]): Uint8Array {
  const colorType = ({ 1: 0, 2: 4, 3: 2, 4: 6 } as const)[samples];
  const bitDepth = data instanceof Uint16Array ? 16 : 8;
  // pngjs reads 16-bit input as host-order words from the buffer start.
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const input = data.byteOffset === 0 ? bytes : Buffer.from(bytes);
  const png = PNG.sync.write({ width, height, data: input } as unknown as PNG, { colorType, inputColorType: colorType, bitDepth, inputHasAlpha: samples === 2 || samples === 4 });
  if (!spacing) return png;
  const phys = new Uint8Array(9);
  const dv = new DataView(phys.buffer);
  dv.setUint32(0, Math.round(1000 / spacing[0]));
  dv.setUint32(4, Math.round(1000 / spacing[1]));
  phys[8] = 1; // unit: metre
  const ihdrEnd = 8 + 12 + 13;
  return Buffer.concat([png.subarray(0, ihdrEnd), chunkBytes('pHYs', phys), png.subarray(ihdrEnd)]);
}
