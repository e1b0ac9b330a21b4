import { formatBytes, formatByteRate, formatCount, formatRate } from '../../data/format';
import { summarizeTopic, topicRates } from '../../data/stats';
import { EmptyState } from '../components/EmptyState';
import { AddPartitionsForm, ProduceForm } from '../components/Forms';
import { LiveTail } from '../components/LiveTail';
import { PartitionTable } from '../components/PartitionTable';
import { StatCard } from '../components/StatCard';
import { ThroughputCharts } from '../components/Throughput';
import { useFeed, useTopicDescription } from '../state';

export function TopicDetailScreen(props: { name: string }) {
  const feed = useFeed();
  const topics = feed.latest!.topics ?? [];
  const topic = topics.find((t) => t.name === props.name);
  // The frame sums topics up; this screen asks for its own topic's partitions, every second.
  const { topic: described, error } = useTopicDescription(props.name);
  if (!topic) {
    return (
      <div class="screen">
        <nav class="crumbs"><a href="#/topics">Topics</a> / {props.name}</nav>
        <section class="card">
          <EmptyState title={`Topic ${props.name} does not exist`} tone="error" testId="topic-missing">
            It may have been deleted, or not created yet. <a href="#/topics">Back to topics</a>
          </EmptyState>
        </section>
      </div>
    );
  }
  const rates = topicRates(feed.window.latest(), topic.name);
  const s = summarizeTopic(topic, rates);
  return (
    <div class="screen" data-testid="topic-screen">
      <nav class="crumbs"><a href="#/topics">Topics</a> / <span>{topic.name}</span></nav>
      <header class="screen-head">
        <div>
          <h1 class="mono-title">{topic.name}</h1>
          <p class="muted">
            {s.partitions} partitions · replication {s.replicationFactor}
            {described && Object.keys(described.config).length > 0
              && ` · ${Object.entries(described.config).map(([k, v]) => `${k}=${v}`).join(', ')}`}
          </p>
        </div>
      </header>
      <div class="stats">
        <StatCard label="Records" value={formatCount(s.records)} sub="committed, retained" />
        <StatCard label="Size" value={formatBytes(s.sizeBytes)} sub="on the leaders' disks" />
        <StatCard label="In" value={formatRate(rates.recordsIn)} sub={formatByteRate(rates.bytesIn)} testId="topic-rate-in" />
        <StatCard label="Out" value={formatRate(rates.recordsOut)} sub={formatByteRate(rates.bytesOut)} />
        <StatCard label="Health" value={s.offline > 0 ? `${s.offline} offline` : s.underReplicated > 0
                    ? `${s.underReplicated} of ${s.partitions}` : 'in sync'}
                  tone={s.offline > 0 ? 'error' : s.underReplicated > 0 ? 'warn' : 'ok'}
                  sub={s.offline > 0 ? 'partitions without a leader' : s.underReplicated > 0
                    ? 'partitions under-replicated' : 'every replica in sync'} testId="topic-health" />
      </div>
      <ThroughputCharts window={feed.window} topic={topic.name} testPrefix="topic" />
      <div class="grid-detail">
        <LiveTail topic={topic.name} partitions={topic.partitionCount} />
        <div class="stack">
          <ProduceForm topic={topic.name} partitions={topic.partitionCount} />
          <AddPartitionsForm topics={topics} fixedTopic={topic.name} />
        </div>
      </div>
      <section class="card card-flush">
        <div class="card-title pad">Partitions</div>
        {described ? <PartitionTable topic={described} />
          : error && error.code !== 'DISCONNECTED' && error.code !== 'TIMEOUT'
            ? <EmptyState compact title={`Cannot describe ${topic.name}`} tone="error">{error.code}: {error.message}</EmptyState>
            : <EmptyState compact title="Loading partitions…" tone="loading" />}
      </section>
    </div>
  );
}
