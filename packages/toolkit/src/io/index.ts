// Medical image IO: the Volume type and its readers/writers.
export * from './affine.js';
export * from './volume.js';
