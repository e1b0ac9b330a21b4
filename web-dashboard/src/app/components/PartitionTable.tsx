import type { TopicDescription } from '../../client/millrace-client';
import { formatBytes, formatOffset } from '../../data/format';
import { isUnderReplicated } from '../../data/stats';
import { useTopicDescription } from '../state';
import { EmptyState } from './EmptyState';

/** Broker ids as chips: the leader stands out, replicas outside `isr` are struck through. */
export function Replicas(props: { ids: number[]; leader?: number; isr?: number[] }) {
  return (
    <span class="replicas">
      {props.ids.map((id) => {
        const out = props.isr && !props.isr.includes(id);
        return <span class={`chip ${id === props.leader ? 'chip-leader' : ''} ${out ? 'chip-out' : ''}`}
                     title={id === props.leader ? 'leader' : out ? 'not in sync' : ''}>{id}</span>;
      })}
    </span>
  );
}

/** Every partition of a topic: who leads, who replicates, who is in sync, and how far the log reaches. */
export function PartitionTable(props: { topic: TopicDescription }) {
  return (
    <div class="table-wrap">
      <table class="table" data-testid={`partitions-${props.topic.name}`}>
        <thead>
          <tr>
            <th class="num">Partition</th><th>Leader</th><th>Replicas</th><th>ISR</th>
            <th class="num">Log start</th><th class="num">Log end</th><th class="num">High watermark</th>
            <th class="num">Size</th>
          </tr>
        </thead>
        <tbody>
          {props.topic.partitions.map((p) => {
            const under = isUnderReplicated(p);
            const offline = p.leader < 0;
            return (
              <tr class={offline ? 'row-error' : under ? 'row-warn' : ''}>
                <td class="num">{p.partition}</td>
                <td>{offline ? <span class="badge badge-error">offline</span> : <span class="mono">{p.leader}</span>}</td>
                <td><Replicas ids={p.replicas} leader={p.leader} /></td>
                <td>
                  <Replicas ids={p.isr} />
                  {under && <span class="badge badge-warn" title="fewer in-sync replicas than replicas">under-replicated</span>}
                </td>
                <td class="num mono">{formatOffset(p.logStartOffset)}</td>
                <td class="num mono">{formatOffset(p.logEndOffset)}</td>
                <td class="num mono">{formatOffset(p.highWatermark)}</td>
                <td class="num">{formatBytes(p.sizeBytes)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** A topic's partitions, asked for every second while shown (the stats frame only sums topics up). */
export function LivePartitionTable(props: { name: string }) {
  const { topic, error } = useTopicDescription(props.name);
  if (topic) return <PartitionTable topic={topic} />;
  if (error && error.code !== 'DISCONNECTED' && error.code !== 'TIMEOUT') {
    return <EmptyState compact title={`Cannot describe ${props.name}`} tone="error">{error.code}: {error.message}</EmptyState>;
  }
  return <EmptyState compact title="Loading partitions…" tone="loading" />;
}
