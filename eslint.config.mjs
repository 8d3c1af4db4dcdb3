// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers',
  'tls', 'url', 'util', 'worker_threads', 'zlib',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'bin/', '.build-test/'] },
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
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no environment, no clocks of its own.
    files: ['src/workflows/**/*.ts', 'bench/baselines/timer-loop-workflow.ts'],
    languageOptions: { globals: {} },
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.flatMap((name) => [{ name, message: 'Workflows must not use Node builtins.' }, { name: `node:${name}`, message: 'Workflows must not use Node builtins.' }]),
          { name: 'undici', message: 'Workflows do no I/O; call an activity.' },
          { name: '../ccs', message: 'Workflows must not import the CCS client; call an activity.' },
          { name: '@temporalio/activity', message: 'Activity APIs are not available in workflows.' },
          { name: '@temporalio/client', message: 'Use child workflows or activities instead.' },
          { name: '@temporalio/worker', message: 'Worker APIs are not available in workflows.' },
          { name: '@temporalio/testing', message: 'Testing APIs are not available in workflows.' },
        ],
        patterns: [
          { group: ['**/activities', '**/activities/*'], message: 'Import activities as types only: import type { ... }.', allowTypeImports: true },
          { group: ['**/ccs/index', '**/ccs/client', '**/ccs/http', '**/ccs/tokens', '**/ccs/parse', '**/sim', '**/sim/*', '**/dev/*', '**/config', '**/worker', '**/cli/*'], message: 'Workflows must not import runtime modules.' },
        ],
      }],
      'no-restricted-syntax': ['error',
        { selector: "MemberExpression[object.name='process']", message: 'Workflows must not read process state or the environment.' },
        { selector: "CallExpression[callee.name='setTimeout']", message: 'Use sleep() from @temporalio/workflow.' },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
