/**
 * A read-only first-contact diagnosis of a CCS server (`ccs-jobs ccs check`): is its certificate
 * trusted, does it grant a token (one grant, never more: a refused password counts toward the
 * account's lockout), and how does it write its answers: wrapped or flat, dates, status, GUIDs,
 * message fields. Each finding says what the orchestrator will do with what it saw. Nothing is ever
 * executed or aborted.
 */
import { CcsError, ErrorType } from '../domain/errors';
import { latestRunInProgress, newestFirst, type JobRun } from '../domain/job-run';
import { normalizeGuid } from '../domain/validation';
import { CcsClient, type CcsClientOptions } from './client';
import { MESSAGE_TEXT_FIELDS, field, parseJob, parseJobRuns } from './parse';
import { TLS_SETTINGS, inspectServer, untrustedMessage, type PresentedCertificate } from './tls';

export type Verdict = 'ok' | 'note' | 'blocker';

export interface Finding {
  area: 'connection' | 'tls' | 'token' | 'job' | 'jobruns' | 'dates' | 'status' | 'guids' | 'messages' | 'fields' | 'run';
  verdict: Verdict;
  /** What the server did or sent. */
  saw: string;
  /** What the orchestrator will do with it, or what to change. */
  action: string;
}

export interface Diagnosis {
  server: string;
  baseUrl: string;
  certificate: PresentedCertificate | null;
  findings: Finding[];
  /** The first blocker: the reason a run could not be orchestrated now. */
  blocker: Finding | null;
  /** Token grants this diagnosis sent (at most one). */
  tokenGrants: number;
  jobId: string | null;
}

export interface DiagnoseOptions {
  /** The server's name in the worker's configuration (`default` for CCS_* variables). */
  server: string;
  client: Omit<CcsClientOptions, 'warn' | 'observer'>;
  jobId?: string | undefined;
  jobName?: string | undefined;
}

/** How a run's raw date text is written, and how it will be read. */
function dateFinding(sample: string, timeZone: string | undefined): Finding {
  if (/^\/Date\(/.test(sample))
    return { area: 'dates', verdict: 'ok', saw: `ASP.NET dates (${sample})`, action: 'read as the instants they encode' };
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(sample))
    return { area: 'dates', verdict: 'ok', saw: `ISO 8601 dates with a zone (${sample})`, action: 'read as written' };
  if (timeZone)
    return {
      area: 'dates',
      verdict: 'ok',
      saw: `ISO 8601 dates without a zone (${sample})`,
      action: `read as local time in ${timeZone} (CCS_TIME_ZONE)`,
    };
  return {
    area: 'dates',
    verdict: 'note',
    saw: `ISO 8601 dates without a zone (${sample})`,
    action:
      "read as UTC; if this CCS writes its own local time, set CCS_TIME_ZONE to its zone (e.g. Europe/Paris), or start and end times shift by the server's offset",
  };
}

function statusFinding(sample: unknown): Finding {
  if (typeof sample === 'number')
    return {
      area: 'status',
      verdict: 'ok',
      saw: `Status as a code (${sample})`,
      action: 'read by the documented codes (0 Pending … 7 Aborted)',
    };
  if (typeof sample === 'string' && /^-?\d+$/.test(sample.trim()))
    return { area: 'status', verdict: 'ok', saw: `Status as a code in text ("${sample}")`, action: 'read by the documented codes' };
  return { area: 'status', verdict: 'ok', saw: `Status as a name (${JSON.stringify(sample)})`, action: 'read by name, any case' };
}

function guidFinding(sample: string): Finding {
  const dress = sample.startsWith('{')
    ? 'in braces'
    : !sample.includes('-')
      ? 'without hyphens'
      : sample === sample.toUpperCase()
        ? 'in upper case'
        : 'in lower case';
  return { area: 'guids', verdict: 'ok', saw: `GUIDs ${dress} (${sample})`, action: 'compared in one canonical form' };
}

