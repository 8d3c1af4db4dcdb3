/** `ccs-jobs evidence list|show|verify|export`: the evidence chain, read where the workers write it (EVIDENCE_DIR). */
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EvidenceContent, StartedBy } from '../domain/evidence';
import { parseDuration, requireGuid } from '../domain/validation';
import { ChainWalker, parseAnchor, verifyStream, type Anchor, type ChainVerdict } from '../evidence/chain';
import { verifyBundle, writeBundle } from '../evidence/bundle';
import { toOscalAssessmentResults } from '../evidence/oscal';
import { publishHead, readPublishedHeads } from '../evidence/published-head';
import { PACKAGE_VERSION } from '../hosting/config/versioning';
import { fileSigner, generateSigningKey, publicKeysById } from '../evidence/signing';
import { scanRootId } from '../domain/redrive';
import { renderReportPage } from '../evidence/html-report';
import { JsonlEvidenceSink } from '../evidence/jsonl-sink';
import { PostgresEvidenceSink, migrateEvidenceDatabase } from '../evidence/postgres-sink';
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
  /** Public keys (PEM files): every record must be signed by one of them. */
  publicKey?: string[] | undefined;
  /** Files the head was published to (default EVIDENCE_HEAD_FILE): each head must still be in the chain. */
  publishedHeads?: string[] | undefined;
  /** publish-head: the file to append the head to (default EVIDENCE_HEAD_FILE). */
  to?: string | undefined;
  /** migrate: the workers' PostgreSQL role, left only SELECT and INSERT. */
  writer?: string | undefined;
  /** verify: a bundle file (from `bundle`) to check instead of the store. */
  bundle?: string | undefined;
}

/** What a walk of the chain is checked against, from the flags and the environment. */
interface Checks {
  anchors: Anchor[];
  after: Anchor | undefined;
  keys: Map<string, KeyObject> | undefined;
  /** Published heads that could not be used (not a head, not signed by a key given): breaks too. */
  headProblems: string[];
  /** Head files named but absent: a break once the chain has records (the heads were lost, or never written). */
  missingHeadFiles: string[];
  /** Where the published heads were read from, and how many heads they gave. */
  headFiles: string[];
  published: number;
}

