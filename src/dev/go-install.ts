/**
 * Builds Go programs from their modules with `go install` (the Temporal binaries cannot be downloaded
 * here): quietly, Go's output to a log named on failure, a line every 30 s so a first build (minutes)
 * shows progress. `goBinDir` is where a plain `go install` puts binaries.
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { privateTempFile } from './private-temp';

export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function goBinDir(): string | undefined {
  try {
    const gobin = execFileSync('go', ['env', 'GOBIN'], { encoding: 'utf8' }).trim();
    if (gobin) return gobin;
    return join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim().split(delimiter)[0] ?? '', 'bin');
  } catch {
    return undefined;
  }
}

export interface GoInstall {
  /** `module/path/cmd@version` */
  module: string;
  /** What the log lines call it: "the Temporal CLI". */
  label: string;
  /** Install into this directory instead of Go's bin folder (GOBIN). */
  gobin?: string;
  /** Name of the log file, written in a private temp directory (kept, and named, only on failure). */
  logName: string;
}

/** Runs `go install`, resolving with the seconds it took. */
export async function goInstall(what: GoInstall, log: (line: string) => void): Promise<number> {
  const logTo = privateTempFile(what.logName);
  const logFile = logTo.path;
  log(`  go's output for ${what.label} in ${logFile}`);
  const started = Date.now();
  const fd = openSync(logFile, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', ...(what.gobin ? { GOBIN: what.gobin } : {}) };
      const child = spawn('go', ['install', what.module], { env, stdio: ['ignore', fd, fd] });
      const ticker = setInterval(() => log(`  still building ${what.label} (${Math.round((Date.now() - started) / 1000)} s)...`), 30_000);
      child.on('error', (err) => {
        clearInterval(ticker);
        reject(
          err.message.includes('ENOENT')
            ? new Error(`${what.label} must be built from its Go module and Go is not installed: install Go 1.2x`)
            : err,
        );
      });
      child.on('exit', (code) => {
        clearInterval(ticker);
        if (code === 0) return resolve();
        const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n  ');
        reject(new Error(`go install ${what.module} exited with ${code}; the last lines of ${logFile}:\n  ${tail}`));
      });
    });
  } finally {
    closeSync(fd);
  }
  logTo.remove();
  return Math.round((Date.now() - started) / 1000);
}

/** The directory of a module version in Go's module cache, downloading it when missing. */
export function goModuleDir(moduleAtVersion: string): string {
  const out = execFileSync('go', ['mod', 'download', '-json', moduleAtVersion], {
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const dir = (JSON.parse(out) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download ${moduleAtVersion} gave no directory`);
  return dir;
}
