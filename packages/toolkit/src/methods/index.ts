// Training methods as recipes on the shared trainer. Importing this module
// registers every built-in method.
import './supervised.js';
import './semi/index.js';
import './weak/index.js';
export * from './registry.js';
export * as semi from './semi/index.js';
export * as weak from './weak/index.js';