/** In which order this CCS lists runs, by their start times; null when fewer than two runs have one. */
function orderFinding(runs: JobRun[]): Finding | null {
  const timed = runs.filter((r) => r.startTime !== null);
  if (timed.length < 2) return null;
  const newest = newestFirst(timed);
  const order = timed.every((r, i) => r === newest[i])
    ? 'newest first'
    : timed.every((r, i) => r === newest[newest.length - 1 - i])
      ? 'oldest first'
      : 'in no order of their start times';
  return {
    area: 'jobruns',
    verdict: 'ok',
    saw: `runs listed ${order}`,
    action: 'runs are ordered by their own start and end times, never by their place in the answer',
  };
}

/** Where a jobruns answer keeps its runs: the raw runs and a description of the shape. */
function runsOf(body: unknown, empty: boolean, status: number): { shape: string; raw: Record<string, unknown>[] } {
  if (empty) return { shape: status === 204 ? 'no runs as 204 No Content' : 'no runs as an empty body', raw: [] };
  if (body === null) return { shape: 'no runs as null', raw: [] };
  const records = (list: unknown[]): Record<string, unknown>[] =>
    list.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x));
  if (Array.isArray(body)) return { shape: body.length === 0 ? 'no runs as []' : 'an array of runs', raw: records(body) };
  if (typeof body === 'object') {
    const obj = body as Record<string, unknown>;
    if (Object.keys(obj).some((k) => k.toLowerCase() === 'jobrunid')) return { shape: 'a single run as a bare object (flat)', raw: [obj] };
    const wrapped = Object.entries(obj).find(([, v]) => Array.isArray(v));
    if (wrapped) {
      const list = wrapped[1] as unknown[];
      return {
        shape: list.length === 0 ? `no runs as a wrapper with an empty "${wrapped[0]}"` : `runs wrapped in "${wrapped[0]}"`,
        raw: records(list),
      };
    }
    if (Object.keys(obj).length === 0) return { shape: 'no runs as {}', raw: [] };
  }
  return { shape: 'an answer of another shape', raw: [] };
}

function messageFinding(runs: Record<string, unknown>[]): Finding | null {
  const items = runs.flatMap((r) => {
    const messages = field(r, 'Messages');
    return Array.isArray(messages) ? messages.filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null) : [];
  });
  if (items.length === 0) return null;
  const keys = [...new Set(items.flatMap((m) => Object.keys(m)))];
  const known = MESSAGE_TEXT_FIELDS.find((name) => keys.some((k) => k.toLowerCase() === name.toLowerCase()));
  if (known)
    return {
      area: 'messages',
      verdict: 'ok',
      saw: `message text under "${known}" (fields: ${keys.join(', ')})`,
      action: 'messages kept with each run',
    };
  return {
    area: 'messages',
    verdict: 'note',
    saw: `messages with no text under ${MESSAGE_TEXT_FIELDS.join(', ')} (fields: ${keys.join(', ')})`,
    action: 'each message is kept raw (200 characters) and the run says so under unreadable.Messages; please report these field names',
  };
}

function failed(area: Finding['area'], err: unknown, action: string): Finding {
  const type = err instanceof CcsError ? err.type : 'Error';
  return { area, verdict: 'blocker', saw: `${type}: ${(err as Error).message}`, action };
}

