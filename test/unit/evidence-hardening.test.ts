/**
 * A record no one can quietly rewrite (issue 31): CSV cells a spreadsheet never runs as formulas,
 * report pages no record can add markup to, an evidence directory only its owner reads, a lock only
 * its holder removes (also when writers break a stale one together), a chain that never goes back
 * to an older month file (a worker whose clock is behind), and records that name the run Temporal
 * says the activity runs for, whatever the workflow's draft says.
 */
import { readFileSync, readdirSync, statSync, chmodSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createEvidenceActivities } from '../../src/activities/evidence';
import { csvCell, startedByText, toCsv } from '../../src/cli/evidence';
import { jobEvidence, type EvidenceContent } from '../../src/domain/evidence';
import type { PipelineReport } from '../../src/domain/pipeline';
import { renderPipelineReport } from '../../src/evidence/html-report';
import { JsonlEvidenceSink, lockDirectory } from '../../src/evidence/jsonl-sink';
import { redrivenScan } from '../redrive-reports';
import { tempDir } from '../temp-dir';

interface Content {
  key: string;
  recordedAt: string;
  status: string;
}

const content = (key: string, recordedAt: string): Content => ({ key, recordedAt, status: 'Completed' });
const modeOf = (path: string): number => statSync(path).mode & 0o777;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const keysIn = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as Content).key);

/** A lock file as a writer that crashed an hour ago left it. */
function plantStaleLock(dir: string, token = 'crashed-writer'): string {
  const path = join(dir, '.lock');
  writeFileSync(path, token);
  const anHourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(path, anHourAgo, anHourAgo);
  return path;
}

describe('CSV export', () => {
  it('a cell a spreadsheet would take for a formula is quoted text, also in fullwidth, after whitespace or a control character', () => {
    expect(csvCell('=1+1')).toBe(`"'=1+1"`);
    expect(csvCell('+1')).toBe(`"'+1"`);
    expect(csvCell('-1')).toBe(`"'-1"`);
    expect(csvCell('@SUM(A1:A9)')).toBe(`"'@SUM(A1:A9)"`);
    expect(csvCell('\t=1')).toBe(`"'\t=1"`);
    expect(csvCell('\rcmd')).toBe(`"'\rcmd"`);
    expect(csvCell('\ncmd')).toBe(`"'\ncmd"`);
    expect(csvCell('\uFF1D1+1')).toBe(`"'\uFF1D1+1"`);
    expect(csvCell('\uFF0B1')).toBe(`"'\uFF0B1"`);
    expect(csvCell('\uFF0D1')).toBe(`"'\uFF0D1"`);
    expect(csvCell('\uFF20x')).toBe(`"'\uFF20x"`);
    expect(csvCell('  =1')).toBe(`"'  =1"`);
    expect(csvCell('\u3000\uFF1D1')).toBe(`"'\u3000\uFF1D1"`);
    expect(csvCell('=HYPERLINK("http://x.example","open")')).toBe(`"'=HYPERLINK(""http://x.example"",""open"")"`);
  });

  it('every other cell is as before: bare, or quoted when it holds a quote, a comma or a line break', () => {
    expect(csvCell('alice')).toBe('alice');
    expect(csvCell('a-b=c')).toBe('a-b=c');
    expect(csvCell(' a')).toBe(' a');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(false)).toBe('false');
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
  });

  it('the requester is shown as a claim, beside the identity Temporal recorded', () => {
    expect(toCsv([])).toMatch(/,requestedBy,scheduleId,pipelineWorkflowId,startedByIdentity,/);
    expect(startedByText({ requestedBy: 'alice', identity: '4242@ops-host' })).toBe('4242@ops-host · requested by (as claimed): alice');
    expect(startedByText({ requestedBy: 'alice' })).toBe('identity unknown · requested by (as claimed): alice');
    expect(startedByText({ scheduleId: 'nightly', identity: '7@worker' })).toBe('nightly');
    expect(startedByText({})).toBe('-');
  });
});

