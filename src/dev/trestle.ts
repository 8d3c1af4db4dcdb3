/**
 * A real OSCAL validator for the OSCAL export's test: compliance-trestle (IBM's OSCAL tooling, whose
 * models are generated from NIST's OSCAL JSON schemas), installed with pip into a virtual environment
 * cached under ~/.cache/ccs-job-orchestrator/trestle-<version>, installed when missing. TRESTLE_BIN
 * names another trestle executable instead. When `python3 -m venv` lacks ensurepip (Debian's python3
 * without python3-venv), Debian's python3-venv package is installed when running as root, as
 * src/dev/prometheus.ts does for Prometheus.
 *
 * `npx tsx src/dev/trestle.ts` ensures it and prints its path (CI runs it before the tests; a first
 * install takes a minute or two).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { executable } from './go-install';
import { privateTempFile } from './private-temp';

/** Pinned: its models are OSCAL 1.1.2's, the version src/evidence/oscal.ts writes. */
export const TRESTLE_VERSION = '3.12.4';
const INSTALL_TIMEOUT_MS = 20 * 60_000;
/** Written last: a venv without it is an install cut short, removed and made again. */
const MARKER = '.ccs-installed';

/** What a test says when trestle is missing: CI installs it, so a missing one is a failure. */
export const TRESTLE_INSTALL_HINT = `trestle not found: run \`npx tsx src/dev/trestle.ts\` (pip-installs compliance-trestle==${TRESTLE_VERSION} into a venv under ~/.cache/ccs-job-orchestrator), or set TRESTLE_BIN`;

/** The cached venv: `<XDG_CACHE_HOME or ~/.cache>/ccs-job-orchestrator/trestle-<version>`. */
export function trestleVenv(env: Record<string, string | undefined> = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'ccs-job-orchestrator', `trestle-${TRESTLE_VERSION}`);
}

/** An executable file (a directory is searchable, not runnable). */
function runnable(path: string): boolean {
  return executable(path) && statSync(path).isFile();
}

/** The trestle executable when it is there (TRESTLE_BIN, else a completed cached venv), else undefined. Never installs. */
export function findTrestle(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.TRESTLE_BIN) return runnable(env.TRESTLE_BIN) ? env.TRESTLE_BIN : undefined;
  const venv = trestleVenv(env);
  const bin = join(venv, 'bin', 'trestle');
  return runnable(bin) && existsSync(join(venv, MARKER)) ? bin : undefined;
}

/** Runs a command with its output to `fd`; rejects with its exit code. */
function run(cmd: string, args: string[], fd: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: timeoutMs,
    });
    child.on('error', (err) =>
      reject(
        err.message.includes('ENOENT')
          ? new Error(`${cmd} not found${cmd === 'python3' ? ': trestle needs Python 3.10 or newer' : ''}`)
          : err,
      ),
    );
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}`)),
    );
  });
}

/** `python3 -m venv`, installing Debian's python3-venv first when ensurepip is missing and that is possible. */
async function makeVenv(venv: string, logFile: string, fd: number, log: (line: string) => void): Promise<void> {
  try {
    await run('python3', ['-m', 'venv', venv], fd, 300_000);
    return;
  } catch (err) {
    const output = readFileSync(logFile, 'utf8');
    if (!/ensurepip/.test(output)) throw err;
    if (process.getuid?.() !== 0 || !executable('/usr/bin/apt-get'))
      throw new Error('python3 -m venv needs ensurepip: install python3-venv (Debian: apt-get install python3-venv)', { cause: err });
  }
  log("  python3 -m venv lacks ensurepip: installing Debian's python3-venv package...");
  rmSync(venv, { recursive: true, force: true });
  await run('apt-get', ['update'], fd, 300_000);
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'python3-venv'], fd, 600_000);
  await run('python3', ['-m', 'venv', venv], fd, 300_000);
}

/** The trestle executable, pip-installed into the cached venv when missing; throws with the install's last lines on failure. */
export async function ensureTrestle(log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  const found = findTrestle();
  if (found) return found;
  if (process.env.TRESTLE_BIN) throw new Error(`TRESTLE_BIN=${process.env.TRESTLE_BIN} is not an executable file`);
  const venv = trestleVenv();
  const logTo = privateTempFile('trestle-install.log');
  log(`trestle not found: installing compliance-trestle==${TRESTLE_VERSION} into ${venv} (a minute or two); pip's output in ${logTo.path}`);
  const started = Date.now();
  const ticker = setInterval(() => log(`  still installing trestle (${Math.round((Date.now() - started) / 1000)} s)...`), 30_000);
  const fd = openSync(logTo.path, 'w');
  try {
    // A venv left by an install cut short (no marker) is made again from scratch.
    rmSync(venv, { recursive: true, force: true });
    mkdirSync(dirname(venv), { recursive: true });
    await makeVenv(venv, logTo.path, fd, log);
    const pip = join(venv, 'bin', 'pip');
    await run(pip, ['install', '--quiet', '--disable-pip-version-check', `compliance-trestle==${TRESTLE_VERSION}`], fd, INSTALL_TIMEOUT_MS);
    // It imports and runs: the check a broken wheel or a missing dependency fails.
    await run(join(venv, 'bin', 'trestle'), ['version'], fd, 120_000);
    writeFileSync(join(venv, MARKER), `compliance-trestle==${TRESTLE_VERSION}\n`);
  } catch (err) {
    const tail = readFileSync(logTo.path, 'utf8').trim().split('\n').slice(-5).join('\n  ');
    throw new Error(`installing trestle failed (${(err as Error).message}); the last lines of ${logTo.path}:\n  ${tail}`, { cause: err });
  } finally {
    clearInterval(ticker);
    closeSync(fd);
  }
  logTo.remove();
  const bin = findTrestle();
  if (!bin) throw new Error(`compliance-trestle was installed into ${venv} but its trestle executable is not found`);
  log(`trestle installed in ${Math.round((Date.now() - started) / 1000)} s: ${bin}`);
  return bin;
}

if (require.main === module) {
  ensureTrestle().then(
    (path) => console.log(path),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exitCode = 1;
    },
  );
}
