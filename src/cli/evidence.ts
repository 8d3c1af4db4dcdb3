/** `ccs-jobs evidence list|show|verify|export`: the evidence chain, read where the workers write it (EVIDENCE_DIR). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EvidenceContent, StartedBy } from '../domain/evidence';
import { parseDuration, requireGuid } from '../domain/validation';
import { parseAnchor, type Anchor } from '../evidence/chain';
import { scanRootId } from '../domain/redrive';
import { renderReportPage } from '../evidence/html-report';
import { JsonlEvidenceSink } from '../evidence/jsonl-sink';
import { PostgresEvidenceSink } from '../evidence/postgres-sink';
import { attemptsText, exportPages, isAttemptOf, scanAttemptsOf, type Sealed } from './evidence-attempts';
import { CliError, ExitCode, table } from './output';
import type { Out } from './progress';
import type { CommandSpec } from './spec';
import { printable } from './terminal-text';

export interface EvidenceOptions {
  dir?: string | undefined;
  since?: string | undefined;
  job?: string | undefined;
  status?: string | undefined;
  format?: string | undefined;
  out?: string | undefined;
  json?: boolean | undefined;
  /** `SEQ:HASH` heads written down earlier: verify fails if any is no longer in the chain. */
  anchor?: string[] | undefined;
  /** `SEQ:HASH`, the head of months archived elsewhere: verify starts at the record after it. */
  after?: string | undefined;
}