describe('HTML reports', () => {
  const evil = '"><script>alert(1)</script>';
  const escaped = 'data-outcome="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"';
  const withEvilJob = (report: PipelineReport): PipelineReport => {
    const copy = structuredClone(report);
    copy.stages[0]!.jobs[0]!.state = evil as never;
    return copy;
  };
  const { first, redrive, redriveId } = redrivenScan('nightly');
  const generatedAt = '2026-12-01T08:00:00.000Z';

  it('an outcome read from a record cannot add markup to a run alone or to a scan', () => {
    const alone = renderPipelineReport({ workflowId: 'nightly', report: withEvilJob(first), generatedAt });
    const scan = renderPipelineReport({
      workflowId: redriveId,
      report: withEvilJob(redrive),
      generatedAt,
      attempts: [{ workflowId: 'nightly', report: first }],
    });
    for (const html of [alone, scan]) {
      expect(html).not.toContain('"><script>');
      expect(html).not.toMatch(/<script/i);
      // The timeline row and the jobs table row.
      expect(html.split(escaped)).toHaveLength(3);
    }
  });

  it('the page allows no form to send it and no <base> to re-point its links', () => {
    const html = renderPipelineReport({ workflowId: 'nightly', report: first, generatedAt });
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    expect(csp?.split('; ')).toEqual(["default-src 'none'", "form-action 'none'", "base-uri 'none'", "style-src 'unsafe-inline'"]);
  });
});

describe('JSON Lines sink: file modes', () => {
  it('makes the directory 0700 and the files and the lock 0600, and narrows a wider file it appends to', async () => {
    const dir = join(tempDir('ccs-evidence-'), 'evidence');
    const sink = new JsonlEvidenceSink<Content>(dir);
    await sink.append(content('a', '2026-11-28T10:00:00.000Z'));
    const november = join(dir, 'evidence-2026-11.jsonl');
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(november)).toBe(0o600);

    const lock = await lockDirectory(dir);
    expect(modeOf(join(dir, '.lock'))).toBe(0o600);
    await lock.release();

    // A file made by hand or by an older version: only the one appended to is narrowed.
    chmodSync(november, 0o644);
    writeFileSync(join(dir, 'evidence-2026-10.jsonl'), '', { mode: 0o644 });
    chmodSync(join(dir, 'evidence-2026-10.jsonl'), 0o644);
    await sink.append(content('b', '2026-11-28T11:00:00.000Z'));
    expect(modeOf(november)).toBe(0o600);
    expect(modeOf(join(dir, 'evidence-2026-10.jsonl'))).toBe(0o644);
    expect(await sink.verify()).toMatchObject({ count: 2, broken: null });
  });
});

