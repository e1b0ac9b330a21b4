import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MillraceClient, type ConsumedRecord, type FetchLike } from '../src/client/millrace-client';
import { FakeSocket, record } from './fakes';

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

/** GET /api/brokers of a three-broker cluster in which broker 3 is down. */
const brokersAnswer: FetchLike = async (url) => {
  expect(url).toBe('http://10.0.0.1:8081/api/brokers');
  return { ok: true, json: async () => [
    { id: 1, host: '10.0.0.1', httpPort: 8081, tcpPort: 9091, alive: true, controller: true },
    { id: 2, host: '10.0.0.2', httpPort: 8082, tcpPort: 9092, alive: true, controller: false },
    { id: 3, host: '10.0.0.3', httpPort: 8083, tcpPort: 9093, alive: false, controller: false },
  ] };
};

describe('several brokers', () => {
  it('tries the given URLs in turn, the first one first', async () => {
    const client = new MillraceClient({ urls: ['ws://a:1/ws', 'ws://b:2/ws', 'ws://c:3/ws'], WebSocket: FakeSocket,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 }, discover: false });
    expect(FakeSocket.latest().url).toBe('ws://a:1/ws');
    FakeSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.latest().url).toBe('ws://b:2/ws');
    FakeSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.latest().url).toBe('ws://c:3/ws');
    FakeSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.latest().url).toBe('ws://a:1/ws');
    FakeSocket.latest().drop();
    // Every broker was tried: the back-off doubles for the next round.
    await vi.advanceTimersByTimeAsync(150);
    expect(FakeSocket.all).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(50);
    expect(FakeSocket.latest().url).toBe('ws://b:2/ws');
    FakeSocket.latest().open();
    expect(client.url).toBe('ws://b:2/ws');
    client.close();
  });

  it('learns the live brokers from the first one and reconnects to another when its own dies', async () => {
    const client = new MillraceClient({ url: 'ws://10.0.0.1:8081/ws', WebSocket: FakeSocket, fetch: brokersAnswer,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    FakeSocket.latest().open();
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(0);
    expect(client.brokerUrls()).toEqual(['ws://10.0.0.1:8081/ws', 'ws://10.0.0.2:8082/ws']);
    FakeSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.latest().url).toBe('ws://10.0.0.2:8082/ws');
    client.close();
  });

  it('keeps the URLs it knows when the broker cannot be asked for the others', async () => {
    const client = new MillraceClient({ url: 'ws://a:1/ws', WebSocket: FakeSocket,
      fetch: async () => { throw new Error('refused'); }, reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    FakeSocket.latest().open();
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(0);
    expect(client.brokerUrls()).toEqual(['ws://a:1/ws']);
    FakeSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.latest().url).toBe('ws://a:1/ws');
    client.close();
  });
});

