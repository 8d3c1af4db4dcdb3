/**
 * `ccs-jobs ccs check` and `ccs-jobs ccs inspect`: first contact with a CCS server, before any job
 * runs. Neither needs Temporal; neither executes or aborts anything.
 */
import { readFileSync } from 'node:fs';
import { diagnose, type Diagnosis, type Finding } from '../ccs/first-contact';
import { TLS_SETTINGS, inspectServer, type PresentedCertificate } from '../ccs/tls';
import { ConfigError, loadConfig, passwordSource } from '../hosting/config';
import { CliError, ExitCode } from './output';
import type { Out } from './progress';

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
  return `  ${LABEL[f.verdict].padEnd(8)}${f.area.padEnd(11)}${f.saw}\n${' '.repeat(19)}→ ${f.action}\n`;
}

/** The human report of a diagnosis. */
export function diagnosisText(d: Diagnosis): string {
  const head = `CCS server ${d.server} at ${d.baseUrl}\n`;
  const body = d.findings.map(findingText).join('');
  const grants = `${d.tokenGrants} token grant${d.tokenGrants === 1 ? '' : 's'} sent`;
  const tail = d.blocker
    ? `Blocked at ${d.blocker.area}: a run cannot be orchestrated until this is fixed (${grants}).\n`
    : d.jobId
      ? `A run of job ${d.jobId} can be orchestrated: ccs-jobs run ${d.jobId}${d.server === 'default' ? '' : ` --ccs ${d.server}`} (${grants}; nothing was executed).\n`
      : `This server can be reached and grants a token (${grants}); name a job to check its answers.\n`;
  return head + body + tail;
}

export async function ccsCheck(env: Record<string, string | undefined>, options: CcsCommandOptions, out: Out): Promise<number> {
  if (options.job !== undefined && options.name !== undefined) throw new CliError('ccs check: give --job <JobID> or --name <JobName>, not both');
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`ccs check reads the worker's configuration: ${err.problems.join('; ')}`);
    throw err;
  }
  const name = options.ccs ?? 'default';
  const server = config.ccsServers[name];
  if (!server) throw new CliError(`--ccs: no CCS server named ${JSON.stringify(name)} is configured (configured: ${Object.keys(config.ccsServers).join(', ')})`);
  const d = await diagnose({ server: name, client: { ...server, password: passwordSource(server) }, jobId: options.job, jobName: options.name });
  out.write(options.json ? `${JSON.stringify({ ...d, orchestrable: d.blocker === null }, null, 2)}\n` : diagnosisText(d));
  return d.blocker ? ExitCode.failed : ExitCode.ok;
}

function certificateText(c: PresentedCertificate, i: number): string {
  return [
    `  certificate ${i + 1}: ${c.subject || '(no subject)'}`,
    `    SANs:    ${c.subjectAltNames.length > 0 ? c.subjectAltNames.join(', ') : 'none'}`,
    `    issuer:  ${c.selfSigned ? 'itself (self-signed)' : c.issuer}`,
    `    valid:   ${c.validFrom} to ${c.validTo}`,
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
  if (!seen.trustedByStore && carried && carried !== target.hostname && !leaf.selfSigned) settings.servername = `${TLS_SETTINGS.servername}=${carried}${ca ? '' : ` with ${TLS_SETTINGS.ca} holding ${leaf.issuer}`}`;
  if (options.json) {
    out.write(`${JSON.stringify({ origin: seen.origin, protocol: seen.protocol, chain: seen.chain, trusted: seen.trustedByStore, refusal: seen.refusal ? { reason: seen.refusal.refusal, detail: seen.refusal.detail } : null, settings, ...(options.pem ? { pem: seen.pem } : {}) }, null, 2)}\n`);
    return ExitCode.ok;
  }
  const lines = [
    `${seen.origin} presents (${seen.protocol ?? 'TLS'}):`,
    ...seen.chain.map(certificateText),
    seen.trustedByStore
      ? `Trusted as it is, by ${ca ? options.ca : 'the system store'}, for ${target.hostname}: no setting needed.`
      : `Not trusted as it is, by ${ca ? options.ca : 'the system store'}, for ${target.hostname}: ${seen.refusal?.detail ?? 'untrusted'}.`,
    'To trust it:',
    `  ${settings.pin}   exactly this certificate (self-signed included; a comma-separated list when CCS's certificate is renewed)`,
    ...(settings.servername ? [`  ${settings.servername}   the chain verified, this name checked instead of ${target.hostname}`] : []),
    ...(options.pem && seen.pem ? ['', seen.pem.trimEnd()] : []),
  ];
  out.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}
