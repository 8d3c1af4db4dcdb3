/** The SMTP receiver: a real SMTP server (`smtp-server`) with STARTTLS and AUTH, and a small RFC 5322 reader of what it got. */
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import { generateTlsMaterial } from '../../src/sim/cert';
import { MAX_BODY_BYTES, pinOf, Waiters, type Script } from './common';

export interface SmtpReceiverOptions {
  user: string;
  password: string;
  /** Offer STARTTLS (certificate from a private CA) and refuse AUTH before it; default true. */
  tls?: boolean;
  /** Reply code per message at the end of DATA (250 accepts; 451 "try again later", 550 refuses). Default 250. */
  script?: Script;
}

/** One message as the SMTP server got it. */
export interface ReceivedMessage {
  at: number;
  /** 250 when accepted; otherwise the scripted code it was refused with. */
  code: number;
  user?: string;
  secure: boolean;
  envelope: { from: string; to: string[] };
  /** Header names in lower case, folded lines joined, encoded words decoded. */
  headers: Record<string, string>;
  messageId?: string;
  /** `X-Ccs-Event-Id`. */
  eventId?: string;
  subject?: string;
  /** The text/plain part, transfer encoding undone. */
  text: string;
  /** The text/html part, when there is one. */
  html?: string;
  raw: string;
}

export interface SmtpReceiver {
  host: string;
  port: number;
  /** The CA that signed the STARTTLS certificate (for `caFile`). */
  caPem: string;
  /** The server certificate's SHA-256 (for `tlsPinSha256`). */
  pin: string;
  /** Messages accepted (250), in order. */
  messages(): ReceivedMessage[];
  /** Every message that reached the end of DATA, accepted or refused. */
  attempts(): ReceivedMessage[];
  /** AUTH attempts refused (wrong user or password). */
  readonly badAuth: number;
  /** AUTH attempts before STARTTLS (refused by the server when `tls`). */
  readonly plaintextAuth: number;
  waitFor(predicate: (r: SmtpReceiver) => boolean, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

function decodeQuotedPrintable(text: string): Buffer {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft[i] === '=' ? soft.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`), as nodemailer writes non-ASCII headers. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')).toString('utf8'),
    );
}

interface Part {
  headers: Record<string, string>;
  body: string;
}

function splitPart(raw: string): Part {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  let last: string | undefined;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) headers[last] += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      headers[last] = line.slice(colon + 1).trim();
    }
  }
  for (const k of Object.keys(headers)) headers[k] = decodeWords(headers[k]!);
  return { headers, body };
}

function decodeBody(part: Part): string {
  const encoding = (part.headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(part.body).toString('utf8');
  return part.body;
}

/** The text and html parts of a message, through nested multiparts. */
function leaves(part: Part, depth = 0): { text?: string; html?: string } {
  const type = part.headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary && depth < 5) {
    const out: { text?: string; html?: string } = {};
    const pieces = part.body.split(`--${boundary}`).slice(1);
    for (const piece of pieces) {
      if (piece.startsWith('--')) break;
      const found = leaves(splitPart(piece.replace(/^\r?\n/, '')), depth + 1);
      out.text ??= found.text;
      out.html ??= found.html;
    }
    return out;
  }
  if (/^text\/html/i.test(type)) return { html: decodeBody(part) };
  if (/^text\//i.test(type)) return { text: decodeBody(part) };
  return {};
}

/** A small RFC 5322 reader: headers, the text and html bodies. Enough for what the email channel sends. */
export function parseMessage(raw: string): Pick<ReceivedMessage, 'headers' | 'messageId' | 'eventId' | 'subject' | 'text' | 'html'> {
  const top = splitPart(raw);
  const { text, html } = leaves(top);
  return {
    headers: top.headers,
    messageId: top.headers['message-id'],
    eventId: top.headers['x-ccs-event-id'],
    subject: top.headers.subject,
    text: (text ?? '').replace(/\r\n/g, '\n'),
    html,
  };
}

class SmtpReply extends Error {
  constructor(
    message: string,
    readonly responseCode: number,
  ) {
    super(message);
    this.name = 'SmtpReply';
  }
}

/** A real SMTP server (`smtp-server`) with STARTTLS and AUTH, replying per `script` at the end of DATA. */
export async function startSmtpReceiver(options: SmtpReceiverOptions): Promise<SmtpReceiver> {
  const started = Date.now();
  const tls = options.tls !== false;
  const script = options.script ?? (() => 250);
  const material = generateTlsMaterial(['127.0.0.1', 'localhost']);
  const attempts: ReceivedMessage[] = [];
  let badAuth = 0;
  let plaintextAuth = 0;
  let count = 0;

  const server = new SMTPServer({
    logger: false,
    key: material.keyPem,
    cert: material.certPem,
    hideSTARTTLS: !tls,
    allowInsecureAuth: !tls,
    authMethods: ['PLAIN', 'LOGIN'],
    size: MAX_BODY_BYTES,
    // Connections from a SIGKILLed worker must not hold close() for long.
    socketTimeout: 30_000,
    closeTimeout: 2_000,
    onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback) {
      if (!session.secure) plaintextAuth++;
      const user = Buffer.from(auth.username ?? '');
      const password = Buffer.from(auth.password ?? '');
      const ok =
        user.length === Buffer.byteLength(options.user) &&
        timingSafeEqual(user, Buffer.from(options.user)) &&
        password.length === Buffer.byteLength(options.password) &&
        timingSafeEqual(password, Buffer.from(options.password));
      if (!ok) {
        badAuth++;
        waiters.notify();
        callback(new SmtpReply('Authentication failed', 535));
        return;
      }
      callback(null, { user: auth.username });
    },
    onMailFrom(_address, session, callback) {
      // Every message must come authenticated: an open relay would hide a channel that forgot AUTH.
      callback(session.user ? null : new SmtpReply('Authentication required', 530));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const tooLarge = (stream as unknown as { sizeExceeded?: boolean }).sizeExceeded === true;
        const code = tooLarge ? 552 : script({ count: ++count, elapsedMs: Date.now() - started });
        attempts.push({
          at: Date.now(),
          code,
          user: typeof session.user === 'string' ? session.user : undefined,
          secure: session.secure,
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          ...parseMessage(raw),
          raw,
        });
        waiters.notify();
        if (code >= 200 && code < 300) callback(null, 'OK: queued');
        else callback(new SmtpReply(code === 451 ? 'Try again later (scripted)' : `Refused (scripted ${code})`, code));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // A client dropping mid-session (a killed worker) is an error event on the server; it must not throw.
  server.on('error', () => undefined);
  const { port } = server.server.address() as AddressInfo;
  const accepted = (): ReceivedMessage[] => attempts.filter((m) => m.code >= 200 && m.code < 300);
  const receiver: SmtpReceiver = {
    host: '127.0.0.1',
    port,
    caPem: material.caPem,
    pin: pinOf(material.certPem),
    messages: accepted,
    attempts: () => [...attempts],
    get badAuth() {
      return badAuth;
    },
    get plaintextAuth() {
      return plaintextAuth;
    },
    waitFor: (predicate, timeoutMs) =>
      waiters.waitFor(predicate, timeoutMs, () => `${attempts.length} messages, ${accepted().length} accepted, ${badAuth} refused logins`),
    close: async () => {
      waiters.closeAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const waiters = new Waiters<SmtpReceiver>(() => receiver);
  return receiver;
}
