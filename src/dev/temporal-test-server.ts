/**
 * Temporal's time-skipping test server (the Java `io.temporal:temporal-test-server`, from Maven
 * Central: `@temporalio/testing` would download a binary, which these machines cannot). Resolves the
 * jar's classpath with Maven once, into the tools cache, and writes a wrapper script there that
 * `TestWorkflowEnvironment.createTimeSkipping` runs as an `existing-path` executable (the SDK passes
 * the port as the only argument). Idempotent: a cached wrapper whose jars are all present is reused.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { executable } from './go-install';
import { toolsCache } from './cluster/temporal-server';

/** The test server's version on Maven Central. */
export const TEMPORAL_TEST_SERVER_VERSION = '1.31.0';
const ARTIFACT = `io.temporal:temporal-test-server:${TEMPORAL_TEST_SERVER_VERSION}`;
/** SLF4J 1.7's no-op binding (the version the server's slf4j-api has): without one it prints three lines at every start. */
const SLF4J_NOP_VERSION = '1.7.36';
/** Jars a usable classpath names: the server, and the binding that keeps it quiet. */
const REQUIRED_JARS = ['temporal-test-server-', 'slf4j-nop-'];
/**
 * How the JVM starts: the SDK gives the server 5 s to listen, which a loaded CI machine's cold JVM
 * can miss (4-6 s seen at load 12 on 2 cores). C1 only and the serial collector halve the start; a
 * class-data archive of the server's own classes, written once here, halves it again (0.7-1.3 s).
 */
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
/** Bumped when the wrapper changes, so an older cached one is rewritten. */
const WRAPPER_REVISION = 'wrapper-revision 2';
/** How long the archive-writing start may take before it is given up (the wrapper then runs without it). */
const ARCHIVE_TIMEOUT_MS = 60_000;
/** A first resolution downloads ~35 jars; a cached one takes a few seconds. */
const MAVEN_TIMEOUT_MS = 10 * 60_000;

/** The cache folder of this test server version. */
export function testServerDir(env: Record<string, string | undefined> = process.env): string {
  return join(toolsCache(env), `temporal-test-server-v${TEMPORAL_TEST_SERVER_VERSION}`);
}

/** A pom with the server (and a quiet logging binding) as dependencies, so `dependency:build-classpath` lists the jar and everything it needs. */
function pom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.ccs-job-orchestrator</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEMPORAL_TEST_SERVER_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>${SLF4J_NOP_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;
}

/** The wrapper's classpath when it is still usable (the jars it needs named, every jar present), else undefined. */
function cachedClasspath(classpathFile: string, wrapper: string): string | undefined {
  if (!executable(wrapper) || !existsSync(classpathFile) || !readFileSync(wrapper, 'utf8').includes(WRAPPER_REVISION)) return undefined;
  const classpath = readFileSync(classpathFile, 'utf8').trim();
  const jars = classpath.split(delimiter).filter(Boolean);
  const complete = REQUIRED_JARS.every((name) => jars.some((jar) => jar.includes(name)));
  return complete && jars.every((jar) => existsSync(jar)) ? classpath : undefined;
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: MAVEN_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return reject(new Error(`${command} is not installed: the Temporal test server is resolved with Maven (and run with Java 17)`));
      const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-8).join('\n  ');
      reject(new Error(`${command} ${args.join(' ')} failed (${err.message.split('\n')[0]}); its last lines:\n  ${tail}`, { cause: err }));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Writes a class-data archive of the server's classes: starts it once with `ArchiveClassesAtExit`,
 * waits until it listens, and stops it (the archive is written as it exits). True when written;
 * false when it could not be within ARCHIVE_TIMEOUT_MS (the wrapper then starts without it).
 */
async function writeClassArchive(classpath: string, archive: string): Promise<boolean> {
  const port = await freePort();
  const child = spawn(
    'java',
    [
      ...JVM_FLAGS,
      `-XX:ArchiveClassesAtExit=${archive}`,
      '-Xlog:cds=off',
      '-Xlog:cds+dynamic=off',
      '-cp',
      classpath,
      'io.temporal.testserver.TestServer',
      String(port),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const giveUpAt = Date.now() + ARCHIVE_TIMEOUT_MS;
  try {
    while (child.exitCode === null && Date.now() < giveUpAt && !(await listening(port))) await new Promise((r) => setTimeout(r, 100));
  } finally {
    child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
    if (!stopped) child.kill('SIGKILL');
  }
  return existsSync(archive);
}

/**
 * Returns the path of the wrapper script that starts the test server, resolving its classpath with
 * Maven first when the cache lacks it (one progress line; Maven's output only when it fails).
 * Rejects when Maven or Java is missing, or Maven cannot resolve the artifact. Safe to run again.
 */
export async function ensureTemporalTestServer(log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  const dir = testServerDir();
  const wrapper = join(dir, 'temporal-test-server');
  const classpathFile = join(dir, 'classpath.txt');
  if (cachedClasspath(classpathFile, wrapper)) return wrapper;
  mkdirSync(dir, { recursive: true });
  log(`Temporal test server ${TEMPORAL_TEST_SERVER_VERSION}: resolving ${ARTIFACT} with Maven (once; cached in ${dir})...`);
  writeFileSync(join(dir, 'pom.xml'), pom());
  const fresh = `${classpathFile}.tmp`;
  await run('mvn', ['-q', '-B', '-f', 'pom.xml', 'dependency:build-classpath', `-Dmdep.outputFile=${fresh}`], dir);
  const classpath = readFileSync(fresh, 'utf8').trim();
  const missing = REQUIRED_JARS.filter((name) => !classpath.includes(name));
  if (missing.length > 0) throw new Error(`Maven resolved no ${missing.map((m) => `${m}*.jar`).join(' or ')} (classpath in ${fresh})`);
  const archive = join(dir, 'classes.jsa');
  rmSync(archive, { force: true });
  const archived = await writeClassArchive(classpath, archive);
  const share = archived ? `-XX:SharedArchiveFile='${archive}' -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off ` : '';
  // The classpath is part of the script: no file to read at start, and a moved cache shows as missing jars.
  const script = `#!/bin/sh\n# Written by src/dev/temporal-test-server.ts (${WRAPPER_REVISION}): Temporal's test server on the port given.\nexec java ${JVM_FLAGS.join(' ')} ${share}-cp '${classpath}' io.temporal.testserver.TestServer "$@"\n`;
  writeFileSync(`${wrapper}.tmp`, script, { mode: 0o755 });
  renameSync(`${wrapper}.tmp`, wrapper);
  renameSync(fresh, classpathFile);
  return wrapper;
}

if (require.main === module) {
  ensureTemporalTestServer().then(
    (path) => console.log(path),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exitCode = 1;
    },
  );
}
