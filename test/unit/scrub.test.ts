import { describe, expect, it } from 'vitest';
import { errorForStatus, jsonBody, MAX_ANSWER_TEXT_CHARS } from '../../src/ccs/answer-errors';
import type { HttpRequest, HttpResponse } from '../../src/ccs/requests';
import type { Transport } from '../../src/ccs/transport';
import { SecretSet, TOKEN_GRACE_MS } from '../../src/ccs/scrub';
import { MAX_TOKEN_LIFETIME_MS, TokenManager } from '../../src/ccs/tokens';

const TYPED = 'p>?ss~w&rd';
// Its Base64 holds '+', '/' and '=': the characters every encoder writes differently.
const SENT = Buffer.from(TYPED, 'utf8').toString('base64');
const TOKEN = 'kB9f2Qw-_Zr8TtYy5nL0aXcVdE3sHuJm';

function answer(status: number, text: string): HttpResponse {
  return { status, headers: { 'content-type': 'application/problem+json' }, text };
}

function secretsWith(...passwords: string[]): SecretSet {
  const secrets = new SecretSet();
  for (const p of passwords) secrets.addPassword(p);
  secrets.add(TOKEN);
  return secrets;
}

describe('known secrets in every escaping', () => {
  it('has the characters the test is about', () => {
    expect(SENT).toMatch(/\+/);
    expect(SENT).toMatch(/\//);
    expect(SENT).toMatch(/=$/);
  });

  it('the Base64 password JSON-escaped (\\u002B, \\/, \\u003D) in ProblemDetails detail and in Error', () => {
    const escaped = SENT.replace(/\+/g, '\\u002B').replace(/\//g, '\\/').replace(/=/g, '\\u003D');
    const secrets = secretsWith(SENT);
    // Read as JSON, the message key is found and unescaped; read raw (an unknown key), the escapes stay.
    const bodies = {
      'password [redacted] refused': `{"type":"about:blank","title":"Bad Request","status":400,"detail":"password ${escaped} refused"}`,
      'login [redacted] refused': `{"Error":"login ${escaped} refused"}`,
      '{"Fault":{"Text":"login [redacted] refused"}}': `{"Fault":{"Text":"login ${escaped} refused"}}`,
    };
    for (const [shown, body] of Object.entries(bodies)) {
      const err = errorForStatus(answer(400, body), 'POST /jobs/x', { secrets });
      expect(err.message).toBe(`POST /jobs/x was rejected (400): ${shown}`);
      expect(err.message).not.toContain(escaped);
      expect(err.message).not.toContain(SENT.slice(0, 12));
    }
  });

  it('HTML-entity forms (&#43; &#x2B; &amp; &quot;) and percent forms in an error page', () => {
    const secrets = secretsWith(TYPED, SENT, 'pa"ss<word');
    const forms = [
      SENT.replace(/\+/g, '&#43;'),
      SENT.replace(/\+/g, '&#x2B;').replace(/\//g, '&#x2f;'),
      TYPED.replace(/&/g, '&amp;'),
      'pa&quot;ss&lt;word',
      encodeURIComponent(TYPED),
      encodeURIComponent(TYPED).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    ];
    for (const form of forms) {
      const text = errorForStatus(
        { status: 500, headers: { 'content-type': 'text/html' }, text: `<html><body><p>Request was ${form} here</p></body></html>` },
        'GET /x',
        { secrets },
      ).message;
      expect(text, form).toContain('Request was [redacted] here');
    }
  });

  it('base64url forms of the Base64 password (- and _, no padding)', () => {
    const secrets = secretsWith(SENT);
    const url = SENT.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(secrets.scrub(`state=${url}&x=1`)).toBe('state=[redacted]&x=1');
    expect(secrets.scrub(`unpadded ${SENT.replace(/=+$/, '')}.`)).toBe('unpadded [redacted].');
  });

  it('the password in every encoding the worker sends it (CCS_PASSWORD_ENCODING base64 and plain)', async () => {
    for (const passwordEncoding of ['base64', 'plain'] as const) {
      const transport = fakeTransport(() => ({
        status: 200,
        headers: { 'content-type': 'application/json' },
        text: JSON.stringify({ access_token: TOKEN, expires_in: 3600 }),
      }));
      const tokens = new TokenManager(transport, { username: 'svc', password: () => TYPED, passwordEncoding });
      await tokens.get();
      const sent = new URLSearchParams(transport.sent[0]!.body).get('password')!;
      expect(sent).toBe(passwordEncoding === 'base64' ? Buffer.from(TYPED).toString('base64') : TYPED);
      for (const form of [TYPED, sent, new URLSearchParams({ p: sent }).toString().slice(2), JSON.stringify(sent).slice(1, -1)]) {
        expect(transport.secrets.scrub(`echo ${form} end`), form).toBe('echo [redacted] end');
      }
    }
  });
});

describe('credential shapes', () => {
  it('"AccessToken" in any case and spelling, RefreshToken, x-api-key, as JSON keys', () => {
    const text = JSON.stringify({
      AccessToken: 'a1',
      accesstoken: 'a2',
      'access-token': 'a3',
      RefreshToken: 'r1',
      refresh_token: 'r2',
      'x-api-key': 'k1',
      ApiKey: 'k2',
      keep: 'visible',
    });
    const out = new SecretSet().scrub(text);
    expect(out).toBe(
      '{"AccessToken":"[redacted]","accesstoken":"[redacted]","access-token":"[redacted]","RefreshToken":"[redacted]","refresh_token":"[redacted]","x-api-key":"[redacted]","ApiKey":"[redacted]","keep":"visible"}',
    );
  });

  it('pwd= in a connection string, cookies, x-api-key as a header', () => {
    const secrets = new SecretSet();
    expect(secrets.scrub('Server=db;Uid=sa;Pwd=Winter2026!;Encrypt=true')).toBe('Server=db;Uid=sa;Pwd=[redacted];Encrypt=true');
    expect(secrets.scrub('GET /x\r\nCookie: ASP.NET_SessionId=abc123; .ASPXAUTH=def456\r\nHost: ccs')).toBe(
      'GET /x\r\nCookie: [redacted]\r\nHost: ccs',
    );
    expect(secrets.scrub('Set-Cookie: .AspNet.Cookies=xyz; path=/; HttpOnly\nnext')).toBe('Set-Cookie: [redacted]\nnext');
    expect(secrets.scrub('x-api-key: 9f8e7d6c5b4a\nX-API-Key=abcd')).toBe('x-api-key: [redacted]\nX-API-Key=[redacted]');
  });
});

describe('a cut never lets a secret through', () => {
  it('scrubPrefix removes a secret or credential value wherever the cut falls in it', () => {
    const secrets = secretsWith(SENT);
    const limit = 300;
    for (const secret of [TOKEN, SENT, SENT.replace(/\+/g, '\\u002B')]) {
      for (let at = limit - secret.length - 1; at <= limit + 1; at++) {
        const text = `${'a '.repeat(at).slice(0, at)}${secret}${' tail'.repeat(2000)}`;
        const shown = secrets.scrubPrefix(text, limit);
        expect(shown.length).toBeLessThanOrEqual(limit);
        // No run of the secret's characters beyond what a coincidence could make survives the cut.
        expect(shown, `${secret} at ${at}`).not.toContain(secret.slice(0, 6));
      }
    }
    const credential = `${'x '.repeat(140)} password=${'q'.repeat(40)}${' z'.repeat(2000)}`;
    for (let limit2 = 285; limit2 < 340; limit2 += 3) expect(secrets.scrubPrefix(credential, limit2)).not.toMatch(/q{3}/);
  });

  it('a string of an answer over MAX_ANSWER_TEXT_CHARS is cut there, scrubbed across the cut, and says how much was cut', () => {
    const secrets = secretsWith();
    const exception = `${'e'.repeat(MAX_ANSWER_TEXT_CHARS - 10)}${TOKEN}${'f'.repeat(100_000)}`;
    const body = jsonBody({ status: 200, headers: {}, text: JSON.stringify({ Exception: exception }) }, 'GET /x', secrets) as {
      Exception: string;
    };
    expect(body.Exception).not.toContain(TOKEN.slice(0, 8));
    expect(body.Exception.startsWith('e'.repeat(MAX_ANSWER_TEXT_CHARS - 10))).toBe(true);
    expect(body.Exception).toMatch(new RegExp(`… \\(${exception.length - MAX_ANSWER_TEXT_CHARS} more characters\\)$`));
  });
});

describe('tokens are forgotten once expired', () => {
  it('an expired token is still scrubbed during the grace, then forgotten; a retired one after the grace', () => {
    let now = 1_000_000;
    const secrets = new SecretSet({ now: () => now });
    secrets.add(TOKEN, now + 60_000);
    secrets.add('second-token-1234567890', now + 3_600_000);
    now += 60_000 + TOKEN_GRACE_MS - 1;
    expect(secrets.scrub(TOKEN)).toBe('[redacted]');
    now += 1;
    expect(secrets.scrub(TOKEN)).toBe(TOKEN);
    secrets.retire('second-token-1234567890');
    now += TOKEN_GRACE_MS - 1;
    expect(secrets.scrub('second-token-1234567890')).toBe('[redacted]');
    now += 1;
    expect(secrets.size).toBe(0);
  });

  it('200 hourly rotations through the token manager leave only the tokens in use and in grace', async () => {
    let now = Date.now();
    let issued = 0;
    const transport = fakeTransport(
      () => {
        issued++;
        return {
          status: 200,
          headers: {},
          text: JSON.stringify({
            access_token: `access-${issued}-${'a'.repeat(20)}`,
            refresh_token: `refresh-${issued}-${'r'.repeat(20)}`,
            expires_in: 3600,
          }),
        };
      },
      () => now,
    );
    const tokens = new TokenManager(transport, { username: 'svc', password: 'pw-1234', now: () => now });
    for (let i = 0; i < 200; i++) {
      await tokens.get();
      now += 3_600_000;
    }
    expect(issued).toBe(200);
    // The password as typed and as sent, and the last grant's two tokens; every older one is forgotten.
    expect(transport.secrets.size).toBe(4);
    expect(transport.secrets.scrub(`access-1-${'a'.repeat(20)}`)).toBe(`access-1-${'a'.repeat(20)}`);
    expect(transport.secrets.scrub(`access-200-${'a'.repeat(20)}`)).toBe('[redacted]');
  });
});

describe('a token lifetime below the floor', () => {
  /** A token manager whose CCS announces `expiresIn` with every token; counts its grants. */
  function announcing(expiresIn: unknown): { tokens: TokenManager; grants: () => number; advance: (ms: number) => void } {
    let now = 0;
    let grants = 0;
    const transport = fakeTransport(() => {
      grants++;
      return {
        status: 200,
        headers: {},
        text: JSON.stringify({ access_token: `token-${grants}-${'t'.repeat(20)}`, expires_in: expiresIn }),
      };
    });
    const tokens = new TokenManager(transport, { username: 'svc', password: 'pw-1234', now: () => now });
    return { tokens, grants: () => grants, advance: (ms) => (now += ms) };
  }

  for (const expiresIn of [1, 5, 20]) {
    it(`expires_in ${expiresIn}: 200 calls over 20 s make one grant, a call a minute later another`, async () => {
      const ccs = announcing(expiresIn);
      for (let i = 0; i < 200; i++) {
        await ccs.tokens.get();
        ccs.advance(100);
      }
      expect(ccs.grants()).toBe(1);
      ccs.advance(60_000);
      await ccs.tokens.get();
      expect(ccs.grants()).toBe(2);
    });
  }

  it('an absurd expires_in is believed for a day at most', async () => {
    const ccs = announcing(1e15);
    await ccs.tokens.get();
    ccs.advance(MAX_TOKEN_LIFETIME_MS);
    await ccs.tokens.get();
    expect(ccs.grants()).toBe(2);
  });

  it('a token CCS refuses before the floor is renewed on the 401 (a real short lifetime still works)', async () => {
    let now = 0;
    const transport = fakeTransport(() => ({
      status: 200,
      headers: {},
      text: JSON.stringify({ access_token: `token-${now}-${'t'.repeat(20)}`, expires_in: 1 }),
    }));
    const tokens = new TokenManager(transport, { username: 'svc', password: 'pw-1234', now: () => now });
    const first = await tokens.get();
    now += 2000;
    tokens.invalidate(first);
    expect(await tokens.get()).not.toBe(first);
  });
});

/** A transport that answers every request with `reply()` and records what was sent. */
function fakeTransport(reply: () => HttpResponse, now?: () => number): Transport & { sent: HttpRequest[] } {
  const sent: HttpRequest[] = [];
  return {
    secrets: new SecretSet({ now }),
    maxRetryAfterMs: 60_000,
    sent,
    send: (req: HttpRequest) => {
      sent.push(req);
      return Promise.resolve(reply());
    },
  } as unknown as Transport & { sent: HttpRequest[] };
}
