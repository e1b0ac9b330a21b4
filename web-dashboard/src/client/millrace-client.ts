/**
 * Millrace browser client: a small, promise-based client for the broker's WebSocket JSON protocol at `/ws`
 * (docs/PROTOCOL.md, "WebSocket"). The broker serves this module at `/millrace-client.js`, so a page can do
 *
 * ```js
 * import { MillraceClient } from '/millrace-client.js';
 * const client = new MillraceClient();                 // ws(s)://<this page's host>/ws, then the brokers it lists
 * // or: new MillraceClient({ urls: ['ws://broker-1:8080/ws', 'ws://broker-2:8080/ws'] })
 * await client.createTopic({ name: 'orders', partitions: 3 });
 * await client.produce('orders', { key: 'order-1', value: JSON.stringify({ total: 42 }) });
 * const sub = client.subscribe({ topic: 'orders', from: 'earliest' }, {
 *   onRecords: (records) => records.forEach((r) => console.log(r.partition, r.offset, r.value)),
 * });
 * ```
 *
 * Reconnects by itself with exponential back-off, to another broker when it knows more than one: give several
 * `urls`, or let it learn the cluster's live brokers from the first one it reaches (`GET /api/brokers`). Any broker
 * serves any partition, so the client never needs to find a leader. Requests made while disconnected wait for the
 * connection (within their timeout); requests that were in flight when the connection dropped fail with
 * `DISCONNECTED` (retriable), because the client cannot know whether the broker acted on them. Subscriptions survive
 * reconnects: the client subscribes again and seeks each partition to the record after the last one it delivered to
 * the application, so nothing is skipped or repeated. Group members join again; the group resumes from its
 * committed offsets, so records delivered but not yet committed may come again (the client drops those it already
 * delivered while it keeps the partition).
 *
 * Flow control: a subscription grants the broker a window of credits (records). The client grants more as the
 * application takes records, and stops granting while the subscription is paused, so a paused or slow page is
 * never flooded.
 */

/** How a subscription starts, or where `seek` moves it. */
export type From = 'earliest' | 'latest' | { offset: number } | { timestamp: number };

/** The connection's state; `reconnecting` means it was open, dropped, and the client is trying again. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A record to produce. Use `valueBase64`/`keyBase64` for binary data. */
export interface NewRecord {
  key?: string | null;
  value?: string | null;
  keyBase64?: string;
  valueBase64?: string;
  headers?: Record<string, string> | { key: string; value?: string; valueBase64?: string }[];
  /** Leave out to let the broker choose (by key, else spread). */
  partition?: number;
  /** Milliseconds since the epoch; the broker's clock if left out. */
  timestamp?: number;
}

/** Where a produced record was written. `offset` is -1 with acks 0. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

/** A consumed record (text encoding: `key`/`value`; base64 encoding: `keyBase64`/`valueBase64`). */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key?: string | null;
  value?: string | null;
  keyBase64?: string | null;
  valueBase64?: string | null;
  headers: { key: string; value?: string | null; valueBase64?: string | null }[];
}

export interface PartitionDescription {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  underReplicated: boolean;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  sizeBytes: number;
}

export interface TopicDescription {
  name: string;
  replicationFactor: number;
  config: Record<string, string>;
  partitions: PartitionDescription[];
}

export interface NewTopic {
  name: string;
  partitions?: number;
  replicationFactor?: number;
  config?: Record<string, string>;
}

export interface ClientOptions {
  /** The broker's WebSocket URL. Default: `/ws` on the host that served the page. */
  url?: string;
  /**
   * Several brokers' WebSocket URLs (`ws://host:port/ws`), tried in turn: the first one first, the next one after
   * each dropped connection or failed attempt. With `url` as well, `url` comes first.
   */
  urls?: string[];
  /**
   * Learn the other live brokers from each broker reached (`GET /api/brokers` on its HTTP port, which is the
   * WebSocket's port), so a dropped connection goes to another broker even when only one URL was given. Default true
   * in a browser page or when `fetch` is given.
   */
  discover?: boolean;
  /** A fetch function for `discover`, for environments without a global one (tests). */
  fetch?: FetchLike;
  /** How long a request may wait for its answer (including waiting for a connection). Default 30 s. */
  requestTimeoutMs?: number;
  /** Back-off between reconnect attempts, doubling from `initialDelayMs` to `maxDelayMs`; `false` never reconnects. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number } | false;
  /** A WebSocket constructor, for environments without a global one (tests, Node). */
  WebSocket?: WebSocketConstructor;
}

