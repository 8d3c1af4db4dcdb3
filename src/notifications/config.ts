/**
 * NOTIFICATIONS_FILE (YAML or JSON): the channels events go to, the rules that pick them, and how
 * long deliveries are retried. Read once at worker start; every problem is reported together with
 * the field path it concerns, and no secret is ever echoed. Secrets come only from files or
 * environment variables named in the file (`secretFile`/`secretEnv`, `urlFile`, `routingKeyFile`,
 * `passwordFile`/`authFile`); a file is re-read on each send by the channel, so rotations apply.
 */
import { parse as parseYaml } from 'yaml';
import { normalizeFingerprint } from '../ccs/tls';
import { withoutUserinfo } from '../ccs/scrub';
import { NOTIFICATION_EVENT_TYPES, NotificationEventType } from '../domain/notifications';
import { formatDuration, parseDuration } from '../domain/validation';
import { readFile, readPassword, type Env } from '../hosting/config/values';
import { CHANNEL_TYPES, type ChannelTls, type ChannelType, type EmailChannelConfig } from './channel';
import type { EmailChannelExtras } from './email';

/** PagerDuty's Events API v2 (`url` overrides it: EU service region, tests). */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
export const DEFAULT_GIVE_UP_AFTER_MS = 24 * 3_600_000;
export const DEFAULT_MAX_RETRY_INTERVAL_MS = 10 * 60_000;

interface HttpChannelBase {
  /** The receiver's URL (for slack and teams: a secret, from `urlFile`). */
  url: string;
  /** `allowPlaintext: true`: http:// accepted (loopback receivers, lab setups). */
  allowPlaintext: boolean;
  tls: ChannelTls;
}

export interface WebhookChannelConfig extends HttpChannelBase {
  type: 'webhook';
  /** HMAC-SHA256 key of `X-Ccs-Signature`, from `secretFile` or `secretEnv`. */
  secret: string;
  secretFile?: string | undefined;
}

export interface ChatChannelConfig extends HttpChannelBase {
  type: 'slack' | 'teams';
  /** The webhook URL is the credential: re-read from this file on each send. */
  urlFile: string;
}

export interface PagerDutyChannelConfig extends HttpChannelBase {
  type: 'pagerduty';
  routingKey: string;
  routingKeyFile: string;
}

export type ChannelConfig = WebhookChannelConfig | ChatChannelConfig | PagerDutyChannelConfig | (EmailChannelConfig & EmailChannelExtras);

/** One rule: events of these types, optionally only of these jobs, pipelines, schedules or CCS servers, go to these channels. */
export interface NotificationRule {
  events: readonly NotificationEventType[];
  channels: readonly string[];
  /** JobIDs or job names. */
  jobs?: readonly string[] | undefined;
  pipelines?: readonly string[] | undefined;
  schedules?: readonly string[] | undefined;
  ccs?: readonly string[] | undefined;
}

export interface NotificationsConfig {
  /** The file it was read from. */
  file: string;
  channels: Readonly<Record<string, ChannelConfig>>;
  rules: readonly NotificationRule[];
  delivery: { giveUpAfterMs: number; maxRetryIntervalMs: number };
}

const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const TLS_KEYS = ['allowPlaintext', 'caFile', 'tlsPinSha256'];
const KEYS: Record<ChannelType, readonly string[]> = {
  webhook: ['type', 'url', 'secretFile', 'secretEnv', ...TLS_KEYS],
  slack: ['type', 'urlFile', ...TLS_KEYS],
  teams: ['type', 'urlFile', ...TLS_KEYS],
  pagerduty: ['type', 'url', 'routingKeyFile', ...TLS_KEYS],
  email: ['type', 'host', 'port', 'secure', 'username', 'passwordFile', 'authFile', 'from', 'to', 'subjectPrefix', ...TLS_KEYS],
};
/** Inline secrets, each refused with the key that takes its place. */
const INLINE_SECRETS: Record<string, string> = {
  secret: 'secretFile (a mounted secret) or secretEnv (a variable name)',
  key: 'secretFile (a mounted secret) or secretEnv (a variable name)',
  routingKey: 'routingKeyFile',
  routing_key: 'routingKeyFile',
  password: 'passwordFile',
  auth: 'authFile',
};
const RULE_KEYS = ['events', 'channels', 'jobs', 'pipelines', 'schedules', 'ccs'];
/** The worker's own secrets, never a channel's (the key would be sent to a receiver). */
const WORKER_SECRET = /^(CCS_CODEC_KEYS|EVIDENCE_DATABASE_URL|TEMPORAL_API_KEY|CODEC_SERVER_TOKEN|CCS_PASSWORD|TEMPORAL_TLS_.*)$/;