async function checksOf(o: EvidenceOptions, env: Record<string, string | undefined>, withAnchors: boolean): Promise<Checks> {
  let anchors: Anchor[] = [];
  let after: Anchor | undefined;
  let keys: Map<string, KeyObject> | undefined;
  try {
    if (withAnchors) {
      anchors = (o.anchor ?? []).map((a) => parseAnchor(a));
      after = o.after === undefined ? undefined : parseAnchor(o.after, '--after');
    }
    keys = o.publicKey?.length ? publicKeysById(o.publicKey.map((f) => resolve(f))) : undefined;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const envHeads = env.EVIDENCE_HEAD_FILE?.trim();
  const headFiles = o.publishedHeads?.length ? o.publishedHeads : envHeads ? [envHeads] : [];
  const headProblems: string[] = [];
  const missingHeadFiles: string[] = [];
  const given = anchors.length;
  for (const file of headFiles) {
    if (!existsSync(file)) {
      missingHeadFiles.push(file);
      continue;
    }
    const published = await readPublishedHeads(file, keys);
    // Heads of the archived part were verified with the archive.
    anchors.push(...published.anchors.filter((a) => !after || a.seq > after.seq));
    headProblems.push(...published.problems);
  }
  return { anchors, after, keys, headProblems, missingHeadFiles, headFiles, published: anchors.length - given };
}

/** The verdict with the published heads' problems counted as breaks. */
function withHeadProblems(verdict: ChainVerdict, checks: Checks): ChainVerdict & { intact: boolean } {
  // An empty chain has no head to publish yet; a chain with records whose head file is gone does.
  const missing = verdict.count === 0 ? [] : checks.missingHeadFiles;
  const extra = [
    ...checks.headProblems,
    ...missing.map((f) => `published heads file ${f} does not exist (moved, lost, or no worker has published to it: EVIDENCE_HEAD_FILE)`),
  ].map((detail) => ({ position: 0, seq: null, reason: 'anchor' as const, detail }));
  const breaks = [...verdict.breaks, ...extra];
  return { ...verdict, breaks, broken: breaks[0] ?? null, breakCount: verdict.breakCount + extra.length, intact: breaks.length === 0 };
}

/** One line on the chain a command read its records from: intact (and how far it was checked), or broken. */
function checkText(v: ChainVerdict & { intact: boolean }, checks: Checks): string {
  const head = `head ${v.lastSeq}:${v.lastHash}`;
  if (!v.intact) {
    const first = v.broken!;
    return `the evidence chain is BROKEN (${v.breakCount} break(s); the first${first.seq === null ? '' : ` at record ${first.seq}`}: ${first.detail}): what is shown may have been altered; ccs-jobs evidence verify lists every break`;
  }
  const parts = [`the evidence chain is intact: ${v.count} record(s), ${head}`];
  if (checks.keys) parts.push(`every record signed by a key given (${v.signed})`);
  else parts.push('signatures not checked (--public-key)');
  if (checks.headFiles.length) parts.push(`${checks.published} published head(s) found`);
  else parts.push('truncation not checked (--published-heads or EVIDENCE_HEAD_FILE)');
  return parts.join('; ');
}

/** The records that pass the filters, oldest first, and the verdict on the whole chain they were read from. */
async function selected(
  sink: Pick<JsonlEvidenceSink<EvidenceContent>, 'records'>,
  o: EvidenceOptions,
  checks: Checks,
): Promise<{ records: Sealed[]; verdict: ChainVerdict & { intact: boolean } }> {
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
  // Every record is walked, shown or not: what is shown is only as good as the chain around it.
  const walker = new ChainWalker(checks);
  for await (const r of sink.records()) {
    walker.add(r);
    if (!r) continue;
    if (since !== undefined && Date.parse(r.recordedAt) < since) continue;
    if (job !== undefined && r.jobId !== job && !r.pipeline?.stages.some((s) => s.jobs.some((j) => j.jobId === job))) continue;
    if (status !== undefined && r.status.toLowerCase() !== status) continue;
    out.push(r);
  }
  return { records: out, verdict: withHeadProblems(walker.finish(), checks) };
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
  err: (text: string) => void = () => undefined,
): Promise<number> {
  if (verb === 'keygen') return keygen(o, out);
  if (verb === 'migrate') return migrate(o, env, out);
  if (verb === 'verify' && o.bundle !== undefined) return verifyBundleFile(o, env, out);
  const databaseUrl = o.dir === undefined ? env.EVIDENCE_DATABASE_URL : undefined;
  const dir = databaseUrl ? 'the PostgreSQL sink (EVIDENCE_DATABASE_URL)' : resolve(o.dir ?? env.EVIDENCE_DIR ?? 'evidence');
  const sink = databaseUrl ? new PostgresEvidenceSink<EvidenceContent>(databaseUrl) : new JsonlEvidenceSink<EvidenceContent>(dir);
  try {
    return await command(verb, arg, o, env, sink, dir, out, err);
  } finally {
    if (sink instanceof PostgresEvidenceSink) await sink.close();
  }
}

/** `keygen --out FILE`: a new Ed25519 key pair for EVIDENCE_SIGNING_KEY_FILE, the public half beside it. */
function keygen(o: EvidenceOptions, out: Out): number {
  if (!o.out) throw new CliError('name the private key file: ccs-jobs evidence keygen --out FILE (the public key goes to FILE.pub)');
  let made: { keyId: string; publicKeyFile: string };
  try {
    made = generateSigningKey(resolve(o.out));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'EEXIST'
        ? `${o.out} or ${o.out}.pub exists already: keygen never replaces a key (pick another name for a rotation)`
        : `cannot write ${o.out}: ${(err as Error).message}`,
    );
  }
  out.write(
    `key ${made.keyId}: private key in ${o.out} (mode 0600; give it to the workers as EVIDENCE_SIGNING_KEY_FILE), public key in ${made.publicKeyFile} (give it to whoever verifies: verify --public-key ${made.publicKeyFile})\n`,
  );
  return ExitCode.ok;
}

