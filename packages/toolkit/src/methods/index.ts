// Training methods as recipes on the shared trainer. Importing this module
// registers every built-in method.
import './supervised.js';
export * from './registry.js';
