/**
 * A real headless Chromium for the report's browser test, from the machine's packages: found on the
 * PATH (CHROMIUM_BIN / CHROMEDRIVER_BIN override), else installed with Debian's chromium and
 * chromium-driver packages when running as root, as the cluster does for PostgreSQL.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executable } from './go-install';
import { privateTempFile } from './private-temp';

export interface ChromiumBinaries {
  chromium: string;
  chromedriver: string;
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/lib/chromium'])) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function findChromium(): ChromiumBinaries | undefined {
  const chromium = process.env.CHROMIUM_BIN ?? which('chromium') ?? which('chromium-browser');
  const chromedriver = process.env.CHROMEDRIVER_BIN ?? which('chromedriver');
  return chromium && chromedriver ? { chromium, chromedriver } : undefined;
}

export function ensureChromium(log: (line: string) => void): ChromiumBinaries {
  const found = findChromium();
  if (found) return found;
  if (process.getuid?.() !== 0 || !executable('/usr/bin/apt-get')) {
    throw new Error(
      'Chromium and chromedriver not found: install them (Debian: apt-get install chromium chromium-driver) or set CHROMIUM_BIN and CHROMEDRIVER_BIN',
    );
  }
  const logTo = privateTempFile('chromium-install.log');
  const logFile = logTo.path;
  log(`Chromium not found: installing Debian's chromium and chromium-driver packages (output in ${logFile})...`);
  const fd = openSync(logFile, 'w');
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update'], { stdio: ['ignore', fd, fd], env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium', 'chromium-driver'], {
      stdio: ['ignore', fd, fd],
      env,
    });
  } catch {
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n  ');
    throw new Error(`installing chromium failed; the last lines of ${logFile}:\n  ${tail}`);
  } finally {
    closeSync(fd);
  }
  logTo.remove();
  const installed = findChromium();
  if (!installed) throw new Error('the chromium packages were installed but chromium or chromedriver is still not found');
  return installed;
}
