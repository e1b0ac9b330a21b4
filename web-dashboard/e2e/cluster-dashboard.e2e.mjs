#!/usr/bin/env node
/**
 * The dashboard against a three-broker cluster, in real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core). ClusterDashboardIT (src/test/java/io/millrace/it) starts the cluster and runs
 *
 *   node e2e/cluster-dashboard.e2e.mjs --base-urls http://127.0.0.1:A,http://127.0.0.1:B,http://127.0.0.1:C --out DIR
 *
 * This script cannot kill or start brokers itself: it asks the test on stdout with a line `@@ kill <id>` or
 * `@@ restart <id>` (ids 1..3, in the order of --base-urls) and waits for the test's answer on stdin (`killed <id>`,
 * `restarted <id>`, sent once the process is gone or healthy again).
 *
 * Steps: an RF=3 topic, traffic through every partition's leader; the page (served by broker 1) shows every broker's
 * throughput. Broker K (neither the page's broker nor the controller) is SIGKILLed: within 5 s of its death the
 * cluster screen shows it down and the partitions under-replicated, and the topic screen shows the smaller ISRs.
 * K restarts: the screen shows three brokers up and every partition in sync again. Any console error or page error
 * in all of that fails the run. Last, the page's own broker is killed: the page says it is now connected to another
 * broker and goes on showing the cluster; only the browser's reports of the refused connections to the dead broker
 * are allowed then. Screenshots go to --out.
 */
import {
  clusterScriptArgs, clusterTest, expectText as expectTextOn, fail, logSince, openBrowser, rest, screenshots,
} from './browser.mjs';

const { bases, out, chromium } = clusterScriptArgs('../target/e2e/cluster');

const started = Date.now();
const log = logSince(started);

// ---- the test on the other end of stdin/stdout kills and restarts brokers ---------------------------------------
const ask = clusterTest();

// ---- load through REST, beside the browser -------------------------------------------------------------------------
const dead = new Set();
const live = () => bases.filter((_, i) => !dead.has(i + 1));

/**
 * Produces to every partition through its leader, four times a second, so that every broker leading a partition
 * measures traffic. Errors while leaders move are expected and retried with a fresh description.
 */
