import { formatByteRate, formatRate } from '../../data/format';
import { clusterCounts } from '../../data/stats';
import { EmptyState } from '../components/EmptyState';
import { StatCard } from '../components/StatCard';
import { ThroughputCharts } from '../components/Throughput';
import { useFeed } from '../state';

export function ClusterScreen() {
  const feed = useFeed();
  const frame = feed.latest!;
  const brokers = frame.brokers ?? [];
  const topics = frame.topics ?? [];
  const counts = clusterCounts(topics);
  const up = brokers.filter((b) => b.alive).length;
  const rates = frame.rates.total;
  const zk = frame.health?.zookeeper;

  return (
    <div class="screen" data-testid="cluster-screen">
      <header class="screen-head">
        <div>
          <h1>Cluster</h1>
          <p class="muted">Brokers, partitions and throughput, live every second.</p>
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
                    : `${counts.underReplicated} under-replicated`}
                  sub={counts.offline > 0 ? `${counts.offline} offline` : 'none offline'}
                  tone={counts.offline > 0 ? 'error' : counts.underReplicated > 0 ? 'warn' : 'ok'} />
        <StatCard label="Throughput" value={formatRate(rates.recordsIn)}
                  sub={`in · ${formatRate(rates.recordsOut)} out`} testId="stat-throughput" />
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
                  <th class="num">Replicas</th><th class="num">Records in/out</th><th class="num">Bytes in/out</th></tr>
              </thead>
              <tbody>
                {brokers.map((b) => {
                  const self = b.id === frame.brokerId;
                  return (
                    <tr>
                      <td>
                        <span class="mono">{b.id}</span>
                        {b.controller && <span class="badge badge-info">controller</span>}
                        {self && <span class="badge">serving this page</span>}
                      </td>
                      <td>{b.alive ? <span class="badge badge-ok">up</span> : <span class="badge badge-error">down</span>}</td>
                      <td class="mono small">{b.host}:{b.httpPort}{b.tcpPort > 0 ? ` · tcp ${b.tcpPort}` : ''}</td>
                      <td class="num">{b.leaders}</td>
                      <td class="num">{b.replicas}</td>
                      {/* Throughput is measured by each broker for itself; this page hears from one broker. */}
                      <td class="num" title={self ? '' : 'measured on that broker'}>
                        {self ? `${formatRate(rates.recordsIn)} / ${formatRate(rates.recordsOut)}` : '—'}
                      </td>
                      <td class="num" title={self ? '' : 'measured on that broker'}>
                        {self ? `${formatByteRate(rates.bytesIn)} / ${formatByteRate(rates.bytesOut)}` : '—'}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
