// Sequential DCT JPEG (ITU T.81 processes 1, 2 and 4: baseline and extended,
// Huffman coded, 8- or 12-bit samples). Used for DICOM "JPEG Extended" 12-bit
// images, which the bundled libjpeg-turbo build (8-bit only) cannot decode.
// No colour transform is applied: 12-bit DICOM JPEG is monochrome in practice,
// and a caller that needs YCbCr → RGB does it from PhotometricInterpretation.

export interface JpegImage {
  width: number;
  height: number;
  components: number;
  precision: number;
  /** Pixel-interleaved samples. */
  data: Uint8Array | Uint16Array;
}

const ZIGZAG = new Int32Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63,
]);

// Fixed-point constants of libjpeg's "islow" IDCT (jidctint.c, Loeffler-
// Ligtenberg-Moschytz), so our output matches libjpeg/GDCM sample for sample.
const CONST_BITS = 13;
const F_0_298631336 = 2446;
const F_0_390180644 = 3196;
const F_0_541196100 = 4433;
const F_0_765366865 = 6270;
const F_0_899976223 = 7373;
const F_1_175875602 = 9633;
const F_1_501321110 = 12299;
const F_1_847759065 = 15137;
const F_1_961570560 = 16069;
const F_2_053119869 = 16819;
const F_2_562915447 = 20995;
const F_3_072711026 = 25172;

/** Rounding right shift; doubles keep 12-bit intermediates exact (no 32-bit overflow). */
const descale = (x: number, n: number): number => Math.floor((x + 2 ** (n - 1)) / 2 ** n);

/**
 * One 1-D 8-point IDCT over in[o + k*stride], written to out[p + k*ostride]
 * after descaling by `shift` bits (libjpeg's even/odd decomposition).
 */
function idct1d(inp: Float64Array, o: number, stride: number, out: Float64Array, p: number, ostride: number, shift: number): void {
  let z2 = inp[o + 2 * stride];
  let z3 = inp[o + 6 * stride];
  let z1 = (z2 + z3) * F_0_541196100;
  const t2 = z1 - z3 * F_1_847759065;
  const t3 = z1 + z2 * F_0_765366865;
  z2 = inp[o];
  z3 = inp[o + 4 * stride];
  const t0 = (z2 + z3) * 2 ** CONST_BITS;
  const t1 = (z2 - z3) * 2 ** CONST_BITS;
  const t10 = t0 + t3;
  const t13 = t0 - t3;
  const t11 = t1 + t2;
  const t12 = t1 - t2;
  let a0 = inp[o + 7 * stride];
  let a1 = inp[o + 5 * stride];
  let a2 = inp[o + 3 * stride];
  let a3 = inp[o + stride];
  z1 = a0 + a3;
  z2 = a1 + a2;
  z3 = a0 + a2;
  let z4 = a1 + a3;
  const z5 = (z3 + z4) * F_1_175875602;
  a0 *= F_0_298631336;
  a1 *= F_2_053119869;
  a2 *= F_3_072711026;
  a3 *= F_1_501321110;
  z1 *= -F_0_899976223;
  z2 *= -F_2_562915447;
  z3 = z3 * -F_1_961570560 + z5;
  z4 = z4 * -F_0_390180644 + z5;
  a0 += z1 + z3;
  a1 += z2 + z4;
  a2 += z2 + z3;
  a3 += z1 + z4;
  out[p] = descale(t10 + a3, shift);
  out[p + 7 * ostride] = descale(t10 - a3, shift);
  out[p + ostride] = descale(t11 + a2, shift);
  out[p + 6 * ostride] = descale(t11 - a2, shift);
  out[p + 2 * ostride] = descale(t12 + a1, shift);
  out[p + 5 * ostride] = descale(t12 - a1, shift);
  out[p + 3 * ostride] = descale(t13 + a0, shift);
  out[p + 4 * ostride] = descale(t13 - a0, shift);
}

interface Huffman {
  /** Codes of length L occupy [minCode[L], maxCode[L]]; valPtr maps to values. */
  maxCode: Int32Array;
  valPtr: Int32Array;
  minCode: Int32Array;
  values: Uint8Array;
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxCode = new Int32Array(18).fill(-1);
  const valPtr = new Int32Array(17);
  const minCode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1];
    if (n > 0) {
      valPtr[l] = k;
      minCode[l] = code;
      code += n;
      k += n;
      maxCode[l] = code - 1;
    }
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff;
  return { maxCode, valPtr, minCode, values };
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  coefs: Int32Array;
  pred: number;
  dc?: Huffman;
  ac?: Huffman;
}

