// Connected components of a mask held as a typed array (C order, last axis
// fastest — a tensor's layout; a Volume's data is the same with shape
// [k, j, i]). Used by post-processing (largest component) and by the
// annotation simulator (lesions).
export type Connectivity = 'face' | 'full';

function neighbourOffsets(shape: readonly number[], connectivity: Connectivity): number[][] {
  // Offsets to already-visited neighbours (lexicographically before the voxel).
  const nd = shape.length;
  const out: number[][] = [];
  const rec = (prefix: number[]) => {
    if (prefix.length === nd) {
      const nz = prefix.filter((v) => v !== 0).length;
      if (nz === 0) return;
      if (connectivity === 'face' && nz !== 1) return;
      // Keep offsets whose first non-zero entry is negative (earlier in raster order).
      const first = prefix.find((v) => v !== 0)!;
      if (first < 0) out.push(prefix);
      return;
    }
    for (const d of [-1, 0, 1]) rec([...prefix, d]);
  };
  rec([]);
  return out;
}

/**
 * Labels connected components of `mask` (non-zero voxels) in 2D or 3D with
 * union-find in two raster passes. Returns component ids (0 = background,
 * 1..n) and each component's size (index 0 unused).
 */
export function connectedComponents(mask: ArrayLike<number>, shape: readonly number[], connectivity: Connectivity = 'full'): { labels: Int32Array; sizes: number[] } {
  const n = shape.reduce((a, b) => a * b, 1);
  if (mask.length !== n) throw new Error(`connectedComponents: mask has ${mask.length} voxels, shape [${shape.join(', ')}] needs ${n}`);
  const nd = shape.length;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const offsets = neighbourOffsets(shape, connectivity);
  const parent: number[] = [0];
  const find = (x: number): number => {
    while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; }
    return x;
  };
  const labels = new Int32Array(n);
  const coord = new Array<number>(nd).fill(0);
  for (let idx = 0; idx < n; idx++) {
    if (idx > 0) for (let d = nd - 1; d >= 0; d--) { if (++coord[d] < shape[d]) break; coord[d] = 0; }
    if (!mask[idx]) continue;
    let root = 0;
    for (const off of offsets) {
      let ok = true;
      let j = idx;
      for (let d = 0; d < nd; d++) {
        const c = coord[d] + off[d];
        if (c < 0 || c >= shape[d]) { ok = false; break; }
        j += off[d] * strides[d];
      }
      if (!ok || labels[j] === 0) continue;
      const r = find(labels[j]);
      if (root === 0) root = r;
      else if (r !== root) { const [a, b] = r < root ? [r, root] : [root, r]; parent[b] = a; root = a; }
    }
    if (root === 0) { root = parent.length; parent.push(root); }
    labels[idx] = root;
  }
  // Second pass: flatten to consecutive ids.
  const remap = new Int32Array(parent.length);
  const sizes = [0];
  for (let idx = 0; idx < n; idx++) {
    if (!labels[idx]) continue;
    const r = find(labels[idx]);
    if (!remap[r]) { remap[r] = sizes.length; sizes.push(0); }
    labels[idx] = remap[r];
    sizes[remap[r]]++;
  }
  return { labels, sizes };
}
