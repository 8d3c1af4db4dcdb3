/**
 * Smoke test of the provisioned Temporal CLI: the run's dev server (started by global setup with
 * `temporal server start-dev --headless` on a free port) answers, with the search attributes registered.
 * How the CLI is found is a unit test (test/unit/temporal-cli.test.ts).
 */
import { Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/domain/contract';

describe('Temporal dev server', () => {
  it('answers on its port with CcsJobId, CcsJobRunId, CcsJobStatus, CcsAttention, CcsLate, CcsPaused and CcsServer registered as Keyword', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeTruthy();
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const name of SEARCH_ATTRIBUTE_NAMES) expect(customAttributes?.[name], name).toBe(2); // INDEXED_VALUE_TYPE_KEYWORD
      expect(SEARCH_ATTRIBUTE_NAMES).toEqual([
        'CcsJobId',
        'CcsJobRunId',
        'CcsJobStatus',
        'CcsAttention',
        'CcsLate',
        'CcsPaused',
        'CcsServer',
      ]);
    } finally {
      await connection.close();
    }
  });
});
