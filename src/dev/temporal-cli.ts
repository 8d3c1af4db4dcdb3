/**
 * Finds the `temporal` CLI, or builds it from its Go module when it is missing (it cannot be
 * downloaded as a binary here). Order: TEMPORAL_CLI_PATH, PATH, Go's bin folder, then `go install`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function goBinDir(): string | undefined {
  try {
    const gobin = execFileSync('go', ['env', 'GOBIN'], { encoding: 'utf8' }).trim();
    if (gobin) return gobin;
    return join(execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim().split(delimiter)[0] ?? '', 'bin');
  } catch {
    return undefined;
  }
}

/** The path of an existing `temporal` binary, or undefined. */
export function findTemporalCli(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (executable(env.TEMPORAL_CLI_PATH)) return env.TEMPORAL_CLI_PATH;
    throw new Error(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  const goBin = goBinDir();
  if (goBin && executable(join(goBin, 'temporal'))) return join(goBin, 'temporal');
  return undefined;
}

/** Returns the `temporal` CLI path, building it with `go install` (minutes, once) when missing. */
export async function ensureTemporalCli(log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  const found = findTemporalCli();
  if (found) return found;
  const goBin = goBinDir();
  if (!goBin) throw new Error('the Temporal CLI is missing and Go is not installed to build it; install Go, or set TEMPORAL_CLI_PATH');
  // Go's output (hundreds of "go: downloading" lines) goes to a log, named on failure.
  const logFile = join(tmpdir(), 'temporal-cli-build.log');
  log(`Temporal CLI not found: building it with "go install ${TEMPORAL_CLI_MODULE}" (a few minutes the first time; output in ${logFile})...`);
  const started = Date.now();
  const fd = openSync(logFile, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('go', ['install', TEMPORAL_CLI_MODULE], { env: { ...process.env, CGO_ENABLED: '0' }, stdio: ['ignore', fd, fd] });
      const ticker = setInterval(() => log(`  still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s)...`), 30_000);
      child.on('error', (err) => {
        clearInterval(ticker);
        reject(err);
      });
      child.on('exit', (code) => {
        clearInterval(ticker);
        if (code === 0) return resolve();
        const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n  ');
        reject(new Error(`go install ${TEMPORAL_CLI_MODULE} exited with ${code}; the last lines of ${logFile}:\n  ${tail}`));
      });
    });
  } finally {
    closeSync(fd);
  }
  const built = join(goBin, 'temporal');
  if (!executable(built)) throw new Error(`go install finished but ${built} is missing`);
  log(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s: ${built}`);
  return built;
}

if (require.main === module) {
  ensureTemporalCli().then(
    (path) => console.log(path),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exitCode = 1;
    },
  );
}
