/**
 * CCS_PASSWORD_FILE through a real file on disk: the configuration as the worker loads it, a client
 * built from it (`passwordSource`, as src/worker.ts wires it), and the in-process simulator. Every
 * grant reads the file again; a file that cannot be read, or is empty, keeps the last password.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, passwordSource } from '../../src/hosting/config';
import type { Simulator } from '../../src/sim/server';
import type { CcsClient } from '../../src/ccs/client';
import { SIM_USER, addJob, clientFor, startSim } from '../helpers';
import { tempDir } from '../temp-dir';

let sim: Simulator;
let client: CcsClient;
let passwordFile: string;
let jobId: string;

beforeAll(async () => {
  sim = await startSim();
  const dir = tempDir('ccs-password-file-');
  passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${SIM_USER.password}\n`);
  writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
  const server = loadConfig({
    CCS_BASE_URL: sim.baseUrl,
    CCS_USERNAME: SIM_USER.username,
    CCS_PASSWORD_FILE: passwordFile,
    CCS_CA_FILE: join(dir, 'ca.pem'),
  }).ccsServers.default!;
  client = clientFor(sim, { password: passwordSource(server) });
  jobId = addJob(sim, [['Completed', 0]]);
});
afterAll(async () => {
  await client?.close();
  await sim?.close();
});

/** Rotates the account's password at CCS and drops every token, so the next request needs a password grant. */
function rotateAtCcs(password: string): void {
  sim.setUser(SIM_USER.username, { password, role: 'operator' });
  sim.revokeTokens();
}

const granted = (): number => sim.stats().token?.['200'] ?? 0;

describe('CCS_PASSWORD_FILE', () => {
  it('is read again at the next grant after the file is rewritten on disk', async () => {
    await client.getJobRuns(jobId);
    expect(client.tokenStats.passwordGrants).toBe(1);
    writeFileSync(passwordFile, 'Rotated-On-Disk-1\n');
    rotateAtCcs('Rotated-On-Disk-1');
    const before = granted();
    await client.getJobRuns(jobId);
    expect(granted()).toBe(before + 1);
    expect(client.tokenStats.passwordGrants).toBe(2);
  });

  it('keeps the last password it read while the file is missing or empty (mid-rewrite)', async () => {
    for (const breakFile of [() => rmSync(passwordFile), () => writeFileSync(passwordFile, '')]) {
      breakFile();
      sim.revokeTokens();
      const before = granted();
      await client.getJobRuns(jobId);
      expect(granted()).toBe(before + 1);
    }
  });
});
