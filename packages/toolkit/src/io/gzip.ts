// Bounded gzip for image files. Decompression output size is decided from
// what the caller expects (the NIfTI header's declared size), never from the
// gzip trailer alone, so a corrupt or hostile file cannot make us allocate
// gigabytes; and errors name the file.
import { constants as bufferConstants } from 'node:buffer';
import zlib from 'node:zlib';

/** Deflate cannot expand data by more than ~1032:1, so a declared size beyond that is a lie. */
export const MAX_DEFLATE_RATIO = 1032;

/** nibabel's default compresslevel (openers.Opener.default_compresslevel = 1). */
export const DEFAULT_GZIP_LEVEL = 1;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** ISIZE trailer: uncompressed size of the LAST member, modulo 2^32. A hint only. */
export function gzipSizeHint(bytes: Uint8Array): number {
  if (bytes.byteLength < 18) return 0;
  const n = bytes.byteLength;
  return (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) | (bytes[n - 1] << 24)) >>> 0;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Decompresses only enough of the stream to get at least `want` bytes (or the
 * whole stream if shorter): used to read a header without inflating the data.
 */
export function gunzipPrefix(bytes: Uint8Array, file: string, want: number): Buffer {
  let take = Math.min(bytes.byteLength, Math.max(4096, Math.ceil(want / 2)));
  for (;;) {
    let out: Buffer;
    try {
      out = zlib.gunzipSync(bytes.subarray(0, take), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: Math.min(bufferConstants.MAX_LENGTH, Math.max(want, take * MAX_DEFLATE_RATIO)),
      });
    } catch (err) {
      throw new Error(`${file}: corrupt gzip data (${describe(err)})`);
    }
    if (out.byteLength >= want || take >= bytes.byteLength) return out;
    take = Math.min(bytes.byteLength, take * 4);
  }
}

export interface GunzipOptions {
  /** Bytes the caller needs (header + data); a few more are accepted when the gzip trailer declares them. */
  expected: number;
}

/**
 * Inflates a whole gzip file into ONE buffer, allocated once at the final
 * size when the trailer agrees with `expected` (no chunk concatenation, no
 * extra copy). Fails with a message naming the file on corrupt or truncated
 * streams, and when the stream holds fewer than `expected` bytes.
 */
export function gunzipBounded(bytes: Uint8Array, file: string, opts: GunzipOptions): Buffer {
  const expected = opts.expected;
  const bound = bytes.byteLength * MAX_DEFLATE_RATIO + 1024;
  if (expected > bound) {
    throw new Error(`${file}: header declares ${expected} bytes but a ${bytes.byteLength}-byte gzip file can hold at most ${bound}: file truncated or header corrupt`);
  }
  const hint = gzipSizeHint(bytes);
  // Trust the trailer only when it agrees with the header (equal, or a little
  // larger: trailing bytes after the image are legal and nibabel ignores them).
  // A truncated file ends in random bytes, so a wild trailer must not size an allocation.
  const slack = Math.max(1 << 20, Math.floor(expected / 16));
  const fitsHint = expected < 2 ** 32 ? hint >= expected && hint - expected <= slack : hint === expected % 2 ** 32;
  const limit = fitsHint && expected < 2 ** 32 ? hint : expected;
  // A chunk one byte larger than the whole output makes zlib finish in a single
  // chunk, which node returns without concatenating. Otherwise (multi-member
  // file or truncation) use modest chunks rather than one giant allocation.
  const chunkSize = fitsHint ? limit + 1 : Math.max(64 * 1024, Math.min(limit + 1, 16 * 1024 * 1024));
  let out: Buffer;
  try {
    out = zlib.gunzipSync(bytes, { chunkSize, maxOutputLength: Math.max(limit, 1) });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`${file}: decompressed data is larger than the ${limit} bytes the header declares (and the gzip trailer does not account for it)`);
    }
    if (code === 'Z_BUF_ERROR') {
      // Truncated stream: report how much is there.
      let have = -1;
      try {
        have = zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: 1 << 20, maxOutputLength: Math.max(limit, 1) }).byteLength;
      } catch { /* fall through with unknown size */ }
      const got = have >= 0 ? `, the stream holds only ${have}` : '';
      throw new Error(`${file}: gzip stream is truncated (unexpected end of file): expected ${expected} bytes${got}`);
    }
    throw new Error(`${file}: corrupt gzip data (${describe(err)})`);
  }
  if (out.byteLength < expected) {
    throw new Error(`${file}: truncated data: expected ${expected} bytes after decompression, got ${out.byteLength}`);
  }
  return out;
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new Error(`gzip: compression level must be an integer 0..9, got ${level}`);
}

/** deflateBound plus gzip header/trailer: one output chunk always suffices (no concatenation copy). */
function outputChunkSize(n: number): number {
  return Math.max(64, n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 13 + 18 + 1024);
}

/** gzip with nibabel's default level and a single output chunk. */
export function gzipBytes(data: Uint8Array, level: number = DEFAULT_GZIP_LEVEL): Buffer {
  checkLevel(level);
  return zlib.gzipSync(data, { level, chunkSize: outputChunkSize(data.byteLength) });
}

type Crc32 = (data: Uint8Array, value?: number) => number;
const crc32 = (zlib as unknown as { crc32?: Crc32 }).crc32;

/**
 * One gzip member holding the concatenation of `parts`, returned as pieces to
 * write one after another — so a header and a large voxel buffer never have
 * to be copied into one buffer first (that copy costs as much as a fifth of
 * the compression for a 36 MB volume). Every part but the last is deflated
 * with a sync flush, which ends it on a byte boundary without the final-block
 * bit; the next part's independent deflate stream then continues the same
 * stream (back-references never reach across, so a plain inflater reads the
 * result as one stream), the technique pigz uses for parallel compression.
 */
export function gzipParts(parts: readonly Uint8Array[], level: number = DEFAULT_GZIP_LEVEL): Uint8Array[] {
  checkLevel(level);
  if (!crc32) {
    // Node < 20.15 has no zlib.crc32: fall back to one buffer.
    const joined = Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
    return [gzipBytes(joined, level)];
  }
  // RFC 1952 header: no name, mtime 0 (deterministic, as nibabel), XFL by level, OS = Unix.
  const head = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level >= 9 ? 2 : level <= 1 ? 4 : 0, 3]);
  const out: Uint8Array[] = [head];
  let crc = 0;
  let total = 0;
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    out.push(zlib.deflateRawSync(p, {
      level,
      finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      chunkSize: outputChunkSize(p.byteLength),
    }));
    crc = crc32(p, crc);
    total += p.byteLength;
  });
  const trailer = new Uint8Array(8);
  const dv = new DataView(trailer.buffer);
  dv.setUint32(0, crc >>> 0, true);
  dv.setUint32(4, total % 2 ** 32, true);
  out.push(trailer);
  return out;
}
