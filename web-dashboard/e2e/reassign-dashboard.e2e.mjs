#!/usr/bin/env node
/**
 * Moving partitions from the dashboard, against a three-broker cluster in real headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core). ClusterDashboardIT (src/test/java/io/millrace/it) starts the cluster,
 * with `replication.throttled.rate` low enough that a move of a few MiB takes seconds, and runs
 *
 *   node e2e/reassign-dashboard.e2e.mjs --base-urls http://127.0.0.1:A,http://127.0.0.1:B,http://127.0.0.1:C --out DIR
 *
 * Steps: a topic whose partitions all sit on broker 1 and hold data (moved there through REST while empty, then
 * filled). The cluster screen says no reassignment runs. "Plan rebalance" lists the partitions that would move off
 * broker 1; "Apply" starts them; the Reassignments panel shows each move (from, to, phase) and then "No reassignment
 * running" again, and the topic is spread over the brokers. A move started through REST is cancelled with its Cancel
 * button and the partition is back where it was. "Preferred leader election" says what it did. Any console error or
 * page error fails the run. Screenshots go to --out.
 */
import {
  clusterScriptArgs, expectText as expectTextOn, fail, logSince, openBrowser, rest, screenshots,
} from './browser.mjs';

const { bases, out, chromium } = clusterScriptArgs('../target/e2e/reassign');
const log = logSince(Date.now());

/** A loaded machine answers slowly; no REST call here is allowed to fail for being slow under 30 s. */
const REST_TIMEOUT_MS = 30_000;
const call = (method, path, body) => rest(bases[0], method, path, body, REST_TIMEOUT_MS);

const TOPIC = 'moving';
const PARTITIONS = 3;
/** Per partition: at the cluster's throttle (ClusterDashboardIT) each move takes several seconds. */
const RECORDS_PER_PARTITION = 1024;
const VALUE = 'x'.repeat(1024);

