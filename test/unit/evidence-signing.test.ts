/**
 * A record no one can quietly rewrite (issue 31): Ed25519-signed records checked with the public key
 * alone, a key rotated mid-chain, a chain re-sealed with another key or none, the newest records cut
 * away and caught through the published head, every break reported, and list/show/export saying
 * whether the chain they read is intact.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { GENESIS, seal } from '../../src/evidence/chain';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import { publishHead, readPublishedHeads } from '../../src/evidence/published-head';
import { fileSigner, generateSigningKey, keyIdOf, keySigner, publicKeysById, type EvidenceSigner } from '../../src/evidence/signing';
import { loadEvidenceConfig } from '../../src/hosting/config/evidence';
import { startHeadPublisher } from '../../src/hosting/head-publisher';
import { tempDir } from '../temp-dir';

interface Content {
  key: string;
  recordedAt: string;
  status: string;
}

const content = (key: string): Content => ({ key, recordedAt: '2026-11-28T10:00:00.000Z', status: 'Completed' });

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, env, { write: (t) => void (out += t), isTTY: false }, (t) => void (err += t));
  return { code, out, err };
}

/** A directory with a key pair made by keygen, and a sink signing with it. */
function signedStore(): { dir: string; keyFile: string; pub: string; sink: JsonlEvidenceSink<Content> } {
  const root = tempDir('ccs-evidence-signed-');
  const keyFile = join(root, 'signing.pem');
  const { publicKeyFile } = generateSigningKey(keyFile);
  const dir = join(root, 'evidence');
  return { dir, keyFile, pub: publicKeyFile, sink: new JsonlEvidenceSink<Content>(dir, Date.now, fileSigner(keyFile)) };
}

function monthFile(dir: string): string {
  return join(dir, 'evidence-2026-11.jsonl');
}