type Raw = Record<string, unknown>;
const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A secret file's content without its trailing newline; undefined (and a problem) when unreadable or empty. */
function secretFrom(at: string, path: string, problems: string[]): string | undefined {
  const value = readPassword(at, path, problems)?.trim();
  if (value === '') problems.push(`${at}: ${path} is empty`);
  return value || undefined;
}

/** Checks a receiver URL: http(s), no user:password, https unless `allowPlaintext`. */
function checkUrl(at: string, value: string, allowPlaintext: boolean, problems: string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${at}: not a URL`);
    return;
  }
  if (url.username || url.password) problems.push(`${at}: must not carry a user name or password`);
  else if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`${at}: must start with https://; got ${url.protocol}`);
  else if (url.protocol === 'http:' && !allowPlaintext)
    problems.push(`${at}: must be https (set allowPlaintext: true for a loopback receiver)`);
}

function tlsOf(at: string, s: Raw, problems: string[]): { allowPlaintext: boolean; tls: ChannelTls } {
  let allowPlaintext = false;
  if (s.allowPlaintext !== undefined) {
    if (typeof s.allowPlaintext === 'boolean') allowPlaintext = s.allowPlaintext;
    else problems.push(`${at}.allowPlaintext: must be true or false`);
  }
  const tls: ChannelTls = {};
  if (s.caFile !== undefined) {
    if (typeof s.caFile !== 'string' || s.caFile.trim() === '') problems.push(`${at}.caFile: must be a file path`);
    else {
      const ca = readFile(`${at}.caFile`, s.caFile, problems);
      if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----'))
        problems.push(`${at}.caFile: ${s.caFile} holds no PEM certificate`);
      else if (ca !== undefined) tls.ca = ca;
    }
  }
  if (s.tlsPinSha256 !== undefined) {
    const items = Array.isArray(s.tlsPinSha256)
      ? s.tlsPinSha256
      : typeof s.tlsPinSha256 === 'string'
        ? s.tlsPinSha256.split(',')
        : [s.tlsPinSha256];
    const pins: string[] = [];
    for (const item of items) {
      const pin = typeof item === 'string' ? normalizeFingerprint(item) : null;
      if (pin) pins.push(pin);
      else
        problems.push(
          `${at}.tlsPinSha256: ${JSON.stringify(String(item).slice(0, 100))} is not a SHA-256 fingerprint (64 hex digits, colons allowed)`,
        );
    }
    if (pins.length > 0) tls.pinSha256 = Object.freeze(pins);
  }
  return { allowPlaintext, tls: Object.freeze(tls) };
}

