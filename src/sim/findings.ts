/**
 * What the simulated CCS serves about a run's findings: the members of an asset group, a run's raw
 * evaluation results per asset × standard, and the evaluation report file. The simulator's own
 * reading and writing, independent of the client in src/ccs.
 *
 * Wire shapes (the reference §8 gives paths and parameters [S], never a response: every answer
 * below is the simulator's assumption [I], PascalCase like the rest of the API):
 *
 * - `GET /AssetGroup/{GroupID}/Assets` → 200 `[{"Id": GUID, "Name": "...", "Type": "symc-csm-AssetSystem-Asset-…"}]`;
 *   404 for an unknown group; 400 for a bad GUID. Needs the "View assets" task (every role but `none`).
 * - `POST /Results` with `{"assetid", "standardid", "jobrunid"[, "checkidlist"]}` (key names any case;
 *   `jobrunid` left out: the newest ended run that evaluated the asset against the standard, the
 *   vendor sample's "latest" form; `standardversion` is not modelled: 400) → by `resultsShape`:
 *   - `checks` (default): 200 `{"AssetId", "StandardId", "JobRunId", "EvaluationTime", "Checks":
 *     [{"CheckId", "Name", "Result": "Pass"|"Fail"|"NotApplicable"|"Error", "Severity": "High"|"Medium"|"Low"}]}`
 *     (GUIDs in the `guidFormat`, the time in the `dateFormat` dialect);
 *   - `xml`: 200 `{"Results": "<?xml …?><EvaluationResults …><Check Id=… Result=…/>…</EvaluationResults>"}`;
 *   - `csv`: 200 `text/csv` `CheckId,Name,Result,Severity` lines (CRLF).
 *   The last two are forms a client cannot read: it has to keep them raw and say so.
 *   `checkidlist` (an array of GUIDs, or one string of them separated by commas; empty = all) keeps
 *   only those checks. 400: a missing or malformed GUID, a body that is not a JSON object;
 *   404: an unknown run, an asset or standard the run did not evaluate, and a run that has not
 *   ended Completed or Faulted (running, aborted or ended otherwise: "no results", never an empty list).
 * - `GET /Reports?assetid&standardid&jobrunid&reportfiletype=excel` → 200 with
 *   `Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` and
 *   `Content-Disposition: attachment; filename="EvaluationReport_<JobRunID>_<asset>_<standard>.xlsx"`:
 *   a ZIP archive (it starts `PK\x03\x04`) holding one stored entry, `results.csv`, the checks as the
 *   `csv` shape writes them. Not a real workbook. Same 400/404 rules as Results; `reportfiletype`
 *   missing or other than `excel` (any case) is a 400.
 * - Results and Reports need the "View evaluation results" task: 403 (the documented text) for the
 *   role `operator-no-results`, which may still execute, abort and read jobs and runs.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { TokenAuthority } from './auth';
import { type SimAsset, type SimCheck, type SimCheckResult, type SimResultsSpec, type SimRun, type SimState } from './state';
import { GUID, HttpError, assetType, ccsDate, ccsGuid, type Dialect, type Reply } from './wire';

export const RESULTS_SHAPES = ['checks', 'xml', 'csv'] as const;
export type ResultsShape = (typeof RESULTS_SHAPES)[number];

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The refusal texts of the findings endpoints ({id} is replaced). */
export interface FindingsTexts {
  runNotFound: string;
  invalidGuid: string;
  invalidBody: string;
  assetGroupNotFound: string;
  noResults: string;
}

export interface FindingsOptions extends Dialect {
  /** How POST /Results answers: `checks` (default), `xml` or `csv` (see the module comment). */
  resultsShape?: ResultsShape | undefined;
}

/** A generated or listed check as the simulator reports it. */
export interface ReportedCheck {
  CheckId: string;
  Name: string;
  Result: SimCheckResult;
  Severity?: string;
}