export interface SubscribeOptions {
  topic: string;
  /** Partitions to read; default all. */
  partitions?: number[];
  /** Where to start; default `latest` (only new records). */
  from?: From;
  /** Credits (records) the broker may send ahead of the application; default 500, at most ws.max.credits. */
  window?: number;
  /** `utf8` (default) gives `key`/`value` as text, `base64` as `keyBase64`/`valueBase64`. */
  encoding?: 'utf8' | 'base64';
  /**
   * How long the broker may hold a new record back to send the ones after it in the same push, 0 to 1000 ms; default
   * the broker's ws.push.linger.ms. A view that repaints at 60 frames a second loses nothing to 16.
   */
  lingerMs?: number;
}

export interface SubscriptionHandlers {
  /** Records of one partition, in offset order. Not called while the subscription is paused. */
  onRecords: (records: ConsumedRecord[], info: { partition: number; highWatermark: number }) => void;
  /** The subscription failed (for example the topic was deleted); it is closed. */
  onError?: (error: MillraceError) => void;
}

/** An error the broker answered with, or `DISCONNECTED` / `TIMEOUT` / `CLOSED` from the client itself. */
export class MillraceError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, retriable = false) {
    super(message);
    this.name = 'MillraceError';
    this.code = code;
    this.retriable = retriable;
  }
}

/** The parts of the standard WebSocket this client uses. */
export interface WebSocketLike {
  readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The part of the standard fetch this client uses. */
export type FetchLike = (url: string) => Promise<{ ok: boolean; json(): Promise<unknown> }>;

/** How a member joins a consumer group; see docs/PROTOCOL.md, "Consumer groups". */
export interface JoinGroupOptions {
  group: string;
  topics: string[];
  strategy?: 'range' | 'roundrobin' | 'cooperative-sticky';
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  /** Commit the delivered positions with each heartbeat, before giving a partition up, and on leaving. Default true. */
  autoCommit?: boolean;
  /** Where partitions without a committed offset start. Default `earliest`. */
  reset?: 'earliest' | 'latest' | 'none';
  /** Credits (records) the broker may send ahead of the application; default 500. */
  window?: number;
  encoding?: 'utf8' | 'base64';
  /** As for `subscribe`. */
  lingerMs?: number;
  clientId?: string;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** What a group member now reads: `assignment` is everything, `partitions` only the newly assigned ones. */
export interface GroupAssignment {
  memberId: string;
  generation: number;
  partitions: TopicPartitionOffset[];
  assignment: { topic: string; partitions: number[] }[];
}

export interface GroupHandlers {
  /** Records of one partition, in offset order. */
  onRecords: (records: ConsumedRecord[], info: { topic: string; partition: number; highWatermark: number }) => void;
  /** After every rebalance (and every rejoin after a reconnect). */
  onAssigned?: (assignment: GroupAssignment) => void;
  /** Before partitions are given up in a rebalance. */
  onRevoked?: (partitions: { topic: string; partition: number }[]) => void;
  /** The membership failed for good (not a dropped connection: the client rejoins by itself then). */
  onError?: (error: MillraceError) => void;
}

/** What receives the pushes of one server-side subscription id. */
interface PushTarget {
  push(message: Record<string, any>): void;
}

interface Pending {
  resolve: (value: any) => void;
  reject: (error: MillraceError) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Sent on the current connection (else it waits in the queue). */
  sent: boolean;
  message: Record<string, unknown>;
}

export class MillraceClient {
  /** Known brokers' WebSocket URLs, the given ones first, then those learned. */
  private readonly urls: string[];
  private urlIndex = 0;
  private readonly discover: boolean;
  private readonly fetchImpl: FetchLike | undefined;
  private readonly requestTimeoutMs: number;
  private readonly reconnect: { initialDelayMs: number; maxDelayMs: number } | false;
  private readonly WebSocketImpl: WebSocketConstructor;
  private socket: WebSocketLike | null = null;
  private currentState: ConnectionState = 'connecting';
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Set<PushStream<any>>();
  /** Server subscription id → what receives its pushes, for the current connection. */
  private readonly bySid = new Map<string, PushTarget>();
  private nextId = 1;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private wasOpen = false;

