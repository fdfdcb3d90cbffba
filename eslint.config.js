// ESLint 9 flat config for the Labelwise monorepo.
// TypeScript sources get typescript-eslint's `recommended` set plus a few
// type-aware rules that catch real bugs (promises that are dropped, awaited
// non-promises, promises passed where a sync callback is expected); the whole
// strict-type-checked set is deliberately not enabled. Plain JS/ESM scripts
// (packages/*/scripts/*.mjs) get ESLint's JS `recommended` set.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';


// The toolkit's layer order, lowest first. A folder may import its own layer
// and the layers below it, never one above (README, "Layout"). Peers in one
// layer may import each other.
const TOOLKIT_LAYERS = [
  ['config', 'random'],
  ['io'],
  ['data'],
  ['transforms'],
  ['nn', 'losses', 'metrics', 'checkpoint', 'plot'],
  ['inference'],
  ['training'],
  ['methods'],
  ['experiment'],
];
const LAYER_ORDER = TOOLKIT_LAYERS.map((l) => l.join(', ')).join(' → ');

/** One no-restricted-imports block per toolkit folder, forbidding the folders above it. */
function layerRules() {
  return TOOLKIT_LAYERS.flatMap((layer, i) => {
    const above = TOOLKIT_LAYERS.slice(i + 1).flat();
    if (above.length === 0) return [];
    return layer.map((folder) => ({
      files: [`packages/toolkit/src/${folder}/**/*.ts`],
      rules: {
        '@typescript-eslint/no-restricted-imports': ['error', {
          patterns: [{
            group: above.flatMap((up) => [`**/${up}/*`, `**/${up}`, `@labelwise/toolkit/${up}`]),
            message: `toolkit layers (lowest first): ${LAYER_ORDER}; '${folder}' may not import a layer above it`,
          }, {
            group: ['@labelwise/toolkit'],
            message: 'inside the toolkit, import the module itself, not the package root (it imports every layer)',
          }],
        }],
      },
    }));
  });
}

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/build/**', '**/node_modules/**', '**/native/**'],
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
    },
  },
  {
    files: ['packages/*/{src,test,bench,examples}/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
      parserOptions: {
        // Each package's tsconfig.json includes src, test, bench and examples,
        // so the project service finds the right program for every file.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises that the runner itself
          // tracks and reports; awaiting them at top level would only serialize
          // registration. Any other dropped promise is still an error.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Overridable hooks (e.g. Module.upgradeStateDict) keep their parameters
      // for subclasses even when the base body ignores them; the `_` prefix
      // marks such deliberately unused names.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  ...layerRules(),
);
