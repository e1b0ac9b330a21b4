#!/usr/bin/env node
/**
 * End-to-end test of the dashboard in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
 * against a running broker:
 *
 *   node e2e/dashboard.e2e.mjs --base-url http://127.0.0.1:8080 [--out ../target/e2e] [--docs-screenshot ../docs/dashboard.png]
 *
 * DashboardIT (src/test/java/io/millrace/it) starts a broker the way the README does and runs this script. It opens
 * the dashboard, creates topics through the form, produces through the form and through the REST API, checks that
 * the records appear in the live tail (key filter, pause and resume included) and that the throughput charts move,
 * that the consumer-groups screen shows its empty state and then a group with its offsets, and that the page says "disconnected — reconnecting" when
 * its connections drop and then recovers by itself. The browser reaches the broker through a small TCP proxy on
 * loopback, so the test can cut the page's connections without stopping the broker.
 *
 * Screenshots go to --out at 1280 px and at phone width (390 px). Any browser console error or page error fails the
 * run, except the network errors of the deliberate outage; so does a phone layout that scrolls sideways.
 */
import { copyFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fail, logSince, openBrowser, prepare } from './browser.mjs';

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    out: { type: 'string', default: '../target/e2e' },
    'docs-screenshot': { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
    bootstrap: { type: 'string' },
    millrace: { type: 'string' },
  },
});
const base = args['base-url'];
if (!base) fail('--base-url is required');
const out = prepare(args.chromium, args.out);

const started = Date.now();
const log = logSince(started);

