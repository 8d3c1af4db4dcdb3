/**
 * Evidence records as an OSCAL 1.1.2 assessment-results document (`ccs-jobs evidence export --format
 * oscal`), for GRC tools that read OSCAL: one result per job or pipeline record, each with one
 * observation (what CCS reported) pointing at its evidence record by SHA-256, findings per asset and
 * standard when a record carries findings summaries, and every record (and findings blob) listed in
 * the back matter with its digest. The chain check the export ran goes in the metadata.
 *
 * Deterministic: every uuid is a UUID v5 of the record's hash (or a blob's digest), so the same
 * records export the same document, apart from `last-modified` (`generatedAt`). Pure: no I/O.
 * Checked against compliance-trestle's OSCAL models (src/dev/trestle.ts, test/unit/evidence-oscal.test.ts).
 */
import { createHash } from 'node:crypto';
import { parseCcsDate } from '../ccs/parse';
import type { EvidenceContent } from '../domain/evidence';
import { canonicalJson, sha256, type Chained } from './chain';
import type { ChainCheck } from './html-report';

export const OSCAL_VERSION = '1.1.2';
/** The namespace of every property this tool defines (OSCAL's own names need no `ns`; ours must have one). */
export const OSCAL_NS = 'https://github.com/ccs-job-orchestrator/ns/oscal';
/** Longest text kept from CCS or Temporal (an exception, an error message); longer is cut, marked with `…`. */
export const MAX_TEXT = 4_000;
const MAX_LINE = 300;
const MAX_PROP = 1_000;
/** Newest job messages quoted in an observation's remarks, each cut to MAX_LINE. */
const QUOTED_MESSAGES = 5;

/**
 * Findings summaries a record may carry (`record.findings.summaries`): per asset and CCS standard, how
 * many checks were evaluated, passed, failed and not applicable, and the digest of the full findings
 * (a blob kept beside the chain). Records do not carry them yet; when they do, they export as findings.
 */
export interface FindingsSummary {
  assetId: string;
  standardId: string;
  checks: { evaluated: number; passed: number; failed: number; notApplicable: number };
  /** CCS's compliance score for the asset against the standard, as CCS gives it. */
  compliance?: number;
  blob?: { sha256: string; bytes: number };
}

/** A sealed record as read from a sink (the CLI's `Sealed`), with the findings it may carry. */
export type OscalRecord = EvidenceContent & Chained & { findings?: { summaries?: readonly FindingsSummary[] } };

export interface OscalOptions {
  /** When the document is made: its `last-modified`. */
  generatedAt: string;
  title?: string;
  /** The chain check run over the records exported (`evidence verify`'s verdict as text). */
  check?: ChainCheck;
  /** This tool's version, named in the metadata. */
  toolVersion: string;
}

export interface OscalProp {
  name: string;
  value: string;
  ns?: string;
  class?: string;
  remarks?: string;
}
export interface OscalLink {
  href: string;
  rel?: string;
  'media-type'?: string;
  text?: string;
}
export interface OscalObservation {
  uuid: string;
  title: string;
  description: string;
  props: OscalProp[];
  links?: OscalLink[];
  methods: string[];
  'relevant-evidence': { href: string; description: string; props?: OscalProp[] }[];
  collected: string;
  remarks?: string;
}
export interface OscalFinding {
  uuid: string;
  title: string;
  description: string;
  props: OscalProp[];
  links?: OscalLink[];
  target: {
    type: 'objective-id';
    'target-id': string;
    title: string;
    status: { state: 'satisfied' | 'not-satisfied'; reason: 'pass' | 'fail' | 'other'; remarks?: string };
  };
  'related-observations': { 'observation-uuid': string }[];
  remarks?: string;
}
export interface OscalResult {
  uuid: string;
  title: string;
  description: string;
  start: string;
  end: string;
  props: OscalProp[];
  'reviewed-controls': { 'control-selections': [{ 'include-all': Record<string, never> }]; remarks: string };
  observations: OscalObservation[];
  findings?: OscalFinding[];
  remarks?: string;
}
export interface OscalResource {
  uuid: string;
  title: string;
  description?: string;
  props?: OscalProp[];
  rlinks?: { href: string; 'media-type'?: string; hashes: { algorithm: 'SHA-256'; value: string }[] }[];
  remarks?: string;
}
export interface OscalDocument {
  'assessment-results': {
    uuid: string;
    metadata: {
      title: string;
      'last-modified': string;
      version: string;
      'oscal-version': string;
      props: OscalProp[];
      remarks: string;
    };
    'import-ap': { href: string; remarks: string };
    results: OscalResult[];
    'back-matter': { resources: OscalResource[] };
  };
}

