// Datasets: the multi-centre project model, layout readers, splits, export,
// fingerprint and geometry checks.
export * from './dataset.js';
export * from './geometry.js';
export * from './splits.js';
export * from './fingerprint.js';
export * from './check.js';
export * from './manifest.js';
export { NumpyRandomState } from '../random/numpy-random.js';
export { toLabelVolume, readCaseGeometry, type FileGeometry } from './case-readers.js';
export * from './sources/index.js';
export { DataLoader, type DataLoaderOptions, type LoaderStats, type ArrayField, type BatchArrays, type BatchProducer, type ProducerFactory, type ProducerRef } from './loader.js';
export * from './export.js';
export * from './annotations.js';
