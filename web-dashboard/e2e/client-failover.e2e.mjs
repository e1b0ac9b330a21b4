#!/usr/bin/env node
/**
 * The browser client module through the death of its own broker, in real headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core). ClientFailoverIT (src/test/java/io/millrace/it) starts a three-broker
 * cluster and runs
 *
 *   node e2e/client-failover.e2e.mjs --base-urls http://127.0.0.1:A,http://127.0.0.1:B,http://127.0.0.1:C --out DIR
 *
 * --out receives page-state.json: everything the page recorded (acknowledged, delivered, failed attempts, states).
 *
 * As cluster-dashboard.e2e.mjs, it asks the test to kill a broker with a line `@@ kill <id>` on stdout and waits for
 * `killed <id>` on stdin.
 *
 * Steps: an RF=3 topic of six partitions (two led by each broker). A page served by broker B, which is not the
 * controller, imports B's /millrace-client.js and makes a `MillraceClient` with no URL: it connects to B and learns
 * the other brokers from B. The page subscribes to every partition from `earliest` and produces, one loop per
 * partition, batches of BATCH records with acks=all, one batch in flight per partition; it records every acknowledged
 * record (partition, offset, value: the oracle), every failed attempt (a failed batch is sent again, the same values,
 * until it is acknowledged) and every delivered record. Once records flow, B is SIGKILLed: the page's socket and the
 * leaders of B's two partitions die together. The client must reconnect to another broker by itself and resume, and
 * producing goes on. At the end:
 *   - per partition, deliveries are dense and in offset order from 0 (nothing skipped, no offset delivered twice);
 *   - every acknowledged record was delivered, at its offset, with its value;
 *   - a value delivered twice (at two offsets) is a record whose produce attempt failed and was sent again: that
 *     attempt may have been written before its answer was lost. Only attempts that failed after the kill may do that,
 *     and a value has at most as many extra copies as it had failed attempts. At the kill at most one batch per
 *     partition was in flight; requests made while the client was reconnecting wait for the new connection and are
 *     sent once. So the duplicates are bounded by PARTITIONS × BATCH records (one lost answer per partition); each
 *     further failed attempt would add at most BATCH more, and the test allows no more than MAX_FAILED_ATTEMPTS.
 *   - no console error or page error, except the browser's reports of connections to the dead broker.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterScriptArgs, clusterTest, fail, logSince, openBrowser, rest } from './browser.mjs';

const PARTITIONS = 6;
const BATCH = 5;
/** Failed produce attempts the run may see in all: the lost answers at the kill, one per partition, and as many again. */
const MAX_FAILED_ATTEMPTS = 2 * PARTITIONS;
/** Duplicated records allowed: BATCH per failed attempt, and at most one lost batch per partition. */
const MAX_DUPLICATES = PARTITIONS * BATCH;

const { bases, out, chromium } = clusterScriptArgs('../target/e2e/client-failover');

const started = Date.now();
const log = logSince(started);

const ask = clusterTest();


/** Polls `check` (a function of the page's state, run in the page) until it returns a truthy value. */
async function until(what, check, timeout, arg) {
  try {
    const handle = await page.waitForFunction(check, arg, { timeout, polling: 100 });
    return await handle.jsonValue();
  } catch (e) {
    throw new Error(`${what}: not within ${timeout} ms (${e.message.split('\n')[0]}); page state: `
      + JSON.stringify(await summary()));
  }
}

/** `promise`, or a failure saying what did not happen within `timeout` ms. */
async function within(timeout, what, promise) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(async () => reject(new Error(`${what}: not within ${timeout} ms; page state: `
      + JSON.stringify(await summary().catch(() => null)))), timeout);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Counts of the page's state, for the log. */
function summary() {
  return page.evaluate(() => {
    const t = window.failover;
    return t && { state: t.client.state, url: t.client.url, acked: t.acked.length, delivered: t.delivered.length,
      failed: t.failures.length, errors: t.errors };
  });
}

// ---- the browser -------------------------------------------------------------------------------------------------
const problems = [];
let pageBrokerDown = false;
const browser = await openBrowser({ executablePath: chromium, viewport: { width: 800, height: 600 }, problems,
  networkErrorsExpected: () => pageBrokerDown });
const page = browser.page;