/** `migrate [--writer ROLE]`: the PostgreSQL store's migrations, applied as the tables' owner (EVIDENCE_DATABASE_URL). */
async function migrate(o: EvidenceOptions, env: Record<string, string | undefined>, out: Out): Promise<number> {
  const url = env.EVIDENCE_DATABASE_URL?.trim();
  if (!url)
    throw new CliError(
      "set EVIDENCE_DATABASE_URL to the evidence database as the role that owns (or will own) its tables, then: ccs-jobs evidence migrate --writer <the workers' role>",
    );
  let done: { applied: number[]; granted?: string };
  try {
    done = await migrateEvidenceDatabase(url, o.writer === undefined ? {} : { writerRole: o.writer });
  } catch (err) {
    // pg's messages name roles and tables, never the URL's password.
    throw new CliError(`evidence migrate: ${(err as Error).message.split('\n')[0]}`);
  }
  out.write(
    `${done.applied.length ? `applied migration(s) ${done.applied.join(', ')}` : 'every migration was applied already'}${done.granted ? `; role ${done.granted} may only SELECT and INSERT (no UPDATE, DELETE or TRUNCATE): give the workers its URL` : ''}\n`,
  );
  return ExitCode.ok;
}

/** `verify --bundle FILE`: a bundle checked offline, with the public keys given apart from it. */
async function verifyBundleFile(o: EvidenceOptions, env: Record<string, string | undefined>, out: Out): Promise<number> {
  if (o.anchor?.length || o.after !== undefined || o.publishedHeads?.length || o.dir !== undefined)
    throw new CliError('verify --bundle checks the bundle alone: --anchor, --after, --published-heads and --dir are for a store');
  const checks = await checksOf(o, env, false);
  const file = resolve(o.bundle!);
  if (!existsSync(file)) throw new CliError(`--bundle ${o.bundle}: no such file`);
  const v = await verifyBundle(file, { keys: checks.keys });
  const m = v.manifest;
  const head = m?.head ? `${m.head.seq}:${m.head.hash}` : 'none';
  if (o.json) out.write(`${JSON.stringify({ ok: v.intact, bundle: file, head, ...v }, null, 2)}\n`);
  else if (v.intact)
    out.write(
      `evidence bundle ${printable(o.bundle)} is intact: ${v.count} record(s)${m?.after ? ` after record ${m.after.seq}` : ''}, head ${head}${
        checks.keys
          ? `; all ${v.signed} records and the manifest signed by the key(s) given`
          : '; signatures not checked (--public-key): it shows only that the bundle is consistent in itself'
      }\n`,
    );
  else {
    const lines = [...v.problems, ...v.breaks.map((b) => `record at position ${b.position} (${b.reason}): ${b.detail}`)];
    const more = v.breakCount > v.breaks.length ? [`… and ${v.breakCount - v.breaks.length} more break(s)`] : [];
    out.write(
      `evidence bundle ${printable(o.bundle)} is BROKEN: ${v.problems.length} problem(s), ${v.breakCount} break(s)\n${[...lines, ...more].map((l) => `  ${printable(l)}`).join('\n')}\n`,
    );
  }
  return v.intact ? ExitCode.ok : ExitCode.failed;
}

/** Where records are read from: the JSON Lines directory or PostgreSQL. */
type Source = Pick<JsonlEvidenceSink<EvidenceContent>, 'records' | 'verify' | 'head'>;