// ---- uuids --------------------------------------------------------------------------------------

function uuidBytes(text: string): Buffer {
  const hex = text.replace(/-/g, '');
  return Buffer.from(hex, 'hex');
}

/** RFC 9562 UUID version 5 (SHA-1 of namespace and name): the same name, the same uuid. */
export function uuidV5(name: string, namespace: string): string {
  const digest = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const b = digest.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** RFC 9562's namespace for URLs; ours is the v5 uuid of OSCAL_NS in it. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
const NAMESPACE = uuidV5(OSCAL_NS, URL_NAMESPACE);
const uuidOf = (name: string): string => uuidV5(name, NAMESPACE);

/** The back-matter resource `import-ap` points at: the same in every document. */
export const ASSESSMENT_PLAN_UUID = uuidOf('assessment-plan/not-managed-by-ccs-job-orchestrator');

// ---- text ---------------------------------------------------------------------------------------

// eslint-disable-next-line no-control-regex -- removing control characters is this pattern's purpose
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text cut to `max` characters (the cut marked with `…`), control characters (but newline and tab) removed. */
export function bounded(text: string, max = MAX_TEXT): string {
  const clean = text.replace(/\r\n?/g, '\n').replace(CONTROLS, '');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** One line: whitespace runs as one space, trimmed, bounded. */
function line(text: string, max = MAX_LINE): string {
  return bounded(text.replace(/\s+/g, ' ').trim(), max);
}

/** Text from CCS or Temporal inside OSCAL markup (Markdown): punctuation that would make links, HTML or emphasis escaped. */
function md(text: string, max = MAX_LINE): string {
  return line(text, max).replace(/[\\`*_[\]<>&|~#!]/g, (c) => `\\${c}`);
}

/** A fenced code block holding `text` as it is (a fence longer than any backtick run in it). */
function codeBlock(text: string): string {
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${text}\n${fence}`;
}

/** An OSCAL token (letters, digits, `.`, `-`, `_`; a letter or `_` first) naming a CCS standard. */
export function standardTargetId(standardId: string): string {
  const cleaned = standardId.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 120);
  const token = `ccs-standard-${cleaned}`;
  // A standard id that had to change gets a digest of the original, so two ids never meet in one token.
  return cleaned === standardId ? token : `${token}-${sha256(standardId).slice(0, 8)}`;
}

function prop(name: string, value: string | number | boolean | null | undefined): OscalProp[] {
  if (value === null || value === undefined) return [];
  const text = line(String(value), MAX_PROP);
  return text === '' ? [] : [{ name, ns: OSCAL_NS, value: text }];
}

// ---- dates --------------------------------------------------------------------------------------

/**
 * RFC 3339 with a zone (UTC), as OSCAL's date-time-with-timezone: CCS dates without a zone are read
 * as UTC (src/ccs/parse.ts), .NET's "not set" (`0001-01-01T00:00:00`) and anything unreadable or
 * outside OSCAL's years (1900–2999) are absent.
 */
export function oscalDate(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  let iso: string | null;
  try {
    iso = parseCcsDate(value);
  } catch {
    return null;
  }
  if (iso === null) return null;
  const year = Number(iso.slice(0, 4));
  return /^\d{4}-/.test(iso) && year >= 1900 && year <= 2999 ? iso : null;
}

// ---- findings -----------------------------------------------------------------------------------

const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** A summary as the record holds it, or null when it is not one (the field is new: read defensively). */
function readSummary(value: unknown): FindingsSummary | null {
  if (typeof value !== 'object' || value === null) return null;
  const s = value as Partial<FindingsSummary>;
  const c = s.checks;
  if (typeof s.assetId !== 'string' || s.assetId.trim() === '' || typeof s.standardId !== 'string' || s.standardId.trim() === '')
    return null;
  if (typeof c !== 'object' || c === null || ![c.evaluated, c.passed, c.failed, c.notApplicable].every(count)) return null;
  const blob =
    s.blob && typeof s.blob.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(s.blob.sha256) && count(s.blob.bytes)
      ? { sha256: s.blob.sha256.toLowerCase(), bytes: s.blob.bytes }
      : undefined;
  return {
    assetId: s.assetId,
    standardId: s.standardId,
    checks: { evaluated: c.evaluated, passed: c.passed, failed: c.failed, notApplicable: c.notApplicable },
    ...(typeof s.compliance === 'number' && Number.isFinite(s.compliance) ? { compliance: s.compliance } : {}),
    ...(blob ? { blob } : {}),
  };
}

function summariesOf(record: OscalRecord): { summaries: FindingsSummary[]; unreadable: number } {
  const raw: unknown = (record as { findings?: { summaries?: unknown } }).findings?.summaries;
  if (!Array.isArray(raw)) return { summaries: [], unreadable: 0 };
  const summaries = raw.map(readSummary);
  return { summaries: summaries.filter((s): s is FindingsSummary => s !== null), unreadable: summaries.filter((s) => s === null).length };
}

const blobUuid = (digest: string): string => uuidOf(`findings-blob/${digest}`);

function finding(record: OscalRecord, index: number, s: FindingsSummary, observationUuid: string): OscalFinding {
  const { evaluated, passed, failed, notApplicable } = s.checks;
  // Nothing evaluated is no evidence that the standard holds: not satisfied, for another reason.
  const state = failed === 0 && evaluated > 0 ? 'satisfied' : 'not-satisfied';
  const reason = evaluated === 0 ? 'other' : failed === 0 ? 'pass' : 'fail';
  const compliance = s.compliance === undefined ? '' : `; CCS's compliance score ${s.compliance}`;
  return {
    uuid: uuidOf(`finding/${record.hash}/${index}/${s.assetId}/${s.standardId}`),
    title: `Standard ${md(s.standardId)} on asset ${md(s.assetId)}`,
    description: `CCS evaluated ${evaluated} check(s) of standard ${md(s.standardId)} on asset ${md(s.assetId)}: ${passed} passed, ${failed} failed, ${notApplicable} not applicable${compliance}.`,
    props: [
      ...prop('asset-id', s.assetId),
      ...prop('standard-id', s.standardId),
      ...prop('checks-evaluated', evaluated),
      ...prop('checks-passed', passed),
      ...prop('checks-failed', failed),
      ...prop('checks-not-applicable', notApplicable),
      ...prop('compliance', s.compliance),
      ...prop('findings-sha256', s.blob?.sha256),
    ],
    ...(s.blob
      ? { links: [{ href: `#${blobUuid(s.blob.sha256)}`, rel: 'reference', text: 'The full findings (CCS findings blob)' }] }
      : {}),
    target: {
      type: 'objective-id',
      'target-id': standardTargetId(s.standardId),
      title: `CCS standard ${md(s.standardId)}`,
      status: {
        state,
        reason,
        ...(evaluated === 0 ? { remarks: 'No check of this standard was evaluated on this asset.' } : {}),
      },
    },
    'related-observations': [{ 'observation-uuid': observationUuid }],
    remarks:
      'The target is the CCS standard, named as an objective of its own: CCS standards are not OSCAL catalogs, so no OSCAL control or objective id exists for it.',
  };
}

// ---- results ------------------------------------------------------------------------------------

const recordUuid = (r: OscalRecord): string => uuidOf(`evidence-record/${r.hash}`);

function startedByText(r: OscalRecord): string {
  const by = r.startedBy ?? {};
  const parts = [
    by.scheduleId ? `schedule ${md(by.scheduleId)}` : '',
    by.pipelineWorkflowId ? `pipeline ${md(by.pipelineWorkflowId)}` : '',
    by.requestedBy ? `requested by ${md(by.requestedBy)}` : '',
    by.identity ? `client ${md(by.identity)}` : '',
  ].filter((p) => p !== '');
  return parts.length > 0 ? parts.join(', ') : 'no starter recorded';
}

function commonProps(r: OscalRecord): OscalProp[] {
  return [
    ...prop('evidence-seq', r.seq),
    ...prop('evidence-key', r.key),
    ...prop('record-kind', r.kind),
    ...prop('workflow-id', r.workflowId),
    ...prop('workflow-run-id', r.runId),
  ];
}

function observationProps(r: OscalRecord): OscalProp[] {
  return [
    ...prop('ccs-status', r.status),
    ...prop('workflow-outcome', r.outcome),
    ...prop('ccs-job-id', r.jobId),
    ...prop('ccs-job-run-id', r.jobRunId),
    ...prop('ccs-server', r.ccs),
    ...prop('error-type', r.error?.type),
    ...prop('cancelled-by', r.cancel?.by),
    ...prop('deadline', oscalDate(r.deadline)),
    ...prop('late', r.late ? 'true' : undefined),
    ...prop('schedule-id', r.startedBy?.scheduleId),
    ...prop('requested-by', r.startedBy?.requestedBy),
    ...prop('worker-version', r.workerVersion),
    ...prop('pipeline-digest', r.pipelineDigest),
    ...prop('signed-by', r.signedBy),
  ];
}

function reportedText(r: OscalRecord): string {
  const lines: string[] = [];
  if (r.kind === 'job') {
    const run = r.jobRunId ? `run ${md(r.jobRunId)}` : 'no run (CCS never started one)';
    lines.push(`CCS server ${md(r.ccs ?? 'unknown')} reported job ${md(r.jobId ?? 'unknown')}, ${run}, with status **${md(r.status)}**.`);
  } else {
    lines.push(`The pipeline ended with status **${md(r.status)}**${r.ccs ? ` on CCS server ${md(r.ccs)}` : ''}.`);
  }
  lines.push(`The workflow ${md(r.workflowId)} (run ${md(r.runId)}) ended: ${md(r.outcome)}. Started by: ${startedByText(r)}.`);
  if (r.startTime || r.endTime)
    lines.push(`Run start: ${oscalDate(r.startTime) ?? 'not recorded'}; end: ${oscalDate(r.endTime) ?? 'not recorded'}.`);
  if (r.error) lines.push(`Error ${md(r.error.type)}: ${md(r.error.message, MAX_TEXT)}`);
  if (r.cancel)
    lines.push(
      `Cancelled by ${md(r.cancel.by)} at ${oscalDate(r.cancel.at) ?? 'an unrecorded time'}${r.cancel.reason ? `: ${md(r.cancel.reason)}` : ''}.`,
    );
  if (r.late) lines.push('The run ended after its deadline.');
  return lines.join('\n\n');
}

function observationRemarks(r: OscalRecord): string | undefined {
  const parts: string[] = [];
  if (r.exception) parts.push(`The exception CCS reported:\n\n${codeBlock(bounded(r.exception))}`);
  const messages = (r.messages ?? []).slice(-QUOTED_MESSAGES);
  if (messages.length > 0)
    parts.push(
      `The newest job messages (of ${(r.messages ?? []).length} in the record):\n\n${messages.map((m) => `- ${oscalDate(m.time) ?? 'undated'}: ${md(m.text)}`).join('\n')}`,
    );
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

/** A pipeline's jobs by state, and links to the records of those among the exported ones. */
function pipelineParts(r: OscalRecord, byKey: ReadonlyMap<string, OscalRecord>): { text: string; links: OscalLink[] } {
  const stages = r.pipeline?.stages ?? [];
  const jobs = stages.flatMap((s) => s.jobs);
  const states = new Map<string, number>();
  for (const j of jobs) states.set(j.state, (states.get(j.state) ?? 0) + 1);
  const tally = [...states].map(([state, n]) => `${n} ${state}`).join(', ');
  const links: OscalLink[] = [];
  for (const j of jobs) {
    const key = j.carried?.evidenceKey ?? (j.runId ? `${j.workflowId}/${j.runId}` : null);
    const jobRecord = key ? byKey.get(key) : undefined;
    if (jobRecord)
      links.push({
        href: `#${recordUuid(jobRecord)}`,
        rel: 'reference',
        text: line(`The evidence record of job ${j.jobId}${j.carried ? ' (carried)' : ''}`),
      });
  }
  const name = r.pipeline?.name ? `Pipeline ${md(r.pipeline.name)}: ` : '';
  const redrive = r.redrive
    ? ` Redrive attempt ${r.redrive.attempt} of ${md(r.redrive.rootWorkflowId)}: ${r.redrive.carried.length} job(s) carried, ${r.redrive.rerun.length} run again.`
    : '';
  return { text: `${name}${stages.length} stage(s), ${jobs.length} job(s)${tally ? ` (${tally})` : ''}.${redrive}`, links };
}

/**
 * One result per job record and per pipeline record. A pipeline's jobs ran as child workflows that
 * wrote records of their own, so each job is already its own result (with its observation and
 * findings); the pipeline's result states the pipeline's own outcome (its status, its stages, a
 * redrive's carried jobs) and links to its jobs' records instead of repeating them. Dropping
 * pipeline records would lose the only evidence of how a scan as a whole ended.
 */
function result(r: OscalRecord, generatedAt: string, byKey: ReadonlyMap<string, OscalRecord>): OscalResult {
  const recordedAt = oscalDate(r.recordedAt) ?? generatedAt;
  const start = oscalDate(r.startTime) ?? recordedAt;
  const endOrRecorded = oscalDate(r.endTime) ?? recordedAt;
  const end = endOrRecorded < start ? start : endOrRecorded;
  const observationUuid = uuidOf(`observation/${r.hash}`);
  const pipeline = r.kind === 'pipeline' ? pipelineParts(r, byKey) : null;
  const { summaries, unreadable } = summariesOf(r);
  const remarks = observationRemarks(r);
  const observation: OscalObservation = {
    uuid: observationUuid,
    title:
      r.kind === 'job'
        ? `What CCS reported for job ${md(r.jobId ?? 'unknown')}: ${md(r.status)}`
        : `How the pipeline ended: ${md(r.status)}`,
    description: pipeline ? `${reportedText(r)}\n\n${pipeline.text}` : reportedText(r),
    props: observationProps(r),
    ...(pipeline && pipeline.links.length > 0 ? { links: pipeline.links } : {}),
    methods: ['TEST'],
    'relevant-evidence': [
      {
        href: `#${recordUuid(r)}`,
        description: `Evidence record ${r.seq} (${md(r.key)}), SHA-256 ${r.hash}.`,
        props: [...prop('evidence-seq', r.seq), ...prop('evidence-sha256', r.hash)],
      },
    ],
    collected: recordedAt,
    ...(remarks ? { remarks } : {}),
  };
  const findings = summaries.map((s, i) => finding(r, i, s, observationUuid));
  const title =
    r.kind === 'job'
      ? `CCS job ${md(r.jobId ?? 'unknown')}${r.jobRunId ? ` run ${md(r.jobRunId)}` : ''}${r.ccs ? ` on ${md(r.ccs)}` : ''}: ${md(r.status)}`
      : `CCS pipeline ${md(r.pipeline?.name ?? r.workflowId)}: ${md(r.status)}`;
  return {
    uuid: uuidOf(`result/${r.hash}`),
    title: line(title, 2 * MAX_LINE),
    description:
      r.kind === 'job'
        ? `The run of CCS job ${md(r.jobId ?? 'unknown')} by the runCcsJob workflow ${md(r.workflowId)}, from evidence record ${r.seq}.`
        : `The run of pipeline ${md(r.pipeline?.name ?? r.workflowId)} by the runCcsPipeline workflow ${md(r.workflowId)}, from evidence record ${r.seq}; each of its jobs is a result of its own.`,
    start,
    end,
    props: commonProps(r),
    'reviewed-controls': {
      'control-selections': [{ 'include-all': {} }],
      remarks:
        'CCS assesses against its own standards, which are not OSCAL catalogs or profiles: no control is selected by id. Findings name the CCS standard as their target.',
    },
    observations: [observation],
    ...(findings.length > 0 ? { findings } : {}),
    ...(unreadable > 0 ? { remarks: `${unreadable} findings summary(ies) in the record were not readable and are not listed.` } : {}),
  };
}

// ---- back matter --------------------------------------------------------------------------------

function recordResource(r: OscalRecord): OscalResource {
  return {
    uuid: recordUuid(r),
    title: line(`Evidence record ${r.seq}: ${r.key}`),
    description: `The ${r.kind} record ${r.seq} of the evidence chain, recorded ${oscalDate(r.recordedAt) ?? 'at an unreadable time'}.`,
    props: [
      ...prop('evidence-seq', r.seq),
      ...prop('evidence-key', r.key),
      ...prop('evidence-prev-hash', r.prevHash),
      ...prop('signed-by', r.signedBy),
    ],
    rlinks: [{ href: `ccs-evidence:seq/${r.seq}`, 'media-type': 'application/json', hashes: [{ algorithm: 'SHA-256', value: r.hash }] }],
    remarks:
      "`ccs-evidence:seq/<n>` names record n of this tool's evidence chain (`ccs-jobs evidence show`, `evidence verify`). The SHA-256 is the record's own hash: of its canonical JSON (keys sorted, no spacing) without `hash` and `signature`.",
  };
}

function blobResource(digest: string, bytes: number): OscalResource {
  return {
    uuid: blobUuid(digest),
    title: `CCS findings blob ${digest.slice(0, 12)}`,
    description: `The full findings a summary was made from: ${bytes} byte(s), SHA-256 ${digest}.`,
    props: [...prop('bytes', bytes)],
    rlinks: [{ href: `ccs-evidence:findings/sha256/${digest}`, hashes: [{ algorithm: 'SHA-256', value: digest }] }],
  };
}

// ---- the document -------------------------------------------------------------------------------

/**
 * The records (in chain order, as read) as an OSCAL assessment-results document. Job and pipeline
 * records become results; notification records (deliveries given up) are no assessment and are
 * only counted. Throws when no record is a job or pipeline record (OSCAL needs at least one result).
 */
export function toOscalAssessmentResults(records: readonly OscalRecord[], options: OscalOptions): OscalDocument {
  const generatedAt = oscalDate(options.generatedAt);
  if (generatedAt === null) throw new Error(`generatedAt must be an ISO 8601 date-time; got ${JSON.stringify(options.generatedAt)}`);
  const isAssessment = (r: OscalRecord): boolean => r.kind === 'job' || r.kind === 'pipeline';
  // A record read twice (a chain with a copied line) would repeat its uuids: listed once, the repeats counted.
  const seen = new Set<string>();
  const assessed = records.filter((r) => isAssessment(r) && !seen.has(r.hash) && Boolean(seen.add(r.hash)));
  const repeated = records.filter(isAssessment).length - assessed.length;
  if (assessed.length === 0)
    throw new Error('no job or pipeline record to export: an OSCAL assessment-results document needs at least one result');
  const byKey = new Map(assessed.map((r) => [r.key, r]));
  const omitted = records.length - assessed.length - repeated;
  const first = assessed[0]!;
  const last = assessed[assessed.length - 1]!;

  const blobs = new Map<string, number>();
  for (const r of assessed)
    for (const s of summariesOf(r).summaries) if (s.blob && !blobs.has(s.blob.sha256)) blobs.set(s.blob.sha256, s.blob.bytes);

  const check = options.check;
  const remarks = [
    check
      ? `Chain check: ${check.intact ? 'intact' : '**broken**'}.\n\n${codeBlock(bounded(check.text))}`
      : 'The chain was not checked for this export.',
    `Exported by ccs-job-orchestrator ${md(options.toolVersion)} from ${assessed.length} evidence record(s), seq ${first.seq} to ${last.seq}${omitted > 0 ? `; ${omitted} notification record(s) (deliveries given up) are not assessments and are left out` : ''}${repeated > 0 ? `; ${repeated} record(s) read more than once are listed once` : ''}. The version is the last record's seq and hash, usable as an anchor (\`evidence verify --anchor\`).`,
  ].join('\n\n');

  const name = canonicalJson({
    records: assessed.map((r) => r.hash),
    title: options.title ?? null,
    check: check ?? null,
    tool: options.toolVersion,
  });
  return {
    'assessment-results': {
      uuid: uuidOf(`assessment-results/${sha256(name)}`),
      metadata: {
        title: line(options.title ?? `CCS job evidence: records ${first.seq} to ${last.seq}`),
        'last-modified': generatedAt,
        version: `${last.seq}:${last.hash}`,
        'oscal-version': OSCAL_VERSION,
        props: [
          ...prop('tool-version', `ccs-job-orchestrator ${options.toolVersion}`),
          ...prop('evidence-records', assessed.length),
          ...prop('evidence-first-seq', first.seq),
          ...prop('evidence-last-seq', last.seq),
          ...prop('evidence-head', `${last.seq}:${last.hash}`),
          ...prop('notification-records-omitted', omitted > 0 ? omitted : undefined),
          ...prop('repeated-records-omitted', repeated > 0 ? repeated : undefined),
          ...prop('chain-intact', check ? String(check.intact) : 'not-checked'),
          ...prop('chain-check', check ? check.text.split('\n')[0] : undefined),
        ],
        remarks,
      },
      'import-ap': {
        href: `#${ASSESSMENT_PLAN_UUID}`,
        remarks:
          'ccs-job-orchestrator runs CCS jobs and records what they reported; it does not manage an OSCAL assessment plan. The reference resolves to a back-matter resource saying so.',
      },
      results: assessed.map((r) => result(r, generatedAt, byKey)),
      'back-matter': {
        resources: [
          {
            uuid: ASSESSMENT_PLAN_UUID,
            title: 'Assessment plan: not managed by ccs-job-orchestrator',
            description:
              'The assessment plan is outside this tool: the CCS jobs and pipelines it ran were scheduled in CCS and in ccs-jobs, not from an OSCAL assessment plan.',
          },
          ...assessed.map(recordResource),
          ...[...blobs].map(([digest, bytes]) => blobResource(digest, bytes)),
        ],
      },
    },
  };
}