/** Every record of the file re-sealed from the first on, one field changed (what someone with write access to the store can do). */
function reseal(file: string, signer?: EvidenceSigner): void {
  let prev = GENESIS;
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const out = lines.map((line) => {
    const { seq, prevHash: _p, hash: _h, signedBy: _s, signature: _g, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const record = seal({ ...rest, status: 'Completed (rewritten)' }, seq as number, prev, signer);
    prev = record.hash;
    return JSON.stringify(record);
  });
  writeFileSync(file, `${out.join('\n')}\n`);
}

describe('signed evidence', () => {
  it('keygen writes a 0600 private key and its public key, and never replaces one', async () => {
    const root = tempDir('ccs-keygen-');
    const file = join(root, 'evidence.pem');
    const made = await cli(['evidence', 'keygen', '--out', file]);
    expect(made.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const keyId = keyIdOf(createPrivateKey(readFileSync(file, 'utf8')));
    expect(made.out).toContain(`key ${keyId}: private key in ${file}`);
    expect([...publicKeysById([`${file}.pub`]).keys()]).toEqual([keyId]);
    const again = await cli(['evidence', 'keygen', '--out', file]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/exists already: keygen never replaces a key/);
  });

  it('a signed chain verifies with the public key alone; an edit, a re-seal with another key or none are each caught', async () => {
    const { dir, pub, sink } = signedStore();
    for (const k of ['a', 'b', 'c']) await sink.append(content(k));
    const lines = readFileSync(monthFile(dir), 'utf8').split('\n').filter(Boolean);
    const keyId = [...publicKeysById([pub]).keys()][0]!;
    expect(lines.map((l) => (JSON.parse(l) as { signedBy: string }).signedBy)).toEqual([keyId, keyId, keyId]);
    const ok = await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/is intact: 3 record\(s\), head 3:[0-9a-f]{64}; all 3 signed by the key\(s\) given\n$/);

    // Re-sealed without a key: the links hold, so only the signatures tell.
    const original = readFileSync(monthFile(dir), 'utf8');
    reseal(monthFile(dir));
    expect((await cli(['evidence', 'verify', '--dir', dir])).code).toBe(0);
    const unsigned = await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub]);
    expect(unsigned.code).toBe(2);
    expect(unsigned.out).toMatch(/BROKEN: 3 break\(s\) in 3 record\(s\)/);
    expect(unsigned.out.match(/\(signature\): record \d: record is not signed/g)).toHaveLength(3);

    // Re-sealed and signed with the forger's own key.
    const forger = keySigner(generateKeyPairSync('ed25519').privateKey);
    writeFileSync(monthFile(dir), original);
    reseal(monthFile(dir), forger);
    const otherKey = await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub]);
    expect(otherKey.code, otherKey.out).toBe(2);
    expect(otherKey.out.match(/which is none of the public keys given/g)).toHaveLength(3);

    // Re-sealed naming the real key, signed with the forger's: the signature does not verify.
    writeFileSync(monthFile(dir), original);
    reseal(monthFile(dir), { keyId: () => keyId, sign: (hash) => forger.sign(hash, keyId) });
    const forged = await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub, '--json']);
    expect(forged.code).toBe(2);
    const verdict = JSON.parse(forged.out) as { breaks: { reason: string; detail: string }[]; breakCount: number };
    expect(verdict.breakCount).toBe(3);
    expect(verdict.breaks.filter((b) => b.reason === 'signature' && /does not verify with key/.test(b.detail))).toHaveLength(3);

    // One field edited in place (hash left as it was): named as edited, its signature still that of the old hash.
    writeFileSync(monthFile(dir), original.replace('"status":"Completed"', '"status":"Faulted"'));
    const edited = await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub]);
    expect(edited.code).toBe(2);
    expect(edited.out).toMatch(/1 break\(s\) in 3 record\(s\)\n {2}at position 1 \(edited\)/);
  });

  it('a key rotated mid-chain: both public keys verify it; the old one alone names the records of the new', async () => {
    const { dir, keyFile, pub, sink } = signedStore();
    await sink.append(content('a'));
    await sink.append(content('b'));
    const next = join(dir, '..', 'next.pem');
    const { publicKeyFile: nextPub } = generateSigningKey(next);
    renameSync(next, keyFile); // the worker's file replaced: the same signer picks the new key up
    await sink.append(content('c'));
    await sink.append(content('d'));
    expect((await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub, '--public-key', nextPub])).code).toBe(0);
    const oldOnly = await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub, '--json']);
    expect(oldOnly.code).toBe(2);
    expect((JSON.parse(oldOnly.out) as { breaks: { seq: number; reason: string }[] }).breaks.map((b) => [b.seq, b.reason])).toEqual([
      [3, 'signature'],
      [4, 'signature'],
    ]);
  });

  it('the newest records cut away are caught through the published head, not without it', async () => {
    const { dir, keyFile, pub, sink } = signedStore();
    const heads = join(dir, '..', 'heads.jsonl');
    const signer = fileSigner(keyFile);
    for (const k of ['a', 'b', 'c']) await sink.append(content(k));
    expect(await publishHead(sink, heads, signer)).toMatchObject({ seq: 3 });
    expect(await publishHead(sink, heads, signer)).toBeNull(); // unchanged: nothing appended
    for (const k of ['d', 'e']) await sink.append(content(k));
    expect(await publishHead(sink, heads, signer)).toMatchObject({ seq: 5 });
    expect((await readPublishedHeads(heads, publicKeysById([pub]))).anchors.map((a) => a.seq)).toEqual([3, 5]);

    const lines = readFileSync(monthFile(dir), 'utf8').split('\n').filter(Boolean);
    writeFileSync(monthFile(dir), `${lines.slice(0, 3).join('\n')}\n`);
    // A shorter chain is valid in itself, signatures and all.
    expect((await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub])).code).toBe(0);
    const caught = await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub, '--published-heads', heads]);
    expect(caught.code).toBe(2);
    expect(caught.out).toContain(
      'anchored record 5 is missing: the chain ends at record 3, so its newest 2 or more record(s) were removed',
    );
    // EVIDENCE_HEAD_FILE is read by default.
    expect((await cli(['evidence', 'verify', '--dir', dir], { EVIDENCE_HEAD_FILE: heads })).code).toBe(2);

    // A head file named but gone: nothing to compare against, which is a break once there are records.
    const gone = join(dir, '..', 'gone.jsonl');
    const empty = join(dir, '..', 'empty-store');
    expect((await cli(['evidence', 'verify', '--dir', empty], { EVIDENCE_HEAD_FILE: gone })).code).toBe(0);
    const lost = await cli(['evidence', 'verify', '--dir', dir], { EVIDENCE_HEAD_FILE: gone });
    expect(lost.code).toBe(2);
    expect(lost.out).toContain(`published heads file ${gone} does not exist`);

    // A head written into the file by someone without the key is reported, not trusted.
    writeFileSync(monthFile(dir), `${lines.join('\n')}\n`);
    writeFileSync(heads, `${readFileSync(heads, 'utf8')}${JSON.stringify({ publishedAt: 'x', seq: 9, hash: 'f'.repeat(64) })}\n`);
    const injected = await cli(['evidence', 'verify', '--dir', dir, '--public-key', pub, '--published-heads', heads]);
    expect(injected.code).toBe(2);
    expect(injected.out).toMatch(/heads\.jsonl line 3 \(head 9\): head is not signed/);
    expect(injected.out).not.toContain('anchored record 9');
  });

  it('list, show and export say whether the chain they read is intact, and exit 2 when it is not', async () => {
    const { dir, pub, keyFile } = signedStore();
    const sink = new JsonlEvidenceSink<Content & Record<string, unknown>>(dir, Date.now, fileSigner(keyFile));
    for (const id of ['wf-a', 'wf-b'])
      await sink.append({ ...content(`${id}/run`), kind: 'job', workflowId: id, outcome: 'completed', startedBy: {} });
    const intact = await cli(['evidence', 'list', '--dir', dir, '--json', '--public-key', pub]);
    expect(intact.code).toBe(0);
    expect(JSON.parse(intact.out)).toHaveLength(2);
    expect(intact.err).toMatch(
      /^the evidence chain is intact: 2 record\(s\), head 2:[0-9a-f]{64}; every record signed by a key given \(2\); truncation not checked/,
    );

    writeFileSync(monthFile(dir), readFileSync(monthFile(dir), 'utf8').replace('"status":"Completed"', '"status":"Faulted"'));
    const listed = await cli(['evidence', 'list', '--dir', dir]);
    expect(listed.code).toBe(2);
    expect(listed.out).toMatch(/wf-a .*Faulted/);
    expect(listed.err).toMatch(/^ccs-jobs: the evidence chain is BROKEN \(1 break\(s\); the first at record 1: record 1 does not hash/);
    const shown = await cli(['evidence', 'show', 'wf-b', '--dir', dir]);
    expect(shown.code).toBe(2);
    expect(JSON.parse(shown.out)).toMatchObject({ workflowId: 'wf-b' });
    const html = join(dir, '..', 'report.html');
    const exported = await cli(['evidence', 'export', '--format', 'html', '--out', html, '--dir', dir]);
    expect(exported.code).toBe(2);
    expect(readFileSync(html, 'utf8')).toMatch(/<p class="chain-check broken" data-chain-intact="false">the evidence chain is BROKEN/);
  });

  it('the worker refuses a signing key others may read, or one that is not Ed25519; the head interval is bounded', () => {
    const root = tempDir('ccs-evidence-config-');
    const keyFile = join(root, 'k.pem');
    generateSigningKey(keyFile);
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    expect(loadEvidenceConfig(env({ EVIDENCE_SIGNING_KEY_FILE: keyFile }), []).signingKeyId).toBe(
      keyIdOf(createPrivateKey(readFileSync(keyFile, 'utf8'))),
    );
    chmodSync(keyFile, 0o644);
    const problems: string[] = [];
    loadEvidenceConfig(
      env({ EVIDENCE_SIGNING_KEY_FILE: keyFile, EVIDENCE_HEAD_INTERVAL: '1s', EVIDENCE_HEAD_FILE: join(root, 'nope', 'h') }),
      problems,
    );
    expect(problems).toEqual([
      expect.stringMatching(/is readable by group or others \(mode 644\): chmod 600 it$/),
      expect.stringMatching(/^EVIDENCE_HEAD_FILE .*: its directory .*nope does not exist/),
      'EVIDENCE_HEAD_INTERVAL must be a duration from 10s to 1d, e.g. 15m; got "1s"',
    ]);
    const rsa = join(root, 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    const rsaProblems: string[] = [];
    loadEvidenceConfig(env({ EVIDENCE_SIGNING_KEY_FILE: rsa }), rsaProblems);
    expect(rsaProblems).toEqual([expect.stringMatching(/holds a rsa key; evidence is signed with Ed25519/)]);
  });

  it('the head publisher logs a failure once, goes on, and says when it recovers', async () => {
    const { dir, sink } = signedStore();
    await sink.append(content('a'));
    const logs: string[] = [];
    const log = { info: (m: string) => void logs.push(`INFO ${m}`), warn: (m: string) => void logs.push(`WARN ${m}`) };
    const file = join(dir, '..', 'heads', 'heads.jsonl'); // its directory does not exist yet
    const publisher = startHeadPublisher({ source: sink, file, intervalMs: 3_600_000, log });
    await publisher.publish();
    await publisher.publish();
    expect(logs).toEqual(['WARN evidence head not published (retried on the next tick)']);
    mkdirSync(join(dir, '..', 'heads'));
    await publisher.stop();
    expect(logs.slice(1)).toEqual(['INFO evidence head published', 'INFO evidence head can be published again']);
    expect((await readPublishedHeads(file)).anchors).toHaveLength(1);
  });
});