function channelOf(at: string, s: Raw, env: Env, problems: string[]): ChannelConfig | undefined {
  const type = s.type;
  if (typeof type !== 'string' || !(CHANNEL_TYPES as readonly string[]).includes(type)) {
    problems.push(`${at}.type: must be one of ${CHANNEL_TYPES.join(', ')}; got ${JSON.stringify(type ?? null)}`);
    return undefined;
  }
  const t = type as ChannelType;
  const before = problems.length;
  for (const key of Object.keys(s)) {
    if (INLINE_SECRETS[key]) problems.push(`${at}.${key}: secrets are not accepted in the file; use ${INLINE_SECRETS[key]}`);
    else if (key === 'url' && (t === 'slack' || t === 'teams'))
      problems.push(`${at}.url: a ${t} webhook URL is a secret (it carries the token); put it in a file and name it with urlFile`);
    else if (!KEYS[t].includes(key)) problems.push(`${at}.${key}: not a known setting of a ${t} channel (known: ${KEYS[t].join(', ')})`);
  }
  const str = (key: string, required: boolean): string | undefined => {
    const value = s[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (value !== undefined || required)
      problems.push(`${at}.${key}: ${required && value === undefined ? 'is required' : 'must be a non-empty string'}`);
    return undefined;
  };
  const { allowPlaintext, tls } = tlsOf(at, s, problems);
  switch (t) {
    case 'webhook': {
      const url = str('url', true);
      if (url) checkUrl(`${at}.url`, url, allowPlaintext, problems);
      const secretFile = str('secretFile', false);
      const secretEnv = str('secretEnv', false);
      let secret: string | undefined;
      if (secretFile && secretEnv) problems.push(`${at}: set only one of secretFile and secretEnv`);
      else if (secretFile) secret = secretFrom(`${at}.secretFile`, secretFile, problems);
      else if (secretEnv && WORKER_SECRET.test(secretEnv))
        problems.push(
          `${at}.secretEnv names ${secretEnv}, one of the worker's own secrets; name a variable that holds only this channel's key`,
        );
      else if (secretEnv) {
        secret = env[secretEnv]?.trim() || undefined;
        if (!secret) problems.push(`${at}.secretEnv names ${secretEnv}, which is not set`);
      } else problems.push(`${at}: secretFile or secretEnv is required (the HMAC key of X-Ccs-Signature)`);
      if (problems.length > before) return undefined;
      return Object.freeze({ type: t, url: url!, secret: secret!, secretFile, allowPlaintext, tls });
    }
    case 'slack':
    case 'teams': {
      const urlFile = str('urlFile', true);
      const url = urlFile ? secretFrom(`${at}.urlFile`, urlFile, problems) : undefined;
      // The URL is not echoed: its path is the token.
      if (url) checkUrl(`${at}.urlFile (the URL in it)`, url, allowPlaintext, problems);
      if (problems.length > before) return undefined;
      return Object.freeze({ type: t, url: url!, urlFile: urlFile!, allowPlaintext, tls });
    }
    case 'pagerduty': {
      const url = str('url', false) ?? PAGERDUTY_EVENTS_URL;
      checkUrl(`${at}.url`, url, allowPlaintext, problems);
      const routingKeyFile = str('routingKeyFile', true);
      const routingKey = routingKeyFile ? secretFrom(`${at}.routingKeyFile`, routingKeyFile, problems) : undefined;
      if (problems.length > before) return undefined;
      return Object.freeze({ type: t, url, routingKey: routingKey!, routingKeyFile: routingKeyFile!, allowPlaintext, tls });
    }
    case 'email':
      return emailOf(at, s, str, allowPlaintext, tls, problems, before);
  }
}

function emailOf(
  at: string,
  s: Raw,
  str: (key: string, required: boolean) => string | undefined,
  allowPlaintext: boolean,
  tls: ChannelTls,
  problems: string[],
  before: number,
): (EmailChannelConfig & EmailChannelExtras) | undefined {
  const host = str('host', true);
  let port = 587;
  if (s.port !== undefined) {
    if (typeof s.port === 'number' && Number.isInteger(s.port) && s.port > 0 && s.port < 65536) port = s.port;
    else problems.push(`${at}.port: must be a port number from 1 to 65535`);
  }
  let secure = port === 465;
  if (s.secure !== undefined) {
    if (typeof s.secure === 'boolean') secure = s.secure;
    else problems.push(`${at}.secure: must be true or false`);
  }
  const from = str('from', true);
  const to = (typeof s.to === 'string' ? [s.to] : Array.isArray(s.to) ? s.to : []).filter(
    (v): v is string => typeof v === 'string' && v.trim() !== '',
  );
  if (to.length === 0) problems.push(`${at}.to: is required (an address or a list of addresses)`);
  for (const [key, value] of [['from', from], ...to.map((a) => ['to', a] as const)] as const)
    if (value && !/^[^\s@<>]+@[^\s@<>]+$/.test(value.replace(/^.*<(.*)>\s*$/, '$1')))
      problems.push(`${at}.${key}: ${JSON.stringify(value)} is not an email address`);
  const username = str('username', false);
  const passwordFile = str('passwordFile', false);
  const authFile = str('authFile', false);
  let auth: EmailChannelConfig['auth'];
  if (passwordFile && authFile) problems.push(`${at}: set only one of passwordFile and authFile`);
  else if (passwordFile) {
    if (!username) problems.push(`${at}.username: is required with passwordFile`);
    const pass = secretFrom(`${at}.passwordFile`, passwordFile, problems);
    if (username && pass) auth = { user: username, pass };
  } else if (authFile) {
    const text = secretFrom(`${at}.authFile`, authFile, problems);
    const colon = text?.indexOf(':') ?? -1;
    if (text !== undefined && colon <= 0) problems.push(`${at}.authFile: expected one line user:password`);
    else if (text !== undefined) auth = { user: text.slice(0, colon), pass: text.slice(colon + 1) };
  } else if (username) problems.push(`${at}: username needs passwordFile`);
  if (problems.length > before) return undefined;
  return Object.freeze({
    type: 'email',
    host: host!,
    port,
    secure,
    allowPlaintext,
    auth: auth ? Object.freeze(auth) : undefined,
    passwordFile,
    authFile,
    subjectPrefix: str('subjectPrefix', false),
    from: from!,
    to: Object.freeze(to.map((a) => a.trim())),
    tls,
  });
}

function stringList(at: string, value: unknown, problems: string[]): string[] | undefined {
  if (value === undefined) return undefined;
  const items = typeof value === 'string' ? [value] : Array.isArray(value) ? value : null;
  if (!items || items.length === 0 || items.some((v) => typeof v !== 'string' || v.trim() === '')) {
    problems.push(`${at}: must be a non-empty list of names`);
    return undefined;
  }
  return (items as string[]).map((v) => v.trim());
}

function ruleOf(at: string, r: unknown, channels: ReadonlySet<string>, problems: string[]): NotificationRule | undefined {
  if (!isMap(r)) {
    problems.push(`${at}: expected a map with events and channels`);
    return undefined;
  }
  for (const key of Object.keys(r))
    if (!RULE_KEYS.includes(key)) problems.push(`${at}.${key}: not a known rule setting (known: ${RULE_KEYS.join(', ')})`);
  const events = stringList(`${at}.events`, r.events, problems);
  if (!events && r.events === undefined)
    problems.push(`${at}.events: is required (${NOTIFICATION_EVENT_TYPES.filter((t) => t !== 'test').join(', ')})`);
  for (const e of events ?? []) {
    if (e === NotificationEventType.Test)
      problems.push(`${at}.events: "test" is never routed by rules (ccs-jobs notify test names its channel)`);
    else if (!(NOTIFICATION_EVENT_TYPES as readonly string[]).includes(e))
      problems.push(
        `${at}.events: unknown event type ${JSON.stringify(e)} (known: ${NOTIFICATION_EVENT_TYPES.filter((t) => t !== 'test').join(', ')})`,
      );
  }
  const names = stringList(`${at}.channels`, r.channels, problems);
  if (!names && r.channels === undefined) problems.push(`${at}.channels: is required`);
  for (const name of names ?? []) if (!channels.has(name)) problems.push(`${at}.channels: unknown channel ${JSON.stringify(name)}`);
  const filters = Object.fromEntries(
    (['jobs', 'pipelines', 'schedules', 'ccs'] as const).map((k) => [k, stringList(`${at}.${k}`, r[k], problems)] as const),
  );
  return Object.freeze({ events: (events ?? []) as NotificationEventType[], channels: names ?? [], ...filters });
}

function durationOf(at: string, value: unknown, fallback: number, min: number, problems: string[]): number {
  if (value === undefined) return fallback;
  try {
    const ms = parseDuration(at, value);
    if (ms >= min) return ms;
  } catch {
    // reported below
  }
  problems.push(`${at}: must be a duration of at least ${formatDuration(min)}, e.g. 24h; got ${JSON.stringify(value)}`);
  return fallback;
}

/** NOTIFICATIONS_FILE's content checked; every problem goes to `problems` (paths prefixed `NOTIFICATIONS_FILE`). */
export function notificationsFromFile(file: string, env: Env, problems: string[]): NotificationsConfig | undefined {
  const text = readFile('NOTIFICATIONS_FILE', file, problems);
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    problems.push(`NOTIFICATIONS_FILE ${file} is not YAML or JSON: ${withoutUserinfo((err as Error).message.split('\n')[0] ?? '')}`);
    return undefined;
  }
  const before = problems.length;
  const p = (line: string): number => problems.push(`NOTIFICATIONS_FILE ${line}`);
  const local: string[] = [];
  if (!isMap(doc)) {
    p(`${file}: expected a map with channels and rules`);
    return undefined;
  }
  for (const key of Object.keys(doc))
    if (!['channels', 'rules', 'delivery'].includes(key)) local.push(`${key}: not a known setting (known: channels, rules, delivery)`);
  const channels: Record<string, ChannelConfig> = {};
  if (!isMap(doc.channels) || Object.keys(doc.channels).length === 0)
    local.push('channels: expected a map of name → { type: webhook | slack | teams | pagerduty | email, … }');
  else
    for (const [name, raw] of Object.entries(doc.channels)) {
      const at = `channels.${name}`;
      if (!CHANNEL_NAME.test(name))
        local.push(`${at}: a channel name is letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)`);
      else if (!isMap(raw)) local.push(`${at}: expected a map with a type`);
      else {
        const channel = channelOf(at, raw, env, local);
        if (channel) channels[name] = channel;
      }
    }
  const declared = new Set(isMap(doc.channels) ? Object.keys(doc.channels) : []);
  const rules: NotificationRule[] = [];
  if (!Array.isArray(doc.rules)) local.push('rules: expected a list of { events: [...], channels: [...] }');
  else
    doc.rules.forEach((r, i) => {
      const rule = ruleOf(`rules[${i}]`, r, declared, local);
      if (rule) rules.push(rule);
    });
  let delivery = { giveUpAfterMs: DEFAULT_GIVE_UP_AFTER_MS, maxRetryIntervalMs: DEFAULT_MAX_RETRY_INTERVAL_MS };
  if (doc.delivery !== undefined) {
    if (!isMap(doc.delivery)) local.push('delivery: expected a map with giveUpAfter and maxRetryInterval');
    else {
      for (const key of Object.keys(doc.delivery))
        if (!['giveUpAfter', 'maxRetryInterval'].includes(key))
          local.push(`delivery.${key}: not a known setting (known: giveUpAfter, maxRetryInterval)`);
      delivery = {
        giveUpAfterMs: durationOf('delivery.giveUpAfter', doc.delivery.giveUpAfter, DEFAULT_GIVE_UP_AFTER_MS, 60_000, local),
        maxRetryIntervalMs: durationOf(
          'delivery.maxRetryInterval',
          doc.delivery.maxRetryInterval,
          DEFAULT_MAX_RETRY_INTERVAL_MS,
          1_000,
          local,
        ),
      };
      if (delivery.maxRetryIntervalMs > delivery.giveUpAfterMs)
        local.push('delivery.maxRetryInterval: must not be longer than delivery.giveUpAfter');
    }
  }
  local.forEach(p);
  if (problems.length > before) return undefined;
  return Object.freeze({ file, channels: Object.freeze(channels), rules: Object.freeze(rules), delivery: Object.freeze(delivery) });
}

/** Every secret the channels hold (keys, URLs, routing keys, SMTP passwords): scrubbed from every event and log. */
export function channelSecrets(config: NotificationsConfig | undefined): string[] {
  const out: string[] = [];
  for (const c of Object.values(config?.channels ?? {})) {
    if (c.type === 'webhook') out.push(c.secret);
    else if (c.type === 'slack' || c.type === 'teams') out.push(c.url, new URL(c.url).pathname);
    else if (c.type === 'pagerduty') out.push(c.routingKey);
    else if (c.type === 'email' && c.auth) out.push(c.auth.pass);
  }
  return out;
}
