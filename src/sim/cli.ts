/**
 * `ccs-sim`: runs the CCS simulator until SIGINT/SIGTERM. Prints one line with its base URL when ready.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_JOBS } from './default-scenario';
import { EMPTY_RUNS_FORMS, JOBRUNS_ORDERS } from './job-service';
import { RESULTS_SHAPES, ROLES, startSimulator, validateJob, type SimUser, type SimulatorOptions } from './server';

const USAGE = `Usage: ccs-sim [options]
  --port N              port to listen on (default 12431; 0 = a free port)
  --host ADDR           address to bind (default 127.0.0.1)
  --no-tls              plain HTTP instead of HTTPS
  --tls-dir DIR         keep ca.pem, cert.pem, key.pem in DIR (created when absent) so restarts keep the CA
  --ca-out FILE         write the CA certificate (PEM) for clients to FILE
  --tls-names LIST      extra host names for the certificate, e.g. ccs-sim (a container's service name)
  --cert-name NAME      the certificate's only name, as CCS's: Symantec_Components (default: the host's names)
  --self-signed         a self-signed certificate, as CCS binds by default (--ca-out writes the certificate)
  --scenario FILE       JSON {"jobs": [...]} (default: a built-in demo scan)
  --state-file FILE     keep jobs and runs across restarts
  --token-ttl SECONDS   access token lifetime (default 3600)
  --refresh-ttl SECONDS refresh token lifetime (default 5400)
  --users LIST          user:password[:operator|viewer|operator-no-results|none],... (default sim-user:sim-password);
                        operator-no-results may run jobs but gets 403 on Results and Reports
  --response-shape S    wrapped (default) or flat JobStatusInfo on execute
  --status-format F     number (default) or name for Status
Dialects (what the documents leave open; README "The CCS simulator"):
  --password-encoding E base64 (default, the vendor's current page) or plain (older samples)
  --jobruns-shape S     array (default), wrapped ({"JobRuns": [...]}) or flat (one run as a bare object)
  --jobruns-order O     newest (default) or oldest: the order jobruns lists the count most recent runs in
  --date-format F       iso7 (default, the vendor sample), iso, msjson (/Date(ms)/) or local (no offset)
  --time-zone TZ        the server's zone for --date-format local (default UTC)
  --guid-format G       lower (default), upper, braces or nohyphens
  --message-fields T,M  a run's message fields, time then text (default Time,Message), e.g. TimeStamp,Text
  --empty-runs F        how "no runs" is answered: array (default), null, no-content (204), empty-body, object ({}) or wrapped
  --require-content-type  answer 415 to a job POST without Content-Type: application/json (ASP.NET)
  --search-page-size N  Search Jobs page size when the request names none (default 50; larger requests are served at 100)
  --results-shape S     POST /Results answers: checks (default), xml ({"Results": "<xml…>"}) or csv (text/csv);
                        xml and csv are forms a client cannot read (it keeps them raw)
  --error-texts FILE    JSON of the refusal texts: jobNotFound, runNotFound, alreadyRunning, notRunning, invalidGuid, invalidBody,
                        assetGroupNotFound, noResults ({id} is replaced)
Findings (shapes not in the documents, the simulator's assumptions; src/sim/findings.ts has the details):
  jobs name "assets" (assets and groups with "members"), "standards" and "results" in the scenario;
  GET /jobs/{id}            JobDetails: {AssetsResolutionInfo: [{Id, Type}], Standards: [GUID]} (CER, collection, evaluation jobs)
  GET /AssetGroup/{id}/Assets  [{Id, Name, Type}]; 404 for an unknown group
  POST /Results             {assetid, standardid, jobrunid[, checkidlist]} (any key case) ->
                            {AssetId, StandardId, JobRunId, EvaluationTime, Checks: [{CheckId, Name, Result, Severity}]},
                            Result Pass|Fail|NotApplicable|Error; 404 unless the run ended Completed or Faulted
                            and evaluated that asset and standard; 400 for a missing or bad GUID
  GET /Reports?assetid&standardid&jobrunid&reportfiletype=excel
                            a ZIP (PK\x03\x04, one entry results.csv; not a real workbook) as
                            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, attachment; 400 unless excel
Example: ccs-sim --port 0 --ca-out /tmp/ccs-ca.pem`;

function fail(message: string): never {
  throw new Error(`ccs-sim: ${message} (see ccs-sim --help)`);
}

function positiveNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n <= 0) fail(`--${flag} must be a positive number of seconds; got ${JSON.stringify(text)}`);
  return n;
}

/** What the command line asks for: simulator options, where to write the CA, or only the usage (`help`). */
export type SimArgs = SimulatorOptions & { caOut?: string; help?: true };

