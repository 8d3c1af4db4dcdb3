/**
 * First contact with a CCS server, as an administrator makes it: `ccs-jobs ccs inspect` on CCS's own
 * self-signed certificate, then `ccs-jobs ccs check` against simulators speaking different dialects,
 * a wrong password (one grant, no more) and jobs found by name. Simulators over real sockets; no
 * Temporal: these commands do not need it.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import type { Simulator, SimulatorOptions } from '../../src/sim/server';
import { SIM_USER, addJob, clientFor, startSim } from '../helpers';
import { tempDir } from '../temp-dir';

const dir = tempDir('ccs-first-contact-');
const sims: Simulator[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
});

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSim(options);
  sims.push(s);
  return s;
}

/** ccs-jobs in this process: exit code, standard output, standard error. */
async function ccsJobs(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, env, { write: (t) => void (out += t), isTTY: false }, (t) => void (err += t));
  return { code, out, err };
}

/** The worker's variables for `s`, its CA in a file unless other trust is given. */
function envFor(s: Simulator, extra: Record<string, string> = {}): Record<string, string> {
  const ca = join(dir, `ca-${s.baseUrl.replace(/\W/g, '')}.pem`);
  writeFileSync(ca, s.caPem!);
  return {
    CCS_BASE_URL: s.baseUrl,
    CCS_USERNAME: SIM_USER.username,
    CCS_PASSWORD: SIM_USER.password,
    ...(extra.CCS_TLS_PIN_SHA256 ? {} : { CCS_CA_FILE: ca }),
    ...extra,
  };
}

/** A job with one ended run (with a message) and one running, so its answers show every field. */
async function jobWithRuns(s: Simulator, extra: Parameters<typeof addJob>[2] = {}): Promise<string> {
  const jobId = addJob(
    s,
    [
      ['Executing', 0.2],
      ['Completed', 0],
    ],
    { messages: [{ Message: 'asset 3 unreachable' }], ...extra },
  );
  const client = clientFor(s);
  await client.executeJob(jobId);
  await new Promise((r) => setTimeout(r, 400));
  await client.close();
  return jobId;
}