class BitReader {
  private bits = 0;
  private nbits = 0;
  /** Set when a marker (other than stuffing) ends the entropy-coded segment. */
  marker = -1;
  constructor(private readonly d: Uint8Array, public pos: number) {}

  private fill(): void {
    while (this.nbits <= 24) {
      let byte = 0;
      if (this.marker < 0 && this.pos < this.d.length) {
        byte = this.d[this.pos];
        if (byte === 0xff) {
          const next = this.d[this.pos + 1];
          if (next === 0x00) {
            this.pos += 2;
          } else {
            // A marker: stop consuming; feed zeros (libjpeg does the same).
            this.marker = next;
            byte = 0;
          }
        } else {
          this.pos++;
        }
      }
      this.bits = (this.bits << 8) | byte;
      this.nbits += 8;
    }
  }

  bit(): number {
    if (this.nbits === 0) this.fill();
    this.nbits--;
    return (this.bits >>> this.nbits) & 1;
  }

  receive(n: number): number {
    if (n === 0) return 0;
    if (this.nbits < n) this.fill();
    this.nbits -= n;
    return (this.bits >>> this.nbits) & ((1 << n) - 1);
  }

  decode(h: Huffman): number {
    let code = this.bit();
    let l = 1;
    while (code > h.maxCode[l]) {
      code = (code << 1) | this.bit();
      l++;
      if (l > 16) throw new Error('JPEG: invalid Huffman code in entropy-coded data');
    }
    return h.values[h.valPtr[l] + code - h.minCode[l]];
  }

  /** Byte-aligns and consumes a restart marker. */
  restart(): void {
    this.bits = 0;
    this.nbits = 0;
    if (this.marker >= 0) {
      if (this.marker >= 0xd0 && this.marker <= 0xd7) this.pos += 2;
      this.marker = -1;
    } else {
      // Skip to the next RST marker (corrupt data or padding bits).
      while (this.pos + 1 < this.d.length && !(this.d[this.pos] === 0xff && this.d[this.pos + 1] >= 0xd0 && this.d[this.pos + 1] <= 0xd7)) this.pos++;
      if (this.pos + 1 < this.d.length) this.pos += 2;
    }
  }
}

function extend(v: number, t: number): number {
  return v < 1 << (t - 1) ? v - (1 << t) + 1 : v;
}

function decodeBlock(r: BitReader, c: Component, out: Int32Array, off: number): void {
  const t = r.decode(c.dc as Huffman);
  const diff = t === 0 ? 0 : extend(r.receive(t), t);
  c.pred += diff;
  out[off] = c.pred;
  const ac = c.ac as Huffman;
  for (let k = 1; k < 64; ) {
    const rs = r.decode(ac);
    const s = rs & 15;
    const run = rs >> 4;
    if (s === 0) {
      if (run !== 15) break;
      k += 16;
      continue;
    }
    k += run;
    if (k > 63) throw new Error('JPEG: AC coefficient index past 63 in entropy-coded data');
    out[off + ZIGZAG[k]] = extend(r.receive(s), s);
    k++;
  }
}

