// Configs: the typed schema every config is validated with (networks, losses,
// methods, experiments) and the experiment config itself. The lowest layer:
// it imports nothing else from the toolkit.
export * from './schema.js';
export * from './experiment.js';