async function command(
  verb: string | undefined,
  arg: string | undefined,
  o: EvidenceOptions,
  env: Record<string, string | undefined>,
  sink: Source,
  dir: string,
  out: Out,
  err: (text: string) => void,
): Promise<number> {
  /** Says on stderr what the chain shown came from is worth; exit 2 when it is broken. */
  const reportCheck = (verdict: ChainVerdict & { intact: boolean }, checks: Checks): number => {
    err(`${verdict.intact ? '' : 'ccs-jobs: '}${printable(checkText(verdict, checks))}\n`);
    return verdict.intact ? ExitCode.ok : ExitCode.failed;
  };
  switch (verb) {
    case 'list': {
      const checks = await checksOf(o, env, false);
      const { records, verdict } = await selected(sink, o, checks);
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
      return reportCheck(verdict, checks);
    }
    case 'show': {
      if (!arg) throw new CliError('name the workflow: ccs-jobs evidence show <workflowId>');
      const checks = await checksOf(o, env, false);
      // Any attempt's id names its scan: the first attempt and every /redrive-<n> are shown together.
      const root = scanRootId(arg);
      const records: Sealed[] = [];
      const scan: Sealed[] = [];
      const walker = new ChainWalker(checks);
      for await (const r of sink.records()) {
        walker.add(r);
        if (!r) continue;
        if (r.workflowId === arg) records.push(r);
        if (isAttemptOf(r, root)) scan.push(r);
      }
      const verdict = withHeadProblems(walker.finish(), checks);
      if (records.length === 0 && scan.length === 0) {
        reportCheck(verdict, checks);
        throw new CliError(`no evidence record for workflow ${arg} in ${dir}`);
      }
      if (records.some((r) => r.kind !== 'pipeline'))
        out.write(`${JSON.stringify(records.length === 1 ? records[0] : records, null, 2)}\n`);
      else {
        const attempts = scanAttemptsOf(scan, root);
        out.write(o.json ? `${JSON.stringify({ rootWorkflowId: root, attempts }, null, 2)}\n` : attemptsText(root, arg, attempts));
      }
      return reportCheck(verdict, checks);
    }
    case 'verify': {
      const checks = await checksOf(o, env, true);
      const archived = checks.after && (o.anchor ?? []).map((a) => parseAnchor(a)).find((a) => a.seq <= checks.after!.seq);
      if (archived)
        throw new CliError(
          `--anchor ${archived.seq} is in the archived part (up to --after ${checks.after!.seq}): verify it against the archive`,
        );
      const result = withHeadProblems(await verifyStream(sink.records(), checks.anchors, checks.after, checks.keys), checks);
      const head = `${result.lastSeq}:${result.lastHash}`;
      if (!result.intact) {
        if (o.json) out.write(`${JSON.stringify({ ok: false, dir, head, ...result }, null, 2)}\n`);
        else {
          const more = result.breakCount > result.breaks.length ? `\n  … and ${result.breakCount - result.breaks.length} more` : '';
          out.write(
            `evidence chain in ${printable(dir)} is BROKEN: ${result.breakCount} break(s) in ${result.count} record(s)\n${result.breaks
              .map((b) => `  ${b.position ? `at position ${b.position}` : 'published heads'} (${b.reason}): ${printable(b.detail)}`)
              .join('\n')}${more}\n`,
          );
        }
        return ExitCode.failed;
      }
      // The head as SEQ:HASH: written down elsewhere, it is what a later `verify --anchor` checks.
      const given = checks.anchors.length - checks.published;
      const anchored = `${checks.after ? `, after archived record ${checks.after.seq}` : ''}${given ? `; ${given} anchor(s) found` : ''}${checks.headFiles.length ? `; ${checks.published} published head(s) found` : ''}`;
      const signed = checks.keys ? `; all ${result.signed} signed by the key(s) given` : '';
      const skipped = result.unreadable
        ? `; ${result.unreadable} unreadable line(s) skipped, the first at position ${result.firstUnreadable} (a write cut short by a crash, or text that is no record: it hides nothing, the links around it hold)`
        : '';
      out.write(
        o.json
          ? `${JSON.stringify({ ok: true, dir, head, anchors: checks.anchors.length, ...result }, null, 2)}\n`
          : `evidence chain in ${dir} is intact: ${result.count} record(s), head ${head}${anchored}${signed}${skipped}\n`,
      );
      return ExitCode.ok;
    }
    case 'export': {
      const format = o.format ?? 'json';
      if (format !== 'json' && format !== 'csv' && format !== 'html' && format !== 'oscal')
        throw new CliError(`--format must be json, csv, html or oscal; got ${JSON.stringify(format)}`);
      if (!o.out) throw new CliError('name the file: ccs-jobs evidence export --format json|csv|html|oscal --out FILE');
      const checks = await checksOf(o, env, false);
      const { records, verdict } = await selected(sink, o, checks);
      if (format === 'html') {
        // A redriven scan is drawn whole, its attempts outside the filters included: one story per scan.
        const all: Sealed[] = [];
        for await (const r of sink.records()) if (r?.kind === 'pipeline') all.push(r);
        const pages = exportPages(records, all, new Date().toISOString());
        const check = { intact: verdict.intact, text: `${checkText(verdict, checks)} (checked ${new Date().toISOString()})` };
        writeFileSync(o.out, renderReportPage(`CCS scan evidence (${pages.length} pipeline run(s))`, pages, check));
      } else if (format === 'oscal') {
        if (!records.some((r) => r.kind === 'job' || r.kind === 'pipeline'))
          throw new CliError('no job or pipeline record matches: an OSCAL assessment-results document needs at least one result');
        const generatedAt = new Date().toISOString();
        const check = { intact: verdict.intact, text: `${checkText(verdict, checks)} (checked ${generatedAt})` };
        const document = toOscalAssessmentResults(records, { generatedAt, check, toolVersion: PACKAGE_VERSION });
        writeFileSync(o.out, `${JSON.stringify(document, null, 2)}\n`);
      } else writeFileSync(o.out, format === 'csv' ? toCsv(records) : `${JSON.stringify(records, null, 2)}\n`);
      out.write(`exported ${records.length} record(s) as ${format} to ${o.out}\n`);
      return reportCheck(verdict, checks);
    }
    case 'bundle': {
      if (!o.out) throw new CliError('name the file: ccs-jobs evidence bundle --since 30d --out audit.zip');
      let sinceMs: number | undefined;
      try {
        sinceMs = o.since === undefined ? undefined : Date.now() - parseDuration('--since', o.since);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const checks = await checksOf(o, env, false);
      const keyFile = env.EVIDENCE_SIGNING_KEY_FILE?.trim();
      let written;
      try {
        written = await writeBundle(resolve(o.out), sink.records(), {
          ...(sinceMs === undefined ? {} : { sinceMs }),
          publicKeyPems: (o.publicKey ?? []).map((f) => readFileSync(resolve(f), 'utf8')),
          ...(keyFile ? { signer: fileSigner(resolve(keyFile)) } : {}),
        });
      } catch (e) {
        throw new CliError(`cannot write the bundle ${o.out}: ${(e as Error).message}`);
      }
      const { manifest } = written;
      out.write(
        `bundled ${manifest.records} record(s)${manifest.after ? ` after record ${manifest.after.seq}` : ''} to ${o.out} (${written.bytes} bytes${manifest.head ? `, head ${manifest.head.seq}:${manifest.head.hash}` : ''}${keyFile ? ', manifest signed' : ''}); check it anywhere with: ccs-jobs evidence verify --bundle ${o.out} --public-key <the public key>\n`,
      );
      // What was bundled is only as good as the chain it came from: the store is walked as well.
      const verdict = withHeadProblems(await verifyStream(sink.records(), checks.anchors, undefined, checks.keys), checks);
      return reportCheck(verdict, checks);
    }
    case 'publish-head': {
      const file = o.to ?? env.EVIDENCE_HEAD_FILE?.trim();
      if (!file) throw new CliError('name the file: ccs-jobs evidence publish-head --to FILE (or set EVIDENCE_HEAD_FILE)');
      const keyFile = env.EVIDENCE_SIGNING_KEY_FILE?.trim();
      let signer;
      try {
        signer = keyFile ? fileSigner(resolve(keyFile)) : undefined;
        const published = await publishHead(sink, resolve(file), signer);
        out.write(
          published
            ? `published head ${published.seq}:${published.hash} to ${file}${published.signedBy ? ` (signed by ${published.signedBy})` : ''}\n`
            : `the head is unchanged since it was last published to ${file} (or the chain is empty): nothing written\n`,
        );
      } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError(`cannot publish the head to ${file}: ${(e as Error).message}`);
      }
      return ExitCode.ok;
    }
    default:
      throw new CliError('use ccs-jobs evidence list|show|verify|export|bundle|keygen|publish-head|migrate (see ccs-jobs evidence --help)');
  }
}

