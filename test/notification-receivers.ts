/**
 * Receivers for notification tests: a webhook endpoint (http or https) that checks signatures, a
 * PagerDuty Events API v2 endpoint that keeps incidents, and a real SMTP server (`smtp-server`) with
 * STARTTLS and AUTH. Each listens on 127.0.0.1 port 0, records everything it was sent, can be
 * scripted to fail (503, 451, …) for a time or a count, and offers `waitFor` driven by arrivals, so
 * tests wait for a state rather than sleep.
 */
export { failFirst, failFor, pinOf, type ReceivedRequest, type Script, type ScriptInput } from './receivers/common';
export { startWebhookReceiver, webhookSignature, type WebhookReceiver, type WebhookReceiverOptions } from './receivers/webhook';
export {
  startPagerDutyReceiver,
  type PagerDutyEvent,
  type PagerDutyIncident,
  type PagerDutyReceiver,
  type PagerDutyReceiverOptions,
} from './receivers/pagerduty';
export { parseMessage, startSmtpReceiver, type ReceivedMessage, type SmtpReceiver, type SmtpReceiverOptions } from './receivers/smtp';
