// Charts: Vega-Lite specs rendered to SVG and PNG (training curves, label-budget
// curves, federated rounds, per-case distributions). A low layer: no torch.
export * from './render.js';
export * from './training-curves.js';
export * from './charts.js';
