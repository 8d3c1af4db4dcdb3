/**
 * A real Prometheus and promtool for the alert-rule tests, from the machine's packages: found on the
 * PATH (PROMETHEUS_BIN / PROMTOOL_BIN override), else installed with Debian's `prometheus` package
 * when running as root, as src/dev/chromium.ts does for Chromium. The package's own service is never
 * used: tests run the binary themselves, on a free port, with a temporary configuration and storage.
 *
 * `npx tsx src/dev/prometheus.ts` ensures both and prints their paths (CI runs it before the tests).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executable } from './go-install';
import { privateTempFile } from './private-temp';

export interface PrometheusBinaries {
  prometheus: string;
  promtool: string;
}

/** What a test says when the binaries are missing: CI installs them, so a missing one is a failure. */
export const PROMETHEUS_INSTALL_HINT =
  "prometheus and promtool not found: run `npx tsx src/dev/prometheus.ts` as root (installs Debian's prometheus package), or set PROMETHEUS_BIN and PROMTOOL_BIN";

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The binaries when both are there, else undefined. Never installs. */
export function findPrometheus(): PrometheusBinaries | undefined {
  // An override that is not an executable counts as missing, so the hint names the fix.
  const given = (path: string | undefined): string | undefined => (path === undefined ? undefined : executable(path) ? path : '');
  const prometheus = given(process.env.PROMETHEUS_BIN) ?? which('prometheus');
  const promtool = given(process.env.PROMTOOL_BIN) ?? which('promtool');
  return prometheus && promtool ? { prometheus, promtool } : undefined;
}

/** Finds both binaries, installing Debian's package when missing and allowed; throws with the hint otherwise. */
export function ensurePrometheus(log: (line: string) => void): PrometheusBinaries {
  const found = findPrometheus();
  if (found) return found;
  if (process.getuid?.() !== 0 || !executable('/usr/bin/apt-get')) throw new Error(PROMETHEUS_INSTALL_HINT);
  const logTo = privateTempFile('prometheus-install.log');
  const logFile = logTo.path;
  log(`Prometheus not found: installing Debian's prometheus package (output in ${logFile})...`);
  const fd = openSync(logFile, 'w');
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update'], { stdio: ['ignore', fd, fd], env, timeout: 300_000 });
    // No recommends: the node exporter and the web assets are not needed to run rules and scrape.
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus'], {
      stdio: ['ignore', fd, fd],
      env,
      timeout: 600_000,
    });
  } catch {
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n  ');
    throw new Error(`installing prometheus failed; the last lines of ${logFile}:\n  ${tail}`);
  } finally {
    closeSync(fd);
  }
  logTo.remove();
  const installed = findPrometheus();
  if (!installed) throw new Error('the prometheus package was installed but prometheus or promtool is still not found');
  return installed;
}

if (require.main === module) {
  const { prometheus, promtool } = ensurePrometheus((line) => console.log(line));
  console.log(`prometheus: ${prometheus}\npromtool: ${promtool}`);
}
