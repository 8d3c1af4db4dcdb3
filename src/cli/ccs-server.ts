/**
 * `ccs-jobs ccs check` and `ccs-jobs ccs inspect`: first contact with a CCS server, before any job
 * runs. Neither needs Temporal (check also reports the worker's namespace when Temporal answers);
 * neither executes or aborts anything.
 */
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { diagnose, type Diagnosis, type Finding } from '../ccs/first-contact';
import { TLS_SETTINGS, inspectServer, type PresentedCertificate } from '../ccs/tls';
import { ConfigError, loadConfig, passwordSource, type WorkerConfig } from '../hosting/config';
import { inspectNamespace, namespaceAdmin, namespaceProblem } from '../hosting/namespace-preflight';
import { connect } from './connect';
import { CliError, ExitCode } from './output';
import type { Out } from './progress';
import type { CommandSpec } from './spec';
import { printable as p } from './terminal-text';

export interface CcsCommandOptions {
  ccs?: string | undefined;
  job?: string | undefined;
  name?: string | undefined;
  ca?: string | undefined;
  pem?: boolean | undefined;
  json?: boolean | undefined;
}

const LABEL: Record<Finding['verdict'], string> = { ok: 'ok', note: 'note', blocker: 'BLOCKER' };

function findingText(f: Finding): string {
  return `  ${LABEL[f.verdict].padEnd(8)}${f.area.padEnd(11)}${p(f.saw)}\n${' '.repeat(19)}→ ${p(f.action)}\n`;
}

/**
 * The Temporal side of a check: what the worker's start-up preflight would say of its namespace.
 * `blocker`: the worker would refuse it; `unchecked`: Temporal did not answer (not a blocker: the
 * check is about CCS first, and Temporal may simply not run where the check does).
 */
export interface TemporalCheck {
  address: string;
  namespace: string;
  verdict: 'ok' | 'blocker' | 'unchecked';
  /** The worker's one line for a blocker, or why Temporal was not checked. */
  detail: string;
}

const TEMPORAL_PROBE_TIMEOUT_MS = 3_000;

/** Whether something accepts TCP connections at host:port; a refusal is known at once, where a gRPC connect would wait its whole timeout. */
function tcpAnswers(address: string): Promise<string | undefined> {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: m[1]!, port: Number(m[2]), timeout: TEMPORAL_PROBE_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('no answer');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Checks the worker's namespace as its preflight does (reads only: never registers anything). */
export async function checkTemporal(env: Record<string, string | undefined>, config: WorkerConfig): Promise<TemporalCheck> {
  const address = String(config.temporal.connection.address ?? 'localhost:7233');
  const namespace = config.temporal.namespace;
  const unchecked = (why: string): TemporalCheck => ({
    address,
    namespace,
    verdict: 'unchecked',
    detail: `Temporal at ${address} ${why}: its namespace and search attributes were not checked`,
  });
  const refused = await tcpAnswers(address);
  if (refused) return unchecked(`does not answer (${refused})`);
  let cli;
  try {
    cli = await connect({ taskQueue: config.taskQueue, verbose: false }, env);
  } catch (err) {
    return unchecked(`cannot be reached (${(err as Error).message.split('\n')[0]!.slice(0, 200)})`);
  }
  try {
    const problem = namespaceProblem(await inspectNamespace(namespaceAdmin(cli.client.connection), namespace), address);
    return problem
      ? { address, namespace, verdict: 'blocker', detail: problem }
      : { address, namespace, verdict: 'ok', detail: 'the namespace exists with every search attribute the workflows set' };
  } catch (err) {
    return unchecked(`refused the check (${(err as Error).message.split('\n')[0]!.slice(0, 200)})`);
  } finally {
    await cli.close();
  }
}

function temporalText(t: TemporalCheck): string {
  const label = t.verdict === 'ok' ? LABEL.ok : t.verdict === 'blocker' ? LABEL.blocker : LABEL.note;
  return `Temporal namespace ${p(t.namespace)} at ${p(t.address)}\n  ${label.padEnd(8)}${'temporal'.padEnd(11)}${p(t.detail)}\n`;
}

/** The human report of a diagnosis, with the Temporal side when it was checked. */
export function diagnosisText(d: Diagnosis, t?: TemporalCheck): string {
  const head = `CCS server ${d.server} at ${d.baseUrl}\n`;
  const body = d.findings.map(findingText).join('') + (t ? temporalText(t) : '');
  const grants = `${d.tokenGrants} token grant${d.tokenGrants === 1 ? '' : 's'} sent`;
  const tail = d.blocker
    ? `Blocked at ${d.blocker.area}: a run cannot be orchestrated until this is fixed (${grants}).\n`
    : t?.verdict === 'blocker'
      ? `Blocked at temporal: a worker refuses this namespace until this is fixed (${grants}; nothing was executed).\n`
      : d.jobId
        ? `A run of job ${d.jobId} can be orchestrated: ccs-jobs run ${d.jobId}${d.server === 'default' ? '' : ` --ccs ${d.server}`} (${grants}; nothing was executed).\n`
        : `This server can be reached and grants a token (${grants}); name a job to check its answers.\n`;
  return head + body + tail;
}

export async function ccsCheck(env: Record<string, string | undefined>, options: CcsCommandOptions, out: Out): Promise<number> {
  if (options.job !== undefined && options.name !== undefined)
    throw new CliError('ccs check: give --job <JobID> or --name <JobName>, not both');
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`ccs check reads the worker's configuration: ${err.problems.join('; ')}`);
    throw err;
  }
  const name = options.ccs ?? 'default';
  const server = config.ccsServers[name];
  if (!server)
    throw new CliError(
      `--ccs: no CCS server named ${JSON.stringify(name)} is configured (configured: ${Object.keys(config.ccsServers).join(', ')})`,
    );
  const [d, t] = await Promise.all([
    diagnose({ server: name, client: { ...server, password: passwordSource(server) }, jobId: options.job, jobName: options.name }),
    checkTemporal(env, config),
  ]);
  const blocked = d.blocker !== null || t.verdict === 'blocker';
  out.write(options.json ? `${JSON.stringify({ ...d, temporal: t, orchestrable: !blocked }, null, 2)}\n` : diagnosisText(d, t));
  return blocked ? ExitCode.failed : ExitCode.ok;
}

