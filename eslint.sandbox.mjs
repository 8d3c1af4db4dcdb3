// @ts-check
/**
 * The rules for code that runs inside Temporal's deterministic workflow sandbox: everything under
 * src/workflows and src/domain (the pure modules workflows load), by folder, not by file name.
 * Shared by eslint.config.mjs and test/unit/lint-rules.test.ts, which feeds them forbidden code.
 */
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

/** Folders whose code workflows load. */
export const SANDBOX_FILES = ['src/workflows/**/*.ts', 'src/domain/**/*.ts', 'bench/baselines/timer-loop-workflow.ts'];

const builtins = builtinModules.filter((name) => !name.startsWith('_'));
const NO_IO = 'Sandboxed code (src/workflows, src/domain) must not use Node builtins: call an activity.';
const RUNTIME =
  'Sandboxed code must not import runtime modules (CCS client, simulator, hosting, CLI, dev tooling, worker): call an activity.';

/** Bans for every sandboxed file; `extraGroups` adds folder-specific ones. */
function restrictedImports(extraGroups = [], activityTypes = true) {
  return [
    'error',
    {
      paths: [
        ...builtins.flatMap((name) => [
          { name, message: NO_IO },
          { name: `node:${name}`, message: NO_IO },
        ]),
        { name: '@temporalio/activity', message: 'Activity APIs are not available in workflows.' },
        { name: '@temporalio/client', message: 'Use child workflows or activities instead.' },
        { name: '@temporalio/worker', message: 'Worker APIs are not available in workflows.' },
        { name: '@temporalio/testing', message: 'Testing APIs are not available in workflows.' },
      ],
      patterns: [
        // Only the two sandbox-safe SDK packages and relative modules: any other package may do I/O.
        {
          regex: '^(?!\\.{1,2}/|@temporalio/(workflow|common)$)',
          message: 'Sandboxed code imports only @temporalio/workflow, @temporalio/common and the sandboxed folders.',
        },
        { regex: '^node:', message: NO_IO },
        {
          group: [
            '**/ccs',
            '**/ccs/**',
            '**/sim',
            '**/sim/**',
            '**/dev',
            '**/dev/**',
            '**/cli',
            '**/cli/**',
            '**/hosting',
            '**/hosting/**',
            '**/worker',
            '**/bench/**',
          ],
          message: RUNTIME,
        },
        ...(activityTypes
          ? [
              {
                regex: '(^|/)(?<!domain/)activities(/|$)',
                message: 'Import activities as types only: import type { ... }.',
                allowTypeImports: true,
              },
            ]
          : []),
        ...extraGroups,
      ],
    },
  ];
}

const noAmbientIo = [
  'error',
  { selector: "Identifier[name='process']", message: 'Sandboxed code must not read process state or the environment.' },
  {
    selector: 'Identifier[name=/^(setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|queueMicrotask)$/]',
    message: 'Use sleep() or a condition from @temporalio/workflow.',
  },
  { selector: "CallExpression[callee.name='require']", message: 'Sandboxed code must not require modules at run time.' },
  { selector: 'ImportExpression', message: 'Sandboxed code must not import modules at run time.' },
  { selector: 'Identifier[name=/^(fetch|XMLHttpRequest|WebSocket)$/]', message: 'Sandboxed code does no I/O: call an activity.' },
];

/** The sandbox rules as flat-config entries (parser included, so they also work standalone). */
export const sandboxConfig = [
  {
    files: SANDBOX_FILES,
    languageOptions: { parser: tseslint.parser, globals: {} },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': restrictedImports(),
      'no-restricted-syntax': noAmbientIo,
    },
  },
  {
    // The domain is below the workflows: it never depends on them.
    files: ['src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': restrictedImports(
        [
          {
            group: ['**/workflows', '**/workflows/**', '**/activities', '**/activities/**'],
            message: 'src/domain is below workflows and activities: it must not import them.',
          },
        ],
        false,
      ),
    },
  },
];

/** No import circles anywhere (value imports; test/unit/import-graph.test.ts also checks type-only ones). */
export const noCycleConfig = [
  {
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mts', '.js', '.mjs', '.json'] })],
      // Without these, dependencies that are TypeScript files are not followed and no cycle is found.
      'import-x/extensions': ['.ts', '.mts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
];
