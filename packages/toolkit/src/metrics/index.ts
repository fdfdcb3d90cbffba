// Segmentation metrics: exact anisotropic EDT, MedPy-style surfaces, per-class
// scores with one explicit empty-mask policy, protocols reproducing the
// reference projects' evaluations, and folder evaluation with summary.json.
// (docs/metrics.md has the definitions and the protocol table.)
export { type EdtOptions, type MaskLike, distanceTransformEdt, squaredDistanceToFeatures, squaredDistancesAt } from './edt.js';
export { type SurfaceDistances, binaryBorder, surfaceDistances } from './surface.js';
export { meanStd, percentileLinear } from './stats.js';
export {
  type AssdFormula, type BinaryMetricOptions, type Branch, type Counts, type EmptyDistance, type MetricName, type Metrics,
  ASSD_FORMULAS, BRANCHES, METRIC_NAMES, assd, assdMeanOfMeans, assdPooled, binaryMetrics, branchOf, imageDiagonal, labelwiseClassMetrics, overlapMetrics, surfaceMetrics,
} from './binary.js';
export { type ClassSpec, type LabelArray, classKey } from './labels.js';
export { type ClassContext, type ClassRule, type ClassScore, type Protocol, type ProtocolName, type SpacingRule, PROTOCOLS, PROTOCOL_NAMES, getProtocol } from './protocols.js';
export {
  type CaseResult, type ClassList, type ClassResult, type EvaluateFolderOptions, type EvaluateOptions, type LabelInput, type Summary, type SummaryContext,
  DISC_CUP_CLASSES, LABEL_EXTENSIONS, caseIdOf, evaluateCase, evaluateFolder, listLabelFiles, normalizeClasses, perCaseCsv, summarize, summaryJson, writeSummaryJson,
} from './evaluate.js';
export { type DatasetClasses, classesFromDatasetJson, parseClassList, readDatasetClasses } from './dataset-labels.js';
