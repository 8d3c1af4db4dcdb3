/**
 * No import circles in the project's own modules, type-only imports included (lint's no-cycle rule
 * ignores those, but a type circle still ties two modules together).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../temp-dir';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'fixtures' && name !== 'node_modules') sources(path, out);
    } else if (/\.m?ts$/.test(name)) out.push(path);
  }
  return out;
}

function resolve(from: string, spec: string): string | undefined {
  const base = join(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.mts`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Every circle of relative imports (each reported once, from its smallest module). */
function circles(files: string[]): string[][] {
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const specs = [...readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)].map(
      (m) => m[1]!,
    );
    edges.set(
      file,
      specs.map((s) => resolve(file, s)).filter((f): f is string => f !== undefined),
    );
  }
  const found = new Map<string, string[]>();
  const visit = (file: string, path: string[]): void => {
    const at = path.indexOf(file);
    if (at >= 0) {
      const circle = path.slice(at);
      const start = circle.indexOf([...circle].sort()[0]!);
      const key = [...circle.slice(start), ...circle.slice(0, start)];
      found.set(key.join(' → '), key);
      return;
    }
    if (path.length > 40) return;
    for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
  };
  for (const file of files) visit(file, []);
  return [...found.values()].map((c) => c.map((f) => relative(ROOT, f)));
}

describe('the import graph', () => {
  it('has no circles in src, bench or test, type-only imports included', () => {
    const files = ['src', 'bench', 'test'].flatMap((d) => sources(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(50);
    expect(circles(files)).toEqual([]);
  });

  it('finds a circle made of type-only imports', () => {
    const dir = tempDir('import-graph-');
    writeFileSync(
      join(dir, 'report.ts'),
      "import type { Results } from './bench';\nexport const render = (r: Results): string => String(r);\n",
    );
    writeFileSync(
      join(dir, 'bench.ts'),
      "import { render } from './report';\nexport interface Results { n: number }\nexport const main = render;\n",
    );
    expect(circles([join(dir, 'bench.ts'), join(dir, 'report.ts')])).toHaveLength(1);
  });
});
