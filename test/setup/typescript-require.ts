/**
 * The SDK loads converters by path with Node's own `require` (the worker's failure converter for
 * encrypted payloads, domain/encoded-failures.ts); in tests those paths are TypeScript, so Node's
 * `require` is taught TypeScript here, as tsx does for `npm run worker`.
 */
import { createRequire } from 'node:module';

const { register } = createRequire(__filename)('tsx/cjs/api') as { register: () => void };
register();