/** Runs the diagnosis. Never throws for what the server does: that is a finding. */
export async function diagnose(options: DiagnoseOptions): Promise<Diagnosis> {
  const findings: Finding[] = [];
  const result: Diagnosis = {
    server: options.server,
    baseUrl: options.client.baseUrl,
    certificate: null,
    findings,
    blocker: null,
    tokenGrants: 0,
    jobId: null,
  };
  const block = (finding: Finding): Diagnosis => {
    findings.push(finding);
    result.blocker = finding;
    return result;
  };
  const url = new URL(options.client.baseUrl);
  const trust = {
    ca: options.client.ca,
    servername: options.client.servername,
    pinSha256: options.client.pinSha256,
    insecure: options.client.insecure,
  };

  // 1. TLS, before anything is sent: the password never goes to an untrusted server.
  if (url.protocol === 'https:') {
    let inspection;
    try {
      inspection = await inspectServer(url.href, trust, options.client.connectTimeoutMs ?? 10_000);
    } catch (err) {
      return block({
        area: 'connection',
        verdict: 'blocker',
        saw: `cannot connect to ${url.host}: ${(err as { code?: string }).code ?? (err as Error).message}`,
        action: 'check the host and port of CCS_BASE_URL (the REST API listens on 12431 by default), DNS and firewalls',
      });
    }
    const cert = inspection.chain[0] ?? null;
    result.certificate = cert;
    if (inspection.refusal)
      return block({
        area: 'tls',
        verdict: 'blocker',
        saw: untrustedMessage(inspection.origin, inspection.refusal),
        action: 'set one of the settings named above, then run this check again',
      });
    const by = trust.insecure
      ? `nothing: ${TLS_SETTINGS.insecure}`
      : trust.pinSha256?.length
        ? `its pinned fingerprint (${TLS_SETTINGS.pin})`
        : `${trust.ca ? 'CCS_CA_FILE' : 'the system store'}${trust.servername ? ` for the name ${trust.servername} (CCS_TLS_SERVERNAME)` : ` for ${url.hostname}`}`;
    findings.push({
      area: 'tls',
      verdict: trust.insecure ? 'note' : 'ok',
      saw: `${inspection.protocol ?? 'TLS'}; certificate ${cert?.subject ?? '?'}${cert?.selfSigned ? ' (self-signed)' : `, issued by ${cert?.issuer ?? '?'}`}, valid to ${cert?.validTo ?? '?'}, SHA-256 ${cert?.sha256 ?? '?'}`,
      action: trust.insecure
        ? `trusted by ${by}: anyone in the path can read the password; pin it instead with ${TLS_SETTINGS.pin}=${cert?.sha256 ?? ''}`
        : `trusted by ${by}`,
    });
  } else {
    findings.push({
      area: 'tls',
      verdict: 'note',
      saw: 'plain HTTP (CCS_ALLOW_PLAINTEXT=true)',
      action: 'the password and tokens travel in clear text',
    });
  }

  let grants = 0;
  const client = new CcsClient({
    ...options.client,
    observer: (o) => {
      if (o.operation === 'token') grants++;
    },
    warn: () => undefined,
  });
  try {
    // 2. One token grant.
    try {
      await client.checkCredentials();
      findings.push({
        area: 'token',
        verdict: 'ok',
        saw: `a token for ${options.client.username} (password sent ${options.client.passwordEncoding ?? 'base64'})`,
        action: 'tokens are renewed before they expire, with the refresh token first',
      });
    } catch (err) {
      return block(
        failed(
          'token',
          err,
          err instanceof CcsError && err.type === ErrorType.AuthenticationFailed
            ? 'fix the credentials or CCS_PASSWORD_ENCODING as the message says; this check sent one grant and will not retry (account lockout)'
            : 'CCS did not grant a token; see the message',
        ),
      );
    } finally {
      result.tokenGrants = grants;
    }

    // 3. The job, by id or by name.
    let jobId = options.jobId === undefined ? null : normalizeGuid(options.jobId);
    if (options.jobId !== undefined && !jobId)
      return block({
        area: 'job',
        verdict: 'blocker',
        saw: `--job ${JSON.stringify(options.jobId)} is not a GUID`,
        action: 'pass the JobID as shown in the CCS console, e.g. 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16',
      });
    if (options.jobName !== undefined) {
      let found;
      try {
        found = await client.findJobsByName(options.jobName);
      } catch (err) {
        return block(failed('job', err, 'Search Job by Name needs the tasks View all jobs, View standards, View assets'));
      }
      if (found.length === 0)
        return block({
          area: 'job',
          verdict: 'blocker',
          saw: `no job named ${JSON.stringify(options.jobName)}`,
          action: 'names are matched exactly, case included; or pass --job <JobID>',
        });
      if (found.length > 1)
        return block({
          area: 'job',
          verdict: 'blocker',
          saw: `${found.length} jobs named ${JSON.stringify(options.jobName)}: ${found.map((j) => j.jobId).join(', ')}`,
          action: 'job names are not unique in CCS: pass --job <JobID>',
        });
      jobId = found[0]!.jobId;
    }
    result.jobId = jobId;
    if (!jobId) {
      findings.push({
        area: 'job',
        verdict: 'note',
        saw: 'no job named',
        action: 'pass --job <JobID> or --name <JobName> to see how this CCS writes a job and its runs',
      });
      return result;
    }
    const reading = { timeZone: options.client.timeZone };
    try {
      const answer = await client.readAnswer('job', `/jobs/${jobId}`);
      const job = parseJob(answer.body, reading);
      const shape = Array.isArray(answer.body)
        ? 'an array of one job'
        : typeof answer.body === 'object' && answer.body !== null && Object.keys(answer.body).some((k) => k.toLowerCase() === 'job')
          ? 'wrapped in "Job"'
          : 'a bare object';
      findings.push({
        area: 'job',
        verdict: 'ok',
        saw: `job ${job.jobId} ${JSON.stringify(job.name ?? '')}${job.type ? ` (${job.type})` : ''}, last run ${job.lastRunStatus ?? 'never'}${job.lastRunDate ? ` at ${job.lastRunDate}` : ''}; answered as ${shape}`,
        action: 'runs of it can be started with ccs-jobs run',
      });
    } catch (err) {
      const type = err instanceof CcsError ? err.type : '';
      return block(
        failed(
          'job',
          err,
          type === ErrorType.Forbidden
            ? 'the CCS user needs the job permissions named above'
            : type === ErrorType.NotFound || type === ErrorType.BadRequest
              ? 'check the JobID: CCS does not know it'
              : 'see the message',
        ),
      );
    }

    // 4. Its latest runs, as written and as read.
    let answer;
    try {
      answer = await client.readAnswer('jobruns', `/Jobs/${jobId}/jobruns?count=5&showmessages=true`);
    } catch (err) {
      return block(failed('jobruns', err, 'the orchestrator reads the runs before it executes and while it follows one: this must work'));
    }
    const { shape, raw } = runsOf(answer.body, answer.empty, answer.status);
    let runs;
    try {
      runs = answer.empty ? [] : parseJobRuns(answer.body, jobId, reading);
    } catch (err) {
      return block(failed('jobruns', err, `this client cannot read the runs (${shape}); please report the answer's shape`));
    }
    findings.push({
      area: 'jobruns',
      verdict: 'ok',
      saw: `${shape}${runs.length > 0 ? `: ${runs.length} run${runs.length === 1 ? '' : 's'} read` : ''}`,
      action: runs.length === 0 ? 'read as no runs: the first run will be started' : 'runs are identified by their own JobRunID and JobID',
    });
    const first = raw[0];
    if (first) {
      const start = field(first, 'JobStartTime');
      if (typeof start === 'string' && start !== '') findings.push(dateFinding(start, options.client.timeZone));
      findings.push(statusFinding(field(first, 'Status')));
      const runId = field(first, 'JobRunID');
      if (typeof runId === 'string') findings.push(guidFinding(runId));
    }
    const messages = messageFinding(raw);
    if (messages) findings.push(messages);
    const unreadable = runs.flatMap((r) => Object.entries(r.unreadable ?? {}).filter(([k]) => k !== 'Messages'));
    if (unreadable.length > 0)
      findings.push({
        area: 'fields',
        verdict: 'note',
        saw: `display fields that could not be read: ${unreadable.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('; ')}`,
        action: 'kept raw and flagged in the run; they never decide anything',
      });
    const order = orderFinding(runs);
    if (order) findings.push(order);
    const going = latestRunInProgress(runs);
    if (going) {
      findings.push({
        area: 'run',
        verdict: 'note',
        saw: `run ${going.jobRunId} is ${going.status} now`,
        action: 'ccs-jobs run fails with CcsJobAlreadyRunning while it runs, unless --if-running attach follows it',
      });
    }
    return result;
  } finally {
    result.tokenGrants = grants;
    await client.close();
  }
}
