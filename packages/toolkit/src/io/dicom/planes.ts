// Image planes: every 2D image a DICOM file contributes to a volume, with its
// own position, orientation, pixel spacing and rescale. A classic file gives
// one plane; an enhanced multi-frame file one per frame (functional groups);
// a Siemens mosaic one per tile; an RT Dose one per GridFrameOffsetVector
// entry. Series assembly only ever sees planes.
import type { Vec3 } from '../affine.js';
import type { DicomDataset } from './dataset.js';
import { DicomError } from './dataset.js';
import { TAG, tagLabel } from './tags.js';
import { type MosaicInfo, mosaicInfo } from './mosaic.js';

export interface Plane {
  file: string;
  /** Frame of the file's decoded pixel data. */
  frame: number;
  /** Mosaic tile: top-left pixel (row, column) inside the frame. */
  tile?: [number, number];
  /** Mosaic files are whole volumes: their ordinal (0-based) among the series' files. */
  volume?: number;
  rows: number;
  columns: number;
  /** LPS position of the centre of the first pixel (mm). */
  position: Vec3;
  /** Unit direction of increasing column index (ImageOrientationPatient[0..2]). */
  row: Vec3;
  /** Unit direction of increasing row index (ImageOrientationPatient[3..5]). */
  col: Vec3;
  /** Unit slice direction; the normal row × col unless a mosaic's CSA header says otherwise. */
  normal: Vec3;
  /** [spacing between rows, spacing between columns], PixelSpacing order. */
  spacing: [number, number];
  thickness?: number;
  /** Declared SpacingBetweenSlices, used when a single plane needs a third spacing. */
  spacingBetweenSlices?: number;
  slope: number;
  intercept: number;
  /** Tie-break keys for planes sharing a position (temporal index, acquisition, instance, frame). */
  order: number[];
  /** False when the file has no ImagePositionPatient/ImageOrientationPatient. */
  hasGeometry: boolean;
}

