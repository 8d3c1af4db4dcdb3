/**
 * `evidence export --format oscal` (src/evidence/oscal.ts): sealed records as an OSCAL 1.1.2
 * assessment-results document, checked by a real validator, compliance-trestle's `trestle validate`
 * (its models are generated from NIST's OSCAL schemas), which must also reject a document broken on
 * purpose. trestle is a test dependency: when it is missing the test fails with the install hint
 * (CI installs it with `npx tsx src/dev/trestle.ts`). Where trestle's models are looser than the
 * OSCAL JSON schema (date-times without a zone, v5 uuids in its link check), the test checks the
 * schema's own patterns.
 */
import { describe, expect, it } from 'vitest';
import type { EvidenceContent } from '../../src/domain/evidence';
import type { PipelineReport } from '../../src/domain/pipeline';
import { GENESIS, seal } from '../../src/evidence/chain';
import {
  ASSESSMENT_PLAN_UUID,
  MAX_TEXT,
  OSCAL_NS,
  toOscalAssessmentResults,
  type FindingsSummary,
  type OscalDocument,
  type OscalRecord,
} from '../../src/evidence/oscal';
import { validate } from '../trestle';

// ---- records --------------------------------------------------------------------------------------

const CCS = 'ccs-prod';
const BLOB = 'ab'.repeat(32);

function content(seq: number, extra: Partial<EvidenceContent> & { findings?: { summaries: FindingsSummary[] } }): EvidenceContent {
  const workflowId = extra.workflowId ?? `ccs-job-${seq}`;
  const runId = extra.runId ?? `run-${seq}`;
  return {
    key: `${workflowId}/${runId}`,
    kind: 'job',
    workflowId,
    runId,
    startedBy: { scheduleId: 'nightly-cer', identity: '1234@worker-1' },
    ccs: CCS,
    jobId: `0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e1${seq}`,
    jobRunId: `c0ffee00-0000-4000-8000-00000000000${seq}`,
    startTime: '2024-05-01T10:00:00.000Z',
    endTime: '2024-05-01T11:00:00.000Z',
    status: 'Completed',
    outcome: 'completed',
    error: null,
    exception: null,
    messages: [],
    cancel: null,
    deadline: null,
    late: false,
    recordedAt: '2024-05-01T11:00:05.000Z',
    workerVersion: 'build-42',
    pipelineDigest: null,
    ...extra,
  };
}

const longException = `System.InvalidOperationException: the asset import failed \`\`\`\u001b]0;pwned\u0007\r\n${'   at Symantec.CSM.Job.Run()\n'.repeat(300)}`;

const contents: EvidenceContent[] = [
  // Completed; CCS wrote its start without a zone.
  content(1, { startTime: '2024-05-01T10:00:00', deadline: '2024-05-01T18:00:00.000Z' }),
  // Faulted, with an exception far over the bound, escape sequences and backticks in it.
  content(2, {
    status: 'Faulted',
    outcome: 'CcsJobFaulted',
    error: { type: 'CcsJobFaulted', message: 'CCS job run Faulted' },
    exception: longException,
    messages: [
      { time: '2024-05-01T10:30:00', text: 'Evaluation started' },
      { time: '2024-05-01T10:59:00.000Z', text: 'Evaluation failed: <script>alert(1)</script> [click](javascript:x)' },
    ],
  }),
  // Aborted by an operator: CCS's "not set" end (.NET's DateTime.MinValue).
  content(3, {
    status: 'Aborted',
    outcome: 'CcsJobAborted',
    error: { type: 'CcsJobAborted', message: 'aborted on request' },
    endTime: '0001-01-01T00:00:00',
    cancel: { by: 'signal', reason: 'maintenance window', at: '2024-05-01T10:20:00.000Z' },
    startedBy: { requestedBy: 'ops-alice' },
  }),
  // Findings: one standard passed whole, one with failures and the full findings' blob.
  content(4, {
    findings: {
      summaries: [
        {
          assetId: 'srv-web-01',
          standardId: 'CIS Windows Server 2019 v1.2',
          checks: { evaluated: 120, passed: 110, failed: 0, notApplicable: 10 },
        },
        {
          assetId: 'srv-web-01',
          standardId: 'CCS-PCI-DSS-4.0',
          checks: { evaluated: 80, passed: 70, failed: 3, notApplicable: 7 },
          compliance: 95.9,
          blob: { sha256: BLOB, bytes: 48_213 },
        },
      ],
    },
  }),
];

