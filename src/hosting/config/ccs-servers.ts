/**
 * The CCS servers a worker can reach: the `default` one from CCS_* variables, and any number by name
 * from CCS_SERVERS_FILE. Passwords come from files or variables, never from the file itself.
 */
import { parse as parseYaml } from 'yaml';
import type { CcsClientOptions } from '../../ccs/client';
import { CCS_SERVER_NAME } from '../../domain/validation';
import { withoutUserinfo } from '../../ccs/scrub';
import { normalizeFingerprint } from '../../ccs/tls';
import { parseBoolean, parsePositive, readFile, readPassword, type Env } from './values';

/** One CCS server the worker can reach, by the name workflows give in their `ccs` field. */
export type CcsServerConfig = Omit<CcsClientOptions, 'warn' | 'now' | 'observer' | 'password'> & {
  /** The password as read at start-up. */
  password: string;
  /** Where it came from, when a file: read again at each password grant, so a rotated password is picked up. */
  passwordFile?: string | undefined;
};

/**
 * The password as the client asks for it: a password file is read again each time (grants are
 * rare, and a refused grant must see a rotated password); an unreadable file keeps the last value.
 */
export function passwordSource(server: CcsServerConfig): string | (() => string) {
  const { passwordFile } = server;
  if (!passwordFile) return server.password;
  let last = server.password;
  return () => {
    const problems: string[] = [];
    const now = readPassword('passwordFile', passwordFile, problems);
    if (now !== undefined && now !== '') last = now;
    return last;
  };
}

function checkBaseUrl(name: string, baseUrl: string | undefined, problems: string[], allowPlaintext = false): void {
  if (!baseUrl) {
    problems.push(`${name} is required, e.g. https://ccs-app01.example.local:12431/ccs/api/v1`);
    return;
  }
  try {
    const url = new URL(baseUrl);
    if (url.username || url.password) {
      problems.push(
        `${name} must not carry a user name or password (https://user:…@host): give the user as CCS_USERNAME or username, the password as CCS_PASSWORD_FILE or passwordFile`,
      );
    } else if (url.protocol !== 'https:' && url.protocol !== 'http:')
      problems.push(`${name} must start with https://; got ${url.protocol}`);
    else if (url.protocol === 'http:' && !allowPlaintext) {
      problems.push(
        `${name} uses http://: the password and tokens would travel in clear text; use https://, or set CCS_ALLOW_PLAINTEXT=true to accept that knowingly`,
      );
    }
  } catch {
    problems.push(`${name} is not a URL: ${JSON.stringify(withoutUserinfo(baseUrl))}`);
  }
}

/**
 * The worker's own secrets: a CCS password read from one of them would be sent to CCS in every
 * password grant, and a CCS that echoes requests would show it.
 */
const WORKER_SECRET_VARIABLES = ['CCS_CODEC_KEYS', 'EVIDENCE_DATABASE_URL', 'TEMPORAL_API_KEY', 'CODEC_SERVER_TOKEN'];
const WORKER_SECRET_PREFIXES = ['TEMPORAL_TLS_'];

function isWorkerSecret(variable: string): boolean {
  return WORKER_SECRET_VARIABLES.includes(variable) || WORKER_SECRET_PREFIXES.some((prefix) => variable.startsWith(prefix));
}

function readCa(name: string, caFile: string | undefined, problems: string[]): string | undefined {
  const ca = caFile ? readFile(name, caFile, problems) : undefined;
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) problems.push(`${name} ${caFile} holds no PEM certificate`);
  return ca;
}

/** `base64` (default, the vendor's current page) or `plain`; undefined when unset. */
function passwordEncoding(name: string, value: unknown, problems: string[]): 'base64' | 'plain' | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const v = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (v === 'base64' || v === 'plain') return v;
  problems.push(`${name} must be base64 (the vendor's current page) or plain (older samples); got ${JSON.stringify(value)}`);
  return undefined;
}

/** An IANA time zone CCS writes offset-less dates in (server-local time); undefined when unset (UTC). */
function timeZone(name: string, value: unknown, problems: string[]): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const zone = typeof value === 'string' ? value.trim() : '';
  try {
    if (zone === '') throw new RangeError('not a zone');
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    problems.push(`${name} must be an IANA time zone such as Europe/Paris or UTC (the CCS server's own); got ${JSON.stringify(value)}`);
    return undefined;
  }
}

/** CCS_TLS_PIN_SHA256 / tlsPinSha256: one fingerprint or a list (comma-separated, or a YAML list), for rotation. */
function pins(name: string, value: unknown, problems: string[]): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [value];
  const out: string[] = [];
  for (const item of items) {
    const pin = typeof item === 'string' ? normalizeFingerprint(item) : null;
    if (pin) out.push(pin);
    else
      problems.push(
        `${name}: ${JSON.stringify(String(item).slice(0, 100))} is not a SHA-256 fingerprint (64 hex digits, colons allowed); \`ccs-jobs ccs inspect <url>\` prints the server's`,
      );
  }
  return out.length > 0 ? out : undefined;
}

