/**
 * The `email` channel: one message per event over SMTP (nodemailer's SMTP connection), with STARTTLS
 * required unless `allowPlaintext`, or TLS from the first byte (`secure`, port 465). The server's
 * certificate is checked after the handshake with the rules of CCS servers (src/ccs/tls.ts: CA file
 * or system store and the host name, or a SHA-256 pin that decides alone), before any password is
 * sent. SMTP 4xx and network failures are worth another attempt; 5xx (550 mailbox unavailable, 535
 * authentication failed) and an untrusted certificate are not.
 */
import type { TLSSocket } from 'node:tls';
import type Mail from 'nodemailer/lib/mailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { verifyPeer, type TlsTrust, type TlsTrustError } from '../ccs/tls';
import type { NotificationEvent } from '../domain/notifications';
import { readPassword } from '../hosting/config/values';
import { CHANNEL_LIMITS, NotificationDeliveryError, type ChannelSender, type EmailChannelConfig, type SendResult } from './channel';
import { emailContent } from './email-message';

export const DEFAULT_SUBJECT_PREFIX = '[CCS]';

/** Bounds of one attempt: each SMTP step, and the whole conversation. */
export const EMAIL_LIMITS = Object.freeze({
  /** TCP connect, the server's greeting, and any silence mid-conversation, each. */
  stepTimeoutMs: CHANNEL_LIMITS.requestTimeoutMs,
  /** Connect to the server's last answer: an SMTP conversation is several round trips. */
  attemptTimeoutMs: 25_000,
  /** Characters of a server answer quoted in an error or a result. */
  answerChars: 300,
});

/** Settings beyond {@link EmailChannelConfig} that NOTIFICATIONS_FILE may carry; each optional. */
export interface EmailChannelExtras {
  /** Before every subject (default "[CCS]"). */
  subjectPrefix?: string | undefined;
  /** The `authFile` (`user:password`) the credentials came from, re-read on each send. */
  authFile?: string | undefined;
}

type Credentials = { user: string; pass: string };

/**
 * The credentials as each send reads them: the file again (a rotated password is picked up at the
 * next attempt); a file that cannot be read, or reads empty, keeps the last good value.
 */
function credentialSource(config: EmailChannelConfig & EmailChannelExtras): () => Credentials | undefined {
  let last = config.auth;
  if (!last) return () => undefined;
  const file = config.authFile ?? config.passwordFile;
  if (!file) return () => last;
  // The config names one file for both kinds; an authFile is the one whose content is `user:password`.
  const first = readPassword('passwordFile', file, [])?.trim();
  const isAuthFile = config.authFile !== undefined || first === `${last.user}:${last.pass}`;
  return () => {
    const text = readPassword('passwordFile', file, [])?.trim();
    if (!text || !last) return last;
    if (!isAuthFile) last = { user: last.user, pass: text };
    else {
      const colon = text.indexOf(':');
      if (colon > 0) last = { user: text.slice(0, colon), pass: text.slice(colon + 1) };
    }
    return last;
  };
}

/** Every form a password takes on the wire (AUTH PLAIN and LOGIN send it base64-encoded). */
function secretForms(c: Credentials | undefined): string[] {
  if (!c || c.pass === '') return [];
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return [c.pass, b64(c.pass), b64(`\u0000${c.user}\u0000${c.pass}`), encodeURIComponent(c.pass)].filter((s) => s.length >= 3);
}

/** A server answer or error text, bounded, on one line, with every form of the password cut out. */
export function scrubSmtpText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  // eslint-disable-next-line no-control-regex
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return out.length <= EMAIL_LIMITS.answerChars ? out : `${out.slice(0, EMAIL_LIMITS.answerChars - 1)}…`;
}

/** Codes nodemailer gives failures that are the network's or the moment's, not the message's. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EPROTOCOL', 'ETLS', 'ECONNRESET', 'ECONNREFUSED']);

/**
 * The delivery error for an SMTP failure: by the reply code when the server answered (4xx retryable,
 * 5xx not), else by nodemailer's code (network and timeouts retryable; a bad address or missing
 * credentials not). The message is `origin: what failed (the answer)`, scrubbed; the original error
 * is not kept as the cause, since its fields quote the conversation.
 */