const pipelineReport: PipelineReport = {
  name: 'nightly scan',
  status: 'CompletedWithFailures',
  startedAt: '2024-05-01T09:59:00.000Z',
  endedAt: '2024-05-01T11:01:00.000Z',
  stages: [
    {
      name: 'collect',
      state: 'completed',
      jobs: [
        {
          jobId: contents[0]!.jobId!,
          workflowId: contents[0]!.workflowId,
          runId: contents[0]!.runId,
          state: 'completed',
          status: 'Completed',
        },
        { jobId: contents[1]!.jobId!, workflowId: contents[1]!.workflowId, runId: contents[1]!.runId, state: 'failed', status: 'Faulted' },
      ],
    },
  ],
};

const all: EvidenceContent[] = [
  ...contents,
  content(5, {
    kind: 'pipeline',
    workflowId: 'nightly',
    runId: 'run-p',
    ccs: null,
    jobId: null,
    jobRunId: null,
    startTime: pipelineReport.startedAt,
    endTime: pipelineReport.endedAt ?? null,
    status: pipelineReport.status,
    pipeline: pipelineReport,
    pipelineDigest: 'cd'.repeat(32),
  }),
  // A notification given up: no assessment, left out of the results.
  content(6, {
    key: 'notification-given-up/ev-1/email',
    kind: 'notification',
    jobId: null,
    jobRunId: null,
    status: 'NotStarted',
    notification: { eventId: 'ev-1', eventType: 'job.failed', channel: 'email', attempts: 10, lastError: 'ECONNREFUSED' },
  }),
];

function chain(items: readonly EvidenceContent[]): OscalRecord[] {
  const out: OscalRecord[] = [];
  for (const c of items) out.push(seal(c, out.length + 1, out.at(-1)?.hash ?? GENESIS));
  return out;
}

const records = chain(all);
const OPTIONS = {
  generatedAt: '2024-05-02T06:00:00Z',
  toolVersion: '0.1.0',
  check: { intact: true, text: 'chain intact: 6 records, head 6:…' },
};
const doc = toOscalAssessmentResults(records, OPTIONS);
const ar = doc['assessment-results'];
const resultOf = (seq: number) => ar.results.find((r) => r.props.some((p) => p.name === 'evidence-seq' && p.value === String(seq)))!;

// ---- the validator: test/trestle.ts -------------------------------------------------------------

const clone = (d: OscalDocument): OscalDocument => JSON.parse(JSON.stringify(d)) as OscalDocument;

// ---- OSCAL 1.1.2's JSON schema, where trestle's models are looser ---------------------------------

