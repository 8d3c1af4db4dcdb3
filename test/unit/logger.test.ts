/**
 * The JSON log lines: secret-named keys dropped at every depth, credential-shaped text and URL
 * userinfo scrubbed in messages, values and error texts, deep values summarised.
 */
import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../src/hosting/observability/logger';

function line(message: string, meta: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(formatLogLine({ level: 'WARN', message, meta, timestampNanos: 1_700_000_000_000_000_000n })) as Record<string, unknown>;
}

describe('log lines', () => {
  it('drop secret-named keys at any depth, not only near the top', () => {
    const nested = { a: { b: { c: { d: { e: { password: 'hunter2', accessToken: 'tok-123', keep: 'yes' } } } } } };
    const text = JSON.stringify(line('x', nested));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('tok-123');
    expect(text).toContain('"keep":"yes"');
  });

  it('scrub credentials and URL userinfo from messages, values and errors', () => {
    const out = JSON.stringify(
      line('calling https://svc:S3cret!@ccs.example.local:12431/ccs/api/v1 with Authorization: Bearer abc.def', {
        url: 'https://svc:S3cret!@ccs.example.local:12431/ccs/api/v1',
        body: 'grant_type=password&username=svc&password=hunter2',
        error: new Error('echoed {"access_token":"AAA.BBB"}'),
      }),
    );
    for (const secret of ['S3cret!', 'abc.def', 'hunter2', 'AAA.BBB']) expect(out).not.toContain(secret);
    expect(out).toContain('https://[redacted]@ccs.example.local:12431');
  });

  it('summarise values nested deeper than 8 levels instead of writing them', () => {
    let deep: Record<string, unknown> = { secretless: 'bottom' };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    expect(JSON.stringify(line('x', deep))).toContain('"[object]"');
  });
});
