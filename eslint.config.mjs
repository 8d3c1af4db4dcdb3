// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { noCycleConfig, sandboxConfig } from './eslint.sandbox.mjs';
import { privateTempConfig, processExitConfig } from './eslint.tooling.mjs';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'bin/', '.build-test/', '.cluster/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  // Only entry points end the process (each says why); development tooling writes to private temp directories.
  ...processExitConfig,
  ...privateTempConfig,
  // Workflow code runs in Temporal's deterministic sandbox: no I/O, no environment, no clocks of its own.
  ...sandboxConfig,
  ...noCycleConfig,
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
