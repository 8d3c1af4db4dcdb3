/**
 * What every notification channel implements (webhook, slack, teams, pagerduty, email): one bounded
 * attempt to hand one event over. Channels never retry themselves; the `deliverCcsNotification`
 * workflow retries `sendNotification`, so a channel only has to say whether a failure is worth
 * another attempt, through the error it throws.
 */
import type { NotificationEvent } from '../domain/notifications';

/** What one attempt did. */
export interface SendResult {
  /** `skipped`: the channel deliberately sent nothing (a PagerDuty channel and an event with no incident action). */
  outcome: 'sent' | 'skipped';
  /** HTTP status or SMTP reply code the receiver answered, when there was one. */
  status?: number;
  /** A short, secret-free note for logs ("202 Accepted", "250 queued as ABC"). */
  detail?: string;
}

/**
 * One configured channel, built once at worker start from NOTIFICATIONS_FILE.
 *
 * `send` makes exactly one attempt, bounded in time (10 s per request) and size (answers read up
 * to 64 KiB), and honours `signal` (the activity's cancellation). The event it receives is already
 * scrubbed of secrets and carries its links. It throws:
 * - {@link NotificationDeliveryError} with `retryable: true` for network failures, timeouts, 408,
 *   429 (with `retryAfterMs` from Retry-After when given) and 5xx / SMTP 4xx;
 * - {@link NotificationDeliveryError} with `retryable: false` when the receiver refused the event
 *   (other 4xx, SMTP 5xx): retrying the same bytes would be refused again.
 * Safe to call again with the same event: receivers deduplicate by `event.id`.
 */
export interface ChannelSender {
  /** The channel's name in NOTIFICATIONS_FILE (`channels.<name>`). */
  readonly name: string;
  /** `webhook`, `slack`, `teams`, `pagerduty` or `email`. */
  readonly type: ChannelType;
  send(event: NotificationEvent, signal?: AbortSignal): Promise<SendResult>;
  /** Releases sockets and pools; called once when the worker stops. Optional. */
  close?(): Promise<void>;
}

export const CHANNEL_TYPES = Object.freeze(['webhook', 'slack', 'teams', 'pagerduty', 'email'] as const);
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/**
 * Why one attempt failed, as the activity needs it: whether to try again, and how soon at the
 * earliest. `message` is secret-free (no URL with a token, no routing key, no password).
 */
export class NotificationDeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly extra: {
      /** HTTP status or SMTP reply code, when the receiver answered. */
      status?: number;
      /** The receiver asked to wait this long (Retry-After), already capped by the channel. */
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'NotificationDeliveryError';
  }

  get status(): number | undefined {
    return this.extra.status;
  }

  get retryAfterMs(): number | undefined {
    return this.extra.retryAfterMs;
  }
}

/** Bounds every channel keeps, whatever the receiver does. */
export const CHANNEL_LIMITS = Object.freeze({
  /** One request, connect to last byte of the answer. */
  requestTimeoutMs: 10_000,
  /** Bytes of an answer read (for its error message); the rest is discarded. */
  answerBytes: 64 * 1024,
});

/** How a channel trusts its receiver's certificate: the rules of CCS servers (src/ccs/tls.ts). */
export interface ChannelTls {
  /** PEM of the CA(s) that signed the receiver's certificate (`caFile`), beside the system store. */
  ca?: string | undefined;
  /** Fingerprints accepted as they are (`tlsPinSha256`), `AB:CD:…`. */
  pinSha256?: readonly string[] | undefined;
}

/**
 * `type: email` as validated from NOTIFICATIONS_FILE (N2's src/notifications/email.ts builds the
 * sender from it with `createEmailChannel(name, config)`). Secrets were read from their files.
 */
export interface EmailChannelConfig {
  type: 'email';
  /** SMTP server host and port (`host`, `port`, default 587). */
  host: string;
  port: number;
  /** `secure: true`: TLS from the first byte (port 465); otherwise STARTTLS, required unless `allowPlaintext`. */
  secure: boolean;
  /** `allowPlaintext: true`: no TLS at all (loopback tests, lab setups). */
  allowPlaintext: boolean;
  /** SMTP AUTH: `username` and the password from `passwordFile` (or `authFile`, `user:password`), when given. */
  auth?: { user: string; pass: string } | undefined;
  /** The file the password came from, re-read on each send so a rotated one is picked up. */
  passwordFile?: string | undefined;
  from: string;
  to: readonly string[];
  tls: ChannelTls;
}
