import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/hosting/config';
import { DEFAULT_GIVE_UP_AFTER_MS, notificationsFromFile, PAGERDUTY_EVENTS_URL } from '../../src/notifications/config';
import { tempDir } from '../temp-dir';

const dir = tempDir('ccs-notify-config-');
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const hookKey = file('hook-key', 'k3y-for-the-hook\n');
const pdKey = file('pd-key', 'R0UTINGKEY0123456789abcdef012345\n');
const slackUrl = file('slack-url', 'https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX\n');
const smtpPass = file('smtp-pass', 's3cret-smtp\n');

function load(text: string, env: Record<string, string> = {}): { config: ReturnType<typeof notificationsFromFile>; problems: string[] } {
  const problems: string[] = [];
  const config = notificationsFromFile(file(`n-${Math.random().toString(36).slice(2)}.yaml`, text), env, problems);
  return { config, problems };
}

describe('NOTIFICATIONS_FILE', () => {
  it("reads the issue's example, with every channel type, defaults applied", () => {
    const { config, problems } = load(`
channels:
  ops:   { type: webhook, url: https://hooks.corp.example/ccs, secretFile: ${hookKey} }
  pager: { type: pagerduty, routingKeyFile: ${pdKey} }
  chat:  { type: slack, urlFile: ${slackUrl} }
  mail:  { type: email, host: smtp.corp.example, username: ccs, passwordFile: ${smtpPass}, from: ccs@corp.example, to: [ops@corp.example] }
rules:
  - events: [run.failed, pipeline.failed, scan.missed]
    channels: [ops, pager]
  - events: [run.attention, run.late, pipeline.stale_data]
    pipelines: ["nightly scan"]
    channels: [ops]
`);
    expect(problems).toEqual([]);
    expect(config!.delivery).toEqual({ giveUpAfterMs: DEFAULT_GIVE_UP_AFTER_MS, maxRetryIntervalMs: 600_000 });
    expect(config!.channels.ops).toMatchObject({ type: 'webhook', secret: 'k3y-for-the-hook' });
    expect(config!.channels.pager).toMatchObject({
      type: 'pagerduty',
      url: PAGERDUTY_EVENTS_URL,
      routingKey: 'R0UTINGKEY0123456789abcdef012345',
    });
    expect(config!.channels.chat).toMatchObject({ type: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX' });
    expect(config!.channels.mail).toMatchObject({ type: 'email', port: 587, secure: false, auth: { user: 'ccs', pass: 's3cret-smtp' } });
    expect(config!.rules[1]).toMatchObject({ pipelines: ['nightly scan'], channels: ['ops'] });
  });

  it('reports every problem together, each with its field path, never a secret', () => {
    const { config, problems } = load(
      `
channels:
  plain: { type: webhook, url: http://hooks.corp.example/ccs, secretFile: ${hookKey} }
  inline: { type: webhook, url: https://h.example, secret: hunter2-inline }
  chat: { type: slack, url: https://hooks.slack.com/services/T/B/TOKEN-INLINE }
  pd: { type: pagerduty, routingKey: PDKEY-INLINE }
  odd: { type: carrier-pigeon }
  own: { type: webhook, url: https://h.example, secretEnv: CCS_CODEC_KEYS }
  typo: { type: webhook, url: https://h.example, secretFile: ${hookKey}, retries: 3 }
  pin: { type: webhook, url: https://h.example, secretFile: ${hookKey}, tlsPinSha256: nope }
rules:
  - events: [run.failed, run.exploded]
    channels: [plain, nowhere]
  - events: [test]
    channels: [plain]
    owner: me
delivery: { giveUpAfter: soon, color: red }
extra: 1
`,
      { CCS_CODEC_KEYS: 'k1:abc' },
    );
    expect(config).toBeUndefined();
    const text = problems.join('\n');
    for (const expected of [
      'channels.plain.url: must be https (set allowPlaintext: true for a loopback receiver)',
      'channels.inline.secret: secrets are not accepted in the file; use secretFile',
      'channels.inline: secretFile or secretEnv is required',
      'channels.chat.url: a slack webhook URL is a secret (it carries the token); put it in a file and name it with urlFile',
      'channels.chat.urlFile: is required',
      'channels.pd.routingKey: secrets are not accepted in the file; use routingKeyFile',
      'channels.odd.type: must be one of webhook, slack, teams, pagerduty, email',
      "channels.own.secretEnv names CCS_CODEC_KEYS, one of the worker's own secrets",
      'channels.typo.retries: not a known setting of a webhook channel',
      'channels.pin.tlsPinSha256: "nope" is not a SHA-256 fingerprint',
      'rules[0].events: unknown event type "run.exploded"',
      'rules[0].channels: unknown channel "nowhere"',
      'rules[1].events: "test" is never routed by rules',
      'rules[1].owner: not a known rule setting',
      'delivery.giveUpAfter: must be a duration',
      'delivery.color: not a known setting',
      'extra: not a known setting',
    ])
      expect(text).toContain(expected);
    expect(problems.every((p) => p.startsWith('NOTIFICATIONS_FILE '))).toBe(true);
    for (const secret of ['hunter2-inline', 'TOKEN-INLINE', 'PDKEY-INLINE', 'k1:abc', 'k3y-for-the-hook'])
      expect(text).not.toContain(secret);
  });

  it('accepts http with allowPlaintext, a secret from the environment, and delivery bounds', () => {
    const { config, problems } = load(
      `
channels:
  lab: { type: webhook, url: http://127.0.0.1:9000/hook, secretEnv: HOOK_KEY, allowPlaintext: true }
rules: [{ events: [run.completed], channels: [lab], jobs: [Nightly CER], ccs: emea }]
delivery: { giveUpAfter: 2h, maxRetryInterval: 30s }
`,
      { HOOK_KEY: 'from-env-key' },
    );
    expect(problems).toEqual([]);
    expect(config!.channels.lab).toMatchObject({ secret: 'from-env-key', allowPlaintext: true });
    expect(config!.rules[0]).toMatchObject({ jobs: ['Nightly CER'], ccs: ['emea'] });
    expect(config!.delivery).toEqual({ giveUpAfterMs: 7_200_000, maxRetryIntervalMs: 30_000 });
  });

  it('a slack URL file holding plain http is refused without echoing the URL', () => {
    const leaky = file('leaky-url', 'http://hooks.slack.com/services/T/B/SECRET-IN-FILE');
    const { problems } = load(`channels: { c: { type: teams, urlFile: ${leaky} } }\nrules: []\n`);
    expect(problems.join('\n')).toContain('channels.c.urlFile (the URL in it): must be https');
    expect(problems.join('\n')).not.toContain('SECRET-IN-FILE');
  });

  it('is part of loadConfig: problems join the rest of the worker configuration in one error', () => {
    const bad = file('bad.yaml', 'channels: { x: { type: fax } }\nrules: []\n');
    let caught: unknown;
    try {
      loadConfig({
        CCS_BASE_URL: 'https://ccs.example:12431/ccs/api/v1',
        CCS_USERNAME: 'u',
        CCS_PASSWORD: 'p4ssword',
        NOTIFICATIONS_FILE: bad,
        TEMPORAL_UI_URL: 'ftp://nope',
        LOG_LEVEL: 'LOUD',
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    expect(problems).toContain('NOTIFICATIONS_FILE channels.x.type: must be one of');
    expect(problems).toContain('TEMPORAL_UI_URL must be an http(s) URL');
    expect(problems).toContain('LOG_LEVEL must be one of');
  });

  it('without NOTIFICATIONS_FILE notifications are off', () => {
    const config = loadConfig({ CCS_BASE_URL: 'https://ccs.example:12431/ccs/api/v1', CCS_USERNAME: 'u', CCS_PASSWORD: 'p4ssword' });
    expect(config.notifications).toBeUndefined();
    expect(config.temporalUiUrl).toBeUndefined();
  });
});
