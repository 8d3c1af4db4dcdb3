/**
 * The PromQL the project ships (alert rules, dashboard panels) and the metric names it names, for
 * the tests that check those names against a live worker's /metrics and the runbook anchors.
 */
import { parse } from 'yaml';

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Every rule of an alerts.yml document. */
export function alertRules(yamlText: string): AlertRule[] {
  const doc = parse(yamlText) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

export function ruleExpressions(yamlText: string): string[] {
  return alertRules(yamlText).map((r) => r.expr);
}

/** Every `expr` of every target of every panel (rows' nested panels included), and of template variables' queries. */
export function dashboardQueries(jsonText: string): string[] {
  interface Panel {
    targets?: { expr?: string }[];
    panels?: Panel[];
  }
  const dashboard = JSON.parse(jsonText) as Panel & { templating?: { list?: { query?: unknown }[] } };
  const out: string[] = [];
  const walk = (panels: Panel[] | undefined): void => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push(t.expr);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    // label_values(metric, label): the metric is the first argument.
    const m = q && /label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(q);
    if (m) out.push(m[1]!);
  }
  return out;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'and',
  'or',
  'unless',
  'bool',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: identifiers outside strings, label matchers, ranges
 * and grouping lists, that are neither keywords nor function calls nor numbers.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\S+/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][\w:]*(\s*\()?/g)) {
    const [token, call] = [m[0].replace(/\s*\($/, ''), m[1]];
    if (call || KEYWORDS.has(token.toLowerCase())) continue;
    // Part of a number (1e3) or a duration suffix were already removed with their brackets.
    if (/^\d/.test(token) || (m.index > 0 && /[\d.]/.test(stripped[m.index - 1]!))) continue;
    names.add(token);
  }
  return [...names];
}
