// 2D images and mask encodings against PIL: real PNG/JPEG samples decode to
// PIL's exact pixel values (JPEG through libjpeg-turbo, as PIL); PIL-written
// PNG/BMP variants (16-bit, alpha, palettes, 1-bit, colour keys, pHYs)
// decode as np.array(Image.open(f)); the named mask encodings give PIL's
// label counts on the real fundus, prostate, Kvasir and NPC masks; bad files
// and wrong encodings fail with errors naming the file; writePng round-trips.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { decodeImage2d, encodePng, readImage2d, sniffImage2d, writePng } from '../src/io/image2d.js';
import { MASK_ENCODINGS, decodeMask, labelCounts, parseMaskEncoding } from '../src/io/mask-encoding.js';
import { Volume } from '../src/io/volume.js';
import { FIXTURES, SAMPLES } from './shared-data.js';

interface Described {
  file: string; mode: string; width: number; height: number; channels: number; sums: number[];
  points: { xy: [number, number]; value: number[] }[]; channels_equal: boolean;
}
interface Synthetic { b64: string; mode: string; shape: number[]; values: number[]; rgb?: number[]; rgb_shape?: number[]; grey?: number[]; dpi?: number[] }
interface Ref {
  real: {
    images: Described[];
    fundus: (Described & { background: number; rim: number; cup: number })[];
    prostate: { file: string; organ: number; background: number; pixels: number }[];
    jpeg_masks: { file: string; foreground: number; pixels: number; max_distance_to_0_or_255: number }[];
  };
  synthetic: Record<string, Synthetic>;
}

const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'image2d_ref.json'), 'utf8')) as Ref;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-image2d-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function syn(name: string): Uint8Array {
  return Buffer.from(REF.synthetic[name].b64, 'base64');
}

/** Our planar volume as PIL's interleaved (H, W, C) flat array. */
function interleaved(v: Volume): number[] {
  const n = v.numVoxels;
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (let c = 0; c < v.channels; c++) out.push(Number(v.data[c * n + i]));
  return out;
}

function checkDescribed(v: Volume, d: Described): void {
  assert.deepEqual(v.dims, [d.width, d.height, 1], d.file);
  assert.equal(v.channels, d.channels, `${d.file} channels`);
  assert.equal(v.voxelType, 'uint8');
  const n = v.numVoxels;
  for (let c = 0; c < v.channels; c++) {
    let s = 0;
    for (let i = c * n; i < (c + 1) * n; i++) s += v.data[i] as number;
    assert.equal(s, d.sums[c], `${d.file} channel ${c} sum`);
  }
  for (const p of d.points) {
    assert.deepEqual(Array.from({ length: v.channels }, (_, c) => v.at(p.xy[0], p.xy[1], 0, c)), p.value, `${d.file} pixel ${p.xy}`);
  }
}

test('real PNG and JPEG samples decode to PIL values exactly (JPEG via libjpeg-turbo)', () => {
  for (const d of REF.real.images) {
    const v = readImage2d(path.join(SAMPLES, d.file));
    checkDescribed(v, d);
    assert.equal(v.meta.format, d.file.endsWith('.png') ? 'png' : 'jpeg');
    assert.deepEqual(v.spacing, [1, 1, 1]);
    assert.equal(v.meta.spacingSource, 'default');
  }
  const rgb = readImage2d(path.join(SAMPLES, REF.real.images[0].file), { grey: true });
  assert.equal(rgb.channels, 1);
});