function certificateText(c: PresentedCertificate, i: number): string {
  return [
    `  certificate ${i + 1}: ${p(c.subject) || '(no subject)'}`,
    `    SANs:    ${c.subjectAltNames.length > 0 ? p(c.subjectAltNames.join(', ')) : 'none'}`,
    `    issuer:  ${c.selfSigned ? 'itself (self-signed)' : p(c.issuer)}`,
    `    valid:   ${p(c.validFrom)} to ${p(c.validTo)}`,
    `    SHA-256: ${c.sha256}`,
  ].join('\n');
}

export async function ccsInspect(url: string | undefined, options: CcsCommandOptions, out: Out): Promise<number> {
  if (!url) throw new CliError('name the server: ccs-jobs ccs inspect https://<host>:12431');
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new CliError(`${JSON.stringify(url)} is not a URL; e.g. https://ccs-app01:12431`);
  }
  if (target.protocol !== 'https:') throw new CliError('ccs inspect reads a TLS certificate: give an https:// URL');
  let ca: string | undefined;
  if (options.ca) {
    try {
      ca = readFileSync(options.ca, 'utf8');
    } catch (err) {
      throw new CliError(`--ca: cannot read ${options.ca} (${(err as { code?: string }).code ?? (err as Error).message})`);
    }
  }
  let seen;
  try {
    seen = await inspectServer(target.href, { ca });
  } catch (err) {
    throw new CliError(`cannot reach ${target.host} over TLS: ${(err as { code?: string }).code ?? (err as Error).message}`);
  }
  const leaf = seen.chain[0];
  if (!leaf) throw new CliError(`${target.host} presented no certificate`);
  const carried = leaf.subjectAltNames[0] ?? /CN=([^,]+)/.exec(leaf.subject)?.[1];
  const settings: Record<string, string> = { pin: `${TLS_SETTINGS.pin}=${leaf.sha256}` };
  if (!seen.trustedByStore && carried && carried !== target.hostname && !leaf.selfSigned)
    settings.servername = `${TLS_SETTINGS.servername}=${carried}${ca ? '' : ` with ${TLS_SETTINGS.ca} holding ${leaf.issuer}`}`;
  if (options.json) {
    out.write(
      `${JSON.stringify({ origin: seen.origin, protocol: seen.protocol, chain: seen.chain, trusted: seen.trustedByStore, refusal: seen.refusal ? { reason: seen.refusal.refusal, detail: seen.refusal.detail } : null, settings, ...(options.pem ? { pem: seen.pem } : {}) }, null, 2)}\n`,
    );
    return ExitCode.ok;
  }
  const lines = [
    `${seen.origin} presents (${seen.protocol ?? 'TLS'}):`,
    ...seen.chain.map(certificateText),
    seen.trustedByStore
      ? `Trusted as it is, by ${ca ? options.ca : 'the system store'}, for ${target.hostname}: no setting needed.`
      : `Not trusted as it is, by ${ca ? options.ca : 'the system store'}, for ${target.hostname}: ${p(seen.refusal?.detail ?? 'untrusted')}.`,
    'To trust it:',
    `  ${p(settings.pin)}   exactly this certificate (self-signed included; a comma-separated list when CCS's certificate is renewed)`,
    ...(settings.servername ? [`  ${p(settings.servername)}   the chain verified, this name checked instead of ${target.hostname}`] : []),
    ...(options.pem && seen.pem ? ['', seen.pem.trimEnd()] : []),
  ];
  out.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