/** CCS_TLS_SERVERNAME / tlsServername: the name CCS's certificate carries, e.g. Symantec_Components. */
function servername(name: string, value: unknown, problems: string[]): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && /^[\w.*-]{1,253}$/.test(value.trim())) return value.trim();
  problems.push(
    `${name} must be the host name the certificate carries (letters, digits, '.', '_', '-'), e.g. Symantec_Components; got ${JSON.stringify(value)}`,
  );
  return undefined;
}

/** Trust settings that cannot go together: each one a mistake to point out. */
function trustConflicts(
  at: { insecure: string; ca: string; pin: string },
  trust: { insecure: boolean; ca?: string | undefined; pinSha256?: string[] | undefined },
  problems: string[],
): void {
  if (trust.insecure && trust.pinSha256) problems.push(`${at.insecure}=true and ${at.pin} contradict each other; keep ${at.pin}`);
}

/** Certificate checks off and a CA to check against: one of them is a mistake. */
function insecureWithCa(insecure: boolean, ca: string | undefined, insecureName: string, caName: string, problems: string[]): void {
  if (insecure && ca) problems.push(`${insecureName}=true and ${caName} contradict each other; keep ${caName}`);
}

/** The `default` server from CCS_* variables; undefined when none is set and a servers file is. */
export function serverFromEnv(
  env: Env,
  get: (name: string) => string | undefined,
  problems: string[],
  required: boolean,
): CcsServerConfig | undefined {
  if (
    !required &&
    ![
      'CCS_BASE_URL',
      'CCS_USERNAME',
      'CCS_PASSWORD',
      'CCS_PASSWORD_FILE',
      'CCS_CA_FILE',
      'CCS_PASSWORD_ENCODING',
      'CCS_TIME_ZONE',
      'CCS_TLS_SERVERNAME',
      'CCS_TLS_PIN_SHA256',
    ].some((n) => get(n) !== undefined)
  )
    return undefined;
  const baseUrl = get('CCS_BASE_URL');
  const allowPlaintext = parseBoolean('CCS_ALLOW_PLAINTEXT', env.CCS_ALLOW_PLAINTEXT, problems);
  checkBaseUrl('CCS_BASE_URL', baseUrl, problems, allowPlaintext);
  const username = get('CCS_USERNAME');
  if (!username) problems.push('CCS_USERNAME is required, e.g. DOMAIN\\svc-ccs');

  let password = env.CCS_PASSWORD;
  const passwordFile = get('CCS_PASSWORD_FILE');
  if (password && passwordFile) problems.push('set only one of CCS_PASSWORD and CCS_PASSWORD_FILE');
  else if (passwordFile) password = readPassword('CCS_PASSWORD_FILE', passwordFile, problems);
  else if (!password) problems.push('CCS_PASSWORD or CCS_PASSWORD_FILE is required');

  const ca = readCa('CCS_CA_FILE', get('CCS_CA_FILE'), problems);
  const insecure = parseBoolean('CCS_TLS_INSECURE', env.CCS_TLS_INSECURE, problems);
  insecureWithCa(insecure, ca, 'CCS_TLS_INSECURE', 'CCS_CA_FILE', problems);
  const pinSha256 = pins('CCS_TLS_PIN_SHA256', get('CCS_TLS_PIN_SHA256'), problems);
  trustConflicts({ insecure: 'CCS_TLS_INSECURE', ca: 'CCS_CA_FILE', pin: 'CCS_TLS_PIN_SHA256' }, { insecure, ca, pinSha256 }, problems);
  const requestsPerSecond = parsePositive('CCS_REQUESTS_PER_SECOND', env.CCS_REQUESTS_PER_SECOND, problems, false);
  return Object.freeze({
    baseUrl: baseUrl as string,
    username: username as string,
    password: password as string,
    passwordFile,
    allowPlaintext,
    passwordEncoding: passwordEncoding('CCS_PASSWORD_ENCODING', get('CCS_PASSWORD_ENCODING'), problems),
    timeZone: timeZone('CCS_TIME_ZONE', get('CCS_TIME_ZONE'), problems),
    ca,
    insecure,
    servername: servername('CCS_TLS_SERVERNAME', get('CCS_TLS_SERVERNAME'), problems),
    pinSha256,
    requestsPerSecond,
  });
}