test('PIL-written PNG variants decode as np.array(Image.open(f))', () => {
  const s = REF.synthetic;
  const g16 = decodeImage2d(syn('grey16'));
  assert.equal(g16.voxelType, 'uint16');
  assert.deepEqual(Array.from(g16.data as Uint16Array), s.grey16.values);

  const la = decodeImage2d(syn('grey_alpha'));
  assert.equal(la.channels, 1, 'alpha dropped by default');
  const laA = decodeImage2d(syn('grey_alpha'), { alpha: true });
  assert.deepEqual(interleaved(laA), s.grey_alpha.values);
  assert.deepEqual(laA.meta.channelNames, ['L', 'A']);

  const rgba = decodeImage2d(syn('rgba'), { alpha: true });
  assert.equal(rgba.channels, 4);
  assert.deepEqual(interleaved(rgba), s.rgba.values);
  assert.deepEqual(interleaved(decodeImage2d(syn('rgba'))), s.rgba.values.filter((_, i) => i % 4 !== 3));

  for (const name of ['palette', 'palette_trns', 'palette4']) {
    const idx = decodeImage2d(syn(name));
    assert.equal(idx.channels, 1, name);
    assert.deepEqual(Array.from(idx.data as Uint8Array), s[name].values, `${name}: palette indices, as PIL`);
    assert.ok(Array.isArray(idx.meta.palette), `${name}: colour table in meta`);
  }
  // colours: the palette with a duplicate colour and out-of-order entries
  assert.deepEqual(interleaved(decodeImage2d(syn('palette'), { palette: 'rgb' })), s.palette.rgb);
  assert.deepEqual(interleaved(decodeImage2d(syn('palette_trns'), { palette: 'rgb', alpha: true })), s.palette_trns.rgb);

  // 1-bit: 0/255 as PIL's convert('L') (np.array of mode '1' is boolean)
  assert.deepEqual(Array.from(decodeImage2d(syn('bit1')).data as Uint8Array), s.bit1.grey);

  // colour-key transparency: values untouched, alpha from the key
  const gk = decodeImage2d(syn('grey_key'), { alpha: true });
  assert.deepEqual(Array.from(gk.channel(0).data as Uint8Array), s.grey_key.values);
  assert.deepEqual(Array.from(gk.channel(1).data as Uint8Array).slice(0, 4), [0, 0, 0, s.grey_key.values[3] === 7 ? 0 : 255]);
  const rk = decodeImage2d(syn('rgb_key'), { alpha: true });
  assert.deepEqual(interleaved(rk).filter((_, i) => i % 4 !== 3), s.rgb_key.values);
  assert.equal(rk.at(1, 1, 0, 3), 0);
  assert.equal(rk.at(0, 0, 0, 3), 255);

  // pHYs: PIL wrote dpi (254, 127) = 10000 and 5000 pixels per metre
  const ph = decodeImage2d(syn('grey8_phys'));
  assert.deepEqual(Array.from(ph.data as Uint8Array), s.grey8_phys.values);
  assert.ok(Math.abs(ph.spacing[0] - 0.1) < 1e-12 && Math.abs(ph.spacing[1] - 0.2) < 1e-12);
  assert.equal(ph.meta.spacingSource, 'pHYs');
  const over = decodeImage2d(syn('grey8_phys'), { spacing: [0.5, 0.5] });
  assert.deepEqual(over.spacing, [0.5, 0.5, 1]);
});

test('PIL-written BMP variants: 24-bit, 8-bit grey palette, palette, 1-bit; pixels-per-metre spacing', () => {
  const s = REF.synthetic;
  const rgb = decodeImage2d(syn('bmp_rgb'));
  assert.equal(rgb.meta.format, 'bmp');
  assert.deepEqual(interleaved(rgb), s.bmp_rgb.values);
  assert.deepEqual(Array.from(decodeImage2d(syn('bmp_grey')).data as Uint8Array), s.bmp_grey.values);
  assert.deepEqual(Array.from(decodeImage2d(syn('bmp_palette')).data as Uint8Array), s.bmp_palette.values);
  assert.deepEqual(interleaved(decodeImage2d(syn('bmp_palette'), { palette: 'rgb' })), s.bmp_palette.rgb);
  assert.deepEqual(Array.from(decodeImage2d(syn('bmp_bit1')).data as Uint8Array), s.bmp_bit1.values.map(Number));
  const mm = 25.4 / (s.bmp_rgb.dpi as number[])[0];
  assert.ok(Math.abs(rgb.spacing[0] - mm) < 1e-3, `${rgb.spacing[0]} vs ${mm}`);
});

test('fundus masks: fundusDiscCup (multi-label disc ⊇ cup) and fundusRimCup give PIL counts', () => {
  for (const f of REF.real.fundus) {
    const file = path.join(SAMPLES, f.file);
    const raw = readImage2d(file);
    checkDescribed(raw, f);
    const dc = decodeMask(raw, MASK_ENCODINGS.fundusDiscCup);
    assert.equal(dc.channels, 2);
    assert.deepEqual(dc.meta.channelNames, ['disc', 'cup']);
    assert.deepEqual(labelCounts(dc), [
      { 0: f.background, 1: f.rim + f.cup },
      { 0: f.background + f.rim, 1: f.cup },
    ], f.file);
    const rc = decodeMask(raw, 'fundusRimCup');
    assert.deepEqual(labelCounts(rc), [{ 0: f.background, 1: f.rim, 2: f.cup }]);
    assert.equal(rc.voxelType, 'uint8');
    assert.deepEqual(rc.dims, raw.dims);
  }
});

