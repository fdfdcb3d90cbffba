// ESLint 9 flat config for the Labelwise monorepo.
// TypeScript sources get typescript-eslint's `recommended` set plus a few
// type-aware rules that catch real bugs (promises that are dropped, awaited
// non-promises, promises passed where a sync callback is expected); the whole
// strict-type-checked set is deliberately not enabled. Plain JS/ESM scripts
// (packages/*/scripts/*.mjs) get ESLint's JS `recommended` set.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

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
);
