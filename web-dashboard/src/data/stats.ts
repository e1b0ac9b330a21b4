/**
 * The live stats stream's data (GET /api/stats/stream, docs/PROTOCOL.md "Live stats") and how the dashboard shapes
 * it: a five-minute window of rate samples, chart series, per-topic summaries.
 */
import type { PartitionDescription, TopicDescription } from '../client/millrace-client';

export interface Rates {
  recordsIn: number;
  bytesIn: number;
  recordsOut: number;
  bytesOut: number;
}

export type Metric = keyof Rates;

export const ZERO: Rates = Object.freeze({ recordsIn: 0, bytesIn: 0, recordsOut: 0, bytesOut: 0 });

/** Throughput over one interval ending at `time` (ms). Topics without traffic are left out. */
export interface RateSample {
  time: number;
  total: Rates;
  topics: Record<string, Rates>;
}

export interface HistoryEvent {
  intervalMs: number;
  samples: RateSample[];
}

/** What each broker publishes to the others every second (absent while it is down or not heard from). */
export interface BrokerFigures {
  time: number;
  rates: Rates;
  replicas: number;
  leaders: number;
  underReplicated: number;
}

export interface BrokerState {
  id: number;
  host: string;
  httpPort: number;
  tcpPort: number;
  alive: boolean;
  controller: boolean;
  leaders: number;
  replicas: number;
  stats?: BrokerFigures;
}

/** The cluster's partitions of user topics: all, with fewer in-sync replicas than replicas, without a leader. */
export interface PartitionCounts {
  total: number;
  underReplicated: number;
  offline: number;
}

export interface Health {
  status: 'ready' | 'degraded' | 'unavailable';
  brokerId: number;
  zookeeper: boolean;
  localPartitions: number;
  partitionsDown: string[];
  partitionsOpening: string[];
}

/** One `stats` event: the cluster now and the throughput of the last interval. */
export interface StatsFrame {
  time: number;
  intervalMs: number;
  brokerId?: number;
  health?: Health;
  controller?: number;
  brokers?: BrokerState[];
  partitions?: PartitionCounts;
  /** Every topic, summed up: a page asks for one topic's partitions (describeTopic) when it shows them. */
  topics?: TopicFigures[];
  groups?: unknown[];
  problems?: string[];
  rates: RateSample;
}

export const WINDOW_MS = 5 * 60 * 1000;

/**
 * The last five minutes of rate samples, oldest first, without duplicates: the history event and the live frames
 * overlap after a reconnect, and samples may arrive out of order, so samples are merged by time.
 */
export class RateWindow {
  private samples: RateSample[] = [];
  intervalMs = 1000;

  constructor(readonly windowMs = WINDOW_MS) {}

  /** Merges a history event (sent first on every (re)connect). */
  addHistory(history: HistoryEvent): void {
    this.intervalMs = history.intervalMs || this.intervalMs;
    history.samples.forEach((s) => this.insert(s));
    this.trim();
  }

  add(sample: RateSample): void {
    this.insert(sample);
    this.trim();
  }

  all(): readonly RateSample[] {
    return this.samples;
  }

  latest(): RateSample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /**
   * uPlot data: `[seconds[], ...one array per series]`. A missing topic in a sample is a zero rate; a gap longer
   * than three intervals (the page was disconnected) is a `null`, so the line breaks instead of lying.
   */
  series(metrics: Metric[], topic?: string): (number | null)[][] {
    const xs: number[] = [];
    const ys: (number | null)[][] = metrics.map(() => []);
    let previous: number | undefined;
    for (const s of this.samples) {
      if (previous !== undefined && s.time - previous > 3 * this.intervalMs) {
        xs.push((previous + this.intervalMs) / 1000);
        ys.forEach((y) => y.push(null));
      }
      xs.push(s.time / 1000);
      const rates = topic === undefined ? s.total : s.topics[topic] ?? ZERO;
      metrics.forEach((m, i) => ys[i].push(rates[m]));
      previous = s.time;
    }
    return [xs, ...ys];
  }

  /** One series per topic for one metric: `[seconds[], ...per topic]`, topics as given. */
  topicSeries(metric: Metric, topics: string[]): (number | null)[][] {
    const xs = this.samples.map((s) => s.time / 1000);
    return [xs, ...topics.map((t) => this.samples.map((s) => (s.topics[t] ?? ZERO)[metric]))];
  }