  constructor(options: ClientOptions = {}) {
    const given = [...(options.url ? [options.url] : []), ...(options.urls ?? [])];
    this.urls = given.length > 0 ? [...new Set(given)] : [defaultUrl()];
    this.fetchImpl = options.fetch ?? (typeof globalThis.fetch === 'function'
      ? (url: string) => globalThis.fetch(url) : undefined);
    const inPage = (globalThis as { location?: unknown }).location !== undefined;
    this.discover = (options.discover ?? (inPage || options.fetch !== undefined)) && this.fetchImpl !== undefined;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.reconnect = options.reconnect === false ? false : {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 500,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
    };
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) {
      throw new MillraceError('INVALID_REQUEST', 'No WebSocket implementation: pass options.WebSocket');
    }
    this.WebSocketImpl = impl;
    this.open();
  }

  /** The connection's state now. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** The WebSocket URL of the broker this client is connected (or connecting) to now. */
  get url(): string {
    return this.urls[this.urlIndex];
  }

  /** Every broker URL this client knows: those given, then those learned from the cluster. */
  brokerUrls(): string[] {
    return [...this.urls];
  }

  /** Calls `listener` on every state change; returns a function that stops it. */
  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the connection is open (at once if it is). Rejects if the client is closed. */
  ready(): Promise<void> {
    if (this.currentState === 'open') return Promise.resolve();
    if (this.currentState === 'closed') return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      const stop = this.onStateChange((state) => {
        if (state === 'open') {
          stop();
          resolve();
        } else if (state === 'closed') {
          stop();
          reject(closedError());
        }
      });
    });
  }

  /** Closes the connection for good: pending requests fail with `CLOSED`, subscriptions end. */
  close(): void {
    if (this.currentState === 'closed') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.setState('closed');
    this.failPending(closedError(), true);
    this.subscriptions.forEach((s) => s.ended());
    this.subscriptions.clear();
    this.bySid.clear();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'client closed');
  }

  /** Round trip to the broker. */
  async ping(): Promise<void> {
    await this.request({ op: 'ping' });
  }

  /**
   * Appends records to a topic. Resolves with where each record was written, in the order given.
   * `acks`: 0 (do not wait for the write), 1 (the leader wrote it, default) or 'all' (every in-sync replica has it).
   */
  async produce(topic: string, records: NewRecord | NewRecord[], options: { acks?: 0 | 1 | 'all' } = {}):
      Promise<RecordMetadata[]> {
    const list = Array.isArray(records) ? records : [records];
    const answer = await this.request({ op: 'produce', topic, records: list, acks: String(options.acks ?? 1) });
    return answer.offsets as RecordMetadata[];
  }

  createTopic(topic: NewTopic): Promise<TopicDescription> {
    return this.request({ op: 'createTopic', ...topic }).then(stripEnvelope<TopicDescription>);
  }

  async listTopics(): Promise<string[]> {
    return (await this.request({ op: 'listTopics' })).topics as string[];
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.request({ op: 'describeTopic', name }).then(stripEnvelope<TopicDescription>);
  }

  /** Grows a topic to `totalPartitions` partitions (never fewer). */
  addPartitions(name: string, totalPartitions: number): Promise<TopicDescription> {
    return this.request({ op: 'addPartitions', name, partitions: totalPartitions })
      .then(stripEnvelope<TopicDescription>);
  }

  async deleteTopic(name: string): Promise<void> {
    await this.request({ op: 'deleteTopic', name });
  }

  /** Starts reading a topic; records go to `handlers.onRecords`. */
  subscribe(options: SubscribeOptions, handlers: SubscriptionHandlers): Subscription {
    if (this.currentState === 'closed') throw closedError();
    const subscription = new Subscription(this, options, handlers);
    this.subscriptions.add(subscription);
    subscription.establish();
    return subscription;
  }

  /**
   * Joins a consumer group; the group's partitions' records go to `handlers.onRecords`. `member.ready` resolves with
   * the first assignment. After a dropped connection the client joins again through the next broker, and the group
   * resumes from its committed offsets.
   */
  joinGroup(options: JoinGroupOptions, handlers: GroupHandlers): GroupMember {
    if (this.currentState === 'closed') throw closedError();
    const member = new GroupMember(this, options, handlers);
    this.subscriptions.add(member);
    member.establish();
    return member;
  }

  // ---- internals shared with Subscription -------------------------------------------------------------------

  /** Sends a request and resolves with the broker's `result` message (or rejects with its error). */
  request(message: Record<string, unknown>, timeoutMs = this.requestTimeoutMs): Promise<Record<string, any>> {
    if (this.currentState === 'closed') return Promise.reject(closedError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new MillraceError('TIMEOUT', `No answer to '${String(message.op)}' within ${timeoutMs} ms`, true));
      }, timeoutMs);
      const entry: Pending = { resolve, reject, timer, sent: false, message: { ...message, id } };
      this.pending.set(id, entry);
      if (this.currentState === 'open') this.transmit(entry);
    });
  }

  /** Sends a message that gets no answer (credit). Dropped while disconnected: a reconnect re-grants. */
  notify(message: Record<string, unknown>): void {
    if (this.currentState === 'open' && this.socket) this.socket.send(JSON.stringify(message));
  }

  bind(sid: string, target: PushTarget): void {
    this.bySid.set(sid, target);
  }

  unbind(sid: string | null, subscription: PushStream<any>, forget: boolean): void {
    if (sid) this.bySid.delete(sid);
    if (forget) this.subscriptions.delete(subscription);
  }

  isOpen(): boolean {
    return this.currentState === 'open';
  }

  // ---- connection ---------------------------------------------------------------------------------------------

  private open(): void {
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(this.url);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.wasOpen = true;
      this.setState('open');
      this.pending.forEach((p) => { if (!p.sent) this.transmit(p); });
      this.subscriptions.forEach((s) => s.establish());
      if (this.discover) this.learnBrokers(socket);
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.onMessage(event.data);
    };
    socket.onerror = () => { /* onclose follows and says what to do */ };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.dropped();
    };
  }

  private dropped(): void {
    if (this.currentState === 'closed') return;
    // In-flight requests may or may not have been carried out: the caller decides whether to retry.
    this.failPending(new MillraceError('DISCONNECTED', 'The connection to the broker was lost', true), false);
    this.bySid.clear();
    this.subscriptions.forEach((s) => s.disconnected());
    this.scheduleReconnect();
  }

  /**
   * Adds the live brokers that the broker behind `socket` lists to the known URLs (same scheme and path as the
   * current URL). A broker that cannot be asked is no loss: the URLs already known stay.
   */
  private learnBrokers(socket: WebSocketLike): void {
    let base: URL;
    try {
      base = new URL(this.url);
    } catch {
      return;
    }
    const http = `${base.protocol === 'wss:' ? 'https:' : 'http:'}//${base.host}/api/brokers`;
    this.fetchImpl!(http).then(async (response) => {
      if (!response.ok || this.socket !== socket) return;
      const brokers = await response.json() as { host?: string; httpPort?: number; alive?: boolean }[];
      if (!Array.isArray(brokers)) return;
      for (const b of brokers) {
        if (!b.alive || typeof b.host !== 'string' || typeof b.httpPort !== 'number') continue;
        const url = new URL(base.href);
        url.hostname = b.host;
        url.port = String(b.httpPort);
        if (!this.urls.includes(url.href) && !sameBroker(url, base)) this.urls.push(url.href);
      }
    }).catch(() => { /* keep the URLs known so far */ });
  }

  private scheduleReconnect(): void {
    if (this.reconnect === false) {
      this.close();
      return;
    }
    this.setState(this.wasOpen ? 'reconnecting' : 'connecting');
    // Each attempt goes to the next known broker; the back-off grows once every broker has been tried.
    const round = Math.floor(this.attempt++ / this.urls.length);
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    const delay = Math.min(this.reconnect.maxDelayMs, this.reconnect.initialDelayMs * 2 ** round);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.currentState !== 'closed') this.open();
    }, delay);
  }

  private transmit(entry: Pending): void {
    entry.sent = true;
    this.socket!.send(JSON.stringify(entry.message));
  }

  private failPending(error: MillraceError, all: boolean): void {
    for (const [id, p] of this.pending) {
      if (all || p.sent) {
        clearTimeout(p.timer);
        this.pending.delete(id);
        p.reject(error);
      }
    }
  }

  private setState(state: ConnectionState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.listeners.forEach((l) => l(state));
  }

  private onMessage(data: unknown): void {
    let message: Record<string, any>;
    try {
      message = JSON.parse(String(data));
    } catch {
      return;
    }
    const id = message.id;
    if (id !== undefined && id !== null && this.pending.has(id)) {
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (message.op === 'error') p.reject(toError(message.error));
      else p.resolve(message);
      return;
    }
    if (typeof message.subscription === 'string') {
      this.bySid.get(message.subscription)?.push(message);
    }
  }
}