/** Decodes a baseline/extended sequential Huffman JPEG stream. */
export function decodeJpegDct(d: Uint8Array): JpegImage {
  if (d.length < 4 || d[0] !== 0xff || d[1] !== 0xd8) throw new Error('JPEG: stream does not start with an SOI marker');
  const qt: (Int32Array | undefined)[] = [];
  const dcTables: (Huffman | undefined)[] = [];
  const acTables: (Huffman | undefined)[] = [];
  let comps: Component[] = [];
  let width = 0;
  let height = 0;
  let precision = 8;
  let hmax = 1;
  let vmax = 1;
  let mcusX = 0;
  let mcusY = 0;
  let restartInterval = 0;
  let p = 2;
  let sawScan = false;
  const len16 = (q: number): number => (d[q] << 8) | d[q + 1];

  for (;;) {
    // Find the next marker, skipping fill bytes.
    while (p < d.length && d[p] !== 0xff) p++;
    while (p < d.length && d[p] === 0xff) p++;
    if (p >= d.length) {
      if (sawScan) break;
      throw new Error('JPEG: stream ended before any scan');
    }
    const m = d[p++];
    if (m === 0xd9) break; // EOI
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) continue;
    if (p + 2 > d.length) throw new Error('JPEG: truncated marker segment');
    const segLen = len16(p);
    const segEnd = p + segLen;
    if (segLen < 2 || segEnd > d.length) throw new Error(`JPEG: marker 0xFF${m.toString(16).toUpperCase()} declares ${segLen} bytes past the stream end`);
    let q = p + 2;
    switch (m) {
      case 0xdb: // DQT
        while (q < segEnd) {
          const pq = d[q] >> 4;
          const tq = d[q] & 15;
          q++;
          const table = new Int32Array(64);
          for (let k = 0; k < 64; k++) {
            table[ZIGZAG[k]] = pq ? len16(q) : d[q];
            q += pq ? 2 : 1;
          }
          qt[tq] = table;
        }
        break;
      case 0xc4: // DHT
        while (q < segEnd) {
          const tc = d[q] >> 4;
          const th = d[q] & 15;
          const counts = d.subarray(q + 1, q + 17);
          let total = 0;
          for (let i = 0; i < 16; i++) total += counts[i];
          const values = d.subarray(q + 17, q + 17 + total);
          if (q + 17 + total > segEnd) throw new Error('JPEG: Huffman table overruns its segment');
          (tc === 0 ? dcTables : acTables)[th] = buildHuffman(counts, values);
          q += 17 + total;
        }
        break;
      case 0xdd: // DRI
        restartInterval = len16(q);
        break;
      case 0xc0:
      case 0xc1: {
        precision = d[q];
        height = len16(q + 1);
        width = len16(q + 3);
        const nc = d[q + 5];
        if (precision !== 8 && precision !== 12) throw new Error(`JPEG: sample precision ${precision} is not 8 or 12`);
        if (width === 0 || height === 0) throw new Error(`JPEG: frame size ${width}×${height} is invalid (DNL-defined height is not supported)`);
        comps = [];
        for (let i = 0; i < nc; i++) {
          const b = q + 6 + i * 3;
          comps.push({ id: d[b], h: d[b + 1] >> 4, v: d[b + 1] & 15, tq: d[b + 2], blocksPerLine: 0, blocksPerColumn: 0, coefs: new Int32Array(0), pred: 0 });
        }
        hmax = Math.max(...comps.map((c) => c.h));
        vmax = Math.max(...comps.map((c) => c.v));
        if (comps.some((c) => c.h < 1 || c.v < 1 || c.h > 4 || c.v > 4)) throw new Error('JPEG: invalid component sampling factors');
        mcusX = Math.ceil(width / (8 * hmax));
        mcusY = Math.ceil(height / (8 * vmax));
        for (const c of comps) {
          c.blocksPerLine = mcusX * c.h;
          c.blocksPerColumn = mcusY * c.v;
          c.coefs = new Int32Array(c.blocksPerLine * c.blocksPerColumn * 64);
        }
        break;
      }
      case 0xc2:
        throw new Error('JPEG: progressive DCT JPEG is not supported by the 12-bit decoder');
      case 0xc3:
        throw new Error('JPEG: lossless process found where a DCT process was expected');
      case 0xc5:
      case 0xc6:
      case 0xc7:
      case 0xc9:
      case 0xca:
      case 0xcb:
      case 0xcd:
      case 0xce:
      case 0xcf:
        throw new Error(`JPEG: frame type SOF${m - 0xc0} (hierarchical or arithmetic coding) is not supported`);
      case 0xda: {
        if (comps.length === 0) throw new Error('JPEG: scan before frame header');
        const ns = d[q];
        const scomps: Component[] = [];
        for (let i = 0; i < ns; i++) {
          const cid = d[q + 1 + i * 2];
          const tables = d[q + 2 + i * 2];
          const c = comps.find((x) => x.id === cid);
          if (!c) throw new Error(`JPEG: scan references unknown component ${cid}`);
          c.dc = dcTables[tables >> 4];
          c.ac = acTables[tables & 15];
          if (!c.dc || !c.ac) throw new Error(`JPEG: scan uses an undefined Huffman table for component ${cid}`);
          c.pred = 0;
          scomps.push(c);
        }
        // Ss/Se/Ah/Al are ignored: for sequential DCT they are fixed (0, 63, 0, 0)
        // and some encoders write other values (pydicom's JPEG-lossy.dcm).
        const reader = new BitReader(d, segEnd);
        decodeScan(reader, scomps, mcusX, mcusY, width, height, hmax, vmax, restartInterval);
        // Resume at the marker that ends the entropy-coded data (not a stuffed 0xFF00 or an RSTn).
        p = reader.pos;
        while (p + 1 < d.length && !(d[p] === 0xff && d[p + 1] !== 0x00 && d[p + 1] !== 0xff && !(d[p + 1] >= 0xd0 && d[p + 1] <= 0xd7))) p++;
        sawScan = true;
        continue;
      }
      default:
        // APPn, COM, DNL, and anything else with a length: skip.
        break;
    }
    p = segEnd;
  }
  if (comps.length === 0) throw new Error('JPEG: no frame header (SOF0/SOF1) found');
  return assemble(comps, qt, width, height, precision, hmax, vmax);
}

