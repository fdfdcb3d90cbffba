// DICOM input: files, series and folders → Volume.
//
// Supported: Part 10 files with or without preamble/meta header (raw data
// sets are sniffed like pydicom's force=True), implicit/explicit VR, little
// and big endian, deflated data sets, gzipped files (.dcm.gz); pixel data
// native (1/8/16/32-bit, BitsStored masking, signed, planar), RLE Lossless,
// JPEG baseline/extended (8- and 12-bit), JPEG lossless (process 14),
// JPEG-LS, JPEG 2000 and HTJ2K, encapsulated uncompressed; photometric
// MONOCHROME1/2, RGB, YBR_FULL/YBR_FULL_422 (→ RGB), PALETTE COLOR (→ RGB);
// classic series, enhanced multi-frame (functional groups), Siemens mosaics,
// RT Dose grids, 4D series (repeats at every position become channels).
//
// Decisions:
// - Slice order: ImagePositionPatient projected on the normal of the
//   ImageOrientationPatient cosines; spacing from positions, not SliceThickness.
// - Non-uniform gaps: error by default; { nonUniformSpacing: 'keep' | 'resample' }.
// - Duplicate positions that are not a whole repeat of the stack: error naming both files.
// - Geometry: DICOM LPS → RAS affine (x and y negated). Rows are stored
//   bottom-up like dcm2niix ({ layout: 'dicom' } keeps transmitted order).
// - Rescale Slope/Intercept applied: float32 when non-integer or varying per
//   slice, else the narrowest integer type holding the values but never
//   narrower than the stored samples (16-bit series stay int16/uint16).
// - Copies of one instance (same SOPInstanceUID) are read once, with a warning.
// - MONOCHROME1 kept as stored unless { invertMonochrome1: true }.
// - A DICOMDIR file is followed (its referenced files are read); a folder
//   containing one is scanned like any folder (the DICOMDIR itself is skipped).
// - Non-image objects (RTSTRUCT, RTPLAN, SR, ...) and truncated or malformed
//   files raise DicomError naming the file and the element.
export { DicomError, DicomDataset, parseDicomBytes, readDicomFile } from './dataset.js';
export type { ParseOptions } from './dataset.js';
export { decodePixels, readPixelModule, encapsulatedFrames, MAX_DECODED_BYTES } from './pixels.js';
export type { DecodedPixels, PixelModule, PixelOptions } from './pixels.js';
export { scanDicomFolder, scanDicom, scanDicomPath, describeSeries } from './scan.js';
export type { SeriesInfo, SkippedFile, DicomScan } from './scan.js';
export { readDicomSeries } from './series.js';
export type { ReadDicomOptions } from './series.js';
export { parseCsaHeader } from './mosaic.js';
export { decodeRleFrame } from './rle.js';
export { decodeJpegDct } from './jpeg-dct.js';
export { decodeJ2k, decodeJpeg, decodeJpegLs } from './codecs.js';
export type { DecodedFrame } from './codecs.js';
export { TAG, UID, transferSyntaxName } from './tags.js';