export const ccsCommand: CommandSpec = {
  name: 'ccs',
  synopsis: 'ccs check|inspect',
  summary: 'first contact with a CCS server: trust, token, dialect; check also reads the Temporal namespace',
  verbs: ['check', 'inspect'],
  usage: [
    'ccs-jobs ccs check [--ccs <server>] [--job <JobID> | --name <JobName>] [--json]',
    'ccs-jobs ccs inspect <https://host:12431> [--ca <PEM file>] [--pem] [--json]',
  ],
  description: `check: a read-only diagnosis of a configured CCS server (the worker's CCS_* or CCS_SERVERS_FILE):
its certificate and whether it is trusted, one token grant (one only: a refused password counts
toward the account's lockout), how it writes a job and its latest runs (wrapped or flat, dates,
status, GUIDs, message fields), and what the orchestrator will do with each; when Temporal answers,
whether its namespace has every search attribute the worker sets (not answering is only a note).
Exit 0 when a run could be orchestrated; 2 naming the first blocker. It never executes or aborts anything.
inspect: the certificate chain a server presents, and the setting that trusts it
(CCS_TLS_PIN_SHA256, or CCS_TLS_SERVERNAME with CCS_CA_FILE). Sends nothing but a TLS handshake.`,
  flags: [
    { name: 'ccs', type: 'string', value: 'SERVER', verbs: ['check'], help: 'the configured CCS server to check (default: default)' },
    { name: 'job', type: 'string', value: 'JOB_ID', verbs: ['check'], help: 'read this job and its latest runs too' },
    { name: 'name', type: 'string', value: 'NAME', verbs: ['check'], help: 'find the job by its exact name instead' },
    {
      name: 'ca',
      type: 'string',
      value: 'PEM_FILE',
      verbs: ['inspect'],
      help: 'check the chain against these CA certificates instead of the system store',
    },
    { name: 'pem', type: 'boolean', verbs: ['inspect'], help: 'print the certificates as PEM too' },
    { name: 'json', type: 'boolean', help: 'machine-readable output' },
  ],
  examples: [
    'ccs-jobs ccs inspect https://ccs-app01.corp.example:12431',
    'ccs-jobs ccs check --job 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16',
    'ccs-jobs ccs check --ccs emea --name "Nightly CER" --json',
  ],
  run({ args, flags, env, out }) {
    const json = flags.boolean('json');
    if (args[0] === 'check')
      return ccsCheck(env, { ccs: flags.string('ccs'), job: flags.string('job'), name: flags.string('name'), json }, out);
    if (args[0] === 'inspect') return ccsInspect(args[1], { ca: flags.string('ca'), pem: flags.boolean('pem'), json }, out);
    throw new CliError(
      'use ccs-jobs ccs check [--ccs NAME] [--job ID|--name NAME] or ccs-jobs ccs inspect <url> (see ccs-jobs ccs --help)',
    );
  },
};