const CHECK_NAMES = [
  'Minimum password length',
  'Audit logon events',
  'Account lockout threshold',
  'SSH root login disabled',
  'Firewall enabled',
  'Guest account disabled',
  'Time synchronisation configured',
  'Unused services disabled',
];
const SEVERITIES = ['High', 'Medium', 'Low', 'Medium'];

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A GUID-shaped id derived from `seed` (version 5 layout, so it reads as a name-based GUID). */
function derivedGuid(seed: string): string {
  const h = sha256(seed);
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The checks of `standardId` on `assetId` in `run`: the plan's explicit checks, or `checks` generated
 * ones of which exactly round(checks × passRatio) pass, `notApplicable` are NotApplicable, `errors`
 * Error and the rest Fail; which ones is drawn from (run, asset, standard), so it is stable.
 */
export function checksFor(run: SimRun, assetId: string, standardId: string): ReportedCheck[] {
  const plan = run.plan.results ?? {};
  const { byStandard, ...common } = plan;
  const spec: SimResultsSpec = { ...common, ...lowerKeyed(byStandard)[standardId] };
  const listed = spec.checks;
  if (Array.isArray(listed)) {
    return listed.map((c: SimCheck, i) => ({
      CheckId: (c.CheckId ?? derivedGuid(`check|${standardId}|${i}`)).toLowerCase(),
      Name: c.Name ?? `${CHECK_NAMES[i % CHECK_NAMES.length]!} (${i + 1})`,
      Result: c.Result,
      ...(c.Severity === undefined ? {} : { Severity: c.Severity }),
    }));
  }
  const total = listed ?? 10;
  const pass = Math.round(total * (spec.passRatio ?? 0.8));
  const notApplicable = Math.min(spec.notApplicable ?? 0, total - pass);
  const errors = Math.min(spec.errors ?? 0, total - pass - notApplicable);
  const seed = `${run.JobRunID}|${assetId}|${standardId}`;
  // Positions in a seeded order: the first `pass` of them pass, then NotApplicable, Error, Fail.
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => sha256(`${seed}|${a}`).localeCompare(sha256(`${seed}|${b}`)));
  const result: SimCheckResult[] = new Array<SimCheckResult>(total);
  order.forEach((position, rank) => {
    result[position] =
      rank < pass ? 'Pass' : rank < pass + notApplicable ? 'NotApplicable' : rank < pass + notApplicable + errors ? 'Error' : 'Fail';
  });
  return result.map((r, i) => ({
    CheckId: derivedGuid(`check|${standardId}|${i}`),
    Name: `${CHECK_NAMES[i % CHECK_NAMES.length]!} (${i + 1})`,
    Result: r,
    Severity: SEVERITIES[i % SEVERITIES.length]!,
  }));
}