describe('JSON Lines sink: the lock has an owner', () => {
  it('holds a random token; a writer judged dead that comes back neither removes nor holds the new lock', async () => {
    const dir = tempDir('ccs-evidence-');
    const path = join(dir, '.lock');
    const slow = await lockDirectory(dir);
    expect(readFileSync(path, 'utf8')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // A writer whose clock runs a minute ahead takes the slow writer's lock for one left by a crash.
    const next = await lockDirectory(dir, () => Date.now() + 60_000);
    const token = readFileSync(path, 'utf8');
    expect(await next.held()).toBe(true);
    expect(await slow.held()).toBe(false);
    await slow.release();
    expect(readFileSync(path, 'utf8')).toBe(token);
    await next.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a stale lock is broken; one taken meanwhile by the writer that broke it first is put back, not broken again', async () => {
    const dir = tempDir('ccs-evidence-');
    const path = plantStaleLock(dir);
    let calls = 0;
    const late = lockDirectory(dir, () => {
      // Just after this writer judged the crashed writer's lock stale, another breaks it and takes the lock.
      if (++calls === 2) {
        rmSync(path);
        writeFileSync(path, 'first-breaker', { flag: 'wx' });
      }
      return Date.now();
    });
    await sleep(200);
    expect(readFileSync(path, 'utf8')).toBe('first-breaker');
    expect(readdirSync(dir)).toEqual(['.lock']);
    rmSync(path); // the first breaker is done
    const lock = await late;
    expect(await lock.held()).toBe(true);
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a lock left by a crashed writer is broken and leaves nothing behind', async () => {
    const dir = tempDir('ccs-evidence-');
    plantStaleLock(dir);
    const lock = await lockDirectory(dir);
    expect(readFileSync(join(dir, '.lock'), 'utf8')).not.toBe('crashed-writer');
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('JSON Lines sink: month files', () => {
  it('a worker whose clock is 2 s behind across a month boundary writes after the head, in its file: one chain', async () => {
    const dir = tempDir('ccs-evidence-');
    const onTime = new JsonlEvidenceSink<Content>(dir);
    const behind = new JsonlEvidenceSink<Content>(dir, () => Date.now() - 2_000);
    await onTime.append(content('a', '2026-11-30T23:59:59.000Z'));
    await onTime.append(content('b', '2026-12-01T00:00:00.500Z'));
    // Written half a second after b, dated 1.6 s before it: still November by its own clock.
    const c = await behind.append(content('c', '2026-11-30T23:59:58.900Z'));
    expect(c).toMatchObject({ seq: 3, duplicate: false });
    await onTime.append(content('d', '2026-12-01T00:00:01.000Z'));
    expect(keysIn(join(dir, 'evidence-2026-11.jsonl'))).toEqual(['a']);
    expect(keysIn(join(dir, 'evidence-2026-12.jsonl'))).toEqual(['b', 'c', 'd']);
    expect(await onTime.verify()).toMatchObject({ count: 4, lastSeq: 4, broken: null, unreadable: 0 });
    // A record dated in a later month than the head's still starts its own file.
    await behind.append(content('e', '2027-01-01T00:00:00.000Z'));
    expect(keysIn(join(dir, 'evidence-2027-01.jsonl'))).toEqual(['e']);
  });
});

describe('JSON Lines sink: many writers', () => {
  it('20 writers with skewed clocks across a month boundary, after a crashed writer: one chain, every key once', async () => {
    const dir = tempDir('ccs-evidence-');
    plantStaleLock(dir);
    const boundary = Date.parse('2026-12-01T00:00:00.000Z');
    const writers = Array.from({ length: 20 }, (_, w) => {
      const skew = Math.round((w / 19) * 4_000 - 2_000); // -2 s … +2 s
      return { w, skew, sink: new JsonlEvidenceSink<Content>(dir, () => Date.now() + skew) };
    });
    await Promise.all(
      writers.map(async ({ w, skew, sink }) => {
        for (let i = 0; i < 10; i++) {
          const recordedAt = new Date(boundary - 1_000 + i * 200 + skew).toISOString();
          const written = await sink.append(content(`wf-${w}-${i}/run`, recordedAt));
          expect(written.duplicate).toBe(false);
        }
      }),
    );
    expect(await writers[0]!.sink.verify()).toMatchObject({ count: 200, lastSeq: 200, broken: null, unreadable: 0 });
    const keys: string[] = [];
    for await (const r of writers[0]!.sink.records()) keys.push(r!.key);
    expect(new Set(keys).size).toBe(200);
    expect(keys.slice().sort()).toEqual(writers.flatMap(({ w }) => Array.from({ length: 10 }, (_, i) => `wf-${w}-${i}/run`)).sort());
    expect(readdirSync(dir).sort()).toEqual(['evidence-2026-11.jsonl', 'evidence-2026-12.jsonl']);
  });
});

describe('recordEvidence: the run is the one Temporal names', () => {
  function setUp() {
    const appended: EvidenceContent[] = [];
    const asked: string[] = [];
    const evidence = createEvidenceActivities({
      sink: {
        append: (c) => (
          appended.push(c),
          Promise.resolve({ ...c, seq: 1, prevHash: '0'.repeat(64), hash: 'c'.repeat(64), duplicate: false })
        ),
      },
      workerVersion: '1.2.3',
      starterOf: (workflowId, runId) => (asked.push(`${workflowId}/${runId}`), Promise.resolve('4242@ops-host')),
    });
    const logs: LogEntry[] = [];
    const env = new MockActivityEnvironment(
      { workflowExecution: { workflowId: 'ccs-job-real', runId: 'run-real' } },
      { logger: new DefaultLogger('WARN', (entry) => void logs.push(entry)) },
    );
    return { appended, asked, evidence, logs, env };
  }
  const draftOf = (workflowId: string, runId: string) =>
    jobEvidence({
      workflowId,
      runId,
      startedBy: { requestedBy: 'alice' },
      ccs: 'default',
      jobId: '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16',
      result: undefined,
      error: null,
      cancel: undefined,
      deadlineAt: null,
    });

  it('a draft naming another workflow and run is recorded for the context’s, with a WARN naming both', async () => {
    const { appended, asked, evidence, logs, env } = setUp();
    await env.run(() => evidence.recordEvidence(draftOf('ccs-job-victim', 'run-victim')));
    expect(appended[0]).toMatchObject({
      key: 'ccs-job-real/run-real',
      workflowId: 'ccs-job-real',
      runId: 'run-real',
      startedBy: { requestedBy: 'alice', identity: '4242@ops-host' },
    });
    expect(asked).toEqual(['ccs-job-real/run-real']);
    const warnings = logs.filter((l) => l.level === 'WARN');
    expect(warnings).toHaveLength(1);
    for (const name of ['ccs-job-victim', 'run-victim', 'ccs-job-real', 'run-real']) expect(warnings[0]!.message).toContain(name);
  });

  it('a draft naming its own run is recorded as it is, without a warning', async () => {
    const { appended, evidence, logs, env } = setUp();
    await env.run(() => evidence.recordEvidence(draftOf('ccs-job-real', 'run-real')));
    expect(appended[0]).toMatchObject({ key: 'ccs-job-real/run-real', workflowId: 'ccs-job-real', runId: 'run-real' });
    expect(logs.filter((l) => l.level === 'WARN')).toEqual([]);
  });
});
