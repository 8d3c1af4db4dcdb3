import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';

const dir = mkdtempSync(join(tmpdir(), 'ccs-config-'));
const passwordFile = join(dir, 'password');
writeFileSync(passwordFile, 's3cret-from-file\n');
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');

const BASE = { CCS_BASE_URL: 'https://ccs.example.local:12431/ccs/api/v1', CCS_USERNAME: 'CORP\\svc-ccs', CCS_PASSWORD: 'pw' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads a complete configuration with defaults, frozen', () => {
    const config = loadConfig({ ...BASE, TEMPORAL_ADDRESS: 'temporal.example:7233', TEMPORAL_NAMESPACE: 'compliance' });
    expect(config).toMatchObject({ taskQueue: 'ccs-jobs', ccs: { baseUrl: BASE.CCS_BASE_URL, username: 'CORP\\svc-ccs', password: 'pw', insecure: false } });
    expect(config.temporal.namespace).toBe('compliance');
    expect(config.temporal.connection.address).toBe('temporal.example:7233');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem together, without echoing the password', () => {
    const problems = problemsOf({ CCS_BASE_URL: 'ftp://x', CCS_PASSWORD: 'hunter2', CCS_PASSWORD_FILE: passwordFile, CCS_CA_FILE: '/nope.pem', CCS_TLS_INSECURE: 'yes please' });
    expect(problems).toEqual([
      'CCS_BASE_URL must start with https://; got ftp:',
      'CCS_USERNAME is required, e.g. DOMAIN\\svc-ccs',
      'set only one of CCS_PASSWORD and CCS_PASSWORD_FILE',
      'CCS_CA_FILE: cannot read /nope.pem (ENOENT)',
      'CCS_TLS_INSECURE must be true or false; got "yes please"',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('reads the password from CCS_PASSWORD_FILE without its trailing newline, and the CA from CCS_CA_FILE', () => {
    const { CCS_PASSWORD: _, ...rest } = BASE;
    const config = loadConfig({ ...rest, CCS_PASSWORD_FILE: passwordFile, CCS_CA_FILE: caFile, TEMPORAL_TASK_QUEUE: 'scans' });
    expect(config.ccs.password).toBe('s3cret-from-file');
    expect(config.ccs.ca).toContain('BEGIN CERTIFICATE');
    expect(config.taskQueue).toBe('scans');
  });

  it('parses booleans strictly and refuses insecure mode next to a CA', () => {
    expect(loadConfig({ ...BASE, CCS_TLS_INSECURE: 'TRUE' }).ccs.insecure).toBe(true);
    expect(loadConfig({ ...BASE, CCS_TLS_INSECURE: 'false' }).ccs.insecure).toBe(false);
    expect(problemsOf({ ...BASE, CCS_TLS_INSECURE: 'true', CCS_CA_FILE: caFile })).toEqual(['CCS_TLS_INSECURE=true and CCS_CA_FILE contradict each other; keep CCS_CA_FILE']);
  });

  it('takes Temporal Cloud settings (API key, TLS) by Temporal’s own variables', () => {
    const config = loadConfig({ ...BASE, TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'key-123' });
    expect(config.temporal.connection).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', apiKey: 'key-123' });
    expect(config.temporal.connection.tls).toBeTruthy();
  });
});

describe('.env.example', () => {
  it('lists exactly the variables the loader reads besides Temporal’s own', async () => {
    const { CONFIG_VARIABLES } = await import('../src/config');
    const text = readFileSync(join(__dirname, '../.env.example'), 'utf8');
    const listed = [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    const ours = listed.filter((name) => !['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE'].includes(name!));
    expect(ours.sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});