function lowerKeyed<T>(record: Record<string, T> | undefined): Record<string, T> {
  return Object.fromEntries(Object.entries(record ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The checks as CSV lines (CRLF), header first: the `csv` results shape and the report's content. */
export function checksCsv(checks: ReportedCheck[]): string {
  const lines = [
    'CheckId,Name,Result,Severity',
    ...checks.map((c) => [c.CheckId, c.Name, c.Result, c.Severity ?? ''].map(csvCell).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A ZIP archive of one stored (uncompressed) entry, dated 1980-01-01: the same bytes for the same content. */
export function storedZip(name: string, content: Buffer): Buffer {
  const fileName = Buffer.from(name, 'utf8');
  const crc = crc32(content);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0x0800, 6); // UTF-8 names
  local.writeUInt16LE(0, 8); // stored
  local.writeUInt16LE(0, 10); // time 00:00
  local.writeUInt16LE(0x21, 12); // date 1980-01-01
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  local.writeUInt16LE(0, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0x0800, 8);
  central.writeUInt16LE(0, 10);
  central.writeUInt16LE(0, 12);
  central.writeUInt16LE(0x21, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  // extra, comment, disk, internal attributes, external attributes: 0; local header at offset 0.
  const centralStart = local.length + fileName.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralStart, 16);
  return Buffer.concat([local, fileName, content, central, fileName, end]);
}

/** Whether a run has evaluation results: it ended Completed or Faulted. */
function hasResults(state: SimState, run: SimRun): boolean {
  const view = state.view(run);
  return view.endedAt !== null && ['completed', 'faulted', '4', '5'].includes(String(view.status).toLowerCase());
}

interface FindingsRequest {
  assetId: string;
  standardId: string;
  runId: string | undefined;
  checkIds: Set<string> | undefined;
}

export class FindingsService {
  constructor(
    private readonly state: SimState,
    private readonly tokens: TokenAuthority,
    private readonly options: FindingsOptions,
    private readonly text: (key: keyof FindingsTexts, id: string) => string,
  ) {}

  private guid(value: unknown, name: string): string {
    if (value === undefined || value === null || value === '') throw new HttpError(400, `The ${name} parameter is mandatory.`);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (!GUID.test(text)) throw new HttpError(400, this.text('invalidGuid', JSON.stringify(text.slice(0, 50))));
    return text.toLowerCase();
  }

  /** `GET /AssetGroup/{GroupID}/Assets`. */
  groupAssets(req: http.IncomingMessage, groupId: string, onUser: (user: string) => void): Reply {
    this.tokens.authorize(req, false, onUser);
    const id = this.guid(groupId, 'GroupID');
    const members = this.state.assetGroup(id);
    if (!members) throw new HttpError(404, this.text('assetGroupNotFound', id));
    return { status: 200, body: members.map((a) => this.asset(a)) };
  }

  private asset(a: SimAsset): Record<string, unknown> {
    return { Id: ccsGuid(a.Id.toLowerCase(), this.options), Name: a.Name ?? `Asset ${a.Id.slice(0, 8)}`, Type: assetType(a) };
  }

  /** The run a findings request is about, and the checks it reports; 404 when there are none. */
  private find(request: FindingsRequest): { run: SimRun; checks: ReportedCheck[] } {
    const { assetId, standardId } = request;
    const covers = (run: SimRun): boolean =>
      this.state.runAssets(run).some((a) => a.Id.toLowerCase() === assetId) && this.state.runStandards(run).includes(standardId);
    let run: SimRun | undefined;
    if (request.runId !== undefined) {
      run = this.state.runs.get(request.runId);
      if (!run) throw new HttpError(404, this.text('runNotFound', request.runId));
      if (!hasResults(this.state, run)) throw new HttpError(404, this.text('noResults', request.runId));
      if (!covers(run))
        throw new HttpError(404, this.text('noResults', `${request.runId} (asset ${assetId}, standard ${standardId} not evaluated by it)`));
    } else {
      run = [...this.state.runs.values()]
        .filter((r) => hasResults(this.state, r) && covers(r))
        .sort((a, b) => (this.state.view(b).endedAt ?? 0) - (this.state.view(a).endedAt ?? 0))[0];
      if (!run) throw new HttpError(404, this.text('noResults', `asset ${assetId}, standard ${standardId}`));
    }
    const all = checksFor(run, assetId, standardId);
    return { run, checks: request.checkIds ? all.filter((c) => request.checkIds!.has(c.CheckId.toLowerCase())) : all };
  }

  /** Reads a Results body; 400 when it is not a JSON object or a GUID is missing or malformed. */
  private resultsRequest(raw: string): FindingsRequest {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, this.text('invalidBody', ''));
    const fields = new Map(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v as unknown]));
    if (fields.has('standardversion'))
      throw new HttpError(400, 'The simulator does not model standard versions: send jobrunid, or neither for the latest results.');
    const list = fields.get('checkidlist');
    let checkIds: Set<string> | undefined;
    if (list !== undefined && list !== null) {
      const items = Array.isArray(list) ? list : typeof list === 'string' ? list.split(',').map((s) => s.trim()) : null;
      if (items === null) throw new HttpError(400, 'The checkidlist parameter must be a list of GUIDs.');
      const ids = items.filter((s) => s !== '').map((s) => this.guid(s, 'checkidlist'));
      if (ids.length > 0) checkIds = new Set(ids);
    }
    return {
      assetId: this.guid(fields.get('assetid'), 'assetid'),
      standardId: this.guid(fields.get('standardid'), 'standardid'),
      runId: fields.get('jobrunid') === undefined ? undefined : this.guid(fields.get('jobrunid'), 'jobrunid'),
      checkIds,
    };
  }

  /** The JobRunID a Results body names, for the request log; undefined when it names none. */
  static runIdOf(raw: string): string | undefined {
    try {
      const body = JSON.parse(raw) as unknown;
      if (!body || typeof body !== 'object') return undefined;
      const value: unknown = Object.entries(body as Record<string, unknown>).find(([k]) => k.toLowerCase() === 'jobrunid')?.[1];
      return typeof value === 'string' ? value.toLowerCase() : undefined;
    } catch {
      return undefined;
    }
  }

  /** `POST /Results`. */
  results(req: http.IncomingMessage, raw: string, onUser: (user: string) => void): Reply {
    this.tokens.authorize(req, false, onUser, 'results');
    const request = this.resultsRequest(raw);
    const { run, checks } = this.find(request);
    const d = this.options;
    const ids = { AssetId: ccsGuid(request.assetId, d), StandardId: ccsGuid(request.standardId, d), JobRunId: ccsGuid(run.JobRunID, d) };
    switch (this.options.resultsShape ?? 'checks') {
      case 'xml': {
        const rows = checks
          .map(
            (c) =>
              `<Check Id="${ccsGuid(c.CheckId, d)}" Name="${xmlEscape(c.Name)}" Result="${c.Result}"${c.Severity ? ` Severity="${c.Severity}"` : ''}/>`,
          )
          .join('');
        const xml = `<?xml version="1.0" encoding="utf-8"?><EvaluationResults AssetId="${ids.AssetId}" StandardId="${ids.StandardId}" JobRunId="${ids.JobRunId}">${rows}</EvaluationResults>`;
        return { status: 200, body: { Results: xml } };
      }
      case 'csv':
        return {
          status: 200,
          body: checksCsv(checks.map((c) => ({ ...c, CheckId: ccsGuid(c.CheckId, d) }))),
          headers: { 'content-type': 'text/csv; charset=utf-8' },
        };
      default:
        return {
          status: 200,
          body: {
            ...ids,
            EvaluationTime: ccsDate(this.state.view(run).endedAt, d),
            Checks: checks.map((c) => ({ ...c, CheckId: ccsGuid(c.CheckId, d) })),
          },
        };
    }
  }

  /** `GET /Reports?assetid&standardid&jobrunid&reportfiletype=excel`. */
  report(req: http.IncomingMessage, query: Map<string, string>, onUser: (user: string) => void): Reply {
    this.tokens.authorize(req, false, onUser, 'results');
    const fileType = query.get('reportfiletype');
    if (fileType === undefined || fileType === '') throw new HttpError(400, 'The reportfiletype parameter is mandatory (excel).');
    const request: FindingsRequest = {
      assetId: this.guid(query.get('assetid'), 'assetid'),
      standardId: this.guid(query.get('standardid'), 'standardid'),
      runId: query.get('jobrunid') === undefined ? undefined : this.guid(query.get('jobrunid'), 'jobrunid'),
      checkIds: undefined,
    };
    if (fileType.toLowerCase() !== 'excel')
      throw new HttpError(400, `The report file type ${JSON.stringify(fileType.slice(0, 40))} is not supported; use excel.`);
    const { run, checks } = this.find(request);
    const bytes = storedZip('results.csv', Buffer.from(checksCsv(checks), 'utf8'));
    const name = `EvaluationReport_${run.JobRunID}_${request.assetId}_${request.standardId}.xlsx`;
    return { status: 200, body: bytes, headers: { 'content-type': XLSX_TYPE, 'content-disposition': `attachment; filename="${name}"` } };
  }
}