test('prostate masks: 0 is the organ (prostateZeroIsOrgan); the naive 0/255 reading inverts it', () => {
  for (const p of REF.real.prostate) {
    const raw = readImage2d(path.join(SAMPLES, p.file));
    const m = decodeMask(raw, 'prostateZeroIsOrgan');
    assert.deepEqual(labelCounts(m), [{ 0: p.background, 1: p.organ }]);
    const frac = p.organ / p.pixels;
    assert.ok(frac > 0.005 && frac < 0.04, `${p.file}: organ covers ${frac}`);
    // the trap: reading 255 as foreground makes the "organ" cover > 95 % of the slice
    const naive = labelCounts(decodeMask(raw, 'binary255'))[0];
    assert.equal(naive[1], p.background);
    assert.deepEqual(labelCounts(decodeMask(raw, { kind: 'invert' })), labelCounts(m));
  }
});

test('lossy JPEG masks: jpegThreshold matches PIL convert("L") >= 128; exact-value encodings fail naming the file', () => {
  for (const j of REF.real.jpeg_masks) {
    const file = path.join(SAMPLES, j.file);
    const raw = readImage2d(file);
    const m = decodeMask(raw, 'jpegThreshold');
    assert.deepEqual(labelCounts(m), [{ 0: j.pixels - j.foreground, 1: j.foreground }], j.file);
    if (j.max_distance_to_0_or_255 > 0) {
      assert.throws(() => decodeMask(raw, 'binary255'), (e: Error) => {
        assert.ok(e.message.includes(file), 'names the file');
        assert.match(e.message, /pixel\(s\) with values the encoding does not expect: \d+ \(\d+ px\)/);
        assert.match(e.message, /expected values 0, 255/);
        return true;
      });
    }
    if (j.max_distance_to_0_or_255 < 128) {
      const tol = decodeMask(raw, { kind: 'values', map: { 0: 0, 255: 1 }, tolerance: j.max_distance_to_0_or_255 });
      assert.deepEqual(labelCounts(tol), labelCounts(m), `${j.file}: tolerance ${j.max_distance_to_0_or_255}`);
    }
  }
});