export function smtpDeliveryError(origin: string, err: unknown, secrets: readonly string[]): NotificationDeliveryError {
  if (err instanceof NotificationDeliveryError) return err;
  const e = (err ?? {}) as SMTPConnection.SMTPError;
  const code = typeof e.responseCode === 'number' && e.responseCode >= 200 && e.responseCode < 600 ? e.responseCode : undefined;
  const what = scrubSmtpText(String(e.message ?? err), secrets);
  const answer = e.response && !what.includes(scrubSmtpText(e.response, secrets)) ? ` (${scrubSmtpText(e.response, secrets)})` : '';
  let retryable: boolean;
  let hint = '';
  if (code !== undefined) retryable = code < 500;
  else retryable = TRANSIENT_CODES.has(String(e.code));
  if (e.code === 'EAUTH' && !retryable) hint = '; check the username and the password file';
  if (e.command === 'STARTTLS' && code !== undefined && code >= 500)
    hint =
      '; the server does not offer STARTTLS: the password and the event would travel in clear text (set allowPlaintext: true to accept that knowingly, or secure: true for TLS on 465)';
  const kind = code !== undefined ? `SMTP ${code}` : String(e.code ?? 'error');
  return new NotificationDeliveryError(
    `email via ${origin}: ${kind}: ${what}${answer}${hint}`,
    retryable,
    code === undefined ? {} : { status: code },
  );
}

function trustOf(config: EmailChannelConfig): TlsTrust {
  return { ca: config.tls.ca, pinSha256: config.tls.pinSha256 };
}

/**
 * Whether the connection, as it stands before AUTH, is one the channel may send the password and the
 * event over: a NotificationDeliveryError (not retryable) when not.
 */
function refusalOf(connection: SMTPConnection, config: EmailChannelConfig, origin: string): NotificationDeliveryError | undefined {
  if (!connection.secure) {
    if (config.allowPlaintext) return undefined;
    return new NotificationDeliveryError(
      `email via ${origin}: the server did not offer STARTTLS; the password and the event would travel in clear text (set allowPlaintext: true to accept that knowingly)`,
      false,
    );
  }
  // allowPlaintext accepted no TLS at all, so without a CA file or a pin an unverified STARTTLS is still no worse.
  if (config.allowPlaintext && !config.tls.ca && !config.tls.pinSha256) return undefined;
  const socket = connection._socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function')
    return new NotificationDeliveryError(`email via ${origin}: the TLS connection cannot be inspected; not sending`, false);
  const refused = verifyPeer(socket, config.host, trustOf(config));
  return refused ? new NotificationDeliveryError(untrustedEmail(origin, refused), false) : undefined;
}

/** One line naming what was presented and the channel setting that would trust it (the CCS settings' names do not apply here). */
function untrustedEmail(origin: string, err: TlsTrustError): string {
  const cert = err.certificate;
  if (!cert) return `email via ${origin}: TLS refused: ${err.detail}`;
  const fix =
    err.refusal === 'not-pinned'
      ? `if this is the server's new certificate, add its fingerprint to tlsPinSha256 (a list: keep the old one until the server presents the new)`
      : `tlsPinSha256: ${cert.sha256} trusts exactly this certificate, or caFile: a PEM of its issuer`;
  return `email via ${origin}: the SMTP server's certificate is not trusted (${err.refusal}: ${err.detail}, checked for ${JSON.stringify(err.checkedName)}): subject ${cert.subject || '(empty)'}; issuer ${cert.selfSigned ? 'itself (self-signed)' : cert.issuer}; SHA-256 ${cert.sha256}. To trust it: ${fix}`;
}

