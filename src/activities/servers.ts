/**
 * Which CCS client an activity input's `ccs` names. An unknown name fails the run before anything
 * is sent: it is a typo in the run's input or a worker without that server, never a passing fault.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { CcsClient } from '../ccs/client';
import type { OnServer } from '../domain/activities';
import { ErrorType } from '../domain/errors';

/** Picks the client an input names (`default` when it names none). */
export type ServerOf = (input: OnServer) => CcsClient;

/**
 * The picker over `clients`. It raises the non-retryable `CcsInvalidInput` for a name no client
 * has, listing the configured ones.
 */
export function serverPicker(clients: Readonly<Record<string, CcsClient>>): ServerOf {
  return ({ ccs = 'default' }) => {
    const client = clients[ccs];
    if (client) return client;
    throw ApplicationFailure.create({
      type: ErrorType.InvalidInput,
      nonRetryable: true,
      message: `ccs: no CCS server named ${JSON.stringify(ccs)} is configured on this worker (configured: ${Object.keys(clients).sort().join(', ') || 'none'}); fix the ccs field or add it to the worker's CCS_SERVERS_FILE`,
    });
  };
}
