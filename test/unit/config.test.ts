import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CcsClient } from '../../src/ccs/client';
import { ConfigError, loadConfig } from '../../src/hosting/config';
import { tempDir } from '../temp-dir';

const dir = tempDir('ccs-config-');
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
    expect(config).toMatchObject({
      taskQueue: 'ccs-jobs',
      ccsServers: { default: { baseUrl: BASE.CCS_BASE_URL, username: 'CORP\\svc-ccs', password: 'pw', insecure: false } },
    });
    expect(config.temporal.namespace).toBe('compliance');
    expect(config.temporal.connection.address).toBe('temporal.example:7233');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem together, without echoing the password', () => {
    const problems = problemsOf({
      CCS_BASE_URL: 'ftp://x',
      CCS_PASSWORD: 'hunter2',
      CCS_PASSWORD_FILE: passwordFile,
      CCS_CA_FILE: '/nope.pem',
      CCS_TLS_INSECURE: 'yes please',
    });
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
    expect(config.ccsServers.default!.password).toBe('s3cret-from-file');
    expect(config.ccsServers.default!.ca).toContain('BEGIN CERTIFICATE');
    expect(config.taskQueue).toBe('scans');
  });

  it('parses booleans strictly and refuses insecure mode next to a CA', () => {
    expect(loadConfig({ ...BASE, CCS_TLS_INSECURE: 'TRUE' }).ccsServers.default!.insecure).toBe(true);
    expect(loadConfig({ ...BASE, CCS_TLS_INSECURE: 'false' }).ccsServers.default!.insecure).toBe(false);
    expect(problemsOf({ ...BASE, CCS_TLS_INSECURE: 'true', CCS_CA_FILE: caFile })).toEqual([
      'CCS_TLS_INSECURE=true and CCS_CA_FILE contradict each other; keep CCS_CA_FILE',
    ]);
  });

  it('takes Temporal Cloud settings (API key, TLS) by Temporal’s own variables', () => {
    const config = loadConfig({
      ...BASE,
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: 'key-123',
    });
    expect(config.temporal.connection).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', apiKey: 'key-123' });
    expect(config.temporal.connection.tls).toBeTruthy();
  });
});

describe('trusting CCS’s certificate', () => {
  const fp = 'AB:'.repeat(31) + 'AB';
  const fp2 = '01:'.repeat(31) + '01';

  it('reads CCS_TLS_SERVERNAME and a list of pins in any written form', () => {
    const config = loadConfig({
      ...BASE,
      CCS_TLS_SERVERNAME: 'Symantec_Components',
      CCS_TLS_PIN_SHA256: `${fp.toLowerCase()}, ${fp2.replace(/:/g, '')}`,
    });
    expect(config.ccsServers.default).toMatchObject({ servername: 'Symantec_Components', pinSha256: [fp, fp2] });
  });

  it('names a bad pin, a bad name and a pin beside insecure mode', () => {
    expect(problemsOf({ ...BASE, CCS_TLS_PIN_SHA256: 'AB:CD', CCS_TLS_SERVERNAME: 'two words' })).toEqual([
      'CCS_TLS_PIN_SHA256: "AB:CD" is not a SHA-256 fingerprint (64 hex digits, colons allowed); `ccs-jobs ccs inspect <url>` prints the server\'s',
      "CCS_TLS_SERVERNAME must be the host name the certificate carries (letters, digits, '.', '_', '-'), e.g. Symantec_Components; got \"two words\"",
    ]);
    expect(problemsOf({ ...BASE, CCS_TLS_PIN_SHA256: fp, CCS_TLS_INSECURE: 'true' })).toEqual([
      'CCS_TLS_INSECURE=true and CCS_TLS_PIN_SHA256 contradict each other; keep CCS_TLS_PIN_SHA256',
    ]);
  });

  it('takes tlsServername and tlsPinSha256 (a YAML list) per server from CCS_SERVERS_FILE', () => {
    const file = join(dir, 'tls-servers.yaml');
    writeFileSync(
      file,
      `servers:\n  emea:\n    baseUrl: https://ccs-emea:12431/ccs/api/v1\n    username: svc\n    passwordEnv: PW\n    tlsServername: Symantec_Components\n    tlsPinSha256:\n      - ${fp}\n      - ${fp2}\n`,
    );
    expect(loadConfig({ CCS_SERVERS_FILE: file, PW: 'x' }).ccsServers.emea).toMatchObject({
      servername: 'Symantec_Components',
      pinSha256: [fp, fp2],
    });
  });
});