/** Turns command-line arguments into simulator options; throws one clear line on a bad flag. */
export function parseSimArgs(argv: string[]): SimArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'no-tls': { type: 'boolean' },
        'tls-dir': { type: 'string' },
        'ca-out': { type: 'string' },
        'tls-names': { type: 'string' },
        'cert-name': { type: 'string' },
        'self-signed': { type: 'boolean' },
        scenario: { type: 'string' },
        'state-file': { type: 'string' },
        'token-ttl': { type: 'string' },
        'refresh-ttl': { type: 'string' },
        users: { type: 'string' },
        'response-shape': { type: 'string' },
        'status-format': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        'password-encoding': { type: 'string' },
        'jobruns-shape': { type: 'string' },
        'jobruns-order': { type: 'string' },
        'date-format': { type: 'string' },
        'time-zone': { type: 'string' },
        'guid-format': { type: 'string' },
        'empty-runs': { type: 'string' },
        'message-fields': { type: 'string' },
        'require-content-type': { type: 'boolean' },
        'error-texts': { type: 'string' },
        'search-page-size': { type: 'string' },
        'results-shape': { type: 'string' },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) return { help: true };
  const port = values.port === undefined ? 12431 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0–65535; got ${JSON.stringify(values.port)}`);
  let jobs = DEFAULT_JOBS;
  if (values.scenario) {
    let scenario: { jobs?: unknown };
    try {
      scenario = JSON.parse(readFileSync(values.scenario, 'utf8')) as { jobs?: unknown };
    } catch (err) {
      fail(`cannot read scenario ${values.scenario}: ${(err as Error).message}`);
    }
    if (!Array.isArray(scenario.jobs)) fail(`scenario ${values.scenario} must hold {"jobs": [...]}`);
    jobs = scenario.jobs.map((j, i) => validateJob(j, `jobs[${i}]`));
  }
  let users: Record<string, SimUser> | undefined;
  if (values.users) {
    users = {};
    for (const entry of values.users.split(',')) {
      const [name, password, role = 'operator'] = entry.split(':');
      if (!name || password === undefined || !(ROLES as readonly string[]).includes(role))
        fail(`--users entry ${JSON.stringify(entry)} must be user:password[:${ROLES.join('|')}]`);
      users[name] = { password, role: role as SimUser['role'] };
    }
  }
  const shape = values['response-shape'];
  if (shape !== undefined && shape !== 'wrapped' && shape !== 'flat') fail('--response-shape must be wrapped or flat');
  const format = values['status-format'];
  if (format !== undefined && format !== 'number' && format !== 'name') fail('--status-format must be number or name');
  const oneOf = <T extends string>(flag: string, allowed: readonly T[]): T | undefined => {
    const value = values[flag as keyof typeof values] as string | undefined;
    if (value !== undefined && !allowed.includes(value as T)) fail(`--${flag} must be ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
    return value as T | undefined;
  };
  const passwordEncoding = oneOf('password-encoding', ['base64', 'plain'] as const);
  const jobrunsShape = oneOf('jobruns-shape', ['array', 'wrapped', 'flat'] as const);
  const jobrunsOrder = oneOf('jobruns-order', JOBRUNS_ORDERS);
  const dateFormat = oneOf('date-format', ['iso7', 'iso', 'msjson', 'local'] as const);
  const guidFormat = oneOf('guid-format', ['lower', 'upper', 'braces', 'nohyphens'] as const);
  const emptyRuns = oneOf('empty-runs', EMPTY_RUNS_FORMS);
  const resultsShape = oneOf('results-shape', RESULTS_SHAPES);
  let messageFields: { time: string; text: string } | undefined;
  if (values['message-fields'] !== undefined) {
    const [time, text, extra] = values['message-fields'].split(',').map((n) => n.trim());
    if (!time || !text || extra !== undefined || ![time, text].every((n) => /^\w{1,40}$/.test(n)))
      fail('--message-fields must be two field names, time then text, e.g. TimeStamp,Text');
    messageFields = { time, text };
  }
  const timeZone = values['time-zone'];
  if (timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone });
    } catch {
      fail(`--time-zone must be an IANA zone such as Europe/Paris; got ${JSON.stringify(timeZone)}`);
    }
  }
  let errorTexts: Record<string, string> | undefined;
  if (values['error-texts']) {
    try {
      errorTexts = JSON.parse(readFileSync(values['error-texts'], 'utf8')) as Record<string, string>;
    } catch (err) {
      fail(`cannot read --error-texts ${values['error-texts']}: ${(err as Error).message}`);
    }
  }
  const searchPageSize = values['search-page-size'];
  if (searchPageSize !== undefined && !/^[1-9]\d{0,3}$/.test(searchPageSize))
    fail(`--search-page-size must be a whole number from 1 to 9999; got ${JSON.stringify(searchPageSize)}`);
  return {
    ...(searchPageSize ? { searchPageSize: Number(searchPageSize), maxSearchPageSize: Math.max(100, Number(searchPageSize)) } : {}),
    ...(passwordEncoding ? { passwordEncoding } : {}),
    ...(jobrunsShape ? { jobrunsShape } : {}),
    ...(jobrunsOrder ? { jobrunsOrder } : {}),
    ...(dateFormat ? { dateFormat } : {}),
    ...(guidFormat ? { guidFormat } : {}),
    ...(emptyRuns ? { emptyRuns } : {}),
    ...(resultsShape ? { resultsShape } : {}),
    ...(messageFields ? { messageFields } : {}),
    ...(timeZone ? { timeZone } : {}),
    ...(values['require-content-type'] ? { requireContentType: true } : {}),
    ...(errorTexts ? { errorTexts } : {}),
    port,
    host: values.host ?? '127.0.0.1',
    tls: !values['no-tls'],
    ...(values['tls-dir'] ? { tlsDir: values['tls-dir'] } : {}),
    ...(values['ca-out'] ? { caOut: values['ca-out'] } : {}),
    ...(values['cert-name'] ? { certName: values['cert-name'] } : {}),
    ...(values['self-signed'] ? { selfSigned: true } : {}),
    ...(values['tls-names']
      ? {
          tlsNames: values['tls-names']
            .split(',')
            .map((n) => n.trim())
            .filter(Boolean),
        }
      : {}),
    jobs,
    ...(values['state-file'] ? { stateFile: values['state-file'] } : {}),
    ...(users ? { users } : {}),
    ...(shape ? { responseShape: shape } : {}),
    ...(format ? { statusFormat: format } : {}),
    tokenTtlSeconds: positiveNumber('token-ttl', values['token-ttl']),
    refreshTtlSeconds: positiveNumber('refresh-ttl', values['refresh-ttl']),
  };
}

async function serve(): Promise<void> {
  const { caOut, help, ...options } = parseSimArgs(process.argv.slice(2));
  if (help) {
    console.log(USAGE);
    return;
  }
  const sim = await startSimulator(options);
  if (caOut && sim.caPem) writeFileSync(caOut, sim.caPem);
  console.log(`ccs-sim listening on ${sim.baseUrl}`);
  // close() ends the listener and every open socket, so the process then ends by itself with code 0.
  // A second signal while closing gets Node's default handling (process.once) and ends it at once.
  const stop = (): void => {
    sim.close().catch((err: unknown) => {
      console.error(`ccs-sim: closing failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The `ccs-sim` entry point. */
export function main(): void {
  serve().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
  });
}

if (require.main === module) main();
