/**
 * The email channel against a real SMTP server (`smtp-server`) on 127.0.0.1: STARTTLS with a
 * certificate from a private CA (or CCS-style self-signed, pinned), AUTH PLAIN and LOGIN checked
 * against the password file the channel reads, and the server's answers scripted per test. The
 * channel is built from a NOTIFICATIONS_FILE through the loader the worker uses; `ccs-jobs notify
 * test` goes through the same path.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { notifyTest } from '../../src/cli/notify';
import type { NotificationEvent } from '../../src/domain/notifications';
import type { EmailChannelConfig } from '../../src/notifications/channel';
import { notificationsFromFile } from '../../src/notifications/config';
import { createEmailChannel } from '../../src/notifications/email';
import { NotificationDeliveryError } from '../../src/notifications/channel';
import { generateSelfSignedMaterial, generateTlsMaterial, type TlsMaterial } from '../../src/sim/cert';
import { tempDir } from '../temp-dir';

const USER = 'ccs-notify';
const PASSWORD = 'S3cret-smtp-pässword!';
const dir = tempDir('ccs-email-');
const passwordFile = join(dir, 'smtp-password');
writeFileSync(passwordFile, `${PASSWORD}\n`);
const privateCa = generateTlsMaterial(['127.0.0.1', 'localhost']);
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, privateCa.caPem);

interface Received {
  raw: string;
  secure: boolean;
  user: string | undefined;
  from: string;
  to: string[];
}

interface TestServer {
  port: number;
  received: Received[];
  /** AUTH attempts, with whether the session was encrypted at the time. */
  auths: { secure: boolean; ok: boolean }[];
  close(): Promise<void>;
}

function smtpReply(message: string, code: number): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

function fingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/** A real SMTP server; `dataReply` answers the end of DATA (250 when absent), `rcptReply` each RCPT TO. */
async function startServer(
  options: {
    material?: TlsMaterial;
    dataReply?: () => Error | undefined;
    rcptReply?: () => Error | undefined;
    /** The server's 535 quotes the password it was given: a hostile or careless server. */
    echoPassword?: boolean;
  } & Partial<SMTPServerOptions> = {},
): Promise<TestServer> {
  const { material = privateCa, dataReply, rcptReply, echoPassword, ...rest } = options;
  const received: Received[] = [];
  const auths: TestServer['auths'] = [];
  const server = new SMTPServer({
    logger: false,
    key: material.keyPem,
    cert: material.certPem,
    authMethods: ['PLAIN', 'LOGIN'],
    closeTimeout: 1000,
    onAuth(auth, session, callback) {
      const ok = auth.username === USER && auth.password === PASSWORD;
      auths.push({ secure: session.secure, ok });
      if (ok) return callback(null, { user: USER });
      callback(smtpReply(`5.7.8 Authentication failed${echoPassword ? ` for ${String(auth.password)}` : ''}`, 535));
    },
    onMailFrom(_address, session: SMTPServerSession, callback) {
      callback(session.user ? null : smtpReply('Authentication required', 530));
    },
    onRcptTo(_address, _session, callback) {
      callback(rcptReply?.() ?? null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const refusal = dataReply?.();
        if (refusal) return callback(refusal);
        received.push({
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        });
        callback(null, 'OK: queued as TEST1');
      });
    },
    ...rest,
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return { port, received, auths, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const servers: TestServer[] = [];
async function serve(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The email channel as the worker builds it: from a NOTIFICATIONS_FILE, through the loader. */
function channelFile(port: number, settings: Record<string, unknown> = {}): string {
  const file = join(dir, `notifications-${port}-${Math.random().toString(36).slice(2)}.json`);
  const channel = {
    type: 'email',
    host: '127.0.0.1',
    port,
    from: 'CCS Jobs <ccs@example.test>',
    to: ['ops@example.test', 'sec@example.test'],
  };
  writeFileSync(
    file,
    JSON.stringify({
      channels: { mail: { ...channel, username: USER, passwordFile, caFile, ...settings } },
      rules: [{ events: ['run.failed'], channels: ['mail'] }],
    }),
  );
  return file;
}

function loadChannel(port: number, settings: Record<string, unknown> = {}): EmailChannelConfig {
  const problems: string[] = [];
  const config = notificationsFromFile(channelFile(port, settings), {}, problems);
  expect(problems).toEqual([]);
  const mail = config!.channels.mail!;
  expect(mail.type).toBe('email');
  return mail as EmailChannelConfig;
}

function event(overrides: Partial<NotificationEvent> = {}): NotificationEvent {
  return {
    id: 'ccs-run/nightly-cer/42/run.failed',
    type: 'run.failed',
    time: '2026-12-01T02:00:00.000Z',
    summary: 'Faulted: job Nightly <CER> & co on emea',
    severity: 'critical',
    incident: { action: 'trigger', key: 'ccs-run/nightly-cer/42' },
    workflowId: 'ccs-run/nightly-cer',
    runId: '42',
    workflowType: 'runCcsJob',
    ccs: 'emea',
    job: { id: 'b1c2', name: 'Nightly CER' },
    jobRunId: '9001',
    status: 'Faulted',
    outcome: 'Faulted',
    errorType: 'CcsJobFaulted',
    exception: 'Collector <timeout> on host a&b',
    messages: ['started', 'collector failed'],
    links: {
      temporalUi: 'https://temporal.example.test/namespaces/default/workflows/x/42',
      evidence: 'https://evidence.example.test/x/42',
    },
    ...overrides,
  };
}

/** The top-level headers, names in lower case, folded lines joined (RFC 5322 2.2.3). */
function headersOf(raw: string): Record<string, string> {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  return Object.fromEntries(head.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
}

/** The body with quoted-printable undone (soft breaks joined, =XX decoded). */
function decodedBody(raw: string): string {
  const body = raw.slice(raw.indexOf('\r\n\r\n'));
  return Buffer.from(
    body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

async function refusal(promise: Promise<unknown>): Promise<NotificationDeliveryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotificationDeliveryError);
  return err as NotificationDeliveryError;
}

describe('email channel over a real SMTP server', () => {
  it('sends one message over STARTTLS with AUTH: headers, Message-ID, subject, both bodies, no password anywhere', async () => {
    const server = await serve();
    const channel = createEmailChannel('mail', loadChannel(server.port));
    const result = await channel.send(event());
    expect(result).toMatchObject({ outcome: 'sent', status: 250 });
    expect(server.received).toHaveLength(1);
    const got = server.received[0]!;
    expect(got).toMatchObject({ secure: true, user: USER, from: 'ccs@example.test', to: ['ops@example.test', 'sec@example.test'] });
    expect(server.auths).toEqual([{ secure: true, ok: true }]);
    const raw = got.raw;
    const headers = headersOf(raw);
    expect(headers).toMatchObject({
      'message-id': '<ccs-run/nightly-cer/42/run%2Efailed@ccs-job-orchestrator>',
      'x-ccs-event-id': 'ccs-run/nightly-cer/42/run.failed',
      'x-ccs-event-type': 'run.failed',
      subject: '[CCS] Faulted: job Nightly <CER> & co on emea',
      date: 'Tue, 01 Dec 2026 02:00:00 +0000',
      from: 'CCS Jobs <ccs@example.test>',
    });
    const decoded = decodedBody(raw);
    expect(decoded).toContain('JobRunID:   9001');
    expect(decoded).toContain('https://evidence.example.test/x/42');
    expect(decoded).toContain('<strong>Faulted: job Nightly &lt;CER&gt; &amp; co on emea</strong>');
    expect(decoded).toContain('<pre>Collector &lt;timeout&gt; on host a&amp;b</pre>');
    expect(decoded).not.toContain('<CER>&');
    for (const form of [PASSWORD, Buffer.from(PASSWORD).toString('base64'), Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64')]) {
      expect(raw).not.toContain(form);
      expect(JSON.stringify(result)).not.toContain(form);
    }
    // A retry of the same event sends the same bytes: receivers that compare bodies see one message.
    await channel.send(event());
    expect(server.received[1]!.raw).toBe(raw);
  });

  it('logs in with AUTH LOGIN too, and reads a rotated password at the next send', async () => {
    const server = await serve({ authMethods: ['LOGIN'] });
    const rotated = join(dir, 'rotating-password');
    writeFileSync(rotated, 'an-old-password\n');
    const channel = createEmailChannel('mail', loadChannel(server.port, { passwordFile: rotated }));
    const first = await refusal(channel.send(event()));
    expect(first.retryable).toBe(false);
    writeFileSync(rotated, `${PASSWORD}\n`);
    await expect(channel.send(event())).resolves.toMatchObject({ outcome: 'sent' });
    expect(server.auths).toEqual([
      { secure: true, ok: false },
      { secure: true, ok: true },
    ]);
  });

  it('takes user:password from an authFile', async () => {
    const server = await serve();
    const authFile = join(dir, 'smtp-auth');
    writeFileSync(authFile, `${USER}:${PASSWORD}\n`);
    const channel = createEmailChannel('mail', loadChannel(server.port, { username: undefined, passwordFile: undefined, authFile }));
    await expect(channel.send(event())).resolves.toMatchObject({ outcome: 'sent' });
    expect(server.received[0]!.user).toBe(USER);
  });

  it('535 (bad password) is not retryable, and the error carries no password even when the server quotes it', async () => {
    const server = await serve({ echoPassword: true });
    const wrong = join(dir, 'wrong-password');
    writeFileSync(wrong, 'Wr0ng-but-secret-password\n');
    const err = await refusal(createEmailChannel('mail', loadChannel(server.port, { passwordFile: wrong })).send(event()));
    expect(err.retryable).toBe(false);
    expect(err.status).toBe(535);
    expect(err.message).toContain('535');
    expect(err.message).not.toContain('Wr0ng-but-secret-password');
    expect(err.message).not.toContain(Buffer.from('Wr0ng-but-secret-password').toString('base64'));
    expect(JSON.stringify(err)).not.toContain('Wr0ng');
    expect(server.received).toHaveLength(0);
  });

  it('451 at the end of DATA is retryable; 550 for a mailbox is not', async () => {
    const busy = await serve({ dataReply: () => smtpReply('4.3.0 Try again later', 451) });
    const err451 = await refusal(createEmailChannel('mail', loadChannel(busy.port)).send(event()));
    expect(err451).toMatchObject({ retryable: true, status: 451 });
    const gone = await serve({ rcptReply: () => smtpReply('5.1.1 Mailbox unavailable', 550) });
    const err550 = await refusal(createEmailChannel('mail', loadChannel(gone.port)).send(event()));
    expect(err550).toMatchObject({ retryable: false, status: 550 });
    expect(err550.message).toContain('Mailbox unavailable');
  });

  it('a server that does not offer STARTTLS is refused before AUTH, unless allowPlaintext', async () => {
    const server = await serve({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    const err = await refusal(createEmailChannel('mail', loadChannel(server.port)).send(event()));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('STARTTLS');
    expect(err.message).toContain('allowPlaintext');
    expect(server.auths).toEqual([]);
    expect(server.received).toEqual([]);
    await expect(createEmailChannel('mail', loadChannel(server.port, { allowPlaintext: true })).send(event())).resolves.toMatchObject({
      outcome: 'sent',
    });
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.secure).toBe(false);
  });

  it('a pinned self-signed certificate is accepted; a wrong pin, or no trust at all, is refused before AUTH', async () => {
    const selfSigned = generateSelfSignedMaterial('Symantec_Components');
    const server = await serve({ material: selfSigned });
    const pinned = createEmailChannel(
      'mail',
      loadChannel(server.port, { caFile: undefined, tlsPinSha256: fingerprint(selfSigned.certPem) }),
    );
    await expect(pinned.send(event())).resolves.toMatchObject({ outcome: 'sent' });
    expect(server.received[0]!.secure).toBe(true);

    const wrongPin = createEmailChannel(
      'mail',
      loadChannel(server.port, { caFile: undefined, tlsPinSha256: fingerprint(privateCa.certPem) }),
    );
    const err = await refusal(wrongPin.send(event()));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('not-pinned');
    expect(err.message).toContain(fingerprint(selfSigned.certPem));
    const untrusted = await refusal(createEmailChannel('mail', loadChannel(server.port, { caFile: undefined })).send(event()));
    expect(untrusted.retryable).toBe(false);
    expect(untrusted.message).toContain(`tlsPinSha256: ${fingerprint(selfSigned.certPem)}`);
    expect(server.auths).toHaveLength(1);
    expect(server.received).toHaveLength(1);
  });

  it('secure: true speaks TLS from the first byte (port 465 style)', async () => {
    const server = await serve({ secure: true });
    await expect(createEmailChannel('mail', loadChannel(server.port, { secure: true })).send(event())).resolves.toMatchObject({
      outcome: 'sent',
    });
    expect(server.received[0]!.secure).toBe(true);
  });

  it('a server that is not there is a retryable network failure, within the bound', async () => {
    const server = await serve();
    const port = server.port;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const started = Date.now();
    const err = await refusal(createEmailChannel('mail', loadChannel(port)).send(event()));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/ECONNREFUSED|ECONNECTION|ESOCKET/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('email channel bounds', () => {
  it("the activity's cancellation ends an attempt the server holds open, as retryable", async () => {
    let dataSeen!: () => void;
    const seen = new Promise<void>((resolve) => (dataSeen = resolve));
    // A server that never answers the end of DATA: only the signal (or the 10 s socket timeout) ends the attempt.
    const server = await serve({
      onData(stream, _session, _callback) {
        stream.on('data', () => undefined);
        stream.on('end', () => dataSeen());
      },
    });
    const abort = new AbortController();
    const sending = createEmailChannel('mail', loadChannel(server.port)).send(event(), abort.signal);
    await seen;
    const started = Date.now();
    abort.abort();
    const err = await refusal(sending);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('cancelled');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('ccs-jobs notify test --channel', () => {
  function capture(): { out: { write: (t: string) => void; isTTY: boolean }; text: () => string } {
    let text = '';
    return { out: { write: (t) => (text += t), isTTY: false }, text: () => text };
  }

  it('sends a test event to the named channel and prints one line', async () => {
    const server = await serve();
    const { out, text } = capture();
    const code = await notifyTest('mail', false, out, { NOTIFICATIONS_FILE: channelFile(server.port) });
    expect(text()).toMatch(/^sent test event test-[0-9a-f-]{36} to mail \(email, 250 in \d+ ms\)\n$/);
    expect(code).toBe(0);
    expect(server.received).toHaveLength(1);
    const raw = server.received[0]!.raw;
    const id = /test-[0-9a-f-]{36}/.exec(text())![0];
    expect(headersOf(raw)).toMatchObject({
      subject: '[CCS] Test notification from ccs-jobs',
      'x-ccs-event-type': 'test',
      'x-ccs-event-id': id,
      'message-id': `<${id}@ccs-job-orchestrator>`,
    });
    expect(decodedBody(raw)).toContain('Test notification from ccs-jobs');
  });

  it('prints the refusal in one line (or JSON) and exits 1', async () => {
    const server = await serve({ dataReply: () => smtpReply('4.3.0 Try again later', 451) });
    const plain = capture();
    expect(await notifyTest('mail', false, plain.out, { NOTIFICATIONS_FILE: channelFile(server.port) })).toBe(1);
    expect(plain.text()).toMatch(
      /^test event test-\S+ to mail failed \(email, 451, would be retried, in \d+ ms\): email via smtp:\/\/127\.0\.0\.1:\d+: SMTP 451: .*\n$/,
    );
    const json = capture();
    expect(await notifyTest('mail', true, json.out, { NOTIFICATIONS_FILE: channelFile(server.port) })).toBe(1);
    expect(JSON.parse(json.text())).toMatchObject({ ok: false, channel: 'mail', channelType: 'email', status: 451, retryable: true });
  });

  it('runs as `ccs-jobs notify test --channel mail` through the CLI parser', async () => {
    const server = await serve();
    const { out, text } = capture();
    let err = '';
    const code = await main(
      ['notify', 'test', '--channel', 'mail'],
      { NOTIFICATIONS_FILE: channelFile(server.port) },
      out,
      (t) => (err += t),
    );
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(text()).toMatch(/^sent test event test-\S+ to mail \(email, 250 in \d+ ms\)\n$/);
    expect(server.received).toHaveLength(1);
  });

  it('an unknown channel or a missing NOTIFICATIONS_FILE is one clear error', async () => {
    const { out } = capture();
    await expect(notifyTest('nope', false, out, { NOTIFICATIONS_FILE: channelFile(1) })).rejects.toThrow(
      /no channel "nope" .*its channels: mail/,
    );
    await expect(notifyTest('mail', false, out, {})).rejects.toThrow(/NOTIFICATIONS_FILE is not set/);
  });
});
