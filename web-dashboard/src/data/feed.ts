/**
 * The dashboard's one live connection for stats: an EventSource on /api/stats/stream that reconnects by itself.
 * EventSource retries on its own after a dropped connection, but gives up for good on an HTTP error (503 when the
 * broker is at http.max.stats.streams, say) and cannot notice a stream that went silent; this class covers both.
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
  private readonly url: string;
  private readonly EventSourceImpl: new (url: string) => EventSourceLike;
  private readonly staleAfterMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private everLive = false;

  constructor(options: FeedOptions = {}) {
    this.url = options.url ?? '/api/stats/stream';
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
    const source = new this.EventSourceImpl(this.url);
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
      this.heard();
    });
    source.onerror = () => {
      if (this.source !== source) return;
      if (source.readyState === CLOSED) {
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
    const delay = Math.min(15_000, this.retryMs * 2 ** this.failures++);
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