  /** Topics with any traffic in the window, busiest first (by records in plus out). */
  activeTopics(): string[] {
    const load = new Map<string, number>();
    for (const s of this.samples) {
      for (const [name, r] of Object.entries(s.topics)) {
        load.set(name, (load.get(name) ?? 0) + r.recordsIn + r.recordsOut);
      }
    }
    return [...load.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([n]) => n);
  }

  /** Average rates over the last `ms` (default: the whole window). */
  average(topic?: string, ms = this.windowMs): Rates {
    const latest = this.latest();
    if (!latest) return ZERO;
    const recent = this.samples.filter((s) => s.time > latest.time - ms);
    const sum = { ...ZERO };
    for (const s of recent) {
      const r = topic === undefined ? s.total : s.topics[topic] ?? ZERO;
      sum.recordsIn += r.recordsIn;
      sum.bytesIn += r.bytesIn;
      sum.recordsOut += r.recordsOut;
      sum.bytesOut += r.bytesOut;
    }
    const n = recent.length || 1;
    return { recordsIn: sum.recordsIn / n, bytesIn: sum.bytesIn / n, recordsOut: sum.recordsOut / n,
      bytesOut: sum.bytesOut / n };
  }

  private insert(sample: RateSample): void {
    const list = this.samples;
    if (list.length === 0 || list[list.length - 1].time < sample.time) {
      list.push(sample);
      return;
    }
    const at = list.findIndex((s) => s.time >= sample.time);
    if (list[at].time === sample.time) list[at] = sample;
    else list.splice(at, 0, sample);
  }

  private trim(): void {
    const latest = this.latest();
    if (!latest) return;
    const cutoff = latest.time - this.windowMs;
    let drop = 0;
    while (drop < this.samples.length && this.samples[drop].time <= cutoff) drop++;
    if (drop > 0) this.samples = this.samples.slice(drop);
  }
}

/** One topic in a stats frame: counts, never its partitions. `records` and `sizeBytes` are null when unknown. */
export interface TopicFigures {
  name: string;
  replicationFactor: number;
  partitionCount: number;
  underReplicated: number;
  offline: number;
  records: number | null;
  sizeBytes: number | null;
}

/** The figures of a full description, counted as the broker counts them for the frame. */
export function figuresOf(topic: TopicDescription): TopicFigures {
  const known = topic.partitions.every((p) => p.highWatermark >= 0 && p.sizeBytes >= 0);
  return {
    name: topic.name,
    replicationFactor: topic.replicationFactor,
    partitionCount: topic.partitions.length,
    underReplicated: topic.partitions.filter(isUnderReplicated).length,
    offline: topic.partitions.filter((p) => p.leader < 0).length,
    records: known ? topic.partitions.reduce((n, p) => n + Math.max(0, p.highWatermark - p.logStartOffset), 0) : null,
    sizeBytes: known ? topic.partitions.reduce((n, p) => n + Math.max(0, p.sizeBytes), 0) : null,
  };
}

/** What the topics table shows for one topic. */
export interface TopicSummary {
  name: string;
  partitions: number;
  replicationFactor: number;
  underReplicated: number;
  offline: number;
  /** Records currently stored (high watermark minus log start, summed), or null if any partition is unknown. */
  records: number | null;
  sizeBytes: number | null;
  rates: Rates;
}

export function summarizeTopic(topic: TopicFigures, rates: Rates = ZERO): TopicSummary {
  return {
    name: topic.name,
    partitions: topic.partitionCount,
    replicationFactor: topic.replicationFactor,
    underReplicated: topic.underReplicated,
    offline: topic.offline,
    records: topic.records,
    sizeBytes: topic.sizeBytes,
    rates,
  };
}

export function isUnderReplicated(p: PartitionDescription): boolean {
  return p.isr.length < p.replicas.length;
}

/** Partition counts of the whole cluster. */
export function clusterCounts(topics: TopicFigures[]): { partitions: number; underReplicated: number;
    offline: number } {
  let partitions = 0;
  let underReplicated = 0;
  let offline = 0;
  for (const t of topics) {
    partitions += t.partitionCount;
    underReplicated += t.underReplicated;
    offline += t.offline;
  }
  return { partitions, underReplicated, offline };
}

/** The current sample's rates for a topic (zero when idle). */
export function topicRates(sample: RateSample | undefined, topic: string): Rates {
  return sample?.topics[topic] ?? ZERO;
}
