// Atomic file writes: a reader (or a crashed run) never sees a half-written
// file under the final name. Data goes to a temp file in the SAME directory
// (rename is only atomic within one file system), is fsync'd so a power cut
// cannot leave an empty file after the rename, then renamed over the target.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';

/** `<final>.tmp-<pid>-<rand>`: recognisable leftovers if the process is killed. */
function tempNameFor(target: string): string {
  return `${target}.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Writes `data` to `target` atomically, creating parent directories. */
export function writeFileAtomic(target: string, data: Uint8Array | string): void {
  writeChunksAtomic(target, [toBytes(data)]);
}

/** Async twin of {@link writeFileAtomic}. */
export async function writeFileAtomicAsync(target: string, data: Uint8Array | string): Promise<void> {
  const abs = path.resolve(target);
  await fsp.mkdir(path.dirname(abs), { recursive: true });
  const tmp = tempNameFor(abs);
  const bytes = toBytes(data);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx', 0o644);
    let off = 0;
    while (off < bytes.byteLength) {
      const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off);
      off += bytesWritten;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, abs);
  } catch (err) {
    if (fh !== undefined) {
      try { await fh.close(); } catch { /* keep the original error */ }
    }
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Writes several byte chunks to `target` atomically without concatenating them
 * first (saves one full copy of a large volume).
 */
export function writeChunksAtomic(target: string, chunks: readonly Uint8Array[]): void {
  const abs = path.resolve(target);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = tempNameFor(abs);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += fs.writeSync(fd, c, off, c.byteLength - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, abs);
  } catch (err) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* keep the original error */ }
    }
    try { fs.rmSync(tmp, { force: true }); } catch { /* best effort cleanup */ }
    throw err;
  }
}
