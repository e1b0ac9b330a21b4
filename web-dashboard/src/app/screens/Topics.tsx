import { useState } from 'preact/hooks';
import { formatBytes, formatCount, formatRate } from '../../data/format';
import { summarizeTopic, topicRates } from '../../data/stats';
import { EmptyState } from '../components/EmptyState';
import { AddPartitionsForm, CreateTopicForm } from '../components/Forms';
import { LivePartitionTable } from '../components/PartitionTable';
import { topicHref, useFeed } from '../state';

export function TopicsScreen() {
  const feed = useFeed();
  const topics = feed.latest!.topics ?? [];
  const latest = feed.window.latest();
  const [filter, setFilter] = useState('');
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const totalPartitions = topics.reduce((n, t) => n + t.partitionCount, 0);
  const expandedByDefault = totalPartitions <= 24;
  const shown = topics.filter((t) => t.name.toLowerCase().includes(filter.toLowerCase()));

  return (
    <div class="screen" data-testid="topics-screen">
      <header class="screen-head">
        <div>
          <h1>Topics</h1>
          <p class="muted">{topics.length} topics · {totalPartitions} partitions</p>
        </div>
        <input class="search" type="search" placeholder="Filter topics…" value={filter} aria-label="Filter topics"
               onInput={(e) => setFilter(e.currentTarget.value)} />
      </header>
      <div class="grid-forms">
        <CreateTopicForm onCreated={(t) => setOpen((o) => ({ ...o, [t.name]: true }))} />
        <AddPartitionsForm topics={topics} />
      </div>

      {topics.length === 0 ? (
        <section class="card">
          <EmptyState title="No topics yet" testId="topics-empty">
            Create one with the form above, or produce to a topic name from any client.
          </EmptyState>
        </section>
      ) : shown.length === 0 ? (
        <section class="card"><EmptyState compact title={`No topic matches "${filter}"`} /></section>
      ) : (
        <section class="card card-flush">
          <div class="table-wrap">
            <table class="table topics-table" data-testid="topics-table">
              <thead>
                <tr>
                  <th>Topic</th><th class="num">Partitions</th><th class="num">Replication</th><th>Health</th>
                  <th class="num">Records</th><th class="num">Size</th><th class="num">In</th><th class="num">Out</th>
                </tr>
              </thead>
              {shown.map((t) => {
                const s = summarizeTopic(t, topicRates(latest, t.name));
                const expanded = open[t.name] ?? expandedByDefault;
                return (
                  <tbody class="topic-group" data-topic={t.name}>
                    <tr class="topic-row">
                      <td>
                        <button class="twisty" aria-expanded={expanded} aria-label={`Show partitions of ${t.name}`}
                                onClick={() => setOpen((o) => ({ ...o, [t.name]: !expanded }))}>{expanded ? '▾' : '▸'}</button>
                        <a href={topicHref(t.name)} class="topic-link">{t.name}</a>
                      </td>
                      <td class="num">{s.partitions}</td>
                      <td class="num">{s.replicationFactor}</td>
                      <td>
                        {s.offline > 0 ? <span class="badge badge-error">{s.offline} offline</span>
                          : s.underReplicated > 0 ? <span class="badge badge-warn">{s.underReplicated} under-replicated</span>
                          : <span class="badge badge-ok">in sync</span>}
                      </td>
                      <td class="num">{formatCount(s.records)}</td>
                      <td class="num">{formatBytes(s.sizeBytes)}</td>
                      <td class="num" data-testid={`rate-in-${t.name}`}>{formatRate(s.rates.recordsIn)}</td>
                      <td class="num">{formatRate(s.rates.recordsOut)}</td>
                    </tr>
                    {expanded && (
                      <tr class="detail-row">
                        <td colSpan={8}><LivePartitionTable name={t.name} /></td>
                      </tr>
                    )}
                  </tbody>
                );
              })}
            </table>
          </div>
        </section>
      )}
    </div>
  );
}