/**
 * What a {@link Subscription} and a {@link GroupMember} share: a stream of pushes under a server-side subscription id
 * that lives as long as one connection, set up again on each new one (`establish`), a `ready` promise, a credit
 * window, and one way to end on the broker (`endMessage`).
 */
abstract class PushStream<R> implements PushTarget {
  protected readonly client: MillraceClient;
  protected readonly window: number;
  protected sid: string | null = null;
  /** Records taken by the application since the last grant. */
  protected taken = 0;
  protected closed = false;
  /** Bumped on every (re)establish and disconnect, so late answers of an older attempt are ignored. */
  protected generation = 0;
  /** The stream was set up once: a later establish is a resume. */
  private wasEstablished = false;
  /** Retriable failures of resumes in a row, for the back-off. */
  private retries = 0;
  private readonly onError: ((error: MillraceError) => void) | undefined;
  private readyResolve!: (value: R) => void;
  private readyReject!: (error: MillraceError) => void;
  readonly ready: Promise<R>;

  protected constructor(client: MillraceClient, window: number | undefined,
      onError: ((error: MillraceError) => void) | undefined) {
    this.client = client;
    this.window = Math.max(1, Math.floor(window ?? 500));
    this.onError = onError;
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => { /* reported through onError as well */ });
  }

  /** (Re)starts the stream on the current connection. */
  abstract establish(): void;

  abstract push(message: Record<string, any>): void;

  /** The request that ends the stream on the broker. */
  protected abstract endMessage(sid: string): Record<string, unknown>;

  disconnected(): void {
    this.sid = null;
    this.generation++;
  }

  /** The stream failed (or setting it up did): it ends, on the broker too, and `onError` hears why. */
  failed(error: MillraceError): void {
    if (this.closed) return;
    const sid = this.forget();
    if (sid && this.client.isOpen()) this.client.request(this.endMessage(sid)).catch(() => { /* already gone */ });
    this.readyReject(error);
    this.onError?.(error);
  }

  ended(): void {
    this.closed = true;
    this.readyReject(closedError());
  }

  protected resolveReady(value: R): void {
    this.wasEstablished = true;
    this.readyResolve(value);
  }

  /** Ends the stream on the broker, at the application's request. */
  protected async end(): Promise<void> {
    if (this.closed) return;
    const sid = this.forget();
    if (sid && this.client.isOpen()) {
      try {
        await this.client.request(this.endMessage(sid));
      } catch {
        // Gone with the connection: nothing left to end.
      }
    }
  }

  /** Binds the id the broker gave this stream on the current connection. */
  protected bound(sid: string): void {
    this.sid = sid;
    this.retries = 0;
    this.client.bind(sid, this);
  }

  /**
   * The failure of an `establish` attempt: a dropped connection is retried by the next establish. So is a retriable
   * error of a resume (the stream was established before; this is a reconnect): right after a broker dies the new
   * broker may answer `NOT_LEADER`, `REQUEST_TIMED_OUT` and the like while leaders move, and the stream is the
   * application's to keep, not to lose. A first establish reports every error, so `ready` tells the application.
   */
  protected establishFailed(generation: number, error: MillraceError): void {
    if (generation !== this.generation || this.closed) return;
    if (error.code === 'DISCONNECTED') return; // establish() runs again on reconnect
    if (this.wasEstablished && error.retriable && error.code !== 'UNKNOWN_TOPIC_OR_PARTITION') {
      this.retryEstablish(generation);
      return;
    }
    this.failed(error);
  }

  /** Ends a half-set-up attempt on the broker and establishes again after a pause growing from 250 ms to 5 s. */
  private retryEstablish(generation: number): void {
    const sid = this.sid;
    if (sid) {
      this.client.unbind(sid, this, false);
      this.sid = null;
      this.client.request(this.endMessage(sid)).catch(() => { /* gone already */ });
    }
    const delay = Math.min(5000, 250 * 2 ** this.retries++);
    setTimeout(() => {
      if (generation === this.generation && !this.closed) this.establish();
    }, delay);
  }

  private forget(): string | null {
    this.closed = true;
    const sid = this.sid;
    this.client.unbind(sid, this, true);
    this.sid = null;
    return sid;
  }
}

