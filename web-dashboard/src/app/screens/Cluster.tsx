import { formatByteRate, formatRate } from '../../data/format';
import { clusterCounts } from '../../data/stats';
import { EmptyState } from '../components/EmptyState';
import { RebalanceCard, ReassignmentsPanel } from '../components/Reassignments';
import { StatCard } from '../components/StatCard';
import { ThroughputCharts } from '../components/Throughput';
import { useFeed, useReassignments } from '../state';

export function ClusterScreen() {
  const feed = useFeed();
  const reassignments = useReassignments();
  const frame = feed.latest!;
  const brokers = frame.brokers ?? [];
  const topics = frame.topics ?? [];
  const counts = frame.partitions
    ? { partitions: frame.partitions.total, underReplicated: frame.partitions.underReplicated,
      offline: frame.partitions.offline }
    : clusterCounts(topics);
  const up = brokers.filter((b) => b.alive).length;
  const rates = frame.rates.total;
  // Every live broker publishes its own figures; before any arrive (an older broker), this broker's are the total.
  const reporting = brokers.filter((b) => b.stats);
  const clusterIn = reporting.length > 0 ? reporting.reduce((n, b) => n + b.stats!.rates.recordsIn, 0) : rates.recordsIn;
  const clusterOut = reporting.length > 0 ? reporting.reduce((n, b) => n + b.stats!.rates.recordsOut, 0)
    : rates.recordsOut;
  const zk = frame.health?.zookeeper;

  return (
    <div class="screen" data-testid="cluster-screen">
      <header class="screen-head">
        <div>
          <h1>Cluster</h1>
          <p class="muted">Brokers, partitions and throughput, live every second. The charts show the traffic through
            broker {frame.brokerId ?? '?'}, which this page is connected to; the table shows every broker's.</p>
        </div>
      </header>
      <div class="stats">
        <StatCard label="Brokers" value={`${up} / ${brokers.length}`} sub={up === brokers.length ? 'all up' : `${brokers.length - up} down`}
                  tone={up === brokers.length && up > 0 ? 'ok' : 'error'} testId="stat-brokers" />
        <StatCard label="Controller" value={frame.controller !== undefined && frame.controller >= 0 ? `broker ${frame.controller}` : 'none'}
                  sub={frame.controller !== undefined && frame.controller >= 0 ? 'elected' : 'election pending'}
                  tone={frame.controller !== undefined && frame.controller >= 0 ? undefined : 'warn'} />
        <StatCard label="ZooKeeper" value={zk ? 'connected' : 'disconnected'} tone={zk ? 'ok' : 'error'}
                  sub={frame.health?.status === 'ready' ? 'broker ready' : 'broker not ready'} testId="stat-zookeeper" />
        <StatCard label="Topics" value={topics.length} sub={`${counts.partitions} partitions`} />
        <StatCard label="Partitions" value={counts.underReplicated + counts.offline === 0 ? 'all in sync'
                    : `${counts.underReplicated} of ${counts.partitions}`}
                  sub={counts.underReplicated + counts.offline === 0 ? `${counts.partitions} partitions · none offline`
                    : `under-replicated · ${counts.offline > 0 ? `${counts.offline} offline` : 'none offline'}`}
                  tone={counts.offline > 0 ? 'error' : counts.underReplicated > 0 ? 'warn' : 'ok'}
                  testId="stat-partitions" />
        <StatCard label="Throughput" value={formatRate(clusterIn)}
                  sub={`in · ${formatRate(clusterOut)} out, all brokers`} testId="stat-throughput" />
      </div>

      <ThroughputCharts window={feed.window} testPrefix="cluster" />

      <section class="card">
        <div class="card-title">Brokers</div>
        {brokers.length === 0 ? (
          <EmptyState compact title="No broker registered" tone="error">The broker list comes from ZooKeeper.</EmptyState>
        ) : (
          <div class="table-wrap">
            <table class="table" data-testid="brokers-table">
              <thead>
                <tr><th>Broker</th><th>Status</th><th>Address</th><th class="num">Leaders</th>
                  <th class="num">Replicas</th><th class="num">Under-replicated</th><th class="num">Records in/out</th>
                  <th class="num">Bytes in/out</th></tr>
              </thead>
              <tbody>
                {brokers.map((b) => {
                  const self = b.id === frame.brokerId;
                  // Each broker measures its own traffic and publishes it to every broker, once a second.
                  const own = b.stats?.rates ?? (self ? rates : undefined);
                  const why = b.alive ? 'not heard from this broker in the last seconds' : 'the broker is down';
                  return (
                    <tr data-broker={b.id} class={b.alive ? '' : 'row-error'}>
                      <td>
                        <span class="mono">{b.id}</span>
                        {b.controller && <span class="badge badge-info">controller</span>}
                        {self && <span class="badge" data-testid="serving-badge">connected</span>}
                      </td>
                      <td data-testid={`broker-status-${b.id}`}>
                        {b.alive ? <span class="badge badge-ok">up</span> : <span class="badge badge-error">down</span>}
                      </td>
                      <td class="mono small">{b.host}:{b.httpPort}{b.tcpPort > 0 ? ` · tcp ${b.tcpPort}` : ''}</td>
                      <td class="num">{b.leaders}</td>
                      <td class="num">{b.replicas}</td>
                      <td class="num">{b.stats ? b.stats.underReplicated : '—'}</td>
                      <td class="num" title={own ? 'measured on that broker' : why} data-testid={`broker-records-${b.id}`}>
                        {own ? `${formatRate(own.recordsIn)} / ${formatRate(own.recordsOut)}` : '—'}
                      </td>
                      <td class="num" title={own ? 'measured on that broker' : why}>
                        {own ? `${formatByteRate(own.bytesIn)} / ${formatByteRate(own.bytesOut)}` : '—'}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <ReassignmentsPanel {...reassignments} />
      <RebalanceCard onStarted={reassignments.refresh} />
    </div>
  );
}
