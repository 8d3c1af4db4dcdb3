/**
 * What the worker image's Dockerfile says, read without building it (Docker cannot run here; the
 * build itself is done step by step in test/integration/image-build.test.ts): every file it copies
 * exists, it runs as a non-root user on Node 22, it has a HEALTHCHECK, and the worker is its last stage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

describe('the worker image Dockerfile', () => {
  it('names only files that exist, runs as a non-root user on Node 22, and has a HEALTHCHECK', () => {
    for (const [, from] of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
      for (const path of from!.split(' ')) expect(existsSync(join(ROOT, path)), `COPY ${path}`).toBe(true);
    }
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/livez/m);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(4);
    // The worker is the last stage (the default target); the simulator is a target of its own.
    expect(dockerfile.split(/^FROM /m).at(-1)).toMatch(/^\$\{NODE_IMAGE\} AS worker/);
  });
});