/** One subscription of a {@link MillraceClient}; see {@link MillraceClient.subscribe}. */
export class Subscription extends PushStream<Map<number, number>> {
  /** The topic read. */
  readonly topic: string;
  private readonly options: SubscribeOptions;
  private readonly handlers: SubscriptionHandlers;
  /** Next offset to deliver, per partition, once known. */
  private readonly next = new Map<number, number>();
  /** Records received while paused, delivered on resume. */
  private buffered: { partition: number; highWatermark: number; records: ConsumedRecord[] }[] = [];
  private isPaused = false;
  /** Resolves with each partition's start offset once the broker accepted the subscription. */
  declare readonly ready: Promise<Map<number, number>>;

  constructor(client: MillraceClient, options: SubscribeOptions, handlers: SubscriptionHandlers) {
    super(client, options.window, handlers.onError);
    this.options = options;
    this.handlers = handlers;
    this.topic = options.topic;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /** The next offset this subscription will deliver, per partition. */
  positions(): Map<number, number> {
    return new Map(this.next);
  }

  /** Stops delivering records; the broker stops sending once the credits granted so far are used. */
  pause(): void {
    this.isPaused = true;
  }

  /** Delivers what arrived while paused, then lets the broker send again. */
  resume(): void {
    if (!this.isPaused || this.closed) return;
    this.isPaused = false;
    const held = this.buffered;
    this.buffered = [];
    held.forEach((b) => this.deliver(b.partition, b.highWatermark, b.records));
    this.maybeGrant();
  }

  /** Moves one partition to another position; resolves with the offset it moved to. */
  async seek(partition: number, to: From): Promise<number> {
    if (!this.sid) await this.ready;
    const answer = await this.client.request({ op: 'seek', subscription: this.sid, partition, to });
    this.buffered = this.buffered.filter((b) => b.partition !== partition);
    this.next.set(partition, answer.offset);
    return answer.offset as number;
  }

  /** Ends the subscription. */
  close(): Promise<void> {
    return this.end();
  }

  protected endMessage(sid: string): Record<string, unknown> {
    return { op: 'unsubscribe', subscription: sid };
  }

  // ---- called by the client -----------------------------------------------------------------------------------

  push(message: Record<string, any>): void {
    if (message.op === 'records') this.received(message.partition, message.highWatermark, message.records);
    else if (message.op === 'error') this.failed(toError(message.error));
  }

  /** (Re)subscribes on the current connection, resuming from the saved positions after a reconnect. */
  establish(): void {
    if (this.closed || !this.client.isOpen()) return;
    const generation = ++this.generation;
    const resuming = this.next.size > 0;
    const message: Record<string, unknown> = {
      op: 'subscribe', topic: this.options.topic, encoding: this.options.encoding ?? 'utf8',
      from: resuming ? 'earliest' : (this.options.from ?? 'latest'),
      // When resuming, no credit until every partition is back at its position.
      credits: resuming ? 0 : this.window,
    };
    const partitions = resuming ? [...this.next.keys()] : this.options.partitions;
    if (partitions) message.partitions = partitions;
    if (this.options.lingerMs !== undefined) message.lingerMs = this.options.lingerMs;
    this.client.request(message).then(async (answer) => {
      if (generation !== this.generation || this.closed) return;
      this.bound(answer.subscription as string);
      if (resuming) {
        await Promise.all([...this.next].map(([partition, offset]) =>
          this.client.request({ op: 'seek', subscription: this.sid, partition, to: { offset } })));
        if (generation !== this.generation) return;
        this.taken = 0;
        this.client.notify({ op: 'credit', subscription: this.sid, credits: this.window });
      } else {
        for (const p of answer.partitions as { partition: number; offset: number }[]) this.next.set(p.partition, p.offset);
        this.resolveReady(this.positions());
      }
    }).catch((error: MillraceError) => this.establishFailed(generation, error));
  }

  received(partition: number, highWatermark: number, records: ConsumedRecord[]): void {
    if (this.closed) return;
    if (this.isPaused) {
      this.buffered.push({ partition, highWatermark, records });
      return;
    }
    this.deliver(partition, highWatermark, records);
    this.maybeGrant();
  }

  private deliver(partition: number, highWatermark: number, records: ConsumedRecord[]): void {
    const from = this.next.get(partition) ?? 0;
    // After a reconnect or seek, the broker may resend records below the position: skip them.
    const fresh = records.filter((r) => r.offset >= from);
    this.taken += records.length;
    if (fresh.length === 0) return;
    this.next.set(partition, fresh[fresh.length - 1].offset + 1);
    this.handlers.onRecords(fresh, { partition, highWatermark });
  }

  /** Grants credit in chunks of half the window, as the application takes records. */
  private maybeGrant(): void {
    if (this.isPaused || this.closed || !this.sid || this.taken < Math.ceil(this.window / 2)) return;
    const credits = this.taken;
    this.taken = 0;
    this.client.notify({ op: 'credit', subscription: this.sid, credits });
  }
}

/**
 * One membership of a consumer group; see {@link MillraceClient.joinGroup}. The broker the client is connected to
 * joins, heart-beats and rejoins for it; after a dropped connection the client joins again through the next broker.
 */
export class GroupMember extends PushStream<GroupAssignment> {
  readonly group: string;
  private readonly options: JoinGroupOptions;
  private readonly handlers: GroupHandlers;
  private current: GroupAssignment | null = null;
  /**
   * Next offset to deliver per partition ("topic/partition"), kept across reconnects while the partition stays
   * assigned: after a rejoin the group starts from the committed offset, and records this member already delivered
   * are not delivered again.
   */
  private readonly next = new Map<string, number>();
  /** Resolves with the first assignment. */
  declare readonly ready: Promise<GroupAssignment>;

