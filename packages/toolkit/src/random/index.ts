// The two seeded generators: Rng (keyed counter-based streams for sampling and
// augmentation) and NumpyRandomState (NumPy's MT19937, for the seeds' splits).
export * from './rng.js';
export * from './numpy-random.js';