try {
  const topic = 'failover';
  await rest(bases[0], 'POST', '/api/topics', { name: topic, partitions: PARTITIONS, replicationFactor: 3 }, 10_000);
  const description = await rest(bases[0], 'GET', `/api/topics/${topic}`);
  const brokers = await rest(bases[0], 'GET', '/api/brokers');
  const controller = brokers.find((b) => b.controller)?.id;
  // Not the controller: killing the controller would add a controller election, which waits for the dead broker's
  // ZooKeeper session to expire (zookeeper.session.timeout.ms), to the leader elections of the dead broker's
  // partitions; the client's failover is what this test measures.
  const victim = [1, 2, 3].find((id) => id !== controller
    && description.partitions.some((p) => p.leader === id));
  const ledByVictim = description.partitions.filter((p) => p.leader === victim).map((p) => p.partition);
  log(`RF=3 topic with ${PARTITIONS} partitions, leaders ${JSON.stringify(description.partitions.map((p) => p.leader))};`
    + ` controller ${controller}; the page's broker (to be killed) is ${victim}, leading partitions ${ledByVictim}`);

  // A document that broker B itself serves, so that the page is of B's origin and its address space (Chromium blocks
  // a page that did not come from the loopback network from opening sockets to it): the client module's own file.
  // The page then imports it as any application would.
  // The broker has no favicon (the dashboard's is inline), and the browser's 404 for it would be a console error.
  await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
  await page.goto(`${bases[victim - 1]}/millrace-client.js`);
  await within(30_000, 'the page connects and subscribes', page.evaluate(async ({ topic, partitions, batch }) => {
    const { MillraceClient } = await import('/millrace-client.js');
    const client = new MillraceClient({ reconnect: { initialDelayMs: 200, maxDelayMs: 2000 } });
    const t = {
      client, acked: [], delivered: [], attempts: 0, failures: [], errors: [], states: [], producing: true,
      loops: [],
    };
    window.failover = t;
    client.onStateChange((state) => t.states.push({ state, url: client.url, at: Date.now() }));
    await client.ready();
    const subscription = client.subscribe({ topic, from: 'earliest', window: 200 }, {
      onRecords: (records, { partition }) => {
        for (const r of records) t.delivered.push([partition, r.offset, r.value, Date.now()]);
      },
      onError: (error) => t.errors.push(`subscription: ${error.code} ${error.message}`),
    });
    t.subscription = subscription;
    await subscription.ready;
    const produceLoop = async (partition) => {
      for (let seq = 0; t.producing; seq += batch) {
        const values = Array.from({ length: batch }, (_, k) => `p${partition}-${seq + k}`);
        for (;;) {
          const sentAt = Date.now();
          t.attempts++;
          try {
            const where = await client.produce(topic, values.map((value) => ({ value, partition })), { acks: 'all' });
            where.forEach((w, k) => t.acked.push([w.partition, w.offset, values[k]]));
            break;
          } catch (error) {
            t.failures.push({ partition, values, sentAt, failedAt: Date.now(), code: error.code,
              message: error.message });
            if (!error.retriable && error.code !== 'NOT_LEADER' && error.code !== 'DISCONNECTED') {
              t.errors.push(`produce p${partition}: ${error.code} ${error.message}`);
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    t.loops = Array.from({ length: partitions }, (_, p) => produceLoop(p));
  }, { topic, partitions: PARTITIONS, batch: BATCH }));

  // Steady state: the client knows every broker, and records flow on every partition.
  await until('the client learns the three brokers and every partition delivers', (n) => {
    const t = window.failover;
    const parts = new Set(t.delivered.map((d) => d[0]));
    return t.client.brokerUrls().length === 3 && parts.size === n && t.delivered.length >= 600;
  }, 30_000, PARTITIONS);
  const before = await summary();
  log(`before the kill: ${JSON.stringify(before)}`);
  if (before.failed > 0 || before.errors.length > 0) throw new Error('produce failures before the kill');

  pageBrokerDown = true;
  const killedAt = Date.now();
  await ask('kill', victim);
  log(`killed broker ${victim}, the page's own`);

  const victimWs = bases[victim - 1].replace(/^http/, 'ws') + '/ws';
  await until('the client reconnects to another broker', (url) => window.failover.client.state === 'open'
    && window.failover.client.url !== url, 30_000, victimWs);
  const reconnected = await page.evaluate(() => window.failover.states.filter((s) => s.state === 'open').at(-1));
  log(`the client is open on ${reconnected.url} ${reconnected.at - killedAt} ms after the kill`);

  // Producing goes on, on every partition (the dead broker's two as well, under their new leaders).
  await page.evaluate(() => { window.failover.ackedAtReconnect = window.failover.acked.length; });
  const afterKill = await until('every partition acknowledges 200 records after the reconnect', (n) => {
    const t = window.failover;
    const counts = new Map();
    for (const [p] of t.acked.slice(t.ackedAtReconnect)) counts.set(p, (counts.get(p) ?? 0) + 1);
    return counts.size === n && [...counts.values()].every((c) => c >= 200) && t.acked.length - t.ackedAtReconnect;
  }, 60_000, PARTITIONS);
  log(`${afterKill} records acknowledged after the reconnect, on every partition`);

  await within(30_000, 'the producers stop', page.evaluate(async () => {
    window.failover.producing = false;
    await Promise.all(window.failover.loops);
  }));
  const acked = await page.evaluate(() => window.failover.acked.length);
  log(`producing stopped: ${acked} records acknowledged`);

  // Every acknowledged record reaches the subscription.
  await until('every acknowledged record is delivered', () => {
    const t = window.failover;
    const last = new Map();
    for (const [p, o] of t.acked) last.set(p, Math.max(last.get(p) ?? -1, o));
    const next = t.subscription.positions();
    return [...last].every(([p, o]) => (next.get(p) ?? 0) > o);
  }, 30_000);

  const state = await page.evaluate(() => {
    const t = window.failover;
    return { acked: t.acked, delivered: t.delivered, failures: t.failures, attempts: t.attempts, errors: t.errors,
      states: t.states, urls: t.client.brokerUrls() };
  });
  writeFileSync(join(out, 'page-state.json'), JSON.stringify({ killedAt, ...state }));
  log(`${state.delivered.length} records delivered, ${state.attempts} produce attempts, `
    + `${state.failures.length} failed: ${JSON.stringify(state.failures.map((f) =>
      `p${f.partition} ${f.code} +${f.failedAt - killedAt}ms (${f.message})`))}`);
  log(`connection states: ${JSON.stringify(state.states.map((s) => `${s.state} ${s.url} +${s.at - killedAt}ms`))}`);
  if (state.errors.length > 0) throw new Error(`errors in the page: ${state.errors.join('; ')}`);

  // Per partition: dense, in offset order, from 0.
  const byPartition = new Map();
  for (const [p, o, v, at] of state.delivered) {
    const list = byPartition.get(p) ?? [];
    if (o !== list.length) {
      throw new Error(`partition ${p}: offset ${o} delivered after ${list.length - 1} (expected ${list.length})`);
    }
    list.push({ value: v, at });
    byPartition.set(p, list);
  }
  log(`deliveries are dense and in offset order on each partition: ${JSON.stringify([...byPartition]
    .map(([p, l]) => `p${p}: 0..${l.length - 1}`))}`);

  // The oracle: every acknowledged record, at its offset, with its value.
  for (const [p, o, v] of state.acked) {
    const got = byPartition.get(p)?.[o];
    if (!got) throw new Error(`acknowledged record p${p}@${o} (${v}) was not delivered`);
    if (got.value !== v) throw new Error(`p${p}@${o}: acknowledged ${v}, delivered ${got.value}`);
  }
  log(`all ${state.acked.length} acknowledged records were delivered at their offsets`);

  // Duplicates: values delivered at more than one offset.
  const failedAttempts = new Map();
  for (const f of state.failures) {
    if (f.failedAt < killedAt) throw new Error(`a produce failed before the kill: ${JSON.stringify(f)}`);
    for (const v of f.values) failedAttempts.set(v, (failedAttempts.get(v) ?? 0) + 1);
  }
  const copies = new Map();
  for (const [p, list] of byPartition) {
    list.forEach(({ value }) => {
      if (!value?.startsWith(`p${p}-`)) throw new Error(`p${p}: delivered a value nobody produced there: ${value}`);
      copies.set(value, (copies.get(value) ?? 0) + 1);
    });
  }
  let duplicates = 0;
  for (const [value, n] of copies) {
    if (n === 1) continue;
    duplicates += n - 1;
    if (n - 1 > (failedAttempts.get(value) ?? 0)) {
      throw new Error(`${value} delivered ${n} times, but only ${failedAttempts.get(value) ?? 0} attempt(s) failed`);
    }
  }
  const ackedValues = new Set(state.acked.map((a) => a[2]));
  const lost = [...copies.keys()].filter((v) => !ackedValues.has(v));
  if (lost.length > 0) throw new Error(`delivered but never acknowledged: ${lost.slice(0, 10)}`);
  log(`${duplicates} duplicated record(s) (bound ${MAX_DUPLICATES}), all of produce attempts that failed after the`
    + ` kill; ${state.failures.length} failed attempt(s) (bound ${MAX_FAILED_ATTEMPTS})`);
  if (state.failures.length > MAX_FAILED_ATTEMPTS) {
    throw new Error(`${state.failures.length} produce attempts failed, more than ${MAX_FAILED_ATTEMPTS}`);
  }
  if (duplicates > MAX_DUPLICATES) throw new Error(`${duplicates} duplicates, more than ${MAX_DUPLICATES}`);
} catch (error) {
  problems.push(`step failed: ${error.message}`);
} finally {
  await page.evaluate(() => window.failover?.client.close()).catch(() => {});
  await browser.close();
}

if (problems.length > 0) {
  fail(`${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
}
log('passed');
process.exit(0);