  constructor(client: MillraceClient, options: JoinGroupOptions, handlers: GroupHandlers) {
    super(client, options.window, handlers.onError);
    this.options = options;
    this.handlers = handlers;
    this.group = options.group;
  }

  /** What this member reads now; null before the first assignment. */
  assignment(): GroupAssignment | null {
    return this.current;
  }

  /** The next offset this member will deliver, per partition, keyed `topic/partition`. */
  positions(): Map<string, number> {
    return new Map(this.next);
  }

  /** Commits the delivered positions, or the offsets given. */
  async commit(offsets?: TopicPartitionOffset[]): Promise<void> {
    await this.client.request({ op: 'commit', group: this.group, ...(offsets ? { offsets } : {}) });
  }

  /**
   * Leaves the group (committing first with auto-commit) and ends the membership. Without a connection, the group
   * drops the member after its session timeout.
   */
  leave(): Promise<void> {
    return this.end();
  }

  protected endMessage(): Record<string, unknown> {
    return { op: 'leaveGroup', group: this.group };
  }

  // ---- called by the client -----------------------------------------------------------------------------------

  /** (Re)joins on the current connection. */
  establish(): void {
    if (this.closed || !this.client.isOpen()) return;
    const generation = ++this.generation;
    const o = this.options;
    const message: Record<string, unknown> = {
      op: 'joinGroup', group: o.group, topics: o.topics, encoding: o.encoding ?? 'utf8',
      // No credit until the answer names the subscription, so no record arrives for an id not known yet.
      credits: 0,
    };
    for (const key of ['strategy', 'sessionTimeoutMs', 'rebalanceTimeoutMs', 'autoCommit', 'reset', 'lingerMs', 'clientId'] as const) {
      if (o[key] !== undefined) message[key] = o[key];
    }
    // The answer comes after the first rebalance, which may wait for the other members up to the rebalance timeout.
    const timeout = Math.max(60_000, (o.rebalanceTimeoutMs ?? 30_000) + 30_000);
    this.client.request(message, timeout).then((answer) => {
      if (generation !== this.generation || this.closed) return;
      this.bound(answer.subscription as string);
      this.assigned(answer);
      this.taken = 0;
      this.client.notify({ op: 'credit', subscription: this.sid, credits: this.window });
    }).catch((error: MillraceError) => this.establishFailed(generation, error));
  }

