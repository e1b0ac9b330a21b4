import { useState } from 'preact/hooks';
import { formatCount } from '../../data/format';
import { EmptyState } from '../components/EmptyState';
import { useFeed } from '../state';

/** A consumer group as the broker's stats stream sends it (see docs/PROTOCOL.md and ClusterSnapshot). */
interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  assignment?: { topic: string; partitions: number[] }[];
}

interface GroupPartition {
  topic: string;
  partition: number;
  owner?: string | null;
  committed?: number | null;
  highWatermark?: number | null;
  lag?: number | null;
}

interface GroupSummary {
  id?: string;
  name?: string;
  state?: string;
  generation?: number;
  strategy?: string | null;
  members?: GroupMember[];
  partitions?: GroupPartition[];
  lag?: number;
}

const STATE_BADGE: Record<string, string> = {
  STABLE: 'badge-ok',
  EMPTY: 'badge-info',
  PREPARING_REBALANCE: 'badge-warn',
  COMPLETING_REBALANCE: 'badge-warn',
  DEAD: 'badge-error',
};

function assignmentText(m: GroupMember): string {
  const parts = (m.assignment ?? []).map((a) => `${a.topic}: ${a.partitions.join(', ')}`);
  return parts.length === 0 ? '—' : parts.join(' · ');
}

/** Offsets exactly; "—" when unknown. */
function offset(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : String(v);
}

export function GroupsScreen() {
  const feed = useFeed();
  const groups = (feed.latest!.groups ?? []) as GroupSummary[];
  const [open, setOpen] = useState<Record<string, boolean>>({});
  return (
    <div class="screen" data-testid="groups-screen">
      <header class="screen-head">
        <div>
          <h1>Consumer groups</h1>
          <p class="muted">Members, partition assignments, committed offsets and lag.</p>
        </div>
      </header>
      <section class={groups.length === 0 ? 'card' : 'card card-flush'}>
        {groups.length === 0 ? (
          <EmptyState title="No consumer groups yet" tone="groups" testId="groups-empty">
            A group appears here as soon as a consumer joins one. Readers that pick their own partitions and offsets,
            such as this dashboard's live tail, do not form groups.
          </EmptyState>
        ) : (
          <div class="table-wrap">
            <table class="table" data-testid="groups-table">
              <thead>
                <tr><th>Group</th><th>State</th><th class="num">Members</th><th>Strategy</th><th class="num">Lag</th></tr>
              </thead>
              {groups.map((g) => {
                const id = g.id ?? g.name ?? '?';
                const expanded = open[id] ?? groups.length <= 5;
                return (
                  <tbody class="group" data-group={id}>
                    <tr>
                      <td class="mono">
                        <button class="twisty" aria-expanded={expanded} aria-label={`Show details of ${id}`}
                                onClick={() => setOpen((o) => ({ ...o, [id]: !expanded }))}>{expanded ? '▾' : '▸'}</button>
                        {id}
                      </td>
                      <td><span class={`badge ${STATE_BADGE[g.state ?? ''] ?? 'badge-info'}`}>{g.state ?? '—'}</span></td>
                      <td class="num">{g.members?.length ?? '—'}</td>
                      <td>{g.strategy ?? '—'}</td>
                      <td class="num" data-testid={`group-lag-${id}`}>{formatCount(g.lag)}</td>
                    </tr>
                    {expanded && (
                      <tr class="detail-row">
                        <td colSpan={5}>
                          {(g.members ?? []).length > 0 && (
                            <table class="table" data-testid={`group-members-${id}`}>
                              <thead><tr><th>Member</th><th>Client</th><th>Host</th><th>Partitions</th></tr></thead>
                              <tbody>
                                {(g.members ?? []).map((m) => (
                                  <tr><td class="mono">{m.memberId}</td><td>{m.clientId}</td><td class="mono">{m.host}</td>
                                    <td>{assignmentText(m)}</td></tr>
                                ))}
                              </tbody>
                            </table>
                          )}
                          <table class="table" data-testid={`group-partitions-${id}`}>
                            <thead>
                              <tr><th>Partition</th><th>Owner</th><th class="num">Committed</th>
                                <th class="num">High watermark</th><th class="num">Lag</th></tr>
                            </thead>
                            <tbody>
                              {(g.partitions ?? []).map((p) => (
                                <tr><td class="mono">{p.topic}-{p.partition}</td><td class="mono">{p.owner ?? '—'}</td>
                                  <td class="num">{offset(p.committed)}</td><td class="num">{offset(p.highWatermark)}</td>
                                  <td class="num">{offset(p.lag)}</td></tr>
                              ))}
                            </tbody>
                          </table>
                        </td>
                      </tr>
                    )}
                  </tbody>
                );
              })}
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
