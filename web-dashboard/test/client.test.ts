import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MillraceClient, MillraceError, type ConsumedRecord } from '../src/client/millrace-client';
import { FakeSocket, record } from './fakes';

function connect(options: ConstructorParameters<typeof MillraceClient>[0] = {}) {
  const client = new MillraceClient({ url: 'ws://broker/ws', WebSocket: FakeSocket, ...options });
  const socket = FakeSocket.latest();
  socket.open();
  return { client, socket };
}

/** Lets promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  FakeSocket.all = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('requests', () => {
  it('matches answers to requests by id, in any order', async () => {
    const { client, socket } = connect();
    const topics = client.listTopics();
    const produced = client.produce('orders', { key: 'k', value: 'v' }, { acks: 'all' });
    const produce = socket.last('produce');
    expect(produce).toMatchObject({ topic: 'orders', acks: 'all', records: [{ key: 'k', value: 'v' }] });

    socket.receive({ op: 'result', id: produce.id, offsets: [{ topic: 'orders', partition: 1, offset: 7, timestamp: 5 }] });
    socket.answer('listTopics', { topics: ['a', 'b'] });
    await expect(produced).resolves.toEqual([{ topic: 'orders', partition: 1, offset: 7, timestamp: 5 }]);
    await expect(topics).resolves.toEqual(['a', 'b']);
  });

  it('returns descriptions without the envelope fields', async () => {
    const { client, socket } = connect();
    const created = client.createTopic({ name: 'orders', partitions: 3 });
    expect(socket.last('createTopic')).toMatchObject({ name: 'orders', partitions: 3 });
    socket.answer('createTopic', { name: 'orders', replicationFactor: 1, config: {}, partitions: [] });
    expect(await created).toEqual({ name: 'orders', replicationFactor: 1, config: {}, partitions: [] });
  });

  it("rejects with the broker's error code, message and retriable flag", async () => {
    const { client, socket } = connect();
    const created = client.createTopic({ name: 'dup' });
    socket.receive({ op: 'error', id: socket.last('createTopic').id,
      error: { code: 'TOPIC_ALREADY_EXISTS', message: 'Topic dup already exists', retriable: false } });
    const error = await created.catch((e) => e);
    expect(error).toBeInstanceOf(MillraceError);
    expect(error).toMatchObject({ code: 'TOPIC_ALREADY_EXISTS', message: 'Topic dup already exists', retriable: false });
  });

  it('holds requests made before the socket opens and sends them on open', async () => {
    const client = new MillraceClient({ url: 'ws://broker/ws', WebSocket: FakeSocket });
    const socket = FakeSocket.latest();
    const ping = client.ping();
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.last('ping').id).toBeDefined();
    socket.receive({ op: 'pong', id: socket.last('ping').id });
    await expect(ping).resolves.toBeUndefined();
  });

  it('times out a request that gets no answer', async () => {
    vi.useFakeTimers();
    const { client } = connect({ requestTimeoutMs: 1000 });
    const ping = client.ping().catch((e) => e);
    await vi.advanceTimersByTimeAsync(1001);
    expect(await ping).toMatchObject({ code: 'TIMEOUT', retriable: true });
  });
});

describe('reconnecting', () => {
  it('fails in-flight requests as DISCONNECTED, reconnects with back-off and reports its state', async () => {
    vi.useFakeTimers();
    const { client, socket } = connect({ reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    const states: string[] = [];
    client.onStateChange((s) => states.push(s));
    const inFlight = client.produce('t', { value: 'x' }).catch((e) => e);

    socket.drop();
    expect(await inFlight).toMatchObject({ code: 'DISCONNECTED', retriable: true });
    expect(client.state).toBe('reconnecting');

    const queued = client.listTopics();
    await vi.advanceTimersByTimeAsync(100);
    const second = FakeSocket.latest();
    expect(second).not.toBe(socket);
    second.drop(); // the broker is still down: the next try waits twice as long
    await vi.advanceTimersByTimeAsync(150);
    expect(FakeSocket.all).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(60);
    const third = FakeSocket.latest();
    expect(FakeSocket.all).toHaveLength(3);

    third.open();
    expect(states).toEqual(['reconnecting', 'open']);
    third.answer('listTopics', { topics: ['t'] });
    await expect(queued).resolves.toEqual(['t']);
  });

  it('close() fails everything pending and stops reconnecting', async () => {
    vi.useFakeTimers();
    const { client, socket } = connect();
    const pending = client.ping().catch((e) => e);
    client.close();
    expect(await pending).toMatchObject({ code: 'CLOSED' });
    expect(client.state).toBe('closed');
    socket.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    await expect(client.ping()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('subscriptions', () => {
  function subscribed(window = 10) {
    const { client, socket } = connect();
    const got: ConsumedRecord[] = [];
    const sub = client.subscribe({ topic: 't', from: 'earliest', window }, { onRecords: (r) => got.push(...r) });
    const request = socket.last('subscribe');
    socket.receive({ op: 'result', id: request.id, subscription: 's1',
      partitions: [{ partition: 0, offset: 0 }, { partition: 1, offset: 5 }] });
    return { client, socket, sub, got, request };
  }

  const push = (socket: FakeSocket, partition: number, offsets: number[], key: string | null = null) =>
    socket.receive({ op: 'records', subscription: 's1', topic: 't', partition, highWatermark: 99,
      records: offsets.map((o) => record(partition, o, key)) });

  it('subscribes with the window as credits and resolves ready with the start offsets', async () => {
    const { sub, request } = subscribed(10);
    expect(request).toMatchObject({ topic: 't', from: 'earliest', credits: 10, encoding: 'utf8' });
    expect([...(await sub.ready)]).toEqual([[0, 0], [1, 5]]);
  });

  it('asks for its own linger only when given one', () => {
    const { request } = subscribed(10);
    expect(request).not.toHaveProperty('lingerMs');
    const { client, socket } = connect();
    client.subscribe({ topic: 't', lingerMs: 16 }, { onRecords: () => {} });
    expect(socket.last('subscribe')).toMatchObject({ topic: 't', lingerMs: 16 });
  });

  it('grants credit in half-window chunks as records are delivered', async () => {
    const { socket, got } = subscribed(10);
    await settle();
    push(socket, 0, [0, 1, 2]);
    expect(socket.sent.filter((m) => m.op === 'credit')).toEqual([]);
    push(socket, 1, [5, 6]);
    expect(got.map((r) => r.offset)).toEqual([0, 1, 2, 5, 6]);
    expect(socket.last('credit')).toEqual({ op: 'credit', subscription: 's1', credits: 5 });
  });

  it('pause holds records and grants nothing; resume delivers them in order and grants again', async () => {
    const { socket, sub, got } = subscribed(4);
    await settle();
    sub.pause();
    push(socket, 0, [0, 1]);
    push(socket, 0, [2, 3]);
    expect(got).toEqual([]);
    expect(socket.sent.filter((m) => m.op === 'credit')).toEqual([]);
    sub.resume();
    expect(got.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    expect(socket.last('credit').credits).toBe(4);
  });

  it('after a reconnect, resumes each partition right after the last record it delivered', async () => {
    vi.useFakeTimers();
    const { socket, sub, got } = subscribed(10);
    await vi.advanceTimersByTimeAsync(0);
    push(socket, 0, [0, 1, 2]);
    socket.drop();
    await vi.advanceTimersByTimeAsync(1000);
    const again = FakeSocket.latest();
    again.open();

    const resubscribe = again.last('subscribe');
    expect(resubscribe).toMatchObject({ topic: 't', partitions: [0, 1], credits: 0 });
    again.receive({ op: 'result', id: resubscribe.id, subscription: 's7',
      partitions: [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }] });
    await vi.advanceTimersByTimeAsync(0);
    const seeks = again.sent.filter((m) => m.op === 'seek');
    expect(seeks.map((s) => [s.partition, s.to])).toEqual([[0, { offset: 3 }], [1, { offset: 5 }]]);
    seeks.forEach((s) => again.receive({ op: 'result', id: s.id, subscription: 's7', partition: s.partition,
      offset: s.to.offset }));
    await vi.advanceTimersByTimeAsync(0);
    expect(again.last('credit')).toEqual({ op: 'credit', subscription: 's7', credits: 10 });

    // A batch may start below the position: those records were delivered already.
    again.receive({ op: 'records', subscription: 's7', topic: 't', partition: 0, highWatermark: 9,
      records: [record(0, 2), record(0, 3)] });
    expect(got.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    expect(sub.positions().get(0)).toBe(4);
  });

  it('reports a subscription error and stops delivering', async () => {
    const errors: MillraceError[] = [];
    const { client: one, socket: sock } = connect();
    const delivered: ConsumedRecord[] = [];
    one.subscribe({ topic: 't' }, { onRecords: (r) => delivered.push(...r), onError: (e) => errors.push(e) });
    sock.receive({ op: 'result', id: sock.last('subscribe').id, subscription: 's1', partitions: [{ partition: 0, offset: 0 }] });
    await settle();
    sock.receive({ op: 'error', subscription: 's1', partition: 0,
      error: { code: 'UNKNOWN_TOPIC_OR_PARTITION', message: 'deleted', retriable: true } });
    sock.receive({ op: 'records', subscription: 's1', partition: 0, highWatermark: 1, records: [record(0, 0)] });
    expect(errors.map((e) => e.code)).toEqual(['UNKNOWN_TOPIC_OR_PARTITION']);
    expect(delivered).toEqual([]);
    expect(sock.last('unsubscribe').subscription).toBe('s1');
  });

  it('close() unsubscribes on the broker', async () => {
    const { socket, sub } = subscribed();
    await settle();
    const closing = sub.close();
    socket.answer('unsubscribe', { subscription: 's1' });
    await closing;
    expect(socket.last('unsubscribe').subscription).toBe('s1');
    push(socket, 0, [0]);
  });
});
