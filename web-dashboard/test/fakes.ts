import type { WebSocketLike } from '../src/client/millrace-client';
import type { EventSourceLike } from '../src/data/feed';

/** A WebSocket the test drives by hand: it records what the client sends and delivers what the test says. */
export class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  readonly sent: Record<string, any>[] = [];

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  static latest(): FakeSocket {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(message: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  /** The broker went away. */
  drop(): void {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '' });
  }

  /** The last message sent with this op. */
  last(op: string): Record<string, any> {
    const found = this.sent.filter((m) => m.op === op);
    if (found.length === 0) throw new Error(`nothing sent with op ${op}; sent ${JSON.stringify(this.sent)}`);
    return found[found.length - 1];
  }

  answer(op: string, body: Record<string, unknown> = {}): void {
    this.receive({ ...body, op: 'result', id: this.last(op).id });
  }
}

export class FakeEventSource implements EventSourceLike {
  static all: FakeEventSource[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, ((event: { data: string }) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }

  static latest(): FakeEventSource {
    return FakeEventSource.all[FakeEventSource.all.length - 1];
  }

  addEventListener(type: string, listener: (event: { data: string }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  emit(type: string, data: unknown): void {
    this.readyState = 1;
    (this.listeners.get(type) ?? []).forEach((l) => l({ data: JSON.stringify(data) }));
  }

  fail(readyState: number): void {
    this.readyState = readyState;
    this.onerror?.({});
  }
}

export function record(partition: number, offset: number, key: string | null = null, value = `v${offset}`) {
  return { topic: 't', partition, offset, timestamp: 1_700_000_000_000 + offset, key, value, headers: [] };
}
