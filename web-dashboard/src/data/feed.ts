/**
 * The dashboard's one live connection for stats: an EventSource on /api/stats/stream that reconnects by itself.
 * EventSource retries on its own after a dropped connection, but gives up for good on an HTTP error (503 when the
 * broker is at http.max.stats.streams, say), cannot notice a stream that went silent, and only ever retries the broker
 * it was opened on; this class covers all three. Each frame lists the cluster's brokers: when the stream breaks and
 * other brokers were live in the last frame, the feed moves to the next of them at once (their stats streams allow
 * any origin), so a page keeps going when the broker that served it dies.
 */
import { RateWindow, type HistoryEvent, type StatsFrame } from './stats';

export type FeedState = 'connecting' | 'live' | 'reconnecting';

/** The parts of the standard EventSource used here. */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  addEventListener(type: string, listener: (event: { data: string }) => void): void;
  close(): void;
}

export interface FeedOptions {
  /** The first stream to open; default `/api/stats/stream` on the page's own broker. */
  url?: string;
  EventSource?: new (url: string) => EventSourceLike;
  /** A live stream with no event for this long is treated as lost. Default 5 s (events come every second). */
  staleAfterMs?: number;
  /** Wait before reopening a stream the browser gave up on; doubles up to 15 s. Default 1 s. */
  retryMs?: number;
  now?: () => number;
}

const CLOSED = 2;

export class StatsFeed {
  readonly window = new RateWindow();
  latest: StatsFrame | undefined;
  private currentState: FeedState = 'connecting';
  private source: EventSourceLike | null = null;
  private lastEventAt = 0;
  private failures = 0;
  private reopenTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly watchdog: ReturnType<typeof setInterval>;
  private readonly listeners = new Set<() => void>();
  /** The stream open now (or being opened). */
  private currentUrl: string;
  /** Which broker `currentUrl` reaches, once a frame said so. */
  private currentBroker: number | undefined;
  private readonly EventSourceImpl: new (url: string) => EventSourceLike;
  private readonly staleAfterMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private everLive = false;

  constructor(options: FeedOptions = {}) {
    this.currentUrl = options.url ?? '/api/stats/stream';
    this.EventSourceImpl = options.EventSource ?? (globalThis as any).EventSource;
    this.staleAfterMs = options.staleAfterMs ?? 5000;
    this.retryMs = options.retryMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.open();
    this.watchdog = setInterval(() => this.check(), 1000);
  }

  get state(): FeedState {
    return this.currentState;
  }

  /** The URL of the stream open now. */
  get url(): string {
    return this.currentUrl;
  }

  /**
   * The other brokers live in the last frame, as stats-stream URLs, in broker order starting after the current one
   * (so successive moves go round the cluster).
   */
  otherBrokers(): string[] {
    return this.others().map((b) => b.url);
  }

  private others(): { id: number; url: string }[] {
    const brokers = (this.latest?.brokers ?? []).filter((b) => b.alive).sort((a, b) => a.id - b.id);
    const self = this.currentBroker ?? this.latest?.brokerId;
    const after = brokers.filter((b) => self === undefined || b.id > self);
    const before = brokers.filter((b) => self !== undefined && b.id < self);
    return [...after, ...before].map((b) => ({ id: b.id, url: `${brokerBase(b)}/api/stats/stream` }));
  }

  /** Called after every change (new frame, new state); returns a function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    clearInterval(this.watchdog);
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.source?.close();
    this.source = null;
  }

  /** Checks for a silent stream; runs every second (exposed for tests). */
  check(): void {
    if (this.currentState === 'live' && this.now() - this.lastEventAt > this.staleAfterMs) {
      this.lost();
    }
  }

  private open(): void {
    const source = new this.EventSourceImpl(this.currentUrl);
    this.source = source;
    this.lastEventAt = this.now();
    source.addEventListener('history', (event) => {
      if (this.source !== source) return;
      this.window.addHistory(JSON.parse(event.data) as HistoryEvent);
      this.heard();
    });
    source.addEventListener('stats', (event) => {
      if (this.source !== source) return;
      const frame = JSON.parse(event.data) as StatsFrame;
      this.window.add(frame.rates);
      this.latest = frame;
      this.currentBroker = frame.brokerId;
      this.heard();
    });
    source.onerror = () => {
      if (this.source !== source) return;
      // The browser would retry only this broker; another live one is a better bet.
      if (source.readyState === CLOSED || this.otherBrokers().length > 0) {
        this.lost();
      } else {
        // The browser retries by itself (after the stream's retry delay).
        this.setState(this.everLive ? 'reconnecting' : 'connecting');
      }
    };
  }

  private heard(): void {
    this.lastEventAt = this.now();
    this.failures = 0;
    this.everLive = true;
    this.currentState = 'live';
    this.emit();
  }

  private lost(): void {
    this.source?.close();
    this.source = null;
    this.setState(this.everLive ? 'reconnecting' : 'connecting');
    const others = this.others();
    // Round the cluster at once; back off only when every broker known has failed in a row.
    const round = Math.floor(this.failures++ / (others.length + 1));
    const delay = others.length > 0 && this.failures <= others.length ? 0
      : Math.min(15_000, this.retryMs * 2 ** round);
    if (others.length > 0) {
      this.currentUrl = others[0].url;
      this.currentBroker = others[0].id;
    }
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      this.open();
    }, delay);
  }

  private setState(state: FeedState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit();
  }

  private emit(): void {
    this.listeners.forEach((l) => l());
  }
}

/** A host as it goes into a URL: IPv6 addresses in brackets. */
/** A broker's HTTP address as a page reaches it: `http://host:port`, `https:` when the page itself is. */
export function brokerBase(broker: { host: string; httpPort: number }): string {
  const protocol = (globalThis as { location?: { protocol: string } }).location?.protocol === 'https:'
    ? 'https:' : 'http:';
  return `${protocol}//${hostForUrl(broker.host)}:${broker.httpPort}`;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
