/**
 * A throwaway PostgreSQL server from the machine's packages, for the local cluster and for tests that
 * store data: its own data directory in a temp folder, loopback only, a free port, a generated
 * password (scram-sha-256 over TCP, as a real deployment would ask). Installs Debian's `postgresql`
 * package when no server binaries are found and we are root; `initdb` and the server run as the
 * `postgres` user then, because PostgreSQL refuses to run as root.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executable } from '../go-install';
import { freePort, waitForPort } from './processes';

export interface LocalPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** postgres://user:password@host:port/postgres */
  url: string;
  /** Fast shutdown (as `pg_ctl stop -m fast`): sessions are ended, nothing is lost. */
  stop: () => Promise<void>;
  start: () => Promise<void>;
  /** Stops the server and removes its data directory. */
  remove: () => Promise<void>;
  logFile: string;
  /** With `ssl: true`: the server's self-signed certificate (PEM), its own CA: pass it as `sslrootcert`. */
  caFile?: string;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** The newest `/usr/lib/postgresql/<version>/bin` holding a server, or PG_BIN_DIR, or undefined. */
export function findPostgresBinaries(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.PG_BIN_DIR) {
    if (executable(join(env.PG_BIN_DIR, 'postgres'))) return env.PG_BIN_DIR;
    throw new Error(`PG_BIN_DIR=${env.PG_BIN_DIR} has no postgres binary`);
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => executable(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : undefined;
}

/** The server binaries' folder, installing Debian's package first when they are missing (root only). */
export function ensurePostgresBinaries(log: (line: string) => void): string {
  const found = findPostgresBinaries();
  if (found) return found;
  if (!isRoot() || !executable('/usr/bin/apt-get')) {
    throw new Error(
      'PostgreSQL server binaries not found: install them (Debian: apt-get install postgresql) or set PG_BIN_DIR to the folder holding postgres and initdb',
    );
  }
  // A private folder of its own (mkdtemp), not a fixed name in /tmp another user could have planted.
  const logFile = join(mkdtempSync(join(tmpdir(), 'ccs-postgresql-install-')), 'install.log');
  log(`PostgreSQL not found: installing Debian's postgresql package (output in ${logFile})...`);
  const started = Date.now();
  const fd = openSync(logFile, 'w');
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update'], { stdio: ['ignore', fd, fd], env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { stdio: ['ignore', fd, fd], env });
  } catch {
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n  ');
    throw new Error(`installing postgresql failed; the last lines of ${logFile}:\n  ${tail}`);
  } finally {
    closeSync(fd);
  }
  const installed = findPostgresBinaries();
  if (!installed) throw new Error('the postgresql package was installed but no server binary was found under /usr/lib/postgresql');
  log(`  PostgreSQL installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return installed;
}

/** uid/gid to run PostgreSQL as: ourselves, or the `postgres` user when we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, PostgreSQL needs an unprivileged user: create the `postgres` user (the postgresql package does)');
  }
}

export interface PostgresOptions {
  port?: number;
  user?: string;
  maxConnections?: number;
  log?: (line: string) => void;
  /**
   * TLS on (`ssl=on`) with a self-signed certificate made by `openssl` for localhost and 127.0.0.1
   * (`caFile`); plain connections are still accepted. Off by default.
   */
  ssl?: boolean;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<LocalPostgres> {
  const log = options.log ?? (() => undefined);
  const bin = ensurePostgresBinaries(log);
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'ccs-postgres-'));
  const data = join(dir, 'data');
  const user = options.user ?? 'temporal';
  const password = randomBytes(18).toString('hex');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  mkdirSync(data, { mode: 0o700 });
  if (owner) for (const path of [dir, data, pwfile]) chownSync(path, owner.uid, owner.gid);
  const logFile = join(dir, 'postgres.log');
  try {
    execFileSync(
      join(bin, 'initdb'),
      ['-D', data, '-U', user, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...owner,
      },
    );
  } catch (err) {
    throw new Error(
      `initdb failed: ${String((err as { stderr?: Buffer }).stderr ?? err)
        .trim()
        .split('\n')
        .slice(-3)
        .join(' ')}`,
    );
  }
  rmSync(pwfile);
  const caFile = options.ssl ? selfSignedCertificate(dir, owner) : undefined;
  const port = options.port ?? (await freePort());
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `max_connections=${options.maxConnections ?? 300}`,
    '-c',
    'fsync=on',
    ...(caFile ? ['-c', 'ssl=on', '-c', `ssl_cert_file=${caFile}`, '-c', `ssl_key_file=${join(dir, 'server.key')}`] : []),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const out = openSync(logFile, 'a');
    child = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', out, out], ...owner });
    closeSync(out);
    const c = child;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    await waitForPort(port, 30_000, () => (c.exitCode !== null ? `postgres exited with ${c.exitCode}: ${tail(logFile)}` : undefined));
    // The port opens before recovery ends: wait until the server accepts sessions.
    const deadline = Date.now() + 30_000;
    while (!ready(bin, port, user)) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL on ${port} did not accept sessions within 30 s: ${tail(logFile)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGINT');
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    url: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`,
    start,
    stop,
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    logFile,
    ...(caFile ? { caFile } : {}),
  };
}

/** server.crt (returned) and server.key in `dir`, the key 0600 and owned by the server's user as PostgreSQL demands. */
function selfSignedCertificate(dir: string, owner: { uid: number; gid: number } | undefined): string {
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '7',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (err) {
    throw new Error(`openssl could not make the test server's certificate: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
  }
  chmodSync(key, 0o600);
  if (owner) for (const path of [cert, key]) chownSync(path, owner.uid, owner.gid);
  return cert;
}

function ready(bin: string, port: number, user: string): boolean {
  try {
    execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres', '-q'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
}
