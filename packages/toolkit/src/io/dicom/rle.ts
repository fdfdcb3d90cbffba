// DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of up to 15 segment
// offsets, each segment one byte plane PackBits-coded. Planes are ordered by
// sample, then most significant byte first; we rebuild pixel-interleaved
// samples of `bytesPerSample` bytes in the host's little-endian order.

export interface RleFrame {
  /** Pixel-interleaved samples, little-endian, bytesPerSample bytes each. */
  bytes: Uint8Array;
}

function decodeSegment(src: Uint8Array, start: number, end: number, out: Uint8Array, what: string): void {
  let p = start;
  let o = 0;
  const n = out.length;
  while (p < end && o < n) {
    const h = src[p++];
    if (h < 128) {
      // Literal run of h + 1 bytes.
      const len = h + 1;
      if (p + len > end) throw new Error(`${what}: literal run of ${len} bytes overruns the segment`);
      const take = Math.min(len, n - o);
      out.set(src.subarray(p, p + take), o);
      o += take;
      p += len;
    } else if (h > 128) {
      // Replicate the next byte 257 - h times.
      const len = 257 - h;
      if (p >= end) throw new Error(`${what}: replicate run has no byte`);
      const v = src[p++];
      const take = Math.min(len, n - o);
      out.fill(v, o, o + take);
      o += take;
    }
    // h === 128 is a no-op.
  }
  if (o < n) throw new Error(`${what}: decoded ${o} bytes, expected ${n} (segment too short)`);
}

/**
 * Decodes one RLE frame of rows × columns pixels with `samples` samples of
 * `bytesPerSample` bytes each.
 */
export function decodeRleFrame(frame: Uint8Array, rows: number, columns: number, samples: number, bytesPerSample: number): RleFrame {
  if (frame.length < 64) throw new Error(`RLE frame has ${frame.length} bytes, shorter than its 64-byte header`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const nSeg = dv.getUint32(0, true);
  const expected = samples * bytesPerSample;
  if (nSeg !== expected) throw new Error(`RLE header lists ${nSeg} segments, expected ${expected} (${samples} sample(s) × ${bytesPerSample} byte(s))`);
  const offsets: number[] = [];
  for (let i = 0; i < nSeg; i++) offsets.push(dv.getUint32(4 + 4 * i, true));
  const pixels = rows * columns;
  const out = new Uint8Array(pixels * expected);
  const plane = new Uint8Array(pixels);
  for (let s = 0; s < nSeg; s++) {
    const start = offsets[s];
    const end = s + 1 < nSeg ? offsets[s + 1] : frame.length;
    if (start < 64 || start > frame.length || end < start || end > frame.length) {
      throw new Error(`RLE segment ${s + 1} has offset ${start}..${end} outside the ${frame.length}-byte frame`);
    }
    decodeSegment(frame, start, end, plane, `RLE segment ${s + 1}`);
    const sample = Math.floor(s / bytesPerSample);
    // Segment order is most significant byte first; store little-endian.
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const stride = expected;
    let o = sample * bytesPerSample + byteInSample;
    for (let i = 0; i < pixels; i++, o += stride) out[o] = plane[i];
  }
  return { bytes: out };
}
