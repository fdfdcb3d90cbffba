// Weak supervision from clicks and scribbles (PA-Seg): stage 1 and self and
// cross monitoring as recipes, their protocols, and interactive segmentation
// from clicks. Importing this module registers the methods and protocols.
import './pa-seg.js';
import './protocols.js';

export { weakParams, paSegParams, type PaSegParams } from './params.js';
export { weakRecipe, weakStream, partialLoss, regularisers, logitsOf } from './stage1.js';
export { scmRecipe, distillationLoss } from './scm.js';
export { PA_SEG_BRATS, PA_SEG_VS } from './protocols.js';
export * from './interactive.js';