export const dot = (a: readonly number[], b: readonly number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a: readonly number[], b: readonly number[]): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
export const add = (a: readonly number[], b: readonly number[]): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const sub = (a: readonly number[], b: readonly number[]): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const scale = (a: readonly number[], s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
export const norm = (a: readonly number[]): number => Math.hypot(a[0], a[1], a[2]);

function unit(v: readonly number[], file: string, what: string): Vec3 {
  const n = norm(v);
  if (!(n > 1e-6)) throw new DicomError(file, `${what} is a zero vector`);
  return [v[0] / n, v[1] / n, v[2] / n];
}

interface Geometry {
  position?: Vec3;
  row?: Vec3;
  col?: Vec3;
  spacing?: [number, number];
  thickness?: number;
  spacingBetweenSlices?: number;
}

function readOrientation(ds: DicomDataset, file: string): { row: Vec3; col: Vec3 } | undefined {
  const iop = ds.numbers(TAG.ImageOrientationPatient);
  if (!iop) return undefined;
  if (iop.length !== 6) throw new DicomError(file, `${tagLabel(TAG.ImageOrientationPatient)} has ${iop.length} values, expected 6`);
  const row = unit(iop.slice(0, 3), file, 'ImageOrientationPatient row direction');
  const col = unit(iop.slice(3, 6), file, 'ImageOrientationPatient column direction');
  if (Math.abs(dot(row, col)) > 1e-2) throw new DicomError(file, `${tagLabel(TAG.ImageOrientationPatient)} row and column directions are not orthogonal (cos = ${dot(row, col).toFixed(4)})`);
  return { row, col };
}

function readPosition(ds: DicomDataset, file: string): Vec3 | undefined {
  const ipp = ds.numbers(TAG.ImagePositionPatient);
  if (!ipp) return undefined;
  if (ipp.length !== 3) throw new DicomError(file, `${tagLabel(TAG.ImagePositionPatient)} has ${ipp.length} values, expected 3`);
  return [ipp[0], ipp[1], ipp[2]];
}

function readSpacing(ds: DicomDataset, file: string): [number, number] | undefined {
  const ps = ds.numbers(TAG.PixelSpacing) ?? ds.numbers(TAG.ImagerPixelSpacing);
  if (!ps) return undefined;
  if (ps.length === 1) ps.push(ps[0]);
  if (ps.length !== 2 || !(ps[0] > 0) || !(ps[1] > 0)) throw new DicomError(file, `${tagLabel(TAG.PixelSpacing)} is '${ps.join('\\')}', expected two positive values`);
  return [ps[0], ps[1]];
}

function positive(ds: DicomDataset, tag: string): number | undefined {
  const v = ds.number(tag);
  return v !== undefined && v > 0 ? v : undefined;
}

/** Geometry attributes of one data set (top level or a functional group item). */
function geometryOf(ds: DicomDataset, file: string): Geometry {
  const o = readOrientation(ds, file);
  return {
    position: readPosition(ds, file),
    row: o?.row,
    col: o?.col,
    spacing: readSpacing(ds, file),
    thickness: positive(ds, TAG.SliceThickness),
    spacingBetweenSlices: positive(ds, TAG.SpacingBetweenSlices),
  };
}

function rescaleOf(ds: DicomDataset | undefined): { slope?: number; intercept?: number } {
  if (!ds) return {};
  return { slope: ds.number(TAG.RescaleSlope), intercept: ds.number(TAG.RescaleIntercept) };
}

function finishPlane(base: Omit<Plane, 'normal' | 'hasGeometry' | 'position' | 'row' | 'col' | 'spacing'>, g: Geometry, warnings: Set<string>, normalOverride?: Vec3): Plane {
  const hasGeometry = g.position !== undefined && g.row !== undefined && g.col !== undefined;
  if (!g.spacing) warnings.add('no PixelSpacing or ImagerPixelSpacing: 1 mm assumed in plane');
  const spacing = g.spacing ?? [1, 1];
  const row = g.row ?? [1, 0, 0];
  const col = g.col ?? [0, 1, 0];
  let position = g.position;
  if (!position) {
    // No patient geometry (secondary capture, projection radiograph): centre
    // the image on the origin, as dcm2niix does.
    warnings.add('no ImagePositionPatient/ImageOrientationPatient: image centred on the origin with identity orientation');
    position = add(scale(row, (-(base.columns - 1) * spacing[1]) / 2), scale(col, (-(base.rows - 1) * spacing[0]) / 2));
  }
  return {
    ...base,
    position,
    row,
    col,
    normal: normalOverride ?? (cross(row, col) as Vec3),
    spacing,
    thickness: g.thickness,
    spacingBetweenSlices: g.spacingBetweenSlices,
    hasGeometry,
  };
}

/** Third-axis spacing for stacks that have no per-plane positions. */
function stackSpacing(g: Geometry, warnings: Set<string>, what: string): number {
  const s = g.spacingBetweenSlices ?? g.thickness;
  if (s === undefined) {
    warnings.add(`${what}: no SpacingBetweenSlices or SliceThickness, 1 mm assumed between slices`);
    return 1;
  }
  return s;
}

function orderKeys(ds: DicomDataset): number[] {
  const n = (tag: string): number => {
    try {
      return ds.number(tag) ?? 0;
    } catch {
      return 0;
    }
  };
  return [n(TAG.TemporalPositionIdentifier), n(TAG.AcquisitionNumber), n(TAG.InstanceNumber)];
}

/**
 * The planes of one file. `frames` is the file's number of frames, `rows` ×
 * `columns` its frame size. Warnings are collected into `warnings`.
 */
export function planesOf(ds: DicomDataset, frames: number, rows: number, columns: number, warnings: Set<string>): Plane[] {
  const file = ds.file;
  const top = geometryOf(ds, file);
  const topRescale = rescaleOf(ds);
  const keys = orderKeys(ds);
  const slope0 = topRescale.slope ?? 1;
  const intercept0 = topRescale.intercept ?? 0;
  if (slope0 === 0) warnings.add(`${tagLabel(TAG.RescaleSlope)} is 0 in ${file}: treated as 1`);
  const slope = slope0 === 0 ? 1 : slope0;

  const perFrame = ds.sequence(TAG.PerFrameFunctionalGroupsSequence);
  if (perFrame.length > 0) {
    if (perFrame.length < frames) throw new DicomError(file, `${tagLabel(TAG.PerFrameFunctionalGroupsSequence)} has ${perFrame.length} items for ${frames} frames`);
    if (perFrame.length > frames) {
      warnings.add(`${tagLabel(TAG.PerFrameFunctionalGroupsSequence)} has ${perFrame.length} items for ${frames} frame(s): the first ${frames} used`);
      perFrame.length = frames;
    }
    const shared = ds.item(TAG.SharedFunctionalGroupsSequence);
    const group = (f: DicomDataset, tag: string): DicomDataset | undefined => f.item(tag) ?? shared?.item(tag);
    return perFrame.map((f, i) => {
      const pos = group(f, TAG.PlanePositionSequence);
      const ori = group(f, TAG.PlaneOrientationSequence);
      const meas = group(f, TAG.PixelMeasuresSequence);
      const pvt = rescaleOf(group(f, TAG.PixelValueTransformationSequence));
      const content = f.item(TAG.FrameContentSequence);
      const g: Geometry = {
        position: (pos && readPosition(pos, file)) ?? top.position,
        ...((ori && readOrientation(ori, file)) ?? { row: top.row, col: top.col }),
        spacing: (meas && readSpacing(meas, file)) ?? top.spacing,
        thickness: (meas && positive(meas, TAG.SliceThickness)) ?? top.thickness,
        spacingBetweenSlices: (meas && positive(meas, TAG.SpacingBetweenSlices)) ?? top.spacingBetweenSlices,
      };
      const temporal = content?.ul(TAG.TemporalPositionIndex) ?? 0;
      const segment = f.item('x0062000a')?.us('x0062000b') ?? 0;
      const s = pvt.slope ?? slope0;
      return finishPlane(
        { file, frame: i, rows, columns, slope: s === 0 ? 1 : s, intercept: pvt.intercept ?? intercept0, order: [segment, temporal, ...keys, i] },
        g,
        warnings,
      );
    });
  }

  const mosaic = mosaicInfo(ds, rows, columns);
  if (mosaic) return mosaicPlanes(ds, mosaic, top, slope, intercept0, keys, warnings);

  if (frames > 1) {
    const offsets = ds.numbers(TAG.GridFrameOffsetVector);
    const doseScale = ds.number(TAG.DoseGridScaling);
    const s = doseScale ?? slope;
    const first = finishPlane({ file, frame: 0, rows, columns, slope: s, intercept: intercept0, order: [...keys, 0] }, top, warnings);
    let steps: number[];
    if (offsets) {
      if (offsets.length !== frames) throw new DicomError(file, `${tagLabel(TAG.GridFrameOffsetVector)} has ${offsets.length} values for ${frames} frames`);
      // Relative offsets start at 0; absolute ones at the first plane's position.
      steps = offsets.map((o) => o - offsets[0]);
    } else {
      const sp = stackSpacing(top, warnings, 'multi-frame image without per-frame positions');
      warnings.add('multi-frame image without per-frame geometry: frames stacked along the slice normal');
      steps = Array.from({ length: frames }, (_, k) => k * sp);
    }
    return steps.map((d, k) => ({ ...first, frame: k, position: add(first.position, scale(first.normal, d)), order: [...keys, k] }));
  }
  const s = ds.number(TAG.DoseGridScaling) ?? slope;
  return [finishPlane({ file, frame: 0, rows, columns, slope: s, intercept: intercept0, order: [...keys, 0] }, top, warnings)];
}

function mosaicPlanes(ds: DicomDataset, m: MosaicInfo, g: Geometry, slope: number, intercept: number, keys: number[], warnings: Set<string>): Plane[] {
  const file = ds.file;
  const rows = ds.us(TAG.Rows) as number;
  const columns = ds.us(TAG.Columns) as number;
  const base = finishPlane({ file, frame: 0, rows: m.tileRows, columns: m.tileColumns, slope, intercept, order: keys }, g, warnings, m.sliceNormal ? unit(m.sliceNormal, file, 'CSA SliceNormalVector') : undefined);
  // ImagePositionPatient of a mosaic is the corner of the whole mosaic; move
  // it to the first tile's first pixel (same correction as dcm2niix/nibabel).
  const [dRow, dCol] = base.spacing;
  // The shift uses the exact (fractional) tile size rows/grid, as nibabel and
  // dcm2niix do, even when the tiles themselves are whole pixels.
  const origin = add(add(base.position, scale(base.col, (dRow * (rows - rows / m.grid)) / 2)), scale(base.row, (dCol * (columns - columns / m.grid)) / 2));
  if (rows % m.grid || columns % m.grid) {
    warnings.add(`mosaic of ${rows} × ${columns} pixels is not a whole ${m.grid} × ${m.grid} grid of tiles: tiles of ${m.tileRows} × ${m.tileColumns} taken at integer offsets`);
  }
  const sp = stackSpacing(g, warnings, 'Siemens mosaic');
  return Array.from({ length: m.count }, (_, t) => ({
    ...base,
    tile: [Math.floor(t / m.grid) * m.tileRows, (t % m.grid) * m.tileColumns] as [number, number],
    position: add(origin, scale(base.normal, t * sp)),
    order: [...keys, t],
  }));
}
