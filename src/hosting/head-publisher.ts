/**
 * Publishes the evidence chain's head on a schedule (EVIDENCE_HEAD_FILE, every
 * EVIDENCE_HEAD_INTERVAL): at start, on each tick, and once more when the worker stops. A failure is
 * logged once (WARN) and retried on the next tick; the recovery is logged once (INFO). It never stops
 * the worker: the records themselves are written either way.
 */
import { publishHead, type HeadSource } from '../evidence/published-head';
import type { EvidenceSigner } from '../evidence/signing';

export interface HeadPublisher {
  /** Publishes now (the head if it changed); resolves when done, never rejects. */
  publish(): Promise<void>;
  /** Stops the schedule after one last publish. */
  stop(): Promise<void>;
}

export function startHeadPublisher(options: {
  source: HeadSource;
  file: string;
  signer?: EvidenceSigner | undefined;
  intervalMs: number;
  log: { info: (message: string, meta?: Record<string, unknown>) => void; warn: (message: string, meta?: Record<string, unknown>) => void };
}): HeadPublisher {
  let failing: string | undefined;
  let running: Promise<void> = Promise.resolve();
  const publishOnce = async (): Promise<void> => {
    try {
      const published = await publishHead(options.source, options.file, options.signer);
      if (published) options.log.info('evidence head published', { file: options.file, seq: published.seq, hash: published.hash });
      if (failing !== undefined) options.log.info('evidence head can be published again', { file: options.file });
      failing = undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (failing !== message)
        options.log.warn('evidence head not published (retried on the next tick)', { file: options.file, error: message });
      failing = message;
    }
  };
  // One publish at a time: a slow volume never has two appends of one head racing.
  const publish = (): Promise<void> => (running = running.then(publishOnce));
  const timer = setInterval(() => void publish(), options.intervalMs);
  timer.unref();
  void publish();
  return {
    publish,
    stop: async () => {
      clearInterval(timer);
      await publish();
    },
  };
}
