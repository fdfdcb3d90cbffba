// 4×4 affine helpers. Affines are row-major Float64Array(16) mapping voxel
// indices (i, j, k, 1) to world millimetres in RAS+ (NIfTI/nibabel convention).

export type Affine = Float64Array;
export type Vec3 = [number, number, number];

export function identityAffine(): Affine {
  const a = new Float64Array(16);
  a[0] = a[5] = a[10] = a[15] = 1;
  return a;
}

export function affineFromRows(rows: readonly (readonly number[])[]): Affine {
  if (rows.length < 3 || rows.length > 4) throw new Error(`affine: expected 3 or 4 rows, got ${rows.length}`);
  const a = identityAffine();
  for (let r = 0; r < rows.length; r++) {
    if (rows[r].length !== 4) throw new Error(`affine: row ${r} has ${rows[r].length} entries, expected 4`);
    for (let c = 0; c < 4; c++) a[r * 4 + c] = rows[r][c];
  }
  return a;
}

export function affineToRows(a: Affine): number[][] {
  return [0, 1, 2, 3].map((r) => [a[r * 4], a[r * 4 + 1], a[r * 4 + 2], a[r * 4 + 3]]);
}

export function matmul4(a: Affine, b: Affine): Affine {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 4 + c];
      out[r * 4 + c] = s;
    }
  }
  return out;
}

/** Inverse of a 4×4 matrix (general, via cofactors); throws on a singular one. */
export function invert4(m: Affine): Affine {
  const inv = new Float64Array(16);
  inv[0] = m[5] * m[10] * m[15] - m[5] * m[11] * m[14] - m[9] * m[6] * m[15] + m[9] * m[7] * m[14] + m[13] * m[6] * m[11] - m[13] * m[7] * m[10];
  inv[4] = -m[4] * m[10] * m[15] + m[4] * m[11] * m[14] + m[8] * m[6] * m[15] - m[8] * m[7] * m[14] - m[12] * m[6] * m[11] + m[12] * m[7] * m[10];
  inv[8] = m[4] * m[9] * m[15] - m[4] * m[11] * m[13] - m[8] * m[5] * m[15] + m[8] * m[7] * m[13] + m[12] * m[5] * m[11] - m[12] * m[7] * m[9];
  inv[12] = -m[4] * m[9] * m[14] + m[4] * m[10] * m[13] + m[8] * m[5] * m[14] - m[8] * m[6] * m[13] - m[12] * m[5] * m[10] + m[12] * m[6] * m[9];
  inv[1] = -m[1] * m[10] * m[15] + m[1] * m[11] * m[14] + m[9] * m[2] * m[15] - m[9] * m[3] * m[14] - m[13] * m[2] * m[11] + m[13] * m[3] * m[10];
  inv[5] = m[0] * m[10] * m[15] - m[0] * m[11] * m[14] - m[8] * m[2] * m[15] + m[8] * m[3] * m[14] + m[12] * m[2] * m[11] - m[12] * m[3] * m[10];
  inv[9] = -m[0] * m[9] * m[15] + m[0] * m[11] * m[13] + m[8] * m[1] * m[15] - m[8] * m[3] * m[13] - m[12] * m[1] * m[11] + m[12] * m[3] * m[9];
  inv[13] = m[0] * m[9] * m[14] - m[0] * m[10] * m[13] - m[8] * m[1] * m[14] + m[8] * m[2] * m[13] + m[12] * m[1] * m[10] - m[12] * m[2] * m[9];
  inv[2] = m[1] * m[6] * m[15] - m[1] * m[7] * m[14] - m[5] * m[2] * m[15] + m[5] * m[3] * m[14] + m[13] * m[2] * m[7] - m[13] * m[3] * m[6];
  inv[6] = -m[0] * m[6] * m[15] + m[0] * m[7] * m[14] + m[4] * m[2] * m[15] - m[4] * m[3] * m[14] - m[12] * m[2] * m[7] + m[12] * m[3] * m[6];
  inv[10] = m[0] * m[5] * m[15] - m[0] * m[7] * m[13] - m[4] * m[1] * m[15] + m[4] * m[3] * m[13] + m[12] * m[1] * m[7] - m[12] * m[3] * m[5];
  inv[14] = -m[0] * m[5] * m[14] + m[0] * m[6] * m[13] + m[4] * m[1] * m[14] - m[4] * m[2] * m[13] - m[12] * m[1] * m[6] + m[12] * m[2] * m[5];
  inv[3] = -m[1] * m[6] * m[11] + m[1] * m[7] * m[10] + m[5] * m[2] * m[11] - m[5] * m[3] * m[10] - m[9] * m[2] * m[7] + m[9] * m[3] * m[6];
  inv[7] = m[0] * m[6] * m[11] - m[0] * m[7] * m[10] - m[4] * m[2] * m[11] + m[4] * m[3] * m[10] + m[8] * m[2] * m[7] - m[8] * m[3] * m[6];
  inv[11] = -m[0] * m[5] * m[11] + m[0] * m[7] * m[9] + m[4] * m[1] * m[11] - m[4] * m[3] * m[9] - m[8] * m[1] * m[7] + m[8] * m[3] * m[5];
  inv[15] = m[0] * m[5] * m[10] - m[0] * m[6] * m[9] - m[4] * m[1] * m[10] + m[4] * m[2] * m[9] + m[8] * m[1] * m[6] - m[8] * m[2] * m[5];
  const det = m[0] * inv[0] + m[1] * inv[4] + m[2] * inv[8] + m[3] * inv[12];
  if (!Number.isFinite(det) || Math.abs(det) < 1e-300) throw new Error('affine: matrix is singular and cannot be inverted');
  for (let i = 0; i < 16; i++) inv[i] /= det;
  return inv;
}