/** The records that pass the filters, oldest first. */
async function selected(sink: Pick<JsonlEvidenceSink<EvidenceContent>, 'records'>, o: EvidenceOptions): Promise<Sealed[]> {
  let since: number | undefined;
  if (o.since !== undefined) {
    try {
      since = Date.now() - parseDuration('--since', o.since);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  let job: string | undefined;
  if (o.job !== undefined) {
    try {
      job = requireGuid('--job', o.job);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const status = o.status?.toLowerCase();
  const out: Sealed[] = [];
  for await (const r of sink.records()) {
    if (!r) continue;
    if (since !== undefined && Date.parse(r.recordedAt) < since) continue;
    if (job !== undefined && r.jobId !== job && !r.pipeline?.stages.some((s) => s.jobs.some((j) => j.jobId === job))) continue;
    if (status !== undefined && r.status.toLowerCase() !== status) continue;
    out.push(r);
  }
  return out;
}

const CSV_COLUMNS = [
  'seq',
  'recordedAt',
  'kind',
  'workflowId',
  'runId',
  'ccs',
  'jobId',
  'jobRunId',
  'startTime',
  'endTime',
  'status',
  'outcome',
  'exception',
  // Only what the starter typed (a claim); startedByIdentity is what Temporal recorded for the caller.
  'requestedBy',
  'scheduleId',
  'pipelineWorkflowId',
  'startedByIdentity',
  'workerVersion',
  'hash',
  'prevHash',
] as const;

/**
 * What a spreadsheet may read as the start of a formula: = + - @, their fullwidth forms (some
 * spreadsheets fold them to ASCII), also after leading whitespace, and a leading tab or line break.
 */
const FORMULA_START = /^(?:[\t\r\n]|\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/;

/** One CSV cell: quoted when it needs to be, and never a formula when a spreadsheet opens the file. */
export function csvCell(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = `${value}`;
  else text = JSON.stringify(value);
  // A spreadsheet takes such a cell for a formula (OWASP CSV injection): the quote makes it text.
  if (FORMULA_START.test(text)) return `"'${text.replace(/"/g, '""')}"`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Who started a run, as the list shows it. `requestedBy` is only what the starter typed: it is shown
 * as a claim, beside the identity Temporal recorded for the caller.
 */
export function startedByText(s: StartedBy): string {
  if (s.requestedBy === undefined) return s.scheduleId ?? s.pipelineWorkflowId ?? s.identity ?? '-';
  return [s.scheduleId ?? s.pipelineWorkflowId, s.identity ?? 'identity unknown', `requested by (as claimed): ${s.requestedBy}`]
    .filter((part) => part !== undefined)
    .join(' · ');
}

export function toCsv(records: Sealed[]): string {
  const rows = records.map((r) => {
    const flat: Record<string, unknown> = {
      ...r,
      requestedBy: r.startedBy.requestedBy,
      scheduleId: r.startedBy.scheduleId,
      pipelineWorkflowId: r.startedBy.pipelineWorkflowId,
      startedByIdentity: r.startedBy.identity,
    };
    return CSV_COLUMNS.map((c) => csvCell(flat[c])).join(',');
  });
  return `${CSV_COLUMNS.join(',')}\n${rows.join('\n')}${rows.length ? '\n' : ''}`;
}

export async function evidence(
  verb: string | undefined,
  arg: string | undefined,
  o: EvidenceOptions,
  env: Record<string, string | undefined>,
  out: Out,
): Promise<number> {
  const databaseUrl = o.dir === undefined ? env.EVIDENCE_DATABASE_URL : undefined;
  const dir = databaseUrl ? 'the PostgreSQL sink (EVIDENCE_DATABASE_URL)' : resolve(o.dir ?? env.EVIDENCE_DIR ?? 'evidence');
  const sink = databaseUrl ? new PostgresEvidenceSink<EvidenceContent>(databaseUrl) : new JsonlEvidenceSink<EvidenceContent>(dir);
  try {
    return await command(verb, arg, o, sink, dir, out);
  } finally {
    if (sink instanceof PostgresEvidenceSink) await sink.close();
  }
}

/** Where records are read from: the JSON Lines directory or PostgreSQL. */
type Source = Pick<JsonlEvidenceSink<EvidenceContent>, 'records' | 'verify'>;

async function command(
  verb: string | undefined,
  arg: string | undefined,
  o: EvidenceOptions,
  sink: Source,
  dir: string,
  out: Out,
): Promise<number> {
  switch (verb) {
    case 'list': {
      const records = await selected(sink, o);
      if (o.json) out.write(`${JSON.stringify(records, null, 2)}\n`);
      else if (records.length === 0) out.write(`no evidence records in ${dir}${o.since || o.job || o.status ? ' match' : ''}\n`);
      else {
        const rows = records.map((r) =>
          [String(r.seq), r.recordedAt, r.kind, r.workflowId, r.jobId ?? '-', r.status, r.outcome, startedByText(r.startedBy)].map(
            printable,
          ),
        );
        out.write(`${table(['SEQ', 'RECORDED', 'KIND', 'WORKFLOW ID', 'JOB ID', 'STATUS', 'OUTCOME', 'STARTED BY'], rows)}\n`);
      }
      return ExitCode.ok;
    }
    case 'show': {
      if (!arg) throw new CliError('name the workflow: ccs-jobs evidence show <workflowId>');
      // Any attempt's id names its scan: the first attempt and every /redrive-<n> are shown together.
      const root = scanRootId(arg);
      const records: Sealed[] = [];
      const scan: Sealed[] = [];
      for await (const r of sink.records()) {
        if (!r) continue;
        if (r.workflowId === arg) records.push(r);
        if (isAttemptOf(r, root)) scan.push(r);
      }
      if (records.length === 0 && scan.length === 0) throw new CliError(`no evidence record for workflow ${arg} in ${dir}`);
      if (records.some((r) => r.kind !== 'pipeline')) {
        out.write(`${JSON.stringify(records.length === 1 ? records[0] : records, null, 2)}\n`);
        return ExitCode.ok;
      }
      const attempts = scanAttemptsOf(scan, root);
      out.write(o.json ? `${JSON.stringify({ rootWorkflowId: root, attempts }, null, 2)}\n` : attemptsText(root, arg, attempts));
      return ExitCode.ok;
    }
    case 'verify': {
      let anchors: Anchor[];
      let after: Anchor | undefined;
      try {
        anchors = (o.anchor ?? []).map((a) => parseAnchor(a));
        after = o.after === undefined ? undefined : parseAnchor(o.after, '--after');
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      const archived = after && anchors.find((a) => a.seq <= after.seq);
      if (archived)
        throw new CliError(`--anchor ${archived.seq} is in the archived part (up to --after ${after!.seq}): verify it against the archive`);
      const result = await sink.verify(anchors, after);
      if (result.broken) {
        out.write(
          o.json
            ? `${JSON.stringify({ ok: false, dir, ...result }, null, 2)}\n`
            : `evidence chain in ${printable(dir)} is BROKEN at record ${result.broken.position} (${result.broken.reason}): ${printable(result.broken.detail)}\n`,
        );
        return ExitCode.failed;
      }
      // The head as SEQ:HASH: written down elsewhere, it is what a later `verify --anchor` checks.
      const head = `${result.lastSeq}:${result.lastHash}`;
      const anchored = `${after ? `, after archived record ${after.seq}` : ''}${anchors.length ? `; ${anchors.length} anchor(s) found` : ''}`;
      const skipped = result.unreadable
        ? `; ${result.unreadable} unreadable line(s) skipped, the first at position ${result.firstUnreadable} (a write cut short by a crash, or text that is no record: it hides nothing, the links around it hold)`
        : '';
      out.write(
        o.json
          ? `${JSON.stringify({ ok: true, dir, head, anchors: anchors.length, ...result }, null, 2)}\n`
          : `evidence chain in ${dir} is intact: ${result.count} record(s), head ${head}${anchored}${skipped}\n`,
      );
      return ExitCode.ok;
    }
    case 'export': {
      const format = o.format ?? 'json';
      if (format !== 'json' && format !== 'csv' && format !== 'html')
        throw new CliError(`--format must be json, csv or html; got ${JSON.stringify(format)}`);
      if (!o.out) throw new CliError('name the file: ccs-jobs evidence export --format json|csv|html --out FILE');
      const records = await selected(sink, o);
      if (format === 'html') {
        // A redriven scan is drawn whole, its attempts outside the filters included: one story per scan.
        const all: Sealed[] = [];
        for await (const r of sink.records()) if (r?.kind === 'pipeline') all.push(r);
        const pages = exportPages(records, all, new Date().toISOString());
        writeFileSync(o.out, renderReportPage(`CCS scan evidence (${pages.length} pipeline run(s))`, pages));
      } else writeFileSync(o.out, format === 'csv' ? toCsv(records) : `${JSON.stringify(records, null, 2)}\n`);
      out.write(`exported ${records.length} record(s) as ${format} to ${o.out}\n`);
      return ExitCode.ok;
    }
    default:
      throw new CliError('use ccs-jobs evidence list|show|verify|export (see ccs-jobs evidence --help)');
  }
}

export const evidenceCommand: CommandSpec = {
  name: 'evidence',
  synopsis: 'evidence list|show|verify|export',
  summary: 'the tamper-evident record of every closed run (EVIDENCE_DIR)',
  verbs: ['list', 'show', 'verify', 'export'],
  usage: [
    'ccs-jobs evidence list [--since 30d] [--job <JobID>] [--status Faulted] [--json] [--dir DIR]',
    'ccs-jobs evidence show <workflowId> [--json] [--dir DIR]',
    'ccs-jobs evidence verify [--anchor SEQ:HASH]... [--after SEQ:HASH] [--json] [--dir DIR]',
    'ccs-jobs evidence export --format json|csv|html [--since 30d] [--job <JobID>] [--status S] --out FILE [--dir DIR]',
  ],
  description: `Every runCcsJob and runCcsPipeline writes one record when it closes, whatever the outcome, into a
SHA-256 hash chain (each record carries the previous record's hash) of JSON Lines files in the
workers' EVIDENCE_DIR (--dir, default ./evidence), or PostgreSQL with EVIDENCE_DATABASE_URL. verify
walks the chain: exit 0 when intact, 2 naming the first edited, removed or reordered record. It
prints the head as SEQ:HASH: keep it elsewhere (a ticket, another system) and pass it later as
--anchor, which also finds the newest records removed (a shorter chain is valid in itself). --after
starts at the record following an archived head (older month files moved away after a passing verify).
show of a pipeline, given any attempt's id, shows every attempt of its scan (the first and each
<id>/redrive-<n>): status, outcome, the jobs carried (from which attempt) and the jobs run again;
--json as { rootWorkflowId, attempts: [...] }. export --format html draws a redriven scan whole.`,
  flags: [
    {
      name: 'dir',
      type: 'string',
      value: 'DIR',
      help: 'the evidence directory (default EVIDENCE_DIR or ./evidence; given, it is read instead of EVIDENCE_DATABASE_URL)',
    },
    { name: 'since', type: 'string', value: '30d', verbs: ['list', 'export'], help: 'only records of this long ago or later' },
    {
      name: 'job',
      type: 'string',
      value: 'JOB_ID',
      verbs: ['list', 'export'],
      help: 'only records of this job (or pipelines that ran it)',
    },
    { name: 'status', type: 'string', value: 'STATUS', verbs: ['list', 'export'], help: 'only records of this final status, e.g. Faulted' },
    { name: 'json', type: 'boolean', verbs: ['list', 'show', 'verify'], help: 'machine-readable output' },
    {
      name: 'anchor',
      type: 'string',
      multiple: true,
      value: 'SEQ:HASH',
      verbs: ['verify'],
      help: 'a head written down earlier: verify fails when it is no longer in the chain',
    },
    {
      name: 'after',
      type: 'string',
      value: 'SEQ:HASH',
      verbs: ['verify'],
      help: 'the head of archived records: verify starts at the record after it',
    },
    {
      name: 'format',
      type: 'string',
      value: 'json|csv|html',
      verbs: ['export'],
      help: 'the file format (default json; html: the pipeline runs as report pages)',
    },
    { name: 'out', type: 'string', value: 'FILE', verbs: ['export'], help: 'the file to write (required)' },
  ],
  examples: [
    'ccs-jobs evidence list --since 30d --status Faulted',
    'ccs-jobs evidence verify --anchor 1042:<the 64 hex digits verify printed last week>',
    'ccs-jobs evidence export --format csv --since 366d --out scans-2026.csv',
  ],
  run({ args, flags, env, out }) {
    const options: EvidenceOptions = {
      dir: flags.string('dir'),
      since: flags.string('since'),
      job: flags.string('job'),
      status: flags.string('status'),
      format: flags.string('format'),
      out: flags.string('out'),
      json: flags.boolean('json'),
      anchor: flags.list('anchor'),
      after: flags.string('after'),
    };
    return evidence(args[0], args[1], options, env, out);
  },
};