  push(message: Record<string, any>): void {
    if (this.closed) return;
    switch (message.op) {
      case 'records': {
        const key = `${message.topic}/${message.partition}`;
        const records = message.records as ConsumedRecord[];
        const from = this.next.get(key) ?? 0;
        const fresh = records.filter((r) => r.offset >= from);
        this.taken += records.length;
        if (fresh.length > 0) {
          this.next.set(key, fresh[fresh.length - 1].offset + 1);
          this.handlers.onRecords(fresh, { topic: message.topic, partition: message.partition,
            highWatermark: message.highWatermark });
        }
        if (this.sid && this.taken >= Math.ceil(this.window / 2)) {
          this.client.notify({ op: 'credit', subscription: this.sid, credits: this.taken });
          this.taken = 0;
        }
        break;
      }
      case 'assigned':
        this.assigned(message);
        break;
      case 'revoked': {
        const lost = message.partitions as { topic: string; partition: number }[];
        // Another member may read these next; if they come back, the group's committed offset is where to start.
        lost.forEach((p) => this.next.delete(`${p.topic}/${p.partition}`));
        this.handlers.onRevoked?.(lost);
        break;
      }
      case 'error':
        this.failed(toError(message.error));
        break;
    }
  }

  private assigned(message: Record<string, any>): void {
    const assignment: GroupAssignment = { memberId: message.memberId, generation: message.generation,
      partitions: message.partitions ?? [], assignment: message.assignment ?? [] };
    // Positions of partitions no longer assigned are forgotten (the member lost them while disconnected).
    const now = new Set(assignment.assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}/${p}`)));
    [...this.next.keys()].filter((k) => !now.has(k)).forEach((k) => this.next.delete(k));
    const first = this.current === null;
    this.current = assignment;
    if (first) this.resolveReady(assignment);
    this.handlers.onAssigned?.(assignment);
  }
}

function sameBroker(a: URL, b: URL): boolean {
  const local = (h: string) => (h === 'localhost' || h === '[::1]' || h.startsWith('127.') ? 'loopback' : h);
  return local(a.hostname) === local(b.hostname) && a.port === b.port;
}

function stripEnvelope<T>(answer: Record<string, any>): T {
  const { op: _op, id: _id, ...rest } = answer;
  return rest as T;
}

function toError(error: { code?: string; message?: string; retriable?: boolean } | undefined): MillraceError {
  return new MillraceError(error?.code ?? 'UNKNOWN', error?.message ?? 'The broker reported an error',
    error?.retriable ?? false);
}

function closedError(): MillraceError {
  return new MillraceError('CLOSED', 'The client was closed');
}

function defaultUrl(): string {
  const location = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!location) throw new MillraceError('INVALID_REQUEST', 'No page location: pass options.url');
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}
