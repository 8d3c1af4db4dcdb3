/**
 * The stock Temporal UI decrypting a real workflow's input through the codec server, in headless
 * Chromium (issue 32, part 2). The dev UI has no login and forwards no token, so this is the
 * reverse-proxy variant: a tiny HTTPS proxy here (TLS, a user header, the shared token header) in
 * front of the codec server on loopback http, as nginx would be. The proxy's certificate is the
 * test's own CA-signed one; Chromium runs with --ignore-certificate-errors rather than a trust store
 * change on the machine. The screenshot is kept as test-artifacts/ui-decoded-payload.png.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDevServer, type DevServer } from '../../src/dev/dev-server';
import { AesGcmCodec, encryptingDataConverter } from '../../src/hosting/codec';
import { proxyTokenAuthorizer } from '../../src/hosting/codec-auth';
import { startCodecServer, type CodecAuditEntry } from '../../src/hosting/codec-server';
import { generateTlsMaterial } from '../../src/sim/cert';
import { inSession, startWebDriver, type WebDriver } from '../webdriver';

const TOKEN = randomBytes(32).toString('base64url');
const codec = new AesGcmCodec([{ id: 'k1', key: randomBytes(32) }]);
const audit: CodecAuditEntry[] = [];
let dev: DevServer;
let codecServer: { url: string; close: () => Promise<void> };
let proxy: https.Server;
let proxyUrl = '';
let connection: Connection;
let webDriver: WebDriver;

/** Polls `read` until `done` holds or the time is up; the last value either way. */
async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  const uiPort = await freePort();
  codecServer = await startCodecServer({
    codec,
    authorize: proxyTokenAuthorizer({ token: TOKEN, header: 'X-Codec-Token', userHeader: 'X-Forwarded-User', namespaces: ['default'] }),
    corsOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
    port: 0,
    audit: (entry) => audit.push(entry),
  });
  const upstream = new URL(codecServer.url);
  const tls = generateTlsMaterial(['127.0.0.1']);
  // The reverse proxy: terminates TLS, strips what a browser could forge, adds the user and the token.
  proxy = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const headers = { ...req.headers, host: upstream.host, 'x-codec-token': TOKEN, 'x-forwarded-user': 'ui-tester' };
    const out = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  dev = await startDevServer({ uiPort, extraArgs: ['--ui-codec-endpoint', proxyUrl] });
  connection = await Connection.connect({ address: dev.address });
  webDriver = await startWebDriver();
}, 600_000);
afterAll(async () => {
  webDriver?.stop();
  await connection?.close();
  await dev?.stop();
  await new Promise((resolve) => proxy?.close(resolve));
  await codecServer?.close();
});

describe('the Temporal UI through the codec server', () => {
  it("shows a real workflow's encrypted input decrypted, in headless Chromium", async () => {
    const marker = `ui-decoded-${randomUUID()}`;
    const workflowId = `codec-ui-${randomUUID()}`;
    // No worker: the input is stored at start, which is all the page needs; nothing else runs.
    await new Client({ connection, dataConverter: encryptingDataConverter(codec) }).workflow.start('runCcsJob', {
      taskQueue: `codec-ui-${randomUUID()}`,
      workflowId,
      args: [{ jobId: marker, pollInterval: '30s' }],
    });
    const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    const [stored] = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    expect(Buffer.from(stored?.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
    expect(Buffer.from(stored?.data ?? []).toString('latin1')).not.toContain(marker);

    const options = { windowSize: '1400,1000', args: ['--ignore-certificate-errors'] };
    await inSession(webDriver, options, async (page) => {
      await page.open(`${dev.uiUrl}/namespaces/default/workflows/${workflowId}`);
      const text = await waitFor(
        () => page.run<string>('return document.body.innerText;'),
        (t) => t.includes(marker),
        60_000,
      );
      await page.screenshot('ui-decoded-payload.png');
      expect(text).toContain(marker);
      const decodes = audit.filter((e) => e.msg === 'codec decode' && e.outcome === 'ok');
      expect(decodes.length).toBeGreaterThan(0);
      expect(decodes[0]).toMatchObject({ subject: 'ui-tester', namespace: 'default' });
      expect(JSON.stringify(audit)).not.toContain(marker);
    });
  }, 180_000);
});
