// Medical image IO: the Volume type and its readers/writers.
export * from './affine.js';
export * from './volume.js';
export * from './atomic.js';
export * from './nifti.js';
export * from './orientation.js';
export * from './read.js';
export * from './hdf5.js';
export * from './layouts/index.js';
export * from './image2d.js';
export * from './mask-encoding.js';
export * from './dicom/index.js';