/** DateTimeWithTimezoneDatatype, as the OSCAL 1.1.2 JSON schemas write it. */
const DATE_TIME_WITH_TZ =
  /^(((2000|2400|2800|(19|2[0-9](0[48]|[2468][048]|[13579][26])))-02-29)|(((19|2[0-9])[0-9]{2})-02-(0[1-9]|1[0-9]|2[0-8]))|(((19|2[0-9])[0-9]{2})-(0[13578]|10|12)-(0[1-9]|[12][0-9]|3[01]))|(((19|2[0-9])[0-9]{2})-(0[469]|11)-(0[1-9]|[12][0-9]|30)))T(2[0-3]|[01][0-9]):([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?(Z|(-((0[0-9]|1[0-2]):00|0[39]:30)|\+((0[0-9]|1[0-4]):00|(0[34569]|10):30|(0[58]|12):45)))$/;
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$/;
const TOKEN = /^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$/u;
const STRING = /^\S(.*\S)?$/;
const DATE_KEYS = new Set(['last-modified', 'published', 'start', 'end', 'collected', 'expires']);

/** Every value under `key` anywhere in the document, with its path. */
function valuesOf(value: unknown, keys: (k: string) => boolean, path = '$'): { path: string; value: unknown }[] {
  if (Array.isArray(value)) return (value as unknown[]).flatMap((v, i) => valuesOf(v, keys, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => [
    ...(keys(k) ? [{ path: `${path}.${k}`, value: v }] : []),
    ...valuesOf(v, keys, `${path}.${k}`),
  ]);
}

// ---- tests ----------------------------------------------------------------------------------------

describe('OSCAL assessment-results export', () => {
  it('passes trestle validate', async () => {
    const { code, output } = await validate(doc, 'ccs-evidence');
    expect(output).toContain('VALID: Model');
    expect(output).not.toMatch(/ERROR/);
    expect(code).toBe(0);
  });

  it('is rejected by trestle when broken on purpose: a result without reviewed-controls, an impossible date', async () => {
    const noControls = clone(doc) as unknown as { 'assessment-results': { results: Record<string, unknown>[] } };
    delete noControls['assessment-results'].results[0]!['reviewed-controls'];
    const badDate = clone(doc);
    badDate['assessment-results'].results[1]!.start = '2024-02-30T25:00:00Z';
    const [a, b] = await Promise.all([validate(noControls, 'no-reviewed-controls'), validate(badDate, 'bad-date')]);
    expect(a.output).toMatch(/results -> 0 -> reviewed-controls\s+field required/);
    expect(a.code).not.toBe(0);
    expect(b.output).toMatch(/results -> 1 -> start\s+invalid datetime/);
    expect(b.code).not.toBe(0);
  });

  it('writes every date-time with a zone, CCS dates normalised and its "not set" treated as absent', () => {
    const dates = valuesOf(doc, (k) => DATE_KEYS.has(k));
    expect(dates.length).toBeGreaterThan(10);
    for (const d of dates) expect(d.value, d.path).toMatch(DATE_TIME_WITH_TZ);
    expect(DATE_TIME_WITH_TZ.test('2024-05-01T10:00:00')).toBe(false); // the check itself refuses a date without a zone
    expect(ar.metadata['last-modified']).toBe('2024-05-02T06:00:00.000Z');
    expect(resultOf(1).start).toBe('2024-05-01T10:00:00.000Z'); // "2024-05-01T10:00:00" read as UTC
    expect(resultOf(3).end).toBe(records[2]!.recordedAt); // 0001-01-01T00:00:00: no end, so when it was recorded
    expect(resultOf(3).observations[0]!.collected).toBe(records[2]!.recordedAt);
  });

  it('has one result per job and pipeline record, with what CCS reported, and leaves notification records out', () => {
    expect(ar.results).toHaveLength(5);
    expect(ar.metadata.props).toContainEqual({ name: 'notification-records-omitted', ns: OSCAL_NS, value: '1' });
    for (const r of ar.results) {
      expect(r['reviewed-controls']['control-selections']).toEqual([{ 'include-all': {} }]);
      expect(r['reviewed-controls'].remarks).toMatch(/not OSCAL catalogs/);
      expect(r.observations).toHaveLength(1);
      expect(r.observations[0]!.methods).toEqual(['TEST']);
    }
    const faulted = resultOf(2).observations[0]!;
    const props = Object.fromEntries(faulted.props.map((p) => [p.name, p.value]));
    expect(props).toMatchObject({
      'ccs-status': 'Faulted',
      'workflow-outcome': 'CcsJobFaulted',
      'ccs-job-id': records[1]!.jobId,
      'ccs-job-run-id': records[1]!.jobRunId,
      'ccs-server': CCS,
      'error-type': 'CcsJobFaulted',
    });
    expect(faulted.description).toContain('status **Faulted**');
    const aborted = Object.fromEntries(resultOf(3).observations[0]!.props.map((p) => [p.name, p.value]));
    expect(aborted).toMatchObject({ 'ccs-status': 'Aborted', 'cancelled-by': 'signal', 'requested-by': 'ops-alice' });
    // The pipeline's result links to its jobs' records instead of repeating them.
    const pipeline = resultOf(5).observations[0]!;
    expect(pipeline.links?.map((l) => l.href)).toEqual([
      `#${ar['back-matter'].resources[1]!.uuid}`,
      `#${ar['back-matter'].resources[2]!.uuid}`,
    ]);
    expect(pipeline.description).toContain('1 completed, 1 failed');
  });

  it('bounds text from CCS: an exception cut to MAX_TEXT in a code block, controls removed, markup escaped', () => {
    const remarks = resultOf(2).observations[0]!.remarks!;
    expect(remarks.length).toBeLessThan(MAX_TEXT + 1_000);
    expect(remarks).toContain('System.InvalidOperationException');
    expect(remarks).toContain('…');
    expect(remarks).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/); // eslint-disable-line no-control-regex -- looking for control characters
    expect(remarks).toMatch(/^````\n/m); // a fence longer than the exception's own backticks
    expect(remarks).toContain('\\<script\\>');
    expect(remarks).not.toContain('[click]');
    const texts = valuesOf(doc, (k) => ['title', 'description', 'remarks', 'value'].includes(k));
    for (const t of texts) expect((t.value as string).length, t.path).toBeLessThanOrEqual(MAX_TEXT + 1_000);
  });

  it('writes findings per asset and standard when a record carries summaries, none otherwise', () => {
    expect(resultOf(1)).not.toHaveProperty('findings');
    const findings = resultOf(4).findings!;
    expect(findings).toHaveLength(2);
    const [passed, failed] = findings;
    expect(passed!.target).toMatchObject({ type: 'objective-id', status: { state: 'satisfied', reason: 'pass' } });
    expect(failed!.target).toMatchObject({
      type: 'objective-id',
      'target-id': 'ccs-standard-CCS-PCI-DSS-4.0',
      status: { state: 'not-satisfied', reason: 'fail' },
    });
    expect(passed!.target['target-id']).toMatch(/^ccs-standard-CIS-Windows-Server-2019-v1.2-[0-9a-f]{8}$/); // spaces: not a token as given
    for (const f of findings) {
      expect(f.target['target-id']).toMatch(TOKEN);
      expect(f['related-observations']).toEqual([{ 'observation-uuid': resultOf(4).observations[0]!.uuid }]);
    }
    expect(Object.fromEntries(failed!.props.map((p) => [p.name, p.value]))).toMatchObject({
      'checks-evaluated': '80',
      'checks-failed': '3',
      compliance: '95.9',
      'findings-sha256': BLOB,
    });
    // Nothing evaluated is no evidence the standard holds.
    const [empty] = toOscalAssessmentResults(
      chain([
        content(1, {
          findings: { summaries: [{ assetId: 'a', standardId: 's', checks: { evaluated: 0, passed: 0, failed: 0, notApplicable: 0 } }] },
        }),
      ]),
      OPTIONS,
    )['assessment-results'].results[0]!.findings!;
    expect(empty!.target.status).toMatchObject({ state: 'not-satisfied', reason: 'other' });
  });

  it('lists every record and findings blob in the back matter with its SHA-256, each reference resolving', () => {
    const resources = ar['back-matter'].resources;
    expect(resources.map((r) => r.uuid)).toEqual([ASSESSMENT_PLAN_UUID, ...resources.slice(1).map((r) => r.uuid)]);
    expect(resources).toHaveLength(1 + 5 + 1);
    for (const seq of [1, 2, 3, 4, 5]) {
      const record = records[seq - 1]!;
      const evidence = resultOf(seq).observations[0]!['relevant-evidence'][0]!;
      const resource = resources.find((r) => `#${r.uuid}` === evidence.href)!;
      expect(resource.rlinks![0]!.hashes).toEqual([{ algorithm: 'SHA-256', value: record.hash }]);
      expect(evidence.props).toContainEqual({ name: 'evidence-sha256', ns: OSCAL_NS, value: record.hash });
    }
    const blob = resources.find((r) => r.rlinks?.[0]?.hashes[0]?.value === BLOB)!;
    expect(resultOf(4).findings![1]!.links).toEqual([expect.objectContaining({ href: `#${blob.uuid}` })]);
    expect(ar['import-ap'].href).toBe(`#${ASSESSMENT_PLAN_UUID}`);
    // trestle's own link check only knows v4 uuids: every "#uuid" reference resolves here, and every resource is referenced.
    const refs = new Set(
      valuesOf(doc, (k) => k === 'href')
        .map((h) => h.value as string)
        .filter((h) => h.startsWith('#')),
    );
    const ids = new Set(resources.map((r) => `#${r.uuid}`));
    expect([...refs].filter((r) => !ids.has(r))).toEqual([]);
    expect([...ids].filter((r) => !refs.has(r))).toEqual([]);
  });

  it('derives every uuid from the records: the same chain exports the same document, another chain other uuids', () => {
    const again = toOscalAssessmentResults(records, { ...OPTIONS, generatedAt: '2025-01-01T00:00:00+01:00' });
    expect(again['assessment-results'].metadata['last-modified']).toBe('2024-12-31T23:00:00.000Z');
    const withoutTime = (d: OscalDocument) => ({
      ...d['assessment-results'],
      metadata: { ...d['assessment-results'].metadata, 'last-modified': '' },
    });
    expect(withoutTime(again)).toEqual(withoutTime(doc));
    const uuids = valuesOf(doc, (k) => k === 'uuid' || k.endsWith('-uuid')).map((u) => u.value as string);
    for (const u of uuids) expect(u).toMatch(UUID);
    const defined = valuesOf(doc, (k) => k === 'uuid').map((u) => u.value);
    expect(new Set(defined).size).toBe(defined.length);
    const edited = toOscalAssessmentResults(chain([{ ...all[0]!, status: 'Faulted' }, ...all.slice(1)]), OPTIONS);
    expect(edited['assessment-results'].results[0]!.uuid).not.toBe(ar.results[0]!.uuid);
    expect(edited['assessment-results'].uuid).not.toBe(ar.uuid);
    // A record read twice (a copied line in a broken chain) is listed once: its uuids stay unique.
    const twice = toOscalAssessmentResults([...records, records[1]!], OPTIONS)['assessment-results'];
    expect(twice.results).toHaveLength(ar.results.length);
    expect(twice.metadata.props).toContainEqual({ name: 'repeated-records-omitted', ns: OSCAL_NS, value: '1' });
  });

  it('states the chain check in the metadata, and names its properties as OSCAL tokens in our namespace', () => {
    // The version is the last exported record's SEQ:HASH (record 6 is a notification, left out): an anchor for `evidence verify`.
    expect(ar.metadata).toMatchObject({ 'oscal-version': '1.1.2', version: `5:${records[4]!.hash}` });
    expect(ar.metadata.props).toContainEqual({ name: 'chain-intact', ns: OSCAL_NS, value: 'true' });
    const broken = toOscalAssessmentResults(records, {
      ...OPTIONS,
      check: { intact: false, text: 'BROKEN at record 3: edited\nrecord 3 does not hash to its hash' },
    });
    const meta = broken['assessment-results'].metadata;
    expect(meta.props).toContainEqual({ name: 'chain-intact', ns: OSCAL_NS, value: 'false' });
    expect(meta.props).toContainEqual({ name: 'chain-check', ns: OSCAL_NS, value: 'BROKEN at record 3: edited' });
    expect(meta.remarks).toContain('record 3 does not hash to its hash');
    const props = valuesOf(doc, (k) => k === 'props').flatMap((p) => p.value as { name: string; ns?: string; value: string }[]);
    expect(props.length).toBeGreaterThan(30);
    for (const p of props) {
      expect(p.name).toMatch(TOKEN);
      expect(p.ns).toBe(OSCAL_NS);
      expect(p.value).toMatch(STRING);
    }
    expect(() => toOscalAssessmentResults(records.slice(5), OPTIONS)).toThrow(/no job or pipeline record/);
  });
});
