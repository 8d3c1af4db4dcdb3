/**
 * The shipped alert rules (deploy/prometheus/alerts.yml) through Prometheus's own tool: `promtool
 * check rules` (syntax, PromQL, templates) and `promtool test rules` (alerts.test.yml: every alert
 * fires when it should and stays silent when it should not). promtool is a test dependency: when it
 * is missing the test fails with the install hint (CI installs it with src/dev/prometheus.ts).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findPrometheus, PROMETHEUS_INSTALL_HINT } from '../../src/dev/prometheus';
import { alertRules, dashboardQueries, metricNames } from '../promql-names';

const ROOT = join(__dirname, '..', '..');
const DIR = join(ROOT, 'deploy/prometheus');
const ALERTS = join(DIR, 'alerts.yml');
const rules = alertRules(readFileSync(ALERTS, 'utf8'));

function promtool(): string {
  const found = findPrometheus();
  if (!found) throw new Error(PROMETHEUS_INSTALL_HINT);
  return found.promtool;
}

/** promtool's exit code and output; never throws on a non-zero exit (the assertion shows the output). */
async function run(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(promtool(), args, { cwd: DIR, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}

describe('alert rules', () => {
  it('pass promtool check rules', async () => {
    const { code, output } = await run(['check', 'rules', 'alerts.yml']);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(code).toBe(0);
  });

  it('load from the example configuration (promtool check config)', async () => {
    const { code, output } = await run(['check', 'config', 'prometheus.yml']);
    expect(output).toContain('SUCCESS: prometheus.yml is valid prometheus config file syntax');
    expect(code).toBe(0);
  });

  it('pass their promtool unit tests (alerts.test.yml)', async () => {
    const { code, output } = await run(['test', 'rules', 'alerts.test.yml']);
    expect(output).toContain('SUCCESS');
    expect(output).not.toContain('FAILED');
    expect(code).toBe(0);
  });

  it('each have a unit test where they fire and one where they stay silent', () => {
    interface Case {
      alertname: string;
      exp_alerts?: unknown[];
    }
    const doc = parse(readFileSync(join(DIR, 'alerts.test.yml'), 'utf8')) as { tests: { alert_rule_test?: Case[] }[] };
    const cases = doc.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of rules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect
        .soft(
          mine.some((c) => (c.exp_alerts ?? []).length > 0),
          `${rule.alert} fires in a test`,
        )
        .toBe(true);
      expect
        .soft(
          mine.some((c) => (c.exp_alerts ?? []).length === 0),
          `${rule.alert} stays silent in a test`,
        )
        .toBe(true);
    }
    expect(cases.filter((c) => !rules.some((r) => r.alert === c.alertname))).toEqual([]);
  });

  it('each carry a severity, a summary, a description and a runbook section that exists', () => {
    const docs = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const anchors = new Set([...docs.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1]!)));
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const rule of rules) {
      expect.soft(['warning', 'critical'], `${rule.alert} severity`).toContain(rule.labels?.severity);
      expect.soft(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy();
      expect.soft(rule.annotations?.description, `${rule.alert} description`).toBeTruthy();
      const url = rule.annotations?.runbook_url ?? '';
      expect.soft(url, `${rule.alert} runbook`).toBe(`docs/operations.md#${rule.alert.toLowerCase()}`);
      expect.soft(anchors.has(url.split('#')[1] ?? ''), `docs/operations.md has a heading for ${url}`).toBe(true);
    }
  });

  it('and the dashboard name only metrics of this worker and Prometheus (checked live in test/integration/prometheus.test.ts)', () => {
    const queries = dashboardQueries(readFileSync(join(ROOT, 'deploy/grafana/ccs-job-orchestrator.json'), 'utf8'));
    expect(queries.length).toBeGreaterThanOrEqual(15);
    for (const q of queries) for (const name of metricNames(q)) expect(name).toMatch(/^(ccs_|temporal_|up$)/);
  });
});