function callback<T>(run: (done: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** Builds the `email` channel of NOTIFICATIONS_FILE. Each `send` opens one connection, sends one message and quits. */
export function createEmailChannel(name: string, channel: EmailChannelConfig): ChannelSender {
  // The extras are read when the loader provides them; EmailChannelConfig does not declare them (yet).
  const config: EmailChannelConfig & EmailChannelExtras = channel;
  const origin = `smtp${config.secure ? 's' : ''}://${config.host}:${config.port}`;
  const credentials = credentialSource(config);
  const prefix = config.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  const envelopeFrom = config.from.replace(/^.*<(.*)>\s*$/, '$1').trim();
  const envelopeTo = config.to.map((a) => a.replace(/^.*<(.*)>\s*$/, '$1').trim());

  async function message(event: NotificationEvent): Promise<Buffer> {
    const c = emailContent(event, prefix);
    const mail: Mail.Options & { baseBoundary: string } = {
      from: config.from,
      to: [...config.to],
      subject: c.subject,
      text: c.text,
      html: c.html,
      messageId: c.messageId,
      date: c.date,
      headers: c.headers,
      baseBoundary: c.baseBoundary,
    };
    return new MailComposer(mail).compile().build();
  }

  async function send(event: NotificationEvent, signal?: AbortSignal): Promise<SendResult> {
    const auth = credentials();
    const secrets = secretForms(auth);
    if (signal?.aborted) throw new NotificationDeliveryError(`email via ${origin}: cancelled before sending`, true);
    const raw = await message(event);
    const connection = new SMTPConnection({
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: !config.secure && !config.allowPlaintext,
      connectionTimeout: EMAIL_LIMITS.stepTimeoutMs,
      greetingTimeout: EMAIL_LIMITS.stepTimeoutMs,
      socketTimeout: EMAIL_LIMITS.stepTimeoutMs,
      dnsTimeout: EMAIL_LIMITS.stepTimeoutMs,
      logger: false,
      // Verified in refusalOf, which can then say what was presented and which setting would trust it.
      tls: {
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        minVersion: 'TLSv1.2',
        ...(config.tls.ca ? { ca: config.tls.ca } : {}),
      },
    });
    // Errors mid-conversation arrive as events (a reset during AUTH calls no callback): every step races them.
    let failed: (err: unknown) => void = () => undefined;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    failure.catch(() => undefined);
    connection.on('error', (err) => failed(err));
    connection.once('end', () => failed(new NotificationDeliveryError(`email via ${origin}: the server closed the connection`, true)));
    const timer = setTimeout(
      () => failed(new NotificationDeliveryError(`email via ${origin}: no answer within ${EMAIL_LIMITS.attemptTimeoutMs} ms`, true)),
      EMAIL_LIMITS.attemptTimeoutMs,
    );
    const onAbort = (): void => failed(new NotificationDeliveryError(`email via ${origin}: cancelled`, true));
    signal?.addEventListener('abort', onAbort, { once: true });
    const step = <T>(run: (done: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> =>
      Promise.race([callback(run), failure]);
    try {
      await step<void>((done) => connection.connect((err) => done(err)));
      const refused = refusalOf(connection, config, origin);
      if (refused) throw refused;
      if (auth) await step<void>((done) => connection.login(auth, (err) => done(err)));
      const info = await step<SMTPConnection.SentMessageInfo>((done) =>
        connection.send({ from: envelopeFrom, to: envelopeTo }, raw, (err, sent) => done(err, sent)),
      );
      if (info.rejected.length > 0 && info.accepted.length === 0)
        throw new NotificationDeliveryError(
          `email via ${origin}: every recipient was refused (${scrubSmtpText(info.response, secrets)})`,
          false,
        );
      connection.quit();
      const status = Number(/^\d{3}/.exec(info.response)?.[0]) || 250;
      return { outcome: 'sent', status, detail: scrubSmtpText(info.response, secrets) };
    } catch (err) {
      throw smtpDeliveryError(origin, err, secrets);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      connection.removeAllListeners('end');
      // Swallows the late 'error' a closing socket may still emit; an unhandled one would crash the worker.
      connection.on('error', () => undefined);
      connection.close();
    }
  }

  return Object.freeze({ name, type: 'email' as const, send });
}
