/**
 * compliance-trestle's `trestle validate` on an OSCAL document, for the OSCAL export's tests (unit and
 * integration). trestle is a test dependency: missing, the test fails with the install hint.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { findTrestle, TRESTLE_INSTALL_HINT } from '../src/dev/trestle';
import { tempDir } from './temp-dir';

// ---- the validator --------------------------------------------------------------------------------

/**
 * A Python 3 interpreter for tests that read what the project writes with Python's own modules (the
 * bundle's ZIP with `zipfile`): the trestle venv's, which CI always installs, else `python3` on PATH.
 * Missing, the test fails with the install hint: never skipped.
 */
export function python(): string {
  const bin = findTrestle();
  const venvPython = bin ? join(dirname(bin), 'python3') : undefined;
  if (venvPython && existsSync(venvPython)) return venvPython;
  if (spawnSync('python3', ['--version']).status === 0) return 'python3';
  throw new Error(`python3 not found (${TRESTLE_INSTALL_HINT})`);
}

function trestle(): string {
  const bin = findTrestle();
  if (!bin) throw new Error(TRESTLE_INSTALL_HINT);
  return bin;
}

/** trestle's exit code and output; never throws on a non-zero exit (the assertion shows the output). */
async function run(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(trestle(), args, { cwd, timeout: 120_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let workspace: Promise<string> | undefined;

/** A trestle workspace (`trestle init`), made once per file. */
function trestleWorkspace(): Promise<string> {
  workspace ??= (async () => {
    const dir = tempDir('ccs-oscal-trestle-');
    const { code, output } = await run(['init'], dir);
    if (code !== 0) throw new Error(`trestle init failed:\n${output}`);
    return dir;
  })();
  return workspace;
}

/** `trestle validate -f` on the document, placed where trestle keeps assessment results. */
export async function validate(document: unknown, name: string): Promise<{ code: number; output: string }> {
  const dir = await trestleWorkspace();
  const file = join(dir, 'assessment-results', name, 'assessment-results.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(document, null, 2));
  return run(['validate', '-f', file], dir);
}
