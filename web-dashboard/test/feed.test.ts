import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { StatsFeed } from '../src/data/feed';
import { FakeEventSource } from './fakes';

const frame = (seconds: number) => ({
  time: seconds * 1000, intervalMs: 1000, topics: [], brokers: [], groups: [],
  rates: { time: seconds * 1000, total: { recordsIn: seconds, bytesIn: 0, recordsOut: 0, bytesOut: 0 }, topics: {} },
});

let now = 0;
let feed: StatsFeed;

beforeEach(() => {
  vi.useFakeTimers();
  FakeEventSource.all = [];
  now = 0;
  feed = new StatsFeed({ EventSource: FakeEventSource, now: () => now, retryMs: 1000, staleAfterMs: 5000 });
});

afterEach(() => {
  feed.close();
  vi.useRealTimers();
});

it('goes live on the history event and keeps the newest frame', () => {
  expect(feed.state).toBe('connecting');
  const source = FakeEventSource.latest();
  expect(source.url).toBe('/api/stats/stream');
  source.emit('history', { intervalMs: 1000, samples: [frame(1).rates, frame(2).rates] });
  expect(feed.state).toBe('live');
  source.emit('stats', frame(3));
  expect(feed.latest?.time).toBe(3000);
  expect(feed.window.all().map((s) => s.time)).toEqual([1000, 2000, 3000]);
});

it('shows reconnecting while the browser retries, and reopens a stream the browser gave up on', async () => {
  const changes: string[] = [];
  feed.subscribe(() => changes.push(feed.state));
  const first = FakeEventSource.latest();
  first.emit('stats', frame(1));
  first.fail(0); // CONNECTING: the browser retries by itself
  expect(feed.state).toBe('reconnecting');
  expect(FakeEventSource.all).toHaveLength(1);

  first.fail(2); // CLOSED (for example a 503): we must reopen
  expect(first.closed).toBe(true);
  await vi.advanceTimersByTimeAsync(1000);
  expect(FakeEventSource.all).toHaveLength(2);
  FakeEventSource.latest().emit('history', { intervalMs: 1000, samples: [] });
  expect(feed.state).toBe('live');
  expect(changes).toContain('reconnecting');
});

it('treats a silent stream as lost', async () => {
  FakeEventSource.latest().emit('stats', frame(1));
  now = 6000;
  await vi.advanceTimersByTimeAsync(1000);
  expect(feed.state).toBe('reconnecting');
  await vi.advanceTimersByTimeAsync(1000);
  expect(FakeEventSource.all).toHaveLength(2);
});

const broker = (id: number, alive = true) =>
  ({ id, host: '127.0.0.1', httpPort: 8080 + id, tcpPort: 9090 + id, alive, controller: id === 1, leaders: 0, replicas: 0 });

it('moves to another live broker of the last frame when its own broker goes away, and round the cluster', async () => {
  const first = FakeEventSource.latest();
  first.emit('stats', { ...frame(1), brokerId: 1, brokers: [broker(1), broker(2), broker(3), broker(4, false)] });
  expect(feed.otherBrokers()).toEqual(['http://127.0.0.1:8082/api/stats/stream', 'http://127.0.0.1:8083/api/stats/stream']);
  first.fail(0); // the browser would retry broker 1 only
  expect(first.closed).toBe(true);
  expect(feed.state).toBe('reconnecting');
  await vi.advanceTimersByTimeAsync(0);
  const second = FakeEventSource.latest();
  expect(second.url).toBe('http://127.0.0.1:8082/api/stats/stream');
  second.fail(2); // broker 2 is down too: try broker 3 next, not broker 2 again
  await vi.advanceTimersByTimeAsync(0);
  const third = FakeEventSource.latest();
  expect(third.url).toBe('http://127.0.0.1:8083/api/stats/stream');
  third.emit('stats', { ...frame(2), brokerId: 3, brokers: [broker(1, false), broker(2), broker(3)] });
  expect(feed.state).toBe('live');
  expect(feed.url).toBe('http://127.0.0.1:8083/api/stats/stream');
  expect(feed.otherBrokers()).toEqual(['http://127.0.0.1:8082/api/stats/stream']);
});