describe('resuming on another broker', () => {
  it('resubscribes on the next broker from the offset after the last record delivered, per partition', async () => {
    const client = new MillraceClient({ urls: ['ws://a:1/ws', 'ws://b:2/ws'], WebSocket: FakeSocket, discover: false,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    const first = FakeSocket.latest();
    first.open();
    const got: ConsumedRecord[] = [];
    const sub = client.subscribe({ topic: 't', from: 'earliest', window: 4 }, { onRecords: (r) => got.push(...r) });
    first.answer('subscribe', { subscription: 's1', partitions: [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }] });
    await vi.advanceTimersByTimeAsync(0);
    first.receive({ op: 'records', subscription: 's1', topic: 't', partition: 0, highWatermark: 9,
      records: [record(0, 0), record(0, 1), record(0, 2)] });
    // Paused: partition 1's records arrive but are not delivered to the application, so they do not count.
    sub.pause();
    first.receive({ op: 'records', subscription: 's1', topic: 't', partition: 1, highWatermark: 9,
      records: [record(1, 0), record(1, 1)] });
    first.drop();

    await vi.advanceTimersByTimeAsync(100);
    const second = FakeSocket.latest();
    expect(second.url).toBe('ws://b:2/ws');
    second.open();
    const again = second.last('subscribe');
    expect(again).toMatchObject({ topic: 't', partitions: [0, 1], credits: 0 });
    second.answer('subscribe', { subscription: 's9', partitions: [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }] });
    await vi.advanceTimersByTimeAsync(0);
    const seeks = second.sent.filter((m) => m.op === 'seek');
    expect(seeks.map((s) => [s.subscription, s.partition, s.to])).toEqual([['s9', 0, { offset: 3 }], ['s9', 1, { offset: 0 }]]);
    seeks.forEach((s) => second.receive({ op: 'result', id: s.id, subscription: 's9', partition: s.partition,
      offset: s.to.offset }));
    await vi.advanceTimersByTimeAsync(0);
    expect(second.last('credit')).toEqual({ op: 'credit', subscription: 's9', credits: 4 });

    // Resumed: what was held is delivered; the new broker sends it again, and it is not delivered twice.
    sub.resume();
    second.receive({ op: 'records', subscription: 's9', topic: 't', partition: 1, highWatermark: 9,
      records: [record(1, 0), record(1, 1)] });
    second.receive({ op: 'records', subscription: 's9', topic: 't', partition: 0, highWatermark: 9,
      records: [record(0, 3)] });
    expect(got.map((r) => [r.partition, r.offset])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [0, 3]]);
    client.close();
  });

  it('a resume that the new broker refuses with a retriable error is tried again, not ended', async () => {
    const client = new MillraceClient({ urls: ['ws://a:1/ws', 'ws://b:2/ws'], WebSocket: FakeSocket, discover: false,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    const first = FakeSocket.latest();
    first.open();
    const got: number[] = [];
    const errors: string[] = [];
    client.subscribe({ topic: 't', from: 'earliest', window: 4 }, { onRecords: (r) => got.push(...r.map((x) => x.offset)),
      onError: (e) => errors.push(e.code) });
    first.answer('subscribe', { subscription: 's1', partitions: [{ partition: 0, offset: 0 }] });
    await vi.advanceTimersByTimeAsync(0);
    first.receive({ op: 'records', subscription: 's1', topic: 't', partition: 0, highWatermark: 9,
      records: [record(0, 0), record(0, 1)] });
    first.drop();

    await vi.advanceTimersByTimeAsync(100);
    const second = FakeSocket.latest();
    second.open();
    // The broker that died led the partition; the new one cannot reach a leader yet.
    const refused = second.last('subscribe');
    second.receive({ op: 'error', id: refused.id, error: { code: 'REQUEST_TIMED_OUT', message: 'no leader yet',
      retriable: true } });
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toEqual([]);
    // The subscription was accepted, but a seek is refused: the half-made one is ended, and all is tried again.
    await vi.advanceTimersByTimeAsync(250);
    second.answer('subscribe', { subscription: 's7', partitions: [{ partition: 0, offset: 0 }] });
    await vi.advanceTimersByTimeAsync(0);
    const seek = second.last('seek');
    second.receive({ op: 'error', id: seek.id, error: { code: 'NOT_LEADER', message: 'moving', retriable: true } });
    await vi.advanceTimersByTimeAsync(0);
    expect(second.last('unsubscribe')).toMatchObject({ subscription: 's7' });
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(250);
    expect(second.sent.filter((m) => m.op === 'subscribe')).toHaveLength(3);
    second.answer('subscribe', { subscription: 's8', partitions: [{ partition: 0, offset: 0 }] });
    await vi.advanceTimersByTimeAsync(0);
    const again = second.last('seek');
    expect(again).toMatchObject({ subscription: 's8', partition: 0, to: { offset: 2 } });
    second.receive({ op: 'result', id: again.id, subscription: 's8', partition: 0, offset: 2 });
    await vi.advanceTimersByTimeAsync(0);
    expect(second.last('credit')).toEqual({ op: 'credit', subscription: 's8', credits: 4 });
    second.receive({ op: 'records', subscription: 's8', topic: 't', partition: 0, highWatermark: 9,
      records: [record(0, 2)] });
    expect(got).toEqual([0, 1, 2]);
    expect(errors).toEqual([]);
    client.close();
  });

  it('a resume refused because the topic is gone ends the subscription', async () => {
    const client = new MillraceClient({ urls: ['ws://a:1/ws', 'ws://b:2/ws'], WebSocket: FakeSocket, discover: false,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    FakeSocket.latest().open();
    const errors: string[] = [];
    client.subscribe({ topic: 't', from: 'earliest' }, { onRecords: () => {}, onError: (e) => errors.push(e.code) });
    FakeSocket.latest().answer('subscribe', { subscription: 's1', partitions: [{ partition: 0, offset: 0 }] });
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(100);
    const second = FakeSocket.latest();
    second.open();
    second.receive({ op: 'error', id: second.last('subscribe').id, error: { code: 'UNKNOWN_TOPIC_OR_PARTITION',
      message: 'deleted', retriable: true } });
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toEqual(['UNKNOWN_TOPIC_OR_PARTITION']);
    expect(second.sent.filter((m) => m.op === 'subscribe')).toHaveLength(1);
    client.close();
  });

  it('a group member joins again through the next broker and does not deliver twice what it already did', async () => {
    const client = new MillraceClient({ urls: ['ws://a:1/ws', 'ws://b:2/ws'], WebSocket: FakeSocket, discover: false,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    const first = FakeSocket.latest();
    first.open();
    const got: [string, number, number][] = [];
    const assignments: number[] = [];
    const member = client.joinGroup({ group: 'billing', topics: ['t'], window: 10 }, {
      onRecords: (records) => records.forEach((r) => got.push([r.topic, r.partition, r.offset])),
      onAssigned: (a) => assignments.push(a.generation),
    });
    const join = first.last('joinGroup');
    expect(join).toMatchObject({ group: 'billing', topics: ['t'], credits: 0 });
    const assignment = [{ topic: 't', partitions: [0, 1] }];
    // The broker tells "assigned" before it answers the join; the answer carries the same.
    first.receive({ op: 'assigned', subscription: 's1', group: 'billing', memberId: 'm-1', generation: 1,
      partitions: [{ topic: 't', partition: 0, offset: 0 }, { topic: 't', partition: 1, offset: 0 }], assignment });
    first.receive({ op: 'result', id: join.id, subscription: 's1', group: 'billing', memberId: 'm-1', generation: 1,
      partitions: [{ topic: 't', partition: 0, offset: 0 }, { topic: 't', partition: 1, offset: 0 }], assignment });
    expect((await member.ready).generation).toBe(1);
    expect(first.last('credit')).toEqual({ op: 'credit', subscription: 's1', credits: 10 });
    first.receive({ op: 'records', subscription: 's1', topic: 't', partition: 0, highWatermark: 9,
      records: [record(0, 0), record(0, 1), record(0, 2)] });
    first.receive({ op: 'records', subscription: 's1', topic: 't', partition: 1, highWatermark: 9,
      records: [record(1, 0)] });
    first.drop();

    await vi.advanceTimersByTimeAsync(100);
    const second = FakeSocket.latest();
    expect(second.url).toBe('ws://b:2/ws');
    second.open();
    const rejoin = second.last('joinGroup');
    expect(rejoin).toMatchObject({ group: 'billing', topics: ['t'], credits: 0 });
    // The group resumes from the committed offsets: partition 0 at 1 (the last commit), partition 1 at 0.
    second.receive({ op: 'result', id: rejoin.id, subscription: 's4', group: 'billing', memberId: 'm-2', generation: 3,
      partitions: [{ topic: 't', partition: 0, offset: 1 }, { topic: 't', partition: 1, offset: 0 }], assignment });
    await vi.advanceTimersByTimeAsync(0);
    expect(second.last('credit')).toEqual({ op: 'credit', subscription: 's4', credits: 10 });
    second.receive({ op: 'records', subscription: 's4', topic: 't', partition: 0, highWatermark: 9,
      records: [record(0, 1), record(0, 2), record(0, 3)] });
    second.receive({ op: 'records', subscription: 's4', topic: 't', partition: 1, highWatermark: 9,
      records: [record(1, 0), record(1, 1)] });
    expect(got).toEqual([['t', 0, 0], ['t', 0, 1], ['t', 0, 2], ['t', 1, 0], ['t', 0, 3], ['t', 1, 1]]);
    expect(assignments).toEqual([1, 3]);
    expect(member.positions()).toEqual(new Map([['t/0', 4], ['t/1', 2]]));

    // A revoked partition is forgotten: if it comes back, it starts where the group committed.
    second.receive({ op: 'revoked', subscription: 's4', group: 'billing', partitions: [{ topic: 't', partition: 1 }] });
    expect(member.positions().has('t/1')).toBe(false);

    const leaving = member.leave();
    second.answer('leaveGroup');
    await leaving;
    expect(second.last('leaveGroup')).toMatchObject({ group: 'billing' });
    client.close();
  });
});
