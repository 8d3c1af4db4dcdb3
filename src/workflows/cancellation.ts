/**
 * How both workflows learn that they must stop: a `cancel` signal, a native cancellation request
 * (`temporal workflow cancel`, a parent's cancel) or their own deadline. The first request wins; later
 * ones are ignored. Workflow code: deterministic, no I/O.
 */
import { CancellationScope, CancelledFailure, setHandler } from '@temporalio/workflow';
import { cancelSignal, type CancelledInfo } from '../domain/contract';

/** Longest cancel reason kept from a signal. */
const MAX_REASON = 500;

export interface CancelListenerOptions {
  /** False once the workflow has finished: a late request changes nothing. */
  accepting: () => boolean;
  /** Told once, when the first request is accepted. */
  onCancel: (info: CancelledInfo) => void;
  /** What a native cancellation records as its reason (the pipeline records none). */
  nativeReason?: (failure: CancelledFailure) => string | null;
}

export class CancelListener {
  /** The accepted request, once there is one. */
  info: CancelledInfo | undefined;
  /** Set when the request was a native cancellation: the workflow ends by rethrowing it. */
  native: CancelledFailure | undefined;
  /** Settles when a request is accepted. A plain promise: a Trigger made in the root scope rejects on native cancellation. */
  readonly requested: Promise<void>;
  private announce: () => void = () => undefined;

  constructor(private readonly options: CancelListenerOptions) {
    this.requested = new Promise<void>((resolve) => (this.announce = resolve));
  }

  /** Registers the `cancel` signal handler and listens for native cancellation of the root scope. */
  listen(): this {
    setHandler(cancelSignal, (arg) => this.request('signal', typeof arg?.reason === 'string' ? arg.reason.slice(0, MAX_REASON) : null));
    CancellationScope.current().cancelRequested.catch((err: unknown) => {
      this.native = err instanceof CancelledFailure ? err : new CancelledFailure('Workflow cancelled');
      this.request('cancellation', this.options.nativeReason ? this.options.nativeReason(this.native) : this.native.message || null);
    });
    return this;
  }

  /** Accepts a request unless one was accepted already or the workflow no longer accepts any. */
  request(by: CancelledInfo['by'], reason: string | null): void {
    if (this.info || !this.options.accepting()) return;
    this.info = { by, reason, at: new Date().toISOString() };
    this.options.onCancel(this.info);
    this.announce();
  }
}
