import { describe, expect, it } from 'vitest';
import { RateWindow, ZERO, clusterCounts, figuresOf, summarizeTopic, type RateSample } from '../src/data/stats';
import { formatBytes, formatCount, formatOffset, formatRate } from '../src/data/format';
import { matchesKey, prependRecords } from '../src/data/records';
import type { TopicDescription } from '../src/client/millrace-client';
import { record } from './fakes';

const rates = (recordsIn: number, bytesIn = recordsIn * 100, recordsOut = 0, bytesOut = 0) =>
  ({ recordsIn, bytesIn, recordsOut, bytesOut });

function sample(seconds: number, topics: Record<string, number> = {}): RateSample {
  const byTopic = Object.fromEntries(Object.entries(topics).map(([t, n]) => [t, rates(n)]));
  const total = Object.values(topics).reduce((n, v) => n + v, 0);
  return { time: seconds * 1000, total: rates(total), topics: byTopic };
}

describe('RateWindow', () => {
  it('merges the history with live samples without duplicates, in time order', () => {
    const w = new RateWindow();
    w.add(sample(5, { a: 5 }));
    w.addHistory({ intervalMs: 1000, samples: [sample(3), sample(4), sample(5, { a: 50 })] });
    w.add(sample(6));
    expect(w.all().map((s) => s.time)).toEqual([3000, 4000, 5000, 6000]);
    expect(w.all()[2].topics.a.recordsIn).toBe(50);
  });

  it('keeps exactly the last five minutes', () => {
    const w = new RateWindow();
    for (let s = 1; s <= 400; s++) w.add(sample(s));
    expect(w.all()).toHaveLength(300);
    expect(w.all()[0].time).toBe(101_000);
    expect(w.latest()!.time).toBe(400_000);
  });

  it('builds chart series in seconds; an idle topic is zero and a gap breaks the line', () => {
    const w = new RateWindow();
    w.addHistory({ intervalMs: 1000, samples: [sample(1, { a: 2 }), sample(2, { b: 3 }), sample(10, { a: 4 })] });
    expect(w.series(['recordsIn'], 'a')).toEqual([[1, 2, 3, 10], [2, 0, null, 4]]);
    expect(w.series(['recordsIn', 'bytesIn'])).toEqual([[1, 2, 3, 10], [2, 3, null, 4], [200, 300, null, 400]]);
    expect(w.topicSeries('recordsIn', ['b', 'a'])).toEqual([[1, 2, 10], [0, 3, 0], [2, 0, 4]]);
  });

  it('ranks active topics by traffic and averages rates', () => {
    const w = new RateWindow();
    w.add(sample(1, { quiet: 1, busy: 10 }));
    w.add(sample(2, { busy: 20 }));
    w.add(sample(3, {}));
    expect(w.activeTopics()).toEqual(['busy', 'quiet']);
    expect(w.average('busy').recordsIn).toBe(10);
    expect(w.average(undefined, 2000).recordsIn).toBe(10);
    expect(new RateWindow().average()).toEqual(ZERO);
  });
});

describe('topic summaries', () => {
  const topic: TopicDescription = {
    name: 'orders', replicationFactor: 2, config: {}, partitions: [
      { partition: 0, leader: 0, leaderEpoch: 0, replicas: [0, 1], isr: [0, 1], underReplicated: false,
        logStartOffset: 10, logEndOffset: 110, highWatermark: 100, sizeBytes: 4096 },
      { partition: 1, leader: 1, leaderEpoch: 0, replicas: [1, 0], isr: [1], underReplicated: true,
        logStartOffset: 0, logEndOffset: 5, highWatermark: 5, sizeBytes: 1024 },
      { partition: 2, leader: -1, leaderEpoch: 0, replicas: [0, 1], isr: [], underReplicated: true,
        logStartOffset: 0, logEndOffset: 0, highWatermark: 0, sizeBytes: 0 },
    ],
  };

  it('counts committed records, size, under-replicated and offline partitions', () => {
    expect(summarizeTopic(figuresOf(topic))).toMatchObject({ partitions: 3, replicationFactor: 2, underReplicated: 2,
      offline: 1, records: 95, sizeBytes: 5120 });
    expect(clusterCounts([figuresOf(topic), figuresOf(topic)])).toEqual({ partitions: 6, underReplicated: 4, offline: 2 });
  });

  it('says "unknown" rather than a wrong number when a leader could not be asked', () => {
    const unknown = { ...topic, partitions: [{ ...topic.partitions[0], highWatermark: -1, sizeBytes: -1 }] };
    expect(summarizeTopic(figuresOf(unknown))).toMatchObject({ records: null, sizeBytes: null });
  });
});

describe('formatting and the tail', () => {
  it('formats numbers compactly and never as NaN', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024 * 1024)).toBe('5.0 GiB');
    expect(formatBytes(-1)).toBe('—');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(12_345)).toBe('12k');
    expect(formatCount(2.5)).toBe('2.5');
    expect(formatRate(1500)).toBe('1.5k/s');
    expect(formatRate(undefined)).toBe('—');
    expect(formatOffset(1234567)).toBe('1,234,567');
    expect(formatOffset(-1)).toBe('—');
  });

  it('filters by key substring and keeps the newest rows first', () => {
    expect(matchesKey(record(0, 1, 'Customer-42'), 'customer')).toBe(true);
    expect(matchesKey(record(0, 1, null), 'x')).toBe(false);
    expect(matchesKey(record(0, 1, null), '')).toBe(true);
    const rows = prependRecords([record(0, 1)], [record(0, 2), record(0, 3)], 2);
    expect(rows.map((r) => r.offset)).toEqual([3, 2]);
  });
});
