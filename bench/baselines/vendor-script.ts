/**
 * Baseline (a): the vendor-sample approach, as a script would do it. For every call a new token
 * (password grant) over a new TLS connection, certificate checks off as in the samples, a fixed
 * sleep between polls, nothing kept anywhere: if this process dies, its runs are forgotten.
 * Reads BENCH_VENDOR (JSON) and prints one JSON line with what it saw.
 */
import https from 'node:https';

interface Config {
  baseUrl: string;
  username: string;
  password: string;
  jobIds: string[];
  intervalMs: number;
}

const config = JSON.parse(process.env.BENCH_VENDOR ?? '{}') as Config;
const base = new URL(config.baseUrl);

function call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: base.hostname, port: base.port, method, path: base.pathname + path, headers, agent: false, rejectUnauthorized: false },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : null }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function token(): Promise<string> {
  // As the vendor's current Job Operation page says: the password Base64-encoded.
  const form = `grant_type=password&username=${encodeURIComponent(config.username)}&password=${encodeURIComponent(Buffer.from(config.password, 'utf8').toString('base64'))}`;
  const res = await call('POST', '/oauth/tokens', { 'content-type': 'application/json' }, form);
  if (res.status !== 200) throw new Error(`token request failed: ${res.status}`);
  return (res.json as { access_token: string }).access_token;
}

const STATUS = ['None', 'Pending', 'Executing', 'Idle', 'Completed', 'Faulted', 'Custom', 'Aborted'];

async function follow(jobId: string): Promise<{ jobId: string; status: string; polls: number; detectedAt: number }> {
  const started = await call(
    'POST',
    `/jobs/${jobId}`,
    { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
    '{"Operation":"execute"}',
  );
  if (started.status !== 200) throw new Error(`execute failed: ${started.status}`);
  let polls = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, config.intervalMs));
    const res = await call('GET', `/Jobs/${jobId}/jobruns?count=1`, { authorization: `Bearer ${await token()}` });
    polls++;
    const status = STATUS[(res.json as { Status: number }[])[0]?.Status ?? 0] ?? 'None';
    if (['Completed', 'Faulted', 'Aborted'].includes(status)) return { jobId, status, polls, detectedAt: Date.now() };
  }
}

void Promise.all(config.jobIds.map(follow)).then((runs) => console.log(JSON.stringify({ runs })));
