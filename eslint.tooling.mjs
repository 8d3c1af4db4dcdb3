// @ts-check
/**
 * Rules about how our processes behave, shared by eslint.config.mjs and test/unit/tooling-rules.test.ts:
 * only an entry point ends the process, and development tooling writes to private temp directories.
 */
import nodePlugin from 'eslint-plugin-n';
import tseslint from 'typescript-eslint';

/** Development tooling: what builds, starts and measures things on a developer's machine or CI's. */
export const TOOLING_FILES = ['src/dev/**/*.ts', 'bench/**/*.ts', 'tools/**/*.ts', 'test/setup/**/*.ts', 'test/*.ts'];

/**
 * `process.exit` skips every caller's `finally` (connections, children, temp directories left open).
 * An entry point that still needs it says why in its disable comment:
 * `// eslint-disable-next-line n/no-process-exit -- entry point: <why>`.
 */
export const processExitConfig = [
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    plugins: { n: nodePlugin },
    rules: { 'n/no-process-exit': 'error' },
  },
];

const TMPDIR_CALL = ":matches(CallExpression[callee.name='tmpdir'], CallExpression[callee.property.name='tmpdir'])";
const JOIN_CALL = ':matches(CallExpression[callee.name=/^(join|resolve)$/], CallExpression[callee.property.name=/^(join|resolve)$/])';
const FIXED_NAME =
  'Development tooling writes to a private directory: mkdtempSync(join(tmpdir(), prefix)) or privateTempFile() (src/dev/private-temp.ts), never a fixed name in the temp folder.';

/** A fixed name in the shared temp folder can be created first, linked elsewhere or read by another user. */
export const privateTempConfig = [
  {
    files: TOOLING_FILES,
    languageOptions: { parser: tseslint.parser },
    rules: {
      'no-restricted-syntax': [
        'error',
        // join(tmpdir(), 'name') anywhere but as mkdtemp's prefix.
        {
          selector: `:not(CallExpression[callee.name=/^mkdtemp(Sync)?$/]) > ${JOIN_CALL}:has(> ${TMPDIR_CALL}:first-child)`,
          message: FIXED_NAME,
        },
        { selector: 'Literal[value=/^\\/tmp\\//]', message: FIXED_NAME },
        { selector: 'TemplateLiteral > TemplateElement:first-child[value.raw=/^\\/tmp\\//]', message: FIXED_NAME },
      ],
    },
  },
];