// ---- the broker's REST API, used beside the browser ----------------------------------------------------------
async function rest(method, path, body) {
  const response = await fetch(base + path, {
    method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function produceRest(topic, records) {
  return rest('POST', `/api/topics/${topic}/records`, { records });
}

/** Produces through the Java SDK: the console producer (`millrace produce`) reads `key:value` lines. */
async function produceSdk(topic, lines) {
  if (!args.bootstrap || !args.millrace) fail('--bootstrap and --millrace are required to produce with the SDK');
  const child = spawn(args.millrace, ['produce', '-t', topic, '--key-separator', ':', '-b', args.bootstrap],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  child.stdin.end(lines.join('\n') + '\n');
  const code = await new Promise((done) => child.on('close', done));
  if (code !== 0) throw new Error(`millrace produce exited with ${code}: ${output}`);
}

/** Background traffic with a changing rate, so the charts have a shape worth looking at. */
function startLoad(topics) {
  if (topics.length === 0) return async () => {};
  let tick = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      tick++;
      for (const [i, topic] of topics.entries()) {
        const n = Math.max(1, Math.round((8 + 6 * Math.sin(tick / 6 + i * 1.7)) / (i + 1)));
        const records = Array.from({ length: n }, (_, k) => ({
          key: `load-${(tick * 7 + k) % 13}`, value: JSON.stringify({ tick, k, amount: (tick * 31 + k) % 500 }),
        }));
        await produceRest(topic, records);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

// ---- a proxy between the browser and the broker, to cut the page's connections at will ----------------------------
const brokerUrl = new URL(base);
const links = new Set();
let cut = false;
const proxy = createServer((client) => {
  if (cut) {
    client.destroy();
    return;
  }
  const upstream = connect(Number(brokerUrl.port), brokerUrl.hostname);
  const link = { client, upstream };
  links.add(link);
  const close = () => {
    client.destroy();
    upstream.destroy();
    links.delete(link);
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
  client.pipe(upstream).pipe(client);
});
await new Promise((ready) => proxy.listen(0, '127.0.0.1', ready));
const pageBase = `http://127.0.0.1:${proxy.address().port}`;
function cutConnections(down) {
  cut = down;
  if (down) links.forEach((l) => { l.client.destroy(); l.upstream.destroy(); });
}

// ---- the browser -----------------------------------------------------------------------------------------------
const problems = [];
let outage = false;
// During the deliberate outage the browser reports the dropped connections; nothing else is allowed.
const browser = await openBrowser({ executablePath: args.chromium, viewport: { width: 1280, height: 800 }, problems,
  networkErrorsExpected: () => outage });
const page = browser.page;

async function shot(name, fullPage = true) {
  const file = join(out, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(0, 0);
  await page.screenshot({ path: file, fullPage });
  log(`screenshot ${file}`);
  return file;
}

async function expectText(locator, pattern, what) {
  try {
    await locator.filter({ hasText: pattern }).first().waitFor();
  } catch (e) {
    throw new Error(`${what}: no ${pattern} in ${await locator.first().innerText().catch(() => '(nothing)')}`);
  }
}

/** Waits until a chart's largest plotted value is above zero. */
async function chartMoves(testId) {
  await page.waitForFunction((id) => Number(document.querySelector(`[data-testid="${id}"]`)?.dataset.max) > 0,
    testId, { timeout: 15_000 });
}

async function go(nav, screen) {
  await page.locator(`[data-nav="${nav}"]`).click();
  await page.getByTestId(screen).waitFor();
}

const loads = [];
try {
  // Cluster overview.
  await page.goto(pageBase + '/');
  await page.getByTestId('cluster-screen').waitFor();
  await expectText(page.getByTestId('connection-pill'), /Live/, 'connection state');
  await expectText(page.getByTestId('stat-zookeeper'), /connected/, 'ZooKeeper status');
  await expectText(page.getByTestId('stat-brokers'), /1 \/ 1/, 'brokers up');
  await page.getByTestId('brokers-table').waitFor();
  log('cluster screen is live');

  // The client module as an application page would use it: imported from the broker, in the browser.
  const fromModule = await page.evaluate(async () => {
    const { MillraceClient } = await import('/millrace-client.js');
    const client = new MillraceClient();
    await client.ready();
    await client.ping();
    const topics = await client.listTopics();
    const missing = await client.describeTopic('no-such-topic').then(() => 'found', (e) => e.code);
    client.close();
    return { topics, missing };
  });
  if (fromModule.topics.length !== 0 || fromModule.missing !== 'UNKNOWN_TOPIC_OR_PARTITION') {
    throw new Error(`/millrace-client.js in the page: ${JSON.stringify(fromModule)}`);
  }
  log('/millrace-client.js works when imported by a page');

  // Topics: the empty state, then create topics through the form.
  await go('topics', 'topics-screen');
  await page.getByTestId('topics-empty').waitFor();
  const create = page.getByTestId('create-topic-form');
  for (const [name, partitions] of [['orders', 3], ['payments', 2]]) {
    await create.locator('input[name="name"]').fill(name);
    await create.locator('input[name="partitions"]').fill(String(partitions));
    await create.getByRole('button', { name: 'Create' }).click();
    await expectText(create.getByTestId('form-result'), new RegExp(`Created ${name} with ${partitions} partition`),
      `create ${name}`);
    await page.locator(`tbody[data-topic="${name}"]`).waitFor();
  }
  log('created topics through the form');
  // Traffic on the second topic from now on, so the charts have five minutes' worth of shape by the end.
  loads.push(startLoad(['payments']));

  // A wrong create shows the broker's error.
  await create.locator('input[name="name"]').fill('orders');
  await create.getByRole('button', { name: 'Create' }).click();
  await expectText(create.getByTestId('form-result'), /TOPIC_ALREADY_EXISTS/, 'duplicate topic error');

  // Topic detail: the live tail starts at the end of the log.
  await page.locator('a.topic-link', { hasText: 'orders' }).click();
  await page.getByTestId('topic-screen').waitFor();
  const tail = page.getByTestId('live-tail');
  await expectText(tail.locator('.tail-status'), /Tailing from latest/, 'tail start');

  // Produce through the form.
  const produce = page.getByTestId('produce-form');
  await produce.locator('input[name="key"]').fill('customer-42');
  await produce.locator('textarea[name="value"]').fill('{"amount": 42, "currency": "EUR"}');
  await produce.locator('textarea[name="headers"]').fill('source=dashboard');
  await produce.getByRole('button', { name: 'Produce' }).click();
  await expectText(produce.getByTestId('form-result'), /Written to partition \d+ at offset 0/, 'produce form');
  await expectText(page.getByTestId('tail-table').locator('tr'), /customer-42/, 'form record in the tail');
  log('form record appeared in the live tail');

  // Produce through the REST API.
  await produceRest('orders', Array.from({ length: 20 }, (_, i) => ({ key: `rest-${i}`, value: `rest value ${i}` })));
  await expectText(page.getByTestId('tail-count'), /^21 received/, 'REST records counted in the tail');
  await expectText(page.getByTestId('tail-table').locator('tr'), /rest-19/, 'REST record in the tail');
  log('REST records appeared in the live tail');

  // Filter by key.
  await tail.locator('input[name="keyFilter"]').fill('customer');
  await expectText(page.getByTestId('tail-count'), /21 received, 1 shown/, 'key filter');
  await tail.locator('input[name="keyFilter"]').fill('');

  // Pause holds records back; resume delivers them.
  await page.getByTestId('tail-pause').click();
  await produceRest('orders', Array.from({ length: 5 }, (_, i) => ({ key: `paused-${i}`, value: 'held' })));
  await page.waitForTimeout(1500);
  await expectText(page.getByTestId('tail-count'), /^21 received/, 'nothing delivered while paused');
  await page.getByTestId('tail-pause').click();
  await expectText(page.getByTestId('tail-count'), /^26 received/, 'records delivered on resume');

  // Through the Java SDK as well: the console producer is built on it.
  await produceSdk('orders', Array.from({ length: 4 }, (_, i) => `sdk-${i}:sdk value ${i}`));
  await expectText(page.getByTestId('tail-count'), /^30 received/, 'SDK records counted in the tail');
  await expectText(page.getByTestId('tail-table').locator('tr'), /sdk-3/, 'SDK record in the tail');
  log('SDK records appeared in the live tail');
  log('pause and resume work');

  // Live traffic on this topic too: its throughput charts move.
  loads.push(startLoad(['orders']));
  await chartMoves('topic-records-chart');
  await chartMoves('topic-bytes-chart');
  log('topic throughput charts move');

  // Consumer groups: an honest empty state until a group exists, then the group with its offsets and lag.
  await go('groups', 'groups-screen');
  await expectText(page.getByTestId('groups-empty'), /No consumer groups yet/, 'groups empty state');
  log('consumer groups show their empty state');
  await rest('POST', '/api/groups/dashboard-e2e/offsets', { topic: 'orders', to: 'earliest' });
  await page.getByTestId('groups-table').waitFor({ timeout: 30_000 });
  await expectText(page.locator('[data-group="dashboard-e2e"]'), /EMPTY/, 'group row');
  await page.getByTestId('group-partitions-dashboard-e2e').waitFor();
  // Each row is one snapshot: lag must be the high watermark minus the committed offset, and records wait.
  const rows = await page.getByTestId('group-partitions-dashboard-e2e').locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.replace(/[^0-9]/g, ''))));
  if (rows.length !== 3) throw new Error(`expected 3 partitions of the group, got ${JSON.stringify(rows)}`);
  for (const cells of rows) {
    const [committed, highWatermark, lag] = cells.slice(2).map(Number);
    if (lag !== highWatermark - committed) throw new Error(`lag ${lag} != ${highWatermark} - ${committed}`);
  }
  if (!rows.some((cells) => Number(cells[4]) > 0)) throw new Error(`no lag shown: ${JSON.stringify(rows)}`);
  await shot('desktop-groups', false);
  log('a consumer group shows its committed offsets and lag');

  // The connections drop: the page says so, then recovers by itself.
  await go('cluster', 'cluster-screen');
  outage = true;
  cutConnections(true);
  await expectText(page.getByTestId('disconnected-banner'), /Disconnected — reconnecting/, 'outage banner');
  await shot('desktop-disconnected', false);
  await page.waitForTimeout(2000);
  cutConnections(false);
  await page.getByTestId('disconnected-banner').waitFor({ state: 'detached', timeout: 30_000 });
  await expectText(page.getByTestId('connection-pill'), /Live/, 'live again');
  await page.waitForTimeout(1000);
  outage = false;
  log('showed the outage and reconnected by itself');

  // Phone width.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(1000);
  await shot('phone-cluster');
  await page.goto(pageBase + '/#/topics/orders');
  await page.getByTestId('topic-screen').waitFor();
  await expectText(tail.locator('.tail-status'), /Tailing/, 'tail on phone');
  await page.getByTestId('tail-table').waitFor();
  await shot('phone-topic');
  for (const [nav, screen] of [['topics', 'topics-screen'], ['throughput', 'throughput-screen'],
    ['groups', 'groups-screen']]) {
    await go(nav, screen);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) throw new Error(`the phone layout of ${nav} scrolls sideways by ${overflow} px`);
    await shot(`phone-${nav}`);
  }

  // Desktop screenshots last, when the charts have the most to show.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.waitForTimeout(Math.max(0, 60_000 - (Date.now() - started)));
  await page.goto(pageBase + '/#/topics/orders');
  await page.getByTestId('tail-table').waitFor();
  await page.waitForTimeout(4000);
  const topicShot = await shot('desktop-topic');
  await go('topics', 'topics-table');
  await shot('desktop-topics');
  await go('throughput', 'throughput-screen');
  await chartMoves('per-topic-chart');
  await shot('desktop-throughput');
  await go('cluster', 'cluster-screen');
  await chartMoves('cluster-records-chart');
  await page.waitForTimeout(1000);
  await shot('desktop-cluster', false);

  if (args['docs-screenshot']) {
    copyFileSync(topicShot, resolve(args['docs-screenshot']));
    log(`copied ${topicShot} to ${args['docs-screenshot']}`);
  }
} catch (error) {
  await shot('failure').catch(() => {});
  problems.push(`step failed: ${error.message}`);
} finally {
  for (const stop of loads) await stop().catch((e) => problems.push(`load failed: ${e.message}`));
  await browser.close();
  cutConnections(true);
  proxy.close();
}

if (problems.length > 0) {
  fail(`${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
}
log('passed');
