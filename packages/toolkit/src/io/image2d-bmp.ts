// Windows BMP decoding: uncompressed 1/4/8-bit palette, 16/24/32-bit colour,
// BI_BITFIELDS masks, bottom-up and top-down rows. RLE-compressed BMPs are
// rare in imaging data and rejected with a clear error.
import type { Decoded2d } from './image2d-png.js';

export interface BmpDecodeOptions {
  palette: 'index' | 'rgb';
  maxPixels: number;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

/** Position and width of a channel mask, to scale its value to 8 bits. */
function maskShift(mask: number): { shift: number; bits: number } {
  if (mask === 0) return { shift: 0, bits: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((mask >>> (shift + bits)) & 1) === 1) bits++;
  return { shift, bits };
}

function scaleTo8(v: number, bits: number): number {
  if (bits === 8) return v;
  if (bits === 0) return 0;
  return Math.floor((v * 255) / (2 ** bits - 1) + 0.5);
}

export function decodeBmp(b: Uint8Array, file: string, opts: BmpDecodeOptions): Decoded2d {
  if (b.length < 26 || b[0] !== 0x42 || b[1] !== 0x4d) throw new Error(`BMP ${file}: missing the "BM" signature`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const pixelOffset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  if (14 + headerSize > b.length) throw new Error(`BMP ${file}: truncated header`);
  let width: number;
  let rawHeight: number;
  let bpp: number;
  let compression = BI_RGB;
  let coloursUsed = 0;
  let ppm: [number, number] | undefined;
  let paletteEntrySize = 4;
  if (headerSize === 12) {
    width = dv.getUint16(18, true);
    rawHeight = dv.getInt16(20, true);
    bpp = dv.getUint16(24, true);
    paletteEntrySize = 3;
  } else if (headerSize >= 40) {
    width = dv.getInt32(18, true);
    rawHeight = dv.getInt32(22, true);
    bpp = dv.getUint16(28, true);
    compression = dv.getUint32(30, true);
    const xp = dv.getInt32(38, true);
    const yp = dv.getInt32(42, true);
    if (xp > 0 && yp > 0) ppm = [xp, yp];
    coloursUsed = dv.getUint32(46, true);
  } else {
    throw new Error(`BMP ${file}: unsupported DIB header size ${headerSize}`);
  }
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) throw new Error(`BMP ${file}: invalid size ${width}×${rawHeight}`);
  if (width * height > opts.maxPixels) throw new Error(`BMP ${file}: ${width}×${height} pixels exceeds the limit of ${opts.maxPixels}`);
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new Error(`BMP ${file}: unsupported bit count ${bpp}`);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new Error(`BMP ${file}: compression method ${compression} (RLE/JPEG/PNG in BMP) is not supported; only uncompressed BMP is`);
  }
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (pixelOffset + stride * height > b.length) throw new Error(`BMP ${file}: truncated pixel data (needs ${pixelOffset + stride * height} bytes, file has ${b.length})`);

  const meta: Record<string, unknown> = { format: 'bmp', bitDepth: bpp, compression };
  const spacing: [number, number] | undefined = ppm ? [1000 / ppm[0], 1000 / ppm[1]] : undefined;
  if (ppm) meta.pixelsPerMetre = ppm;
  const n = width * height;
  const row = (y: number): number => pixelOffset + (topDown ? y : height - 1 - y) * stride;

  if (bpp <= 8) {
    const entries = coloursUsed || 2 ** bpp;
    const palStart = 14 + headerSize;
    if (palStart + entries * paletteEntrySize > pixelOffset) throw new Error(`BMP ${file}: palette of ${entries} entries overlaps the pixel data`);
    const palette: number[][] = [];
    for (let i = 0; i < entries; i++) {
      const o = palStart + i * paletteEntrySize;
      palette.push([b[o + 2], b[o + 1], b[o]]);
    }
    meta.palette = palette;
    const index = new Uint8Array(n);
    const perByte = 8 / bpp;
    const mask = (1 << bpp) - 1;
    for (let y = 0; y < height; y++) {
      const r = row(y);
      for (let x = 0; x < width; x++) {
        const byte = b[r + Math.floor(x / perByte)];
        const shift = 8 - bpp * ((x % perByte) + 1);
        const v = (byte >> shift) & mask;
        if (v >= entries) throw new Error(`BMP ${file}: pixel (${x}, ${y}) uses palette index ${v}, the palette has ${entries} entries`);
        index[y * width + x] = v;
      }
    }
    if (opts.palette === 'index') return { width, height, samples: 1, data: index, spacing, meta };
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      const c = palette[index[i]];
      rgb[3 * i] = c[0];
      rgb[3 * i + 1] = c[1];
      rgb[3 * i + 2] = c[2];
    }
    return { width, height, samples: 3, data: rgb, spacing, meta };
  }

  // 16/32-bit: channel masks (defaults: 5-5-5 and 8-8-8 without alpha).
  let masks: [number, number, number, number] | undefined;
  if (bpp === 16 || bpp === 32) {
    if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
      const base = headerSize >= 52 ? 54 : 14 + headerSize;
      if (base + 12 > b.length) throw new Error(`BMP ${file}: truncated channel masks`);
      const alphaMask = headerSize >= 56 || compression === BI_ALPHABITFIELDS ? dv.getUint32(base + 12, true) : 0;
      masks = [dv.getUint32(base, true), dv.getUint32(base + 4, true), dv.getUint32(base + 8, true), alphaMask];
    } else {
      masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0x00ff0000, 0x0000ff00, 0x000000ff, 0];
    }
  }
  const hasAlpha = Boolean(masks && masks[3]);
  const samples = hasAlpha ? 4 : 3;
  const out = new Uint8Array(n * samples);
  const fields = masks?.map(maskShift);
  for (let y = 0; y < height; y++) {
    const r = row(y);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * samples;
      if (bpp === 24) {
        const p = r + 3 * x;
        out[o] = b[p + 2];
        out[o + 1] = b[p + 1];
        out[o + 2] = b[p];
        continue;
      }
      const v = bpp === 16 ? dv.getUint16(r + 2 * x, true) : dv.getUint32(r + 4 * x, true);
      for (let c = 0; c < samples; c++) {
        const f = (fields as { shift: number; bits: number }[])[c];
        const m = (masks as number[])[c];
        out[o + c] = scaleTo8(((v & m) >>> 0) >>> f.shift, f.bits);
      }
    }
  }
  return { width, height, samples, data: out, spacing, meta };
}