export function applyAffine(a: Affine, p: readonly number[]): Vec3 {
  const [x, y, z] = [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0];
  return [
    a[0] * x + a[1] * y + a[2] * z + a[3],
    a[4] * x + a[5] * y + a[6] * z + a[7],
    a[8] * x + a[9] * y + a[10] * z + a[11],
  ];
}

/** Voxel sizes: the norms of the affine's first three columns. */
export function affineSpacing(a: Affine): Vec3 {
  const col = (c: number) => Math.hypot(a[c], a[4 + c], a[8 + c]);
  return [col(0), col(1), col(2)];
}

/** Unit direction cosines, row-major 3×3 (columns are the voxel axes in RAS). */
export function affineDirection(a: Affine): number[] {
  const s = affineSpacing(a);
  const d: number[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) d.push(s[c] === 0 ? (r === c ? 1 : 0) : a[r * 4 + c] / s[c]);
  return d;
}

export function affineOrigin(a: Affine): Vec3 {
  return [a[3], a[7], a[11]];
}

/** Builds an affine from spacing, origin and a row-major 3×3 direction. */
export function composeAffine(spacing: readonly number[], origin: readonly number[], direction?: readonly number[]): Affine {
  const d = direction ?? [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const a = identityAffine();
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) a[r * 4 + c] = d[r * 3 + c] * (spacing[c] ?? 1);
    a[r * 4 + 3] = origin[r] ?? 0;
  }
  return a;
}

/** True when the direction cosines are not a signed permutation (within tol). */
export function isOblique(a: Affine, tol = 1e-4): boolean {
  const dir = affineDirection(a);
  for (const v of dir) if (Math.abs(v) > tol && Math.abs(Math.abs(v) - 1) > tol) return true;
  return false;
}

export function affinesClose(a: Affine, b: Affine, tol = 1e-6): boolean {
  for (let i = 0; i < 16; i++) if (Math.abs(a[i] - b[i]) > tol * Math.max(1, Math.abs(a[i]), Math.abs(b[i]))) return false;
  return true;
}