export const evidenceCommand: CommandSpec = {
  name: 'evidence',
  synopsis: 'evidence list|show|verify|export',
  summary: 'the tamper-evident record of every closed run (EVIDENCE_DIR)',
  verbs: ['list', 'show', 'verify', 'export', 'bundle', 'keygen', 'publish-head', 'migrate'],
  usage: [
    'ccs-jobs evidence list [--since 30d] [--job <JobID>] [--status Faulted] [--json] [--public-key FILE]... [--published-heads FILE]... [--dir DIR]',
    'ccs-jobs evidence show <workflowId> [--json] [--public-key FILE]... [--published-heads FILE]... [--dir DIR]',
    'ccs-jobs evidence verify [--public-key FILE]... [--published-heads FILE]... [--anchor SEQ:HASH]... [--after SEQ:HASH] [--json] [--dir DIR]',
    'ccs-jobs evidence export --format json|csv|html|oscal [--since 30d] [--job <JobID>] [--status S] --out FILE [--public-key FILE]... [--published-heads FILE]... [--dir DIR]',
    'ccs-jobs evidence verify --bundle FILE [--public-key FILE]... [--json]',
    'ccs-jobs evidence bundle [--since 30d] --out FILE [--public-key FILE]... [--published-heads FILE]... [--dir DIR]',
    'ccs-jobs evidence keygen --out FILE',
    'ccs-jobs evidence publish-head [--to FILE] [--dir DIR]',
    'ccs-jobs evidence migrate [--writer ROLE]',
  ],
  description: `Every runCcsJob and runCcsPipeline writes one record when it closes, whatever the outcome, into a
SHA-256 hash chain (each record carries the previous record's hash) of JSON Lines files in the
workers' EVIDENCE_DIR (--dir, default ./evidence), or PostgreSQL with EVIDENCE_DATABASE_URL. verify
walks the whole chain: exit 0 when intact, 2 naming every edited, removed, reordered or badly signed
record. With workers signing (EVIDENCE_SIGNING_KEY_FILE, a key from keygen), --public-key (repeated
across a rotation) makes every record need a valid signature by one of the keys: a chain re-sealed
by someone without the private key fails. Workers with EVIDENCE_HEAD_FILE publish the head there on a
schedule (publish-head does it once, e.g. from cron); --published-heads (default EVIDENCE_HEAD_FILE)
checks that each published head is still in the chain, so the newest records cut away are caught.
verify prints the head as SEQ:HASH: kept elsewhere (a ticket) it is an --anchor later. --after starts
at the record following an archived head (older month files moved away after a passing verify).
list, show and export walk the whole chain too and say on stderr whether it is intact (exit 2 when
not; the HTML export carries the verdict at its top). bundle writes a ZIP an auditor checks offline
with verify --bundle: the records from --since to the head (with the record before them as anchor),
the public keys given, a manifest of every file's SHA-256, signed with EVIDENCE_SIGNING_KEY_FILE when
set; with --public-key, every record and the manifest must be signed by one of the keys. migrate applies the PostgreSQL store's
migrations as the tables' owner (EVIDENCE_DATABASE_URL) and leaves --writer, the workers' role, only
SELECT and INSERT; the table refuses UPDATE, DELETE and TRUNCATE even to its owner.
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
    {
      name: 'since',
      type: 'string',
      value: '30d',
      verbs: ['list', 'export', 'bundle'],
      help: 'only records of this long ago or later (bundle: from the first of them to the head)',
    },
    {
      name: 'bundle',
      type: 'string',
      value: 'FILE',
      verbs: ['verify'],
      help: 'check a bundle (from evidence bundle) offline instead of the store',
    },
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
      name: 'public-key',
      type: 'string',
      multiple: true,
      value: 'FILE',
      verbs: ['list', 'show', 'verify', 'export', 'bundle'],
      help: 'a public key (PEM, keygen writes FILE.pub): every record must be signed by one of those given',
    },
    {
      name: 'published-heads',
      type: 'string',
      multiple: true,
      value: 'FILE',
      verbs: ['list', 'show', 'verify', 'export', 'bundle'],
      help: 'where the workers publish the head (default EVIDENCE_HEAD_FILE): each head there must still be in the chain',
    },
    {
      name: 'to',
      type: 'string',
      value: 'FILE',
      verbs: ['publish-head'],
      help: 'the file to append the head to (default EVIDENCE_HEAD_FILE)',
    },
    {
      name: 'writer',
      type: 'string',
      value: 'ROLE',
      verbs: ['migrate'],
      help: "the workers' PostgreSQL role: granted SELECT and INSERT only",
    },
    {
      name: 'format',
      type: 'string',
      value: 'json|csv|html|oscal',
      verbs: ['export'],
      help: 'the file format (default json; html: the pipeline runs as report pages; oscal: OSCAL 1.1.2 assessment-results JSON)',
    },
    { name: 'out', type: 'string', value: 'FILE', verbs: ['export', 'bundle', 'keygen'], help: 'the file to write (required)' },
  ],
  examples: [
    'ccs-jobs evidence list --since 30d --status Faulted',
    'ccs-jobs evidence verify --public-key evidence-2026.pem.pub --published-heads /mnt/heads/heads.jsonl',
    'ccs-jobs evidence verify --anchor 1042:<the 64 hex digits verify printed last week>',
    'ccs-jobs evidence export --format csv --since 366d --out scans-2026.csv',
  ],
  run({ args, flags, env, out, err }) {
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
      publicKey: flags.list('public-key'),
      publishedHeads: flags.list('published-heads'),
      to: flags.string('to'),
      writer: flags.string('writer'),
      bundle: flags.string('bundle'),
    };
    return evidence(args[0], args[1], options, env, out, err);
  },
};