function decodeScan(r: BitReader, scomps: Component[], mcusX: number, mcusY: number, width: number, height: number, hmax: number, vmax: number, restartInterval: number): void {
  if (scomps.length === 1) {
    // Non-interleaved: the component's own block grid, one block per MCU.
    const c = scomps[0];
    const bw = Math.ceil(Math.ceil((width * c.h) / hmax) / 8);
    const bh = Math.ceil(Math.ceil((height * c.v) / vmax) / 8);
    const total = bw * bh;
    for (let n = 0; n < total; n++) {
      if (restartInterval && n > 0 && n % restartInterval === 0) {
        r.restart();
        c.pred = 0;
      }
      const by = Math.floor(n / bw);
      const bx = n % bw;
      decodeBlock(r, c, c.coefs, (by * c.blocksPerLine + bx) * 64);
    }
    return;
  }
  const total = mcusX * mcusY;
  for (let n = 0; n < total; n++) {
    if (restartInterval && n > 0 && n % restartInterval === 0) {
      r.restart();
      for (const c of scomps) c.pred = 0;
    }
    const my = Math.floor(n / mcusX);
    const mx = n % mcusX;
    for (const c of scomps) {
      for (let v = 0; v < c.v; v++) {
        for (let h = 0; h < c.h; h++) {
          const row = my * c.v + v;
          const col = mx * c.h + h;
          decodeBlock(r, c, c.coefs, (row * c.blocksPerLine + col) * 64);
        }
      }
    }
  }
}

function assemble(comps: Component[], qt: (Int32Array | undefined)[], width: number, height: number, precision: number, hmax: number, vmax: number): JpegImage {
  const nc = comps.length;
  const out = precision > 8 ? new Uint16Array(width * height * nc) : new Uint8Array(width * height * nc);
  const maxVal = (1 << precision) - 1;
  const shift = 1 << (precision - 1);
  const tmp = new Float64Array(64);
  const blk = new Float64Array(64);
  const res = new Float64Array(64);
  const pass1 = precision > 8 ? 1 : 2;
  for (let ci = 0; ci < nc; ci++) {
    const c = comps[ci];
    const q = qt[c.tq];
    if (!q) throw new Error(`JPEG: component ${c.id} uses undefined quantisation table ${c.tq}`);
    const planeW = c.blocksPerLine * 8;
    const planeH = c.blocksPerColumn * 8;
    const plane = new Int32Array(planeW * planeH);
    for (let by = 0; by < c.blocksPerColumn; by++) {
      for (let bx = 0; bx < c.blocksPerLine; bx++) {
        const off = (by * c.blocksPerLine + bx) * 64;
        for (let k = 0; k < 64; k++) blk[k] = c.coefs[off + k] * q[k];
        // Columns first, then rows, as jidctint.c does.
        for (let x = 0; x < 8; x++) idct1d(blk, x, 8, tmp, x, 8, CONST_BITS - pass1);
        for (let y = 0; y < 8; y++) idct1d(tmp, y * 8, 1, res, y * 8, 1, CONST_BITS + pass1 + 3);
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++) {
            let val = res[y * 8 + x] + shift;
            if (val < 0) val = 0;
            else if (val > maxVal) val = maxVal;
            plane[(by * 8 + y) * planeW + bx * 8 + x] = val;
          }
        }
      }
    }
    // Upsample (box) to the full frame and interleave.
    const sx = c.h / hmax;
    const sy = c.v / vmax;
    for (let y = 0; y < height; y++) {
      const py = Math.min(planeH - 1, Math.floor(y * sy));
      for (let x = 0; x < width; x++) {
        const px = Math.min(planeW - 1, Math.floor(x * sx));
        out[(y * width + x) * nc + ci] = plane[py * planeW + px];
      }
    }
  }
  return { width, height, components: nc, precision, data: out };
}
