// A read-only zip reader for torch.save archives: parses the central
// directory (zip64 included) and reads stored or deflated entries with
// positioned reads, checking each entry's CRC-32.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

function u64(b: Buffer, off: number, what: string, path: string): number {
  const v = b.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${path}: corrupt zip: ${what} ${v} is out of range`);
  return Number(v);
}

export class ZipReader {
  readonly path: string;
  readonly entries = new Map<string, ZipEntry>();
  private fd: number;
  private readonly size: number;

  constructor(path: string) {
    this.path = path;
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new Error(`${path}: cannot open: ${(e as Error).message}`);
    }
    try {
      this.size = fstatSync(this.fd).size;
      this.readDirectory();
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  /** Reads exactly `length` bytes at `position`, or fails naming what was being read. */
  private pread(position: number, length: number, what: string, into?: Uint8Array): Buffer {
    if (position < 0 || position + length > this.size) {
      throw new Error(`${this.path}: ${what} (bytes ${position}..${position + length}) extends past the end of the file (${this.size} bytes): truncated or corrupt zip`);
    }
    const buf = into ? Buffer.from(into.buffer, into.byteOffset, into.byteLength) : Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const got = readSync(this.fd, buf, done, Math.min(length - done, 1 << 28), position + done);
      if (got === 0) throw new Error(`${this.path}: unexpected end of file while reading ${what}`);
      done += got;
    }
    return buf;
  }

  private readDirectory(): void {
    const p = this.path;
    if (this.size < 22) throw new Error(`${p}: not a zip archive (${this.size} bytes): truncated or not a torch.save file`);
    // The end-of-central-directory record is in the last 22 + 65535 bytes.
    const tailLen = Math.min(this.size, 22 + U16_MAX);
    const tail = this.pread(this.size - tailLen, tailLen, 'end of file');
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) <= tailLen) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${p}: not a zip archive: end of central directory record not found (truncated file, or not a torch.save zip)`);
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    const eocdAbs = this.size - tailLen + eocd;
    if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
      if (eocdAbs < 20) throw new Error(`${p}: corrupt zip: zip64 end of central directory locator missing`);
      const loc = this.pread(eocdAbs - 20, 20, 'zip64 locator');
      if (loc.readUInt32LE(0) !== EOCD64_LOCATOR_SIG) throw new Error(`${p}: corrupt zip: zip64 end of central directory locator missing`);
      const recOff = u64(loc, 8, 'zip64 record offset', p);
      const rec = this.pread(recOff, 56, 'zip64 end of central directory');
      if (rec.readUInt32LE(0) !== EOCD64_SIG) throw new Error(`${p}: corrupt zip: bad zip64 end of central directory signature`);
      count = u64(rec, 32, 'entry count', p);
      cdSize = u64(rec, 40, 'central directory size', p);
      cdOffset = u64(rec, 48, 'central directory offset', p);
    }
    const cd = this.pread(cdOffset, cdSize, 'central directory');
    let pos = 0;
    for (let i = 0; i < count; i++) {
      if (pos + 46 > cd.length || cd.readUInt32LE(pos) !== CENTRAL_SIG) throw new Error(`${p}: corrupt zip: central directory entry ${i} is damaged`);
      const flags = cd.readUInt16LE(pos + 8);
      const method = cd.readUInt16LE(pos + 10);
      const crc = cd.readUInt32LE(pos + 16);
      let compressedSize = cd.readUInt32LE(pos + 20);
      let uncompressedSize = cd.readUInt32LE(pos + 24);
      const nameLen = cd.readUInt16LE(pos + 28);
      const extraLen = cd.readUInt16LE(pos + 30);
      const commentLen = cd.readUInt16LE(pos + 32);
      let localHeaderOffset = cd.readUInt32LE(pos + 42);
      if (pos + 46 + nameLen + extraLen + commentLen > cd.length) throw new Error(`${p}: corrupt zip: central directory entry ${i} is damaged`);
      const name = cd.toString('utf8', pos + 46, pos + 46 + nameLen);
      // Zip64 sizes live in extra field 0x0001, only for the fields that overflowed.
      let e = pos + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let f = e + 4;
          const need = (n: number): void => {
            if (f + n > e + 4 + len) throw new Error(`${p}: corrupt zip: zip64 extra field of '${name}' is too short`);
          };
          if (uncompressedSize === U32_MAX) { need(8); uncompressedSize = u64(cd, f, 'size', p); f += 8; }
          if (compressedSize === U32_MAX) { need(8); compressedSize = u64(cd, f, 'size', p); f += 8; }
          if (localHeaderOffset === U32_MAX) { need(8); localHeaderOffset = u64(cd, f, 'offset', p); f += 8; }
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, flags, crc32: crc, compressedSize, uncompressedSize, localHeaderOffset });
      pos += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** File offset of an entry's data (after its local header, whose extra field may differ from the central one). */
  private dataOffset(e: ZipEntry): number {
    const h = this.pread(e.localHeaderOffset, 30, `local header of '${e.name}'`);
    if (h.readUInt32LE(0) !== LOCAL_SIG) throw new Error(`${this.path}: corrupt zip: bad local header signature for '${e.name}'`);
    return e.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
  }

  private entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (e === undefined) throw new Error(`${this.path}: the archive has no entry '${name}'`);
    if (e.flags & 1) throw new Error(`${this.path}: entry '${name}' is encrypted`);
    if (e.method !== 0 && e.method !== 8) throw new Error(`${this.path}: entry '${name}' uses compression method ${e.method}; only stored (0) and deflate (8) are supported`);
    return e;
  }

  /**
   * Reads an entry's uncompressed bytes, into `into` when given (it must be
   * exactly the entry's size), and verifies its CRC-32.
   */
  read(name: string, into?: Uint8Array): Uint8Array {
    const e = this.entry(name);
    if (into !== undefined && into.byteLength !== e.uncompressedSize) {
      throw new Error(`${this.path}: entry '${name}' holds ${e.uncompressedSize} bytes, expected ${into.byteLength}`);
    }
    const start = this.dataOffset(e);
    let out: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.uncompressedSize) throw new Error(`${this.path}: corrupt zip: stored entry '${name}' has different compressed and uncompressed sizes`);
      out = this.pread(start, e.compressedSize, `entry '${name}'`, into);
    } else {
      const packed = this.pread(start, e.compressedSize, `entry '${name}'`);
      let raw: Buffer;
      try {
        // Never inflate past the declared size (a zip bomb stops here).
        raw = inflateRawSync(packed, { maxOutputLength: Math.max(1, e.uncompressedSize) });
      } catch (err) {
        throw new Error(`${this.path}: entry '${name}' cannot be decompressed: ${(err as Error).message}`);
      }
      if (raw.length !== e.uncompressedSize) throw new Error(`${this.path}: entry '${name}' decompressed to ${raw.length} bytes, the directory says ${e.uncompressedSize}`);
      if (into !== undefined) {
        into.set(raw);
        out = into;
      } else out = raw;
    }
    if ((crc32(out) >>> 0) !== e.crc32) throw new Error(`${this.path}: entry '${name}' fails its CRC-32 check: the file is corrupt`);
    return out;
  }
}
