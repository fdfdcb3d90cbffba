// The seeds' HDF5 folder layouts: ACDC, LA and STDR, read lazily and written.
export { type H5Item, readListFile, writeListFile, sliceOf } from './common.js';
export * from './acdc.js';
export * from './la.js';
export * from './stdr.js';
