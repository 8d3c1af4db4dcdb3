/**
 * The machine's headless Chromium driven over WebDriver (its own chromedriver, no npm client): what
 * the browser tests share. A test file starts one driver in `beforeAll` and opens a session per page.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureChromium, type ChromiumBinaries } from '../src/dev/chromium';
import { freeLowPort, waitForPort } from '../src/dev/cluster/processes';

/** Where screenshots are kept for CI to show (test-artifacts/). */
export const ARTIFACTS = join(__dirname, '..', 'test-artifacts');

export interface WebDriver {
  chromium: ChromiumBinaries;
  /** One WebDriver command; its `value`, or an error naming the command. */
  command<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  stop(): void;
}

/** Chromedriver on a free port, Chromium and chromedriver installed first when missing. */
export async function startWebDriver(): Promise<WebDriver> {
  const chromium = ensureChromium((line) => console.log(line));
  const port = await freeLowPort();
  const driver: ChildProcess = spawn(chromium.chromedriver, [`--port=${port}`], { stdio: 'ignore' });
  await waitForPort(port, 20_000);
  const base = `http://127.0.0.1:${port}`;
  return {
    chromium,
    async command<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as { value: T & { error?: string; message?: string } };
      if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value.error ?? res.status} ${json.value.message ?? ''}`);
      return json.value;
    },
    stop: () => driver.kill(),
  };
}

/** One page in a browser session: commands on it, its scripts, its screenshots. */
export interface Page {
  /** `/session/<id>`, for commands the helpers below do not cover. */
  path: string;
  open: (url: string) => Promise<void>;
  run: <T>(script: string) => Promise<T>;
  /** A PNG of the window, kept as test-artifacts/<name>; the image's bytes. */
  screenshot: (name: string) => Promise<Buffer>;
}

export interface SessionOptions {
  /** `width,height`. */
  windowSize: string;
  /** Chromium's extra switches (e.g. --ignore-certificate-errors). */
  args?: string[];
  /** Keep the browser console and network logs, for `/se/log`. */
  logs?: boolean;
}

/** A headless Chromium session, closed after `use` whatever it did. */
export async function inSession(wd: WebDriver, options: SessionOptions, use: (page: Page) => Promise<void>): Promise<void> {
  const session = await wd.command<{ sessionId: string }>('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        browserName: 'chrome',
        'goog:chromeOptions': {
          binary: wd.chromium.chromium,
          args: ['--headless=new', '--no-sandbox', '--disable-gpu', `--window-size=${options.windowSize}`, ...(options.args ?? [])],
        },
        ...(options.logs ? { 'goog:loggingPrefs': { browser: 'ALL', performance: 'ALL' } } : {}),
      },
    },
  });
  const path = `/session/${session.sessionId}`;
  const page: Page = {
    path,
    open: async (url) => {
      await wd.command('POST', `${path}/url`, { url });
    },
    run: (script) => wd.command('POST', `${path}/execute/sync`, { script, args: [] }),
    screenshot: async (name) => {
      const png = Buffer.from(await wd.command<string>('GET', `${path}/screenshot`), 'base64');
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, name), png);
      return png;
    },
  };
  try {
    await use(page);
  } finally {
    await wd.command('DELETE', path).catch(() => undefined);
  }
}
