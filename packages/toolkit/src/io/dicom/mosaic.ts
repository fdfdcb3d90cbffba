// Siemens private headers: the CSA image header (0029,1010) and mosaic images,
// where a 2D DICOM image tiles all slices of one volume in a square grid.
import type { DicomDataset } from './dataset.js';
import { DicomError } from './dataset.js';
import { TAG } from './tags.js';

export type CsaHeader = Map<string, string[]>;

/** Parses a CSA header ("SV10" CSA2 or the older CSA1 layout) into name → item strings. */
export function parseCsaHeader(b: Uint8Array, file: string): CsaHeader {
  const out: CsaHeader = new Map();
  if (b.length < 16) return out;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const csa2 = b[0] === 0x53 && b[1] === 0x56 && b[2] === 0x31 && b[3] === 0x30; // "SV10"
  let p = csa2 ? 8 : 0;
  const nTags = dv.getUint32(p, true);
  if (nTags < 1 || nTags > 1000) throw new DicomError(file, `Siemens CSA header claims ${nTags} tags, expected 1..1000`);
  p += 8;
  const latin1 = (s: number, e: number): string => Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
  for (let t = 0; t < nTags; t++) {
    if (p + 84 > b.length) throw new DicomError(file, 'Siemens CSA header is truncated');
    let nameEnd = p;
    while (nameEnd < p + 64 && b[nameEnd] !== 0) nameEnd++;
    const name = latin1(p, nameEnd);
    const nItems = dv.getInt32(p + 76, true);
    p += 84;
    if (nItems < 0 || nItems > 10000) throw new DicomError(file, `Siemens CSA header tag '${name}' claims ${nItems} items`);
    const items: string[] = [];
    for (let i = 0; i < nItems; i++) {
      if (p + 16 > b.length) throw new DicomError(file, 'Siemens CSA header is truncated');
      const len = csa2 ? dv.getInt32(p + 4, true) : dv.getInt32(p, true) - nTags;
      p += 16;
      if (len < 0 || p + len > b.length) throw new DicomError(file, `Siemens CSA header item of '${name}' overruns the header`);
      let e = p;
      while (e < p + len && b[e] !== 0) e++;
      items.push(latin1(p, e).trim());
      p += Math.ceil(len / 4) * 4;
    }
    out.set(name, items.filter((s) => s !== ''));
  }
  return out;
}

export function csaImageHeader(ds: DicomDataset): CsaHeader | undefined {
  const creator = ds.str(TAG.SiemensCSACreator) ?? '';
  if (!ds.has(TAG.SiemensCSAImageHeader) || (creator && !creator.toUpperCase().includes('SIEMENS CSA HEADER'))) return undefined;
  const b = ds.bytes(TAG.SiemensCSAImageHeader);
  if (!b || b.length < 16) return undefined;
  try {
    return parseCsaHeader(b, ds.file);
  } catch {
    // A malformed private header must not make the image unreadable.
    return undefined;
  }
}

function csaNumbers(csa: CsaHeader | undefined, name: string): number[] | undefined {
  const v = csa?.get(name);
  if (!v || v.length === 0) return undefined;
  const nums = v.map(Number);
  return nums.every(Number.isFinite) ? nums : undefined;
}

export interface MosaicInfo {
  /** Slices in the mosaic. */
  count: number;
  /** Tiles per grid row/column. */
  grid: number;
  tileRows: number;
  tileColumns: number;
  /** Unit slice normal (LPS) from the CSA header, when present. */
  sliceNormal?: [number, number, number];
}

/** Mosaic layout of a Siemens image, or undefined when it is not a mosaic. */
export function mosaicInfo(ds: DicomDataset, rows: number, columns: number): MosaicInfo | undefined {
  const imageType = ds.strings(TAG.ImageType).map((s) => s.toUpperCase());
  if (!imageType.includes('MOSAIC')) return undefined;
  const csa = csaImageHeader(ds);
  const count = csaNumbers(csa, 'NumberOfImagesInMosaic')?.[0] ?? ds.us(TAG.SiemensNumberOfImagesInMosaic);
  if (!count || count < 1) {
    throw new DicomError(ds.file, "ImageType says MOSAIC but the number of images in the mosaic is missing (CSA 'NumberOfImagesInMosaic' / (0019,100A))");
  }
  const grid = Math.ceil(Math.sqrt(count));
  const tileRows = Math.floor(rows / grid);
  const tileColumns = Math.floor(columns / grid);
  if (tileRows < 1 || tileColumns < 1) throw new DicomError(ds.file, `mosaic of ${count} images does not fit ${rows} × ${columns} pixels`);
  const n = csaNumbers(csa, 'SliceNormalVector');
  const sliceNormal = n && n.length === 3 ? ([n[0], n[1], n[2]] as [number, number, number]) : undefined;
  return { count, grid, tileRows, tileColumns, sliceNormal };
}