describe('several CCS servers (CCS_SERVERS_FILE)', () => {
  const servers = (text: string): string => {
    const file = join(dir, `servers-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return file;
  };

  it('maps names to base URL, credentials source, CA and request budget', () => {
    const file = servers(`servers:
  default:
    baseUrl: https://ccs-us.example.local:12431/ccs/api/v1
    username: CORP\\svc-ccs
    passwordFile: ${passwordFile}
    caFile: ${caFile}
  emea:
    baseUrl: https://ccs-emea.example.local:12431/ccs/api/v1
    username: EMEA\\svc-ccs
    passwordEnv: CCS_EMEA_PASSWORD
    requestsPerSecond: 5
`);
    const config = loadConfig({ CCS_SERVERS_FILE: file, CCS_EMEA_PASSWORD: 'emea-pw' });
    expect(Object.keys(config.ccsServers).sort()).toEqual(['default', 'emea']);
    expect(config.ccsServers.default).toMatchObject({
      baseUrl: 'https://ccs-us.example.local:12431/ccs/api/v1',
      username: 'CORP\\svc-ccs',
      password: 's3cret-from-file',
      insecure: false,
    });
    expect(config.ccsServers.default!.ca).toContain('BEGIN CERTIFICATE');
    expect(config.ccsServers.emea).toMatchObject({ username: 'EMEA\\svc-ccs', password: 'emea-pw', requestsPerSecond: 5, ca: undefined });
  });

  it('keeps the single-server variables as "default" next to a file of other servers', () => {
    const file = servers(
      `servers:\n  apac:\n    baseUrl: https://ccs-apac.example.local:12431/ccs/api/v1\n    username: svc\n    passwordEnv: APAC_PW\n`,
    );
    const config = loadConfig({ ...BASE, CCS_REQUESTS_PER_SECOND: '12.5', CCS_SERVERS_FILE: file, APAC_PW: 'x' });
    expect(Object.keys(config.ccsServers).sort()).toEqual(['apac', 'default']);
    expect(config.ccsServers.default!.requestsPerSecond).toBe(12.5);
  });

  it('reports every problem of the file at once, never echoing a password', () => {
    const file = servers(`servers:
  default:
    baseUrl: ftp://nope
    username: svc
    password: hunter2
  "bad name!":
    baseUrl: https://x.example/ccs/api/v1
  emea:
    baseUrl: https://ccs-emea.example.local:12431/ccs/api/v1
    passwordEnv: NOT_SET
    requestsPerSecond: fast
    colour: blue
`);
    const problems = problemsOf({ ...BASE, CCS_SERVERS_FILE: file });
    expect(problems).toEqual([
      'CCS_SERVERS_FILE servers.default.password: passwords are not accepted in the file; use passwordFile (a mounted secret) or passwordEnv (a variable name)',
      "CCS_SERVERS_FILE servers.bad name!: a server name is letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)",
      'CCS_SERVERS_FILE servers.emea.colour is not a known setting (known: baseUrl, username, passwordFile, passwordEnv, passwordEncoding, timeZone, caFile, tlsServername, tlsPinSha256, insecure, requestsPerSecond)',
      'CCS_SERVERS_FILE servers.emea.username is required, e.g. DOMAIN\\svc-ccs',
      'CCS_SERVERS_FILE servers.emea.passwordEnv names NOT_SET, which is not set',
      'CCS_SERVERS_FILE servers.emea.requestsPerSecond must be a positive number; got "fast"',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(problemsOf({ CCS_SERVERS_FILE: servers('servers: []\n') })[0]).toMatch(
      /^CCS_SERVERS_FILE .*: expected a "servers" map of name → settings/,
    );
    expect(problemsOf({ CCS_SERVERS_FILE: '/nope.yaml' })).toEqual(['CCS_SERVERS_FILE: cannot read /nope.yaml (ENOENT)']);
  });

  it('refuses a default server defined both by variables and by the file', () => {
    const file = servers(`servers:\n  default:\n    baseUrl: https://a.example/ccs/api/v1\n    username: svc\n    passwordEnv: PW\n`);
    expect(problemsOf({ ...BASE, CCS_SERVERS_FILE: file, PW: 'x' })).toEqual([
      'the default CCS server is defined twice: by CCS_BASE_URL and by CCS_SERVERS_FILE servers.default; keep one',
    ]);
  });
});

describe('worker tuning, logs, metrics and health settings', () => {
  it('has documented defaults and takes overrides', async () => {
    const { DEFAULT_TUNING } = await import('../../src/hosting/config');
    expect(loadConfig(BASE)).toMatchObject({
      tuning: DEFAULT_TUNING,
      logLevel: 'INFO',
      metricsBindAddress: undefined,
      healthBindAddress: undefined,
    });
    const config = loadConfig({
      ...BASE,
      WORKER_MAX_CONCURRENT_ACTIVITIES: '500',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '20',
      WORKER_MAX_CACHED_WORKFLOWS: '250',
      WORKER_MAX_ACTIVITIES_PER_SECOND: '40',
      WORKER_MAX_TASK_QUEUE_ACTIVITIES_PER_SECOND: '7.5',
      LOG_LEVEL: 'debug',
      METRICS_BIND_ADDRESS: '0.0.0.0:9464',
      HEALTH_BIND_ADDRESS: '[::]:8080',
    });
    expect(config.tuning).toEqual({
      maxConcurrentActivityTaskExecutions: 500,
      maxConcurrentWorkflowTaskExecutions: 20,
      maxCachedWorkflows: 250,
      maxActivitiesPerSecond: 40,
      maxTaskQueueActivitiesPerSecond: 7.5,
    });
    expect(config).toMatchObject({ logLevel: 'DEBUG', metricsBindAddress: '0.0.0.0:9464', healthBindAddress: '[::]:8080' });
  });

  it('names each bad setting', () => {
    expect(
      problemsOf({
        ...BASE,
        WORKER_MAX_CONCURRENT_ACTIVITIES: '0',
        WORKER_MAX_CACHED_WORKFLOWS: '1.5',
        LOG_LEVEL: 'loud',
        METRICS_BIND_ADDRESS: '9464',
      }),
    ).toEqual([
      'WORKER_MAX_CONCURRENT_ACTIVITIES must be a positive whole number; got "0"',
      'WORKER_MAX_CACHED_WORKFLOWS must be a positive whole number; got "1.5"',
      'LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR; got "loud"',
      'METRICS_BIND_ADDRESS must be host:port, e.g. 0.0.0.0:9464; got "9464"',
    ]);
  });
});

describe('Worker Versioning', () => {
  it('is on by default: deployment ccs-job-orchestrator, build id <package version>+<CCS_BUILD_COMMIT>', async () => {
    const { PACKAGE_VERSION } = await import('../../src/hosting/config');
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(PACKAGE_VERSION).toBe(pkg.version);
    expect(loadConfig({ ...BASE, CCS_BUILD_COMMIT: '1a2b3c4' }).versioning).toEqual({
      deploymentName: 'ccs-job-orchestrator',
      buildId: `${pkg.version}+1a2b3c4`,
      localBuild: false,
    });
    // Without a commit the build id says so, and the worker warns at start (two such builds would share it).
    expect(loadConfig(BASE).versioning).toEqual({
      deploymentName: 'ccs-job-orchestrator',
      buildId: `${pkg.version}+dev`,
      localBuild: true,
    });
    expect(Object.isFrozen(loadConfig(BASE).versioning)).toBe(true);
  });

  it('takes an explicit deployment name and build id, and turns off for a server without Worker Deployments', () => {
    expect(loadConfig({ ...BASE, TEMPORAL_DEPLOYMENT_NAME: 'ccs-emea', TEMPORAL_WORKER_BUILD_ID: '2.0.0+rc.1' }).versioning).toEqual({
      deploymentName: 'ccs-emea',
      buildId: '2.0.0+rc.1',
      localBuild: false,
    });
    expect(loadConfig({ ...BASE, TEMPORAL_WORKER_VERSIONING: 'false' }).versioning).toBeUndefined();
    expect(loadConfig({ ...BASE, TEMPORAL_WORKER_VERSIONING: 'TRUE' }).versioning?.deploymentName).toBe('ccs-job-orchestrator');
  });

  it('names what Temporal would refuse, every problem together, even with versioning off', () => {
    expect(
      problemsOf({ ...BASE, TEMPORAL_WORKER_VERSIONING: 'maybe', TEMPORAL_DEPLOYMENT_NAME: 'ccs.jobs', TEMPORAL_WORKER_BUILD_ID: '__1.0' }),
    ).toEqual([
      'TEMPORAL_WORKER_VERSIONING must be true or false; got "maybe"',
      "TEMPORAL_DEPLOYMENT_NAME must be 1 to 100 letters, digits, '-' or '_' (no '.' or ':'; Temporal refuses them), not starting with '__'; got \"ccs.jobs\"",
      "TEMPORAL_WORKER_BUILD_ID must be 1 to 100 letters, digits, '.', '+', '-' or '_', not starting with '__', e.g. 1.0.0+1a2b3c4; got \"__1.0\"",
    ]);
    expect(
      problemsOf({ ...BASE, TEMPORAL_WORKER_VERSIONING: 'false', TEMPORAL_DEPLOYMENT_NAME: 'a:b', CCS_BUILD_COMMIT: 'abc def' }),
    ).toEqual([
      "TEMPORAL_DEPLOYMENT_NAME must be 1 to 100 letters, digits, '-' or '_' (no '.' or ':'; Temporal refuses them), not starting with '__'; got \"a:b\"",
      "CCS_BUILD_COMMIT must be a commit id such as 1a2b3c4 (letters, digits, '.', '-', '_'); got \"abc def\"",
    ]);
    expect(problemsOf({ ...BASE, TEMPORAL_WORKER_BUILD_ID: 'x'.repeat(101) })).toHaveLength(1);
  });
});

describe('Temporal Cloud', () => {
  it('connects with mTLS from the standard certificate variables', () => {
    const cert = join(dir, 'client.pem');
    const key = join(dir, 'client.key');
    writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n');
    writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
    const config = loadConfig({
      ...BASE,
      TEMPORAL_ADDRESS: 'compliance.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'compliance.a1b2c',
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
    });
    expect(config.temporal.namespace).toBe('compliance.a1b2c');
    expect(config.temporal.connection.address).toBe('compliance.a1b2c.tmprl.cloud:7233');
    const tls = config.temporal.connection.tls as { clientCertPair?: { crt: Uint8Array; key: Uint8Array } };
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toContain('BEGIN CERTIFICATE');
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toContain('BEGIN PRIVATE KEY');
    expect(config.temporal.connection.apiKey).toBeUndefined();
  });

  it('reports an unreadable client certificate as a configuration problem', () => {
    const problems = problemsOf({
      ...BASE,
      TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/nope/client.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/nope/client.key',
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^Temporal connection settings: .*\/nope\/client/);
  });
});

describe('plain HTTP', () => {
  it('is refused unless CCS_ALLOW_PLAINTEXT=true', () => {
    expect(problemsOf({ ...BASE, CCS_BASE_URL: 'http://ccs.example.local:12431/ccs/api/v1' })).toEqual([
      'CCS_BASE_URL uses http://: the password and tokens would travel in clear text; use https://, or set CCS_ALLOW_PLAINTEXT=true to accept that knowingly',
    ]);
    expect(
      loadConfig({ ...BASE, CCS_BASE_URL: 'http://ccs.example.local:12431/ccs/api/v1', CCS_ALLOW_PLAINTEXT: 'true' }).ccsServers.default,
    ).toMatchObject({ allowPlaintext: true });
  });
});

describe('CCS dialect and bounds settings', () => {
  it('reads the password encoding, the server time zone and the request bounds, every server alike', () => {
    const config = loadConfig({
      ...BASE,
      CCS_PASSWORD_ENCODING: 'plain',
      CCS_TIME_ZONE: 'Europe/Paris',
      CCS_REQUEST_TIMEOUT: '20s',
      CCS_MAX_RESPONSE_BYTES: '1048576',
      CCS_MAX_RETRY_AFTER: '2m',
    });
    expect(config.ccsServers.default).toMatchObject({
      passwordEncoding: 'plain',
      timeZone: 'Europe/Paris',
      requestTimeoutMs: 20_000,
      maxResponseBytes: 1_048_576,
      maxRetryAfterMs: 120_000,
    });
    expect(loadConfig(BASE).ccsServers.default).toMatchObject({
      passwordEncoding: undefined,
      timeZone: undefined,
      requestTimeoutMs: undefined,
    });
  });

  it('reports bad values, each naming the variable and the fix', () => {
    expect(
      problemsOf({
        ...BASE,
        CCS_PASSWORD_ENCODING: 'rot13',
        CCS_TIME_ZONE: 'Mars/Olympus',
        CCS_REQUEST_TIMEOUT: '2m',
        CCS_MAX_RESPONSE_BYTES: '10',
        CCS_MAX_RETRY_AFTER: 'soon',
      }),
    ).toEqual([
      'CCS_PASSWORD_ENCODING must be base64 (the vendor\'s current page) or plain (older samples); got "rot13"',
      'CCS_TIME_ZONE must be an IANA time zone such as Europe/Paris or UTC (the CCS server\'s own); got "Mars/Olympus"',
      'CCS_MAX_RESPONSE_BYTES must be at least 65536 (64 KiB)',
      'CCS_REQUEST_TIMEOUT must be a duration from 1s to 50s, e.g. 30s; got "2m"',
      'CCS_MAX_RETRY_AFTER must be a duration from 1s to 1h, e.g. 30s; got "soon"',
    ]);
  });
});

describe('.env.example', () => {
  it('lists exactly the variables the loader reads besides Temporal’s own', async () => {
    const { CONFIG_VARIABLES } = await import('../../src/hosting/config');
    const text = readFileSync(join(__dirname, '../../.env.example'), 'utf8');
    const listed = [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    const ours = listed.filter((name) => !['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE'].includes(name!));
    expect(ours.sort()).toEqual([...CONFIG_VARIABLES].sort());
  });
});

describe('configuration that would leak a secret', () => {
  it("passwordEnv naming one of the worker's own secrets is refused with one line", () => {
    for (const variable of ['CCS_CODEC_KEYS', 'EVIDENCE_DATABASE_URL', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS_CLIENT_KEY_DATA']) {
      const file = join(dir, `servers-${variable}.yaml`);
      writeFileSync(
        file,
        `servers:\n  emea:\n    baseUrl: https://ccs-emea:12431/ccs/api/v1\n    username: svc\n    passwordEnv: ${variable}\n`,
      );
      const value = variable === 'CCS_CODEC_KEYS' ? `k1:${Buffer.alloc(32, 7).toString('base64')}` : 'c2VjcmV0LWtleS1tYXRlcmlhbA';
      const problems = problemsOf({ CCS_SERVERS_FILE: file, [variable]: value });
      expect(problems).toEqual([
        expect.stringContaining(`CCS_SERVERS_FILE servers.emea.passwordEnv names ${variable}, one of the worker's own secrets`),
      ]);
      expect(problems[0]).not.toContain(value);
    }
  });

  it('a base URL with a user name and password is refused, in the environment and in the servers file, without echoing the password', () => {
    const url = 'https://svc:Hunter2-Pw@ccs.example.local:12431/ccs/api/v1';
    const fromEnv = problemsOf({ CCS_BASE_URL: url, CCS_USERNAME: 'svc', CCS_PASSWORD: 'x' });
    expect(fromEnv).toEqual([expect.stringContaining('CCS_BASE_URL must not carry a user name or password')]);
    const file = join(dir, 'servers-userinfo.yaml');
    writeFileSync(file, `servers:\n  emea:\n    baseUrl: ${url}\n    username: svc\n    passwordEnv: PW\n`);
    const fromFile = problemsOf({ CCS_SERVERS_FILE: file, PW: 'x' });
    expect(fromFile).toEqual([expect.stringContaining('servers.emea.baseUrl must not carry a user name or password')]);
    const unparsable = problemsOf({ CCS_BASE_URL: 'https://svc:Hunter2-Pw@ccs:bad-port/x', CCS_USERNAME: 'svc', CCS_PASSWORD: 'x' });
    for (const line of [...fromEnv, ...fromFile, ...unparsable]) expect(line).not.toContain('Hunter2');
    expect(() => new CcsClient({ baseUrl: url, username: 'svc', password: 'x' })).toThrow(/must not carry a user name or password/);
  });
});
