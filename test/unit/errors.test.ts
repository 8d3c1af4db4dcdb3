import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CcsError, ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../../src/domain/errors';

const doc = readFileSync(join(__dirname, '../../docs/errors.md'), 'utf8');
const documented = new Map([...doc.matchAll(/^\| `(\w+)` \| (yes|no)/gm)].map((m) => [m[1], m[2]]));

describe('error vocabulary', () => {
  it('documents every type, and documents nothing that does not exist', () => {
    expect([...documented.keys()].sort()).toEqual(Object.values(ErrorType).sort());
  });

  it('says retryable exactly where the retry policies retry', () => {
    for (const type of Object.values(ErrorType)) {
      const workflowOutcome = [
        'CcsJobFaulted',
        'CcsJobAborted',
        'CcsJobTimedOut',
        'CcsAbortUnconfirmed',
        'CcsPipelineFailed',
        'CcsStaleData',
      ].includes(type);
      const retryable = !workflowOutcome && !NON_RETRYABLE_ERROR_TYPES.includes(type);
      expect(documented.get(type), type).toBe(retryable ? 'yes' : 'no');
    }
  });

  it('errors keep their type and name across copies: consumers branch on type', () => {
    const err = new CcsError(ErrorType.RateLimited, 'slow down', { retryAfterMs: 1000 });
    expect({ name: err.name, type: err.type, retryable: err.retryable, retryAfterMs: err.retryAfterMs }).toEqual({
      name: 'CcsError',
      type: 'CcsRateLimited',
      retryable: true,
      retryAfterMs: 1000,
    });
  });
});