function startLoad(topic) {
  let stopped = false;
  let tick = 0;
  const loop = (async () => {
    while (!stopped) {
      tick++;
      try {
        const description = await rest(live()[0], 'GET', `/api/topics/${topic}`);
        await Promise.all(description.partitions.filter((p) => p.leader > 0 && !dead.has(p.leader)).map((p) =>
          rest(bases[p.leader - 1], 'POST', `/api/topics/${topic}/records`, {
            records: Array.from({ length: 5 }, (_, k) => ({ key: `k-${k}`, value: `tick ${tick}`, partition: p.partition })),
          }).catch(() => { /* a leader change: the next tick asks again */ })));
      } catch {
        // No broker answered the description this time (one is being killed): try again.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

// ---- the browser -------------------------------------------------------------------------------------------------
const problems = [];
/** While the page's own broker is dead, the browser reports its refused connections; nothing else is allowed. */
let pageBrokerDown = false;
const browser = await openBrowser({ executablePath: chromium, viewport: { width: 1280, height: 900 }, problems,
  networkErrorsExpected: () => pageBrokerDown });
const page = browser.page;

const shot = screenshots(page, out, log);
const expectText = (...args) => expectTextOn(page, ...args);

let stopLoad = async () => {};
try {
  const topic = 'replicated';
  await rest(bases[0], 'POST', '/api/topics', { name: topic, partitions: 6, replicationFactor: 3 });
  log('created an RF=3 topic with 6 partitions');
  stopLoad = startLoad(topic);

  await page.goto(bases[0] + '/#/cluster');
  await page.getByTestId('cluster-screen').waitFor();
  await expectText('stat-brokers', /3 \/ 3/, 'brokers up');
  await expectText('stat-partitions', /all in sync/, 'partitions in sync', 30_000);
  await expectText('connected-broker', /connected to broker 1/, 'which broker the page is on');
  // Every broker that leads a partition measures its own traffic, and the page hears it through broker 1.
  const leaders = new Set((await rest(bases[0], 'GET', `/api/topics/${topic}`)).partitions.map((p) => p.leader));
  for (const id of leaders) {
    await page.waitForFunction((id) => /[1-9]/.test(
      document.querySelector(`[data-testid="broker-records-${id}"]`)?.textContent?.split('/')[0] ?? ''), id,
    { timeout: 15_000 }).catch(() => { throw new Error(`no records-in rate shown for broker ${id}`); });
  }
  log(`the cluster screen shows the throughput of brokers ${[...leaders].sort().join(', ')}`);
  await shot('cluster-healthy');

  // Kill a broker that neither serves the page nor is the controller.
  const brokers = await rest(bases[0], 'GET', '/api/brokers');
  const controller = brokers.find((b) => b.controller)?.id;
  const victim = [2, 3].find((id) => id !== controller);
  await ask('kill', victim);
  dead.add(victim);
  const killedAt = Date.now();
  log(`killed broker ${victim} (controller: ${controller})`);
  await expectText(`broker-status-${victim}`, /down/, `broker ${victim} shown down`, 5000);
  await expectText('stat-partitions', /under-replicated/, 'partitions shown under-replicated',
    Math.max(1, 5000 - (Date.now() - killedAt)));
  log(`within ${Date.now() - killedAt} ms the cluster screen showed broker ${victim} down and partitions under-replicated`);
  await expectText('stat-brokers', /2 \/ 3/, 'brokers up after the kill', 1000);
  await shot('cluster-broker-down');

  // The topic screen: every partition had three replicas, so every ISR is now short of the dead broker.
  await page.goto(bases[0] + `/#/topics/${topic}`);
  const table = page.getByTestId(`partitions-${topic}`);
  await table.waitFor();
  await page.waitForFunction((topic) => document.querySelectorAll(
    `[data-testid="partitions-${topic}"] tbody tr.row-warn`).length === 6, topic, { timeout: 5000 })
    .catch(() => { throw new Error('the topic screen does not show all 6 partitions under-replicated'); });
  const isrs = await table.locator('tbody tr').evaluateAll((rows) => rows.map((tr) =>
    [...tr.querySelectorAll('td:nth-child(4) .chip')].map((c) => Number(c.textContent))));
  if (isrs.some((isr) => isr.includes(victim) || isr.length !== 2)) {
    throw new Error(`ISRs on the topic screen still hold broker ${victim}: ${JSON.stringify(isrs)}`);
  }
  log('the topic screen shows every ISR without the dead broker');
  await shot('topic-under-replicated');

  // Back: healed.
  await ask('restart', victim);
  dead.delete(victim);
  const restartedAt = Date.now();
  await page.goto(bases[0] + '/#/cluster');
  await expectText('stat-brokers', /3 \/ 3/, 'brokers up after the restart', 30_000);
  await expectText('stat-partitions', /all in sync/, 'partitions in sync after the restart', 60_000);
  await expectText(`broker-status-${victim}`, /up/, `broker ${victim} shown up`, 1000);
  log(`healed ${Date.now() - restartedAt} ms after broker ${victim} was healthy again`);
  await shot('cluster-healed');
  if (problems.length > 0) throw new Error('console errors while a broker was killed and restarted');

  // Now the page's own broker dies: the page moves to another broker and says so.
  pageBrokerDown = true;
  await ask('kill', 1);
  dead.add(1);
  const pageKilledAt = Date.now();
  await expectText('connected-broker', /connected to broker [23]/, 'page moved to another broker', 20_000);
  await expectText('broker-status-1', /down/, 'the page\'s old broker shown down', 15_000);
  log(`${Date.now() - pageKilledAt} ms after its broker died the page was connected to another and showed it down`);
  await shot('cluster-page-broker-down');
  await ask('restart', 1);
  dead.delete(1);
  await expectText('stat-brokers', /3 \/ 3/, 'brokers up after broker 1 came back', 30_000);
  log('broker 1 is back in the view of the page\'s new broker');
} catch (error) {
  await shot('failure').catch(() => {});
  problems.push(`step failed: ${error.message}`);
} finally {
  await stopLoad().catch((e) => problems.push(`load failed: ${e.message}`));
  await browser.close();
}

if (problems.length > 0) {
  fail(`${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
}
log('passed');
process.exit(0);