const SERVER_KEYS = new Set([
  'baseUrl',
  'username',
  'passwordFile',
  'passwordEnv',
  'passwordEncoding',
  'timeZone',
  'caFile',
  'tlsServername',
  'tlsPinSha256',
  'insecure',
  'requestsPerSecond',
]);

/**
 * CCS_SERVERS_FILE (YAML or JSON): `servers: { <name>: { baseUrl, username, passwordFile | passwordEnv,
 * passwordEncoding, timeZone, caFile, tlsServername, tlsPinSha256, insecure, requestsPerSecond } }`. Passwords are never written in the file itself.
 */
export function serversFromFile(file: string, env: Env, problems: string[]): Record<string, CcsServerConfig> {
  const text = readFile('CCS_SERVERS_FILE', file, problems);
  if (text === undefined) return {};
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    problems.push(`CCS_SERVERS_FILE ${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
    return {};
  }
  const servers = (doc as { servers?: unknown } | null)?.servers;
  if (!servers || typeof servers !== 'object' || Array.isArray(servers) || Object.keys(servers).length === 0) {
    problems.push(
      `CCS_SERVERS_FILE ${file}: expected a "servers" map of name → settings, e.g. servers: { default: { baseUrl: ..., username: ..., passwordFile: ... } }`,
    );
    return {};
  }
  const out: Record<string, CcsServerConfig> = {};
  for (const [name, raw] of Object.entries(servers as Record<string, unknown>)) {
    const at = `CCS_SERVERS_FILE servers.${name}`;
    if (!CCS_SERVER_NAME.test(name)) {
      problems.push(`${at}: a server name is letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)`);
      continue;
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${at}: expected a map with baseUrl, username and passwordFile or passwordEnv`);
      continue;
    }
    const s = raw as Record<string, unknown>;
    if ('password' in s) {
      problems.push(
        `${at}.password: passwords are not accepted in the file; use passwordFile (a mounted secret) or passwordEnv (a variable name)`,
      );
      continue;
    }
    for (const key of Object.keys(s))
      if (!SERVER_KEYS.has(key)) problems.push(`${at}.${key} is not a known setting (known: ${[...SERVER_KEYS].join(', ')})`);
    const str = (key: string): string | undefined => {
      const value = s[key];
      return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
    };
    const baseUrl = str('baseUrl');
    const allowPlaintext = parseBoolean('CCS_ALLOW_PLAINTEXT', env.CCS_ALLOW_PLAINTEXT, []);
    checkBaseUrl(`${at}.baseUrl`, baseUrl, problems, allowPlaintext);
    const username = str('username');
    if (!username) problems.push(`${at}.username is required, e.g. DOMAIN\\svc-ccs`);
    let password: string | undefined;
    const passwordFile = str('passwordFile');
    const passwordEnv = str('passwordEnv');
    if (passwordFile && passwordEnv) problems.push(`${at}: set only one of passwordFile and passwordEnv`);
    else if (passwordFile) password = readPassword(`${at}.passwordFile`, passwordFile, problems);
    else if (passwordEnv && isWorkerSecret(passwordEnv)) {
      problems.push(
        `${at}.passwordEnv names ${passwordEnv}, one of the worker's own secrets (${[...WORKER_SECRET_VARIABLES, ...WORKER_SECRET_PREFIXES.map((p) => `${p}*`)].join(', ')}); name a variable that holds only this server's CCS password`,
      );
    } else if (passwordEnv) {
      password = env[passwordEnv];
      if (!password) problems.push(`${at}.passwordEnv names ${passwordEnv}, which is not set`);
    } else problems.push(`${at}: passwordFile or passwordEnv is required`);
    const ca = readCa(`${at}.caFile`, str('caFile'), problems);
    const insecure = parseBoolean(`${at}.insecure`, s.insecure, problems);
    insecureWithCa(insecure, ca, `${at}.insecure`, `${at}.caFile`, problems);
    const pinSha256 = pins(`${at}.tlsPinSha256`, s.tlsPinSha256, problems);
    trustConflicts({ insecure: `${at}.insecure`, ca: `${at}.caFile`, pin: `${at}.tlsPinSha256` }, { insecure, ca, pinSha256 }, problems);
    const requestsPerSecond = parsePositive(`${at}.requestsPerSecond`, s.requestsPerSecond, problems, false);
    out[name] = Object.freeze({
      baseUrl: baseUrl as string,
      username: username as string,
      password: password as string,
      passwordFile,
      allowPlaintext,
      passwordEncoding: passwordEncoding(`${at}.passwordEncoding`, s.passwordEncoding, problems),
      timeZone: timeZone(`${at}.timeZone`, s.timeZone, problems),
      ca,
      insecure,
      servername: servername(`${at}.tlsServername`, s.tlsServername, problems),
      pinSha256,
      requestsPerSecond,
    });
  }
  return out;
}
