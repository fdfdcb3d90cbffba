// Checkpoint folders (weights, optimizer/teacher/RNG state, self-describing
// metadata), written atomically; read by inference and written by training.
export * from './checkpoint.js';