test('mask encodings are validated config: errors name the key and the allowed values', () => {
  assert.throws(() => parseMaskEncoding({ kind: 'value', map: {} }), /"kind" must be one of values, channels, threshold, invert, colors, labels, got "value"/);
  assert.throws(() => parseMaskEncoding({ kind: 'values', map: { abc: 1 } }), /"map" key "abc" must be a number/);
  assert.throws(() => parseMaskEncoding({ kind: 'values', map: { 0: 300 } }), /integer label 0-255, got 300/);
  assert.throws(() => parseMaskEncoding({ kind: 'threshold', at: 128, inverse: true }), /unknown key "inverse" for kind "threshold" \(allowed: kind, at, invert\)/);
  assert.throws(() => parseMaskEncoding('fundus'), /unknown name "fundus" \(known: fundusDiscCup, fundusRimCup/);
  assert.throws(() => parseMaskEncoding({ kind: 'channels', channels: [{ name: 'a', values: [] }] }), /"channels\[0\]\.values" must be a non-empty array/);
  // every named encoding is itself valid config, and survives JSON
  for (const [name, enc] of Object.entries(MASK_ENCODINGS)) assert.deepEqual(JSON.parse(JSON.stringify(parseMaskEncoding(enc, name))), JSON.parse(JSON.stringify(enc)));

  const rgb = new Volume({ data: Uint8Array.from([255, 0, 0, 9, 0, 255, 0, 9, 0, 0, 0, 9]), dims: [4, 1, 1], channels: 3, meta: { source: 'c.png' } });
  const colors = decodeMask(rgb, { kind: 'colors', map: { '255,0,0': 1, '0,255,0': 2, '0,0,0': 0, '10,10,10': 3 }, tolerance: 1 }, { file: 'c.png' });
  assert.throws(() => decodeMask(rgb, { kind: 'colors', map: { '255,0,0': 1, '0,0,0': 0 } }), /mask c\.png: colours the encoding does not expect: \(0,255,0\) 1 px, \(9,9,9\) 1 px/);
  assert.deepEqual(Array.from(colors.data as Uint8Array), [1, 2, 0, 3]);
  assert.throws(() => decodeMask(rgb, 'binary255'), /mask c\.png: colour mask whose channels differ/);
  const grey = new Volume({ data: Uint8Array.from([255, 128, 0, 64]), dims: [2, 2, 1], meta: { source: 'g.png' } });
  assert.throws(() => decodeMask(grey, 'fundusDiscCup'), /mask g\.png: 1 pixel\(s\) with values the encoding does not expect: 64 \(1 px\); expected values 255, 128, 0/);
  const img = new Volume({ data: new Uint8Array(6), dims: [3, 2, 1], meta: { source: 'img.png' } });
  assert.throws(() => decodeMask(grey, 'fundusRimCup', { like: img }), /mask g\.png: size 2×2 .* differs from img\.png .*mismatched image\/mask pair/);
  assert.deepEqual(Array.from(decodeMask(grey, { kind: 'labels' }).data as Uint8Array), [255, 128, 0, 64]);
  assert.throws(() => decodeMask(grey, { kind: 'labels', max: 3 }), /expected integer labels 0\.\.3/);
});

test('bad files: not an image, truncated or corrupt PNG/JPEG/BMP, impossible sizes — clear errors', () => {
  const png = fs.readFileSync(path.join(SAMPLES, REF.real.images[1].file));
  const jpg = fs.readFileSync(path.join(SAMPLES, REF.real.images[3].file));
  assert.equal(sniffImage2d(png), 'png');
  assert.equal(sniffImage2d(jpg), 'jpeg');
  assert.throws(() => decodeImage2d(Buffer.from('not an image'), { file: 'x.png' }), /x\.png is not a PNG, JPEG or BMP image \(starts with bytes 6e 6f/);
  assert.throws(() => decodeImage2d(png.subarray(0, png.length - 3000), { file: 't.png' }), /PNG t\.png: truncated/);
  const badCrc = Buffer.from(png);
  badCrc[60] ^= 0xff; // inside the first IDAT
  assert.throws(() => decodeImage2d(badCrc, { file: 'crc.png' }), /PNG crc\.png: CRC mismatch in chunk IDAT at byte \d+ \(corrupt file\)/);
  // a valid-looking header declaring 60000 × 60000 pixels over a few bytes of data
  const huge = Buffer.from(png);
  const setSize = (w: number, h: number): void => {
    huge.writeUInt32BE(w, 16);
    huge.writeUInt32BE(h, 20);
    huge.writeUInt32BE(zlib.crc32(huge.subarray(12, 29)), 29);
  };
  setSize(60000, 60000);
  assert.throws(() => decodeImage2d(huge, { file: 'huge.png' }), /PNG huge\.png: 60000×60000 pixels exceeds the limit of 268435456/);
  setSize(20000, 10000);
  assert.throws(() => decodeImage2d(huge, { file: 'huge.png' }), /compressed data cannot hold a 20000×10000 image/);
  assert.throws(() => decodeImage2d(jpg.subarray(0, 5000), { file: 't.jpg' }), /JPEG t\.jpg: JPEG decoding failed \(corrupt or truncated file\?\)/);
  assert.throws(() => decodeImage2d(jpg.subarray(0, 20), { file: 'h.jpg' }), /JPEG h\.jpg: no frame header/);
  const bmp = syn('bmp_rgb');
  assert.throws(() => decodeImage2d(bmp.subarray(0, bmp.length - 20), { file: 't.bmp' }), /BMP t\.bmp: truncated pixel data/);
  assert.throws(() => readImage2d(path.join(tmp, 'missing.png')), /readImage2d: file not found: .*missing\.png/);
  assert.throws(() => readImage2d(tmp), /is a directory/);
  // still healthy after the failures
  checkDescribed(readImage2d(path.join(SAMPLES, REF.real.images[3].file)), REF.real.images[3]);
});

test('writePng round trips (8/16-bit, grey/RGB/RGBA, spacing via pHYs) and rejects what PNG cannot hold', () => {
  const fundus = readImage2d(path.join(SAMPLES, REF.real.images[0].file));
  const f1 = path.join(tmp, 'out', 'rgb.png');
  writePng(f1, fundus);
  assert.deepEqual(readImage2d(f1).data, fundus.data);
  const g16 = Volume.fromGeometry(Uint16Array.from({ length: 12 }, (_, i) => i * 5000 + 3), [4, 3, 1], [0.25, 0.5, 1]);
  const f2 = path.join(tmp, 'out', 'g16.png');
  writePng(f2, g16);
  const b16 = readImage2d(f2);
  assert.equal(b16.voxelType, 'uint16');
  assert.deepEqual(b16.data, g16.data);
  assert.deepEqual(b16.spacing, [0.25, 0.5, 1]);
  const rgba = decodeImage2d(syn('rgba'), { alpha: true });
  assert.deepEqual(decodeImage2d(encodePng(rgba), { alpha: true }).data, rgba.data);
  // integer labels in a wider type are stored as 8-bit when they fit
  const lab = Volume.fromGeometry(Int32Array.from([0, 1, 2, 3]), [2, 2, 1], [1, 1, 1]);
  assert.deepEqual(Array.from(decodeImage2d(encodePng(lab)).data as Uint8Array), [0, 1, 2, 3]);
  assert.throws(() => writePng(path.join(tmp, 'out', 'f.png'), Volume.fromGeometry(Float32Array.from([0.5, 1, 2, 3]), [2, 2, 1], [1, 1, 1])), /writePng .*f\.png: value 0\.5 at index 0 does not fit uint8/);
  assert.throws(() => encodePng(Volume.fromGeometry(new Uint8Array(8), [2, 2, 2], [1, 1, 1])), /a PNG holds one slice/);
  assert.deepEqual(fs.readdirSync(path.join(tmp, 'out')).sort(), ['g16.png', 'rgb.png'], 'no temp files left');
});

test('PIL reads what we write (when Debian python with PIL is available)', (t) => {
  const py = '/usr/bin/python3';
  if (!fs.existsSync(py)) return t.skip('no /usr/bin/python3');
  const g16 = Volume.fromGeometry(Uint16Array.from({ length: 12 }, (_, i) => i * 5000 + 3), [4, 3, 1], [0.1, 0.2, 1]);
  const rgb = new Volume({ data: Uint8Array.from({ length: 18 }, (_, i) => i * 13), dims: [3, 2, 1], channels: 3 });
  const f16 = path.join(tmp, 'pil16.png');
  const frgb = path.join(tmp, 'pilrgb.png');
  writePng(f16, g16);
  writePng(frgb, rgb);
  const script = 'import sys, json, numpy as np\nfrom PIL import Image\na = Image.open(sys.argv[1]); b = Image.open(sys.argv[2])\n'
    + 'print(json.dumps({"a": np.array(a).ravel().tolist(), "dpi": [round(v, 3) for v in a.info.get("dpi", [])], "b": np.array(b).ravel().tolist(), "mb": b.mode}))';
  const r = spawnSync(py, ['-c', script, f16, frgb], { encoding: 'utf8' });
  if (r.status !== 0 && /No module named/.test(r.stderr)) return t.skip('PIL not installed');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { a: number[]; dpi: number[]; b: number[]; mb: string };
  assert.deepEqual(out.a, Array.from(g16.data as Uint16Array));
  assert.deepEqual(out.dpi, [254, 127]);
  assert.equal(out.mb, 'RGB');
  assert.deepEqual(out.b, interleaved(rgb));
});

test('fuzz: damaged PNG/BMP/JPEG bytes (seeded) decode to a consistent volume or fail with an Error', () => {
  const bases = Object.keys(REF.synthetic).map(syn);
  bases.push(fs.readFileSync(path.join(SAMPLES, REF.real.jpeg_masks[2].file)));
  let seed = 777;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  let failed = 0;
  for (let it = 0; it < 600; it++) {
    let b = Buffer.from(bases[it % bases.length]);
    if (rnd() < 0.2) b = b.subarray(0, Math.floor(rnd() * b.length));
    else for (let j = 0, k = 1 + Math.floor(rnd() * 6); j < k; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    try {
      const v = decodeImage2d(b, { file: 'fuzz', alpha: rnd() < 0.5, palette: rnd() < 0.5 ? 'rgb' : 'index' });
      assert.equal(v.data.length, v.numVoxels * v.channels);
    } catch (e) {
      assert.ok(e instanceof Error && /fuzz/.test(e.message), String(e));
      failed++;
    }
  }
  assert.ok(failed > 100, `${failed} of 600 mutations were rejected`);
});
