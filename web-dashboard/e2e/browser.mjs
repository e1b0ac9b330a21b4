/**
 * What the browser tests share: Debian's headless Chromium in a throw-away profile, driven by playwright-core, and a
 * page whose console errors and page errors are collected as problems.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

/** Ends the run as failed. */
export function fail(message) {
  console.error(`[e2e] FAILED: ${message}`);
  process.exit(1);
}

/** A log function that stamps each line with the seconds since `started`. */
export function logSince(started) {
  return (message) => console.log(`[e2e +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

/** Fails at once without Chromium at `chromiumPath`; creates the screenshot folder `out` and returns its full path. */
export function prepare(chromiumPath, out) {
  if (!existsSync(chromiumPath)) {
    fail(`No Chromium at ${chromiumPath}: install Debian's package (apt-get install -y chromium); bin/run-tests does.`);
  }
  const folder = resolve(out);
  mkdirSync(folder, { recursive: true });
  return folder;
}

/**
 * Starts Chromium at `executablePath` with one page of `viewport`. Console errors and page errors go to `problems`,
 * except network errors (refused or dropped connections) while `networkErrorsExpected()` says they are.
 * Returns the page and `close()`, which ends the browser and deletes its profile.
 */
export async function openBrowser({ executablePath, viewport, problems, networkErrorsExpected = () => false }) {
  const profile = mkdtempSync(join(tmpdir(), 'millrace-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport,
    deviceScaleFactor: 1,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (networkErrorsExpected() && /net::ERR_|WebSocket connection to .* failed/.test(text)) return;
    problems.push(`console error: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return {
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A function `shot(name)` that saves a full-page screenshot of `page` as `out/<name>.png` and logs where. */
export function screenshots(page, out, log) {
  return async (name) => {
    const file = join(out, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    log(`screenshot ${file}`);
  };
}

/**
 * Waits up to `timeout` ms until an element of `page` with data-testid `testId` shows text matching `pattern`; else
 * fails, naming `what` and what the element shows instead.
 */
export async function expectText(page, testId, pattern, what, timeout = 15_000) {
  const locator = page.getByTestId(testId);
  try {
    await locator.filter({ hasText: pattern }).first().waitFor({ timeout });
  } catch {
    throw new Error(`${what}: no ${pattern} in ${testId} within ${timeout} ms; it shows `
      + `"${await locator.first().innerText().catch(() => '(nothing)')}"`);
  }
}

/**
 * The conversation with the Java test that runs a cluster script (it.BrowserScript): `ask('kill', id)` or
 * `ask('restart', id)` prints `@@ <command> <id>` and resolves once the test answers `killed <id>` or
 * `restarted <id>` on stdin.
 */
export function clusterTest() {
  const answers = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  return async function ask(command, id) {
    console.log(`@@ ${command} ${id}`);
    const { value, done } = await answers.next();
    const expected = `${command === 'kill' ? 'killed' : 'restarted'} ${id}`;
    if (done || value.trim() !== expected) throw new Error(`asked to ${command} ${id}, the test answered ${value}`);
  };
}

/** A JSON call to a broker's REST API; fails on any status but 2xx, or after `timeout` ms. */
export async function rest(base, method, path, body, timeout = 5000) {
  const response = await fetch(base + path, {
    method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
    signal: AbortSignal.timeout(timeout),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${base}${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * The arguments of a script run against a three-broker cluster by it.BrowserScript: `--base-urls` (three, in broker id
 * order), `--out` (default `defaultOut`) and `--chromium`. Fails the run without them; creates the output folder.
 */
export function clusterScriptArgs(defaultOut) {
  const { values: args } = parseArgs({
    options: {
      'base-urls': { type: 'string' },
      out: { type: 'string', default: defaultOut },
      chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
    },
  });
  if (!args['base-urls']) fail('--base-urls is required');
  const bases = args['base-urls'].split(',');
  if (bases.length !== 3) fail(`--base-urls needs three brokers, got ${bases.length}`);
  return { bases, out: prepare(args.chromium, args.out), chromium: args.chromium };
}