/** Polls `check` (async, truthy when done) every 500 ms until it holds or `timeout` ms pass. */
async function until(what, check, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const noMoves = async () => (await call('GET', '/api/reassignments')).reassignments.length === 0;
const replicasOf = async (partition) => (await call('GET', `/api/topics/${TOPIC}`)).partitions[partition].replicas;

const problems = [];
const browser = await openBrowser({ executablePath: chromium, viewport: { width: 1280, height: 1400 }, problems });
const page = browser.page;

const shot = screenshots(page, out, log);
/** 30 s unless told: a loaded machine renders late. */
const expectText = (testId, pattern, what, timeout = 30_000) =>
  expectTextOn(page, testId, pattern, what, timeout);

try {
  // Every partition on broker 1, moved there while empty (an instant move), then filled.
  await call('POST', '/api/topics', { name: TOPIC, partitions: PARTITIONS, replicationFactor: 1 });
  await call('POST', '/api/reassignments', { partitions: Array.from({ length: PARTITIONS },
    (_, partition) => ({ topic: TOPIC, partition, replicas: [1] })) });
  await until('the topic gathered on broker 1', async () => await noMoves()
    && (await call('GET', `/api/topics/${TOPIC}`)).partitions.every((p) => p.replicas.join() === '1'), 60_000);
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (let sent = 0; sent < RECORDS_PER_PARTITION; sent += 256) {
      await call('POST', `/api/topics/${TOPIC}/records`, { records: Array.from({ length: 256 },
        (_, k) => ({ key: `k-${sent + k}`, value: VALUE, partition })) });
    }
  }
  log(`topic ${TOPIC}: ${PARTITIONS} partitions of ${RECORDS_PER_PARTITION} records of 1 KiB, all on broker 1`);

  await page.goto(bases[0] + '/#/cluster');
  await page.getByTestId('cluster-screen').waitFor();
  await page.getByTestId('no-reassignments').waitFor({ timeout: 30_000 });
  log('the cluster screen says no reassignment is running');

  // Plan: partitions of the topic leave broker 1.
  await page.getByTestId('rebalance-plan-button').click();
  await expectText('rebalance-plan-count', /[1-9]\d* partitions? would move/, 'the plan\'s count');
  const planned = await page.locator(`[data-plan^="${TOPIC}-"]`).count();
  if (planned < 2) throw new Error(`the plan moves ${planned} partition(s) of ${TOPIC}, not at least 2 of its 3`);
  log(`the plan lists ${await page.getByTestId('rebalance-plan-count').innerText()}, ${planned} of them of ${TOPIC}`);
  await shot('rebalance-plan');

  // Apply: the panel shows the moves while they run, then none.
  await page.getByTestId('rebalance-apply').click();
  await expectText('rebalance-result', /Started [1-9]\d* moves?/, 'the plan started');
  const appliedAt = Date.now();
  const row = page.locator(`[data-testid="reassignments-table"] tr[data-move^="${TOPIC}-"]`).first();
  await row.waitFor({ timeout: 30_000 });
  const phase = await row.getByTestId('move-phase').innerText();
  if (!/adding replicas|catching up|moving leadership|dropping old replicas|finishing/.test(phase)) {
    throw new Error(`the panel shows the phase "${phase}"`);
  }
  const from = await row.locator('td:nth-child(2) .chip').allInnerTexts();
  const to = await row.locator('td:nth-child(3) .chip').allInnerTexts();
  if (from.join() !== '1' || to.length !== 1 || to[0] === '1') {
    throw new Error(`the panel shows a move from [${from}] to [${to}], not from broker 1 to another`);
  }
  log(`the panel shows ${await row.getAttribute('data-move')} moving (${phase}): `
    + `${(await row.innerText()).replace(/\s+/g, ' ')}`);
  await shot('reassignment-running');
  await page.getByTestId('no-reassignments').waitFor({ timeout: 180_000 });
  log(`${Date.now() - appliedAt} ms after Apply the panel shows no reassignment running`);
  const spread = new Set((await call('GET', `/api/topics/${TOPIC}`)).partitions.flatMap((p) => p.replicas));
  if (spread.size < 2) throw new Error(`after the rebalance ${TOPIC} is still only on broker(s) ${[...spread]}`);
  log(`the topic is on brokers ${[...spread].sort().join(', ')} now`);
  await shot('reassignment-finished');

  // Cancel: a move started elsewhere is shown, and its button sends the partition back.
  const before = await replicasOf(0);
  const elsewhere = [1, 2, 3].find((id) => !before.includes(id));
  await call('POST', '/api/reassignments', { partitions: [{ topic: TOPIC, partition: 0, replicas: [elsewhere] }] });
  const cancel = page.getByTestId(`cancel-${TOPIC}-0`);
  await cancel.waitFor({ timeout: 30_000 });
  await cancel.click();
  await expectText('reassignment-result', /Cancelled the move of moving-0/, 'the move cancelled');
  await page.getByTestId('no-reassignments').waitFor({ timeout: 60_000 });
  await until(`${TOPIC}-0 back on [${before}]`, async () => (await replicasOf(0)).join() === before.join(), 60_000);
  log(`the move of ${TOPIC}-0 to broker ${elsewhere} was cancelled from the panel; it is on [${before}] again`);

  await page.getByTestId('preferred-leader-button').click();
  await expectText('rebalance-result', /Leadership moved|already led by its preferred replica/, 'the election\'s result');
  log(`preferred leader election: ${await page.getByTestId('rebalance-result').innerText()}`);
} catch (error) {
  await shot('reassign-failure').catch(() => {});
  problems.push(`step failed: ${error.message}`);
} finally {
  await browser.close();
  // The other scripts of the same cluster kill brokers: a topic without replicas elsewhere would only get in the way.
  await until('no move left', noMoves, 60_000).catch((e) => problems.push(e.message));
  await call('DELETE', `/api/topics/${TOPIC}`).catch((e) => problems.push(`deleting ${TOPIC}: ${e.message}`));
}

if (problems.length > 0) {
  fail(`${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
}
log('passed');
process.exit(0);
