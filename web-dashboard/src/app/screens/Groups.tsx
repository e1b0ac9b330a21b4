import { EmptyState } from '../components/EmptyState';
import { useFeed } from '../state';

interface GroupSummary {
  name?: string;
  id?: string;
  state?: string;
  members?: unknown[];
  lag?: number;
}

export function GroupsScreen() {
  const feed = useFeed();
  const groups = (feed.latest!.groups ?? []) as GroupSummary[];
  return (
    <div class="screen" data-testid="groups-screen">
      <header class="screen-head">
        <div>
          <h1>Consumer groups</h1>
          <p class="muted">Members, partition assignments, committed offsets and lag.</p>
        </div>
      </header>
      <section class="card">
        {groups.length === 0 ? (
          <EmptyState title="No consumer groups yet" tone="groups" testId="groups-empty">
            A group appears here as soon as a consumer joins one. Readers that pick their own partitions and offsets,
            such as this dashboard's live tail, do not form groups.
          </EmptyState>
        ) : (
          <div class="table-wrap">
            <table class="table" data-testid="groups-table">
              <thead><tr><th>Group</th><th>State</th><th class="num">Members</th><th class="num">Lag</th></tr></thead>
              <tbody>
                {groups.map((g) => (
                  <tr>
                    <td class="mono">{g.name ?? g.id}</td>
                    <td>{g.state ?? '—'}</td>
                    <td class="num">{g.members?.length ?? '—'}</td>
                    <td class="num">{g.lag ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