describe('ccs-jobs ccs inspect', () => {
  it('prints CCS’s self-signed Symantec_Components certificate and the pin that trusts exactly it', async () => {
    const s = await sim({ certName: 'Symantec_Components', selfSigned: true });
    const fp = new X509Certificate(s.caPem!).fingerprint256;
    const origin = new URL(s.baseUrl).origin;
    const { code, out } = await ccsJobs(['ccs', 'inspect', origin, '--pem'], {});
    expect(code).toBe(0);
    expect(out).toContain('certificate 1: CN=Symantec_Components');
    expect(out).toContain('SANs:    none');
    expect(out).toContain('issuer:  itself (self-signed)');
    expect(out).toContain(`SHA-256: ${fp}`);
    expect(out).toMatch(/Not trusted as it is, by the system store, for 127\.0\.0\.1: DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(out).toContain(`CCS_TLS_PIN_SHA256 (tlsPinSha256 in CCS_SERVERS_FILE)=${fp}`);
    expect(out.replace(/\r/g, '')).toContain(s.caPem!.replace(/\r/g, '').trim());
    expect(s.stats().token).toBeUndefined(); // a handshake, nothing sent
  });

  it('a CA-signed certificate for another name: the server-name setting, and trusted with the CA', async () => {
    const s = await sim({ certName: 'ccs-app01.corp.example' });
    writeFileSync(join(dir, 'inspect-ca.pem'), s.caPem!);
    const { out } = await ccsJobs(['ccs', 'inspect', s.baseUrl, '--ca', join(dir, 'inspect-ca.pem'), '--json'], {});
    const seen = JSON.parse(out) as { trusted: boolean; refusal: { reason: string }; settings: Record<string, string> };
    expect(seen.trusted).toBe(false);
    expect(seen.refusal.reason).toBe('name-mismatch');
    expect(seen.settings.servername).toBe('CCS_TLS_SERVERNAME (tlsServername in CCS_SERVERS_FILE)=ccs-app01.corp.example');
  });
});

describe('ccs-jobs ccs check', () => {
  it('refuses an untrusted certificate before sending the password, naming its fingerprint; passes with the pin', async () => {
    const s = await sim({ certName: 'Symantec_Components', selfSigned: true });
    const fp = new X509Certificate(s.caPem!).fingerprint256;
    const jobId = await jobWithRuns(s).catch(() => addJob(s, [['Completed', 0]])); // the helper's client has the CA
    const refused = await ccsJobs(['ccs', 'check', '--job', jobId], { ...envFor(s), CCS_CA_FILE: '' });
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(
      /BLOCKER tls {8}TLS with https:\/\/127\.0\.0\.1:\d+ refused the certificate it presented \(DEPTH_ZERO_SELF_SIGNED_CERT/,
    );
    expect(refused.out).toContain(`CCS_TLS_PIN_SHA256 (tlsPinSha256 in CCS_SERVERS_FILE)=${fp}`);
    expect(refused.out).toContain('Blocked at tls: a run cannot be orchestrated until this is fixed (0 token grants sent)');
    const grantsBefore = s.stats().token?.['200'] ?? 0;

    const pinned = await ccsJobs(['ccs', 'check', '--job', jobId], envFor(s, { CCS_TLS_PIN_SHA256: fp }));
    expect(pinned.code, pinned.out).toBe(0);
    expect(pinned.out).toMatch(/ok {6}tls {8}TLSv1\.3; certificate CN=Symantec_Components \(self-signed\)/);
    expect(pinned.out).toContain('→ trusted by its pinned fingerprint (CCS_TLS_PIN_SHA256');
    expect(pinned.out).toContain(
      `A run of job ${jobId} can be orchestrated: ccs-jobs run ${jobId} (1 token grant sent; nothing was executed)`,
    );
    expect(s.stats().token?.['200']).toBe(grantsBefore + 1);
  });

  it('a wrong password: exactly one grant, the blocker names the encoding setting, exit 2', async () => {
    const s = await sim();
    const jobId = addJob(s, [['Completed', 0]]);
    const { code, out } = await ccsJobs(['ccs', 'check', '--job', jobId], envFor(s, { CCS_PASSWORD: 'not-the-password' }));
    expect(code).toBe(2);
    expect(s.stats().token).toEqual({ '400': 1 });
    expect(out).toMatch(/BLOCKER token {6}CcsAuthenticationFailed: CCS refused the credentials of user "sim-user"/);
    expect(out).toContain('if this CCS expects it as typed, set CCS_PASSWORD_ENCODING=plain');
    expect(out).toContain('this check sent one grant and will not retry (account lockout)');
    expect(out).not.toContain('not-the-password');
    expect(s.stats().jobruns).toBeUndefined();
  });

  it.each<[string, SimulatorOptions, Record<string, string>, RegExp[]]>([
    [
      'arrays, dates without a zone and no CCS_TIME_ZONE, status codes, lower-case GUIDs',
      { dateFormat: 'local' },
      {},
      [
        /ok {6}jobruns {4}an array of runs: 1 run read/,
        /note {4}dates {6}ISO 8601 dates without a zone \(\d{4}-\d\d-\d\dT[\d:.]+\)\n +→ read as UTC; if this CCS writes its own local time, set CCS_TIME_ZONE/,
        /ok {6}status {5}Status as a code \(4\)/,
        /ok {6}guids {6}GUIDs in lower case/,
        /ok {6}messages {3}message text under "Message" \(fields: Time, Message\)/,
      ],
    ],
    [
      'wrapped runs, ASP.NET dates, status names, GUIDs in braces, messages under Text',
      {
        jobrunsShape: 'wrapped',
        dateFormat: 'msjson',
        statusFormat: 'name',
        guidFormat: 'braces',
        messageFields: { time: 'TimeStamp', text: 'Text' },
      },
      {},
      [
        /ok {6}jobruns {4}runs wrapped in "JobRuns": 1 run read/,
        /ok {6}dates {6}ASP\.NET dates \(\/Date\(\d+\)\/\)/,
        /ok {6}status {5}Status as a name \("Completed"\)/,
        /ok {6}guids {6}GUIDs in braces/,
        /message text under "Text" \(fields: TimeStamp, Text\)/,
      ],
    ],
    [
      'a flat single run, local dates with CCS_TIME_ZONE set, upper-case GUIDs, message fields no one expects',
      {
        jobrunsShape: 'flat',
        dateFormat: 'local',
        timeZone: 'Europe/Paris',
        guidFormat: 'upper',
        messageFields: { time: 'When', text: 'Body' },
      },
      { CCS_TIME_ZONE: 'Europe/Paris' },
      [
        /ok {6}jobruns {4}a single run as a bare object \(flat\): 1 run read/,
        /ok {6}dates {6}ISO 8601 dates without a zone .*\n +→ read as local time in Europe\/Paris \(CCS_TIME_ZONE\)/,
        /ok {6}guids {6}GUIDs in upper case/,
        /note {4}messages {3}messages with no text under Message, Text, MessageText, Description, Msg \(fields: When, Body\)\n +→ each message is kept raw/,
      ],
    ],
  ])('names the dialect: %s', async (_what, dialect, env, expected) => {
    const s = await sim(dialect);
    const jobId = await jobWithRuns(s);
    const { code, out } = await ccsJobs(['ccs', 'check', '--job', jobId], envFor(s, env));
    expect(code, out).toBe(0);
    for (const pattern of expected) expect(out).toMatch(pattern);
    expect(s.stats().execute).toEqual({ '200': 1 }); // the one the test made: the check executes nothing
    expect(s.stats().abort).toBeUndefined();
  });

  it.each<[SimulatorOptions['emptyRuns'], string]>([
    ['null', 'no runs as null'],
    ['no-content', 'no runs as 204 No Content'],
    ['object', 'no runs as {}'],
    ['wrapped', 'no runs as a wrapper with an empty "JobRuns"'],
  ])('a job that never ran, answered as %s: read as no runs', async (emptyRuns, shape) => {
    const s = await sim({ emptyRuns });
    const jobId = addJob(s, [['Completed', 0]]);
    const { code, out } = await ccsJobs(['ccs', 'check', '--job', jobId, '--json'], envFor(s));
    expect(code).toBe(0);
    const d = JSON.parse(out) as { orchestrable: boolean; findings: { area: string; saw: string; action: string }[] };
    expect(d.orchestrable).toBe(true);
    expect(d.findings.find((f) => f.area === 'jobruns')).toMatchObject({
      saw: shape,
      action: 'read as no runs: the first run will be started',
    });
  });

  it('finds a job by its exact name; two jobs of one name are a blocker listing both', async () => {
    const s = await sim();
    const jobId = addJob(s, [['Completed', 0]], { JobName: 'Nightly CER' });
    const found = await ccsJobs(['ccs', 'check', '--name', 'Nightly CER'], envFor(s));
    expect(found.code, found.out).toBe(0);
    expect(found.out).toContain(`job ${jobId} "Nightly CER"`);
    const twin = addJob(s, [['Completed', 0]], { JobName: 'Nightly CER' });
    const ambiguous = await ccsJobs(['ccs', 'check', '--name', 'Nightly CER'], envFor(s));
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.out).toContain(`2 jobs named "Nightly CER": `);
    expect(ambiguous.out).toContain(twin);
    expect((await ccsJobs(['ccs', 'check', '--name', 'nightly cer'], envFor(s))).out).toContain('no job named "nightly cer"');
  });

  it('an unknown job and an unknown server are named', async () => {
    const s = await sim();
    const unknown = await ccsJobs(['ccs', 'check', '--job', '11111111-2222-3333-4444-555555555555'], envFor(s));
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/BLOCKER job .*check the JobID: CCS does not know it/s);
    const server = await ccsJobs(['ccs', 'check', '--ccs', 'apac'], envFor(s));
    expect(server.code).toBe(1);
    expect(server.err).toBe('ccs-jobs: --ccs: no CCS server named "apac" is configured (configured: default)\n');
  });
});
