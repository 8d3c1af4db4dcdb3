/**
 * A real Jaeger (v2, built from its Go module: it cannot be downloaded as a binary here) for the
 * tracing test and for trying tracing locally: cached under ~/.cache/ccs-job-orchestrator, built when
 * missing, started with in-memory storage, an OTLP/HTTP receiver and the query API on free ports.
 *
 * `npx tsx src/dev/jaeger.ts` ensures the binary and prints its path (a first build takes minutes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './dev-server';
import { executable } from './go-install';
import { privateTempFile } from './private-temp';

export const JAEGER_MODULE = 'github.com/jaegertracing/jaeger/cmd/jaeger';
export const JAEGER_VERSION = 'v1.76.0';
/** A first build is several minutes on two cores; more than this is a hang. */
const BUILD_TIMEOUT_MS = 30 * 60_000;
const START_TIMEOUT_MS = 60_000;

/** Where the built binary is kept: JAEGER_BIN when set, else the project's cache folder. */
export function jaegerPath(env: Record<string, string | undefined> = process.env): string {
  if (env.JAEGER_BIN) return env.JAEGER_BIN;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'ccs-job-orchestrator', `jaeger-${JAEGER_VERSION}`, 'jaeger');
}

function run(cmd: string, args: string[], cwd: string, fd: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, CGO_ENABLED: '0' }, stdio: ['ignore', fd, fd], timeout: timeoutMs });
    child.on('error', (err) =>
      reject(err.message.includes('ENOENT') ? new Error('Jaeger is built from its Go module and Go is not installed') : err),
    );
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}`)),
    );
  });
}

/**
 * The Jaeger binary, built when missing. `go install` refuses the module (it has replace
 * directives), so it is built as a tool of a throwaway module: `go get -tool`, then `go build`.
 */
export async function ensureJaeger(log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  const target = jaegerPath();
  if (executable(target)) return target;
  if (process.env.JAEGER_BIN) throw new Error(`JAEGER_BIN=${process.env.JAEGER_BIN} is not an executable file`);
  const logTo = privateTempFile('jaeger-build.log');
  log(`Jaeger not found: building ${JAEGER_MODULE}@${JAEGER_VERSION} (about 8 minutes the first time); go's output in ${logTo.path}`);
  const work = mkdtempSync(join(tmpdir(), 'ccs-jaeger-build-'));
  const fd = openSync(logTo.path, 'w');
  const started = Date.now();
  const ticker = setInterval(() => log(`  still building Jaeger (${Math.round((Date.now() - started) / 1000)} s)...`), 30_000);
  try {
    mkdirSync(dirname(target), { recursive: true });
    await run('go', ['mod', 'init', 'jaegerbuild'], work, fd, 60_000);
    await run('go', ['get', '-tool', `${JAEGER_MODULE}@${JAEGER_VERSION}`], work, fd, BUILD_TIMEOUT_MS);
    // Built beside the target and renamed: a build cut short never leaves a half-written binary in the cache.
    await run('go', ['build', '-o', `${target}.partial`, JAEGER_MODULE], work, fd, BUILD_TIMEOUT_MS);
    renameSync(`${target}.partial`, target);
  } catch (err) {
    const tail = readFileSync(logTo.path, 'utf8').trim().split('\n').slice(-5).join('\n  ');
    throw new Error(`building Jaeger failed (${(err as Error).message}); the last lines of ${logTo.path}:\n  ${tail}`, { cause: err });
  } finally {
    clearInterval(ticker);
    closeSync(fd);
    rmSync(work, { recursive: true, force: true });
  }
  logTo.remove();
  log(`Jaeger built in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
  return target;
}

export interface Jaeger {
  /** OTLP/HTTP base URL, what OTEL_EXPORTER_OTLP_ENDPOINT is set to: `http://127.0.0.1:<port>`. */
  otlpEndpoint: string;
  /** The query API's base URL: `/api/traces?service=…`, `/api/v3/traces`. */
  queryUrl: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** The collector configuration: memory storage only, everything on loopback, no internal metrics port. */
function config(ports: { otlp: number; query: number; queryGrpc: number }): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${ports.query}
    grpc:
      endpoint: 127.0.0.1:${ports.queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${ports.otlp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

/** Starts Jaeger on free ports; resolves once its query API answers. */
export async function startJaeger(binary: string): Promise<Jaeger> {
  const ports = { otlp: await freePort(), query: await freePort(), queryGrpc: await freePort() };
  const dir = mkdtempSync(join(tmpdir(), 'ccs-jaeger-'));
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, config(ports));
  // Jaeger's own tracing is off: it would export to localhost:4317, where nothing listens.
  const env = { ...process.env, OTEL_TRACES_EXPORTER: 'none', OTEL_SDK_DISABLED: 'true' };
  const child: ChildProcess = spawn(binary, ['--config', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (c: Buffer): void => {
    // Bounded: a chatty collector cannot fill the test's memory.
    output = (output + c.toString()).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const queryUrl = `http://127.0.0.1:${ports.query}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jaeger exited with ${child.exitCode}:\n${output}`);
    const ready = await fetch(`${queryUrl}/api/services`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`jaeger did not answer on ${queryUrl} within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { otlpEndpoint: `http://127.0.0.1:${ports.otlp}`, queryUrl, output: () => output, stop };
}

if (require.main === module) {
  ensureJaeger().then(
    (path) => console.log(path),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exitCode = 1;
    },
  );
}
