/**
 * Finds the `temporal` CLI, or builds it from its Go module when it is missing (it cannot be
 * downloaded as a binary here). Order: TEMPORAL_CLI_PATH, PATH, Go's bin folder, then `go install`.
 */
import { delimiter, join } from 'node:path';
import { executable, goBinDir, goInstall } from './go-install';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

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
  log(`Temporal CLI not found: building it with "go install ${TEMPORAL_CLI_MODULE}" (a few minutes the first time)...`);
  const seconds = await goInstall({ module: TEMPORAL_CLI_MODULE, label: 'the Temporal CLI', logName: 'temporal-cli-build.log' }, log);
  const built = join(goBin, 'temporal');
  if (!executable(built)) throw new Error(`go install finished but ${built} is missing`);
  log(`Temporal CLI built in ${seconds} s: ${built}`);
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
