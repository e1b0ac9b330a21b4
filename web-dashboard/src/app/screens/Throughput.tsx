import { useState } from 'preact/hooks';
import { formatByteRate, formatRate } from '../../data/format';
import { topicRates, type Metric } from '../../data/stats';
import { Chart } from '../components/Chart';
import { EmptyState } from '../components/EmptyState';
import { StatCard } from '../components/StatCard';
import { ThroughputCharts } from '../components/Throughput';
import { topicHref, useFeed } from '../state';

const PALETTE = ['#4f46e5', '#0d9488', '#ea580c', '#db2777', '#0284c7', '#65a30d', '#9333ea', '#ca8a04'];
const METRICS: { id: Metric; label: string }[] = [
  { id: 'recordsIn', label: 'Records in' },
  { id: 'recordsOut', label: 'Records out' },
  { id: 'bytesIn', label: 'Bytes in' },
  { id: 'bytesOut', label: 'Bytes out' },
];

export function ThroughputScreen() {
  const feed = useFeed();
  const [metric, setMetric] = useState<Metric>('recordsIn');
  const window = feed.window;
  const active = window.activeTopics();
  const charted = active.slice(0, PALETTE.length);
  const format = metric.startsWith('bytes') ? formatByteRate : formatRate;
  const now = window.latest()?.total;
  const avg = window.average();

  return (
    <div class="screen" data-testid="throughput-screen">
      <header class="screen-head">
        <div>
          <h1>Throughput</h1>
          <p class="muted">Last five minutes, per second, measured by this broker.</p>
        </div>
      </header>
      <div class="stats">
        <StatCard label="Records in" value={formatRate(now?.recordsIn)} sub={`5-min avg ${formatRate(avg.recordsIn)}`} />
        <StatCard label="Records out" value={formatRate(now?.recordsOut)} sub={`5-min avg ${formatRate(avg.recordsOut)}`} />
        <StatCard label="Bytes in" value={formatByteRate(now?.bytesIn)} sub={`5-min avg ${formatByteRate(avg.bytesIn)}`} />
        <StatCard label="Bytes out" value={formatByteRate(now?.bytesOut)} sub={`5-min avg ${formatByteRate(avg.bytesOut)}`} />
      </div>
      <ThroughputCharts window={window} testPrefix="total" />
      <section class="card card-flush">
        <div class="card-head pad">
          <div class="card-title">Per topic</div>
          <div class="tabs" role="tablist">
            {METRICS.map((m) => (
              <button role="tab" aria-selected={metric === m.id} class={metric === m.id ? 'tab active' : 'tab'}
                      onClick={() => setMetric(m.id)}>{m.label}</button>
            ))}
          </div>
        </div>
        {active.length === 0 ? (
          <EmptyState compact title="No traffic in the last five minutes">
            Topics show up here as soon as records are produced or consumed.
          </EmptyState>
        ) : (
          <>
            <div class="pad-x">
              <Chart bare title={`${METRICS.find((m) => m.id === metric)!.label} per second, by topic`}
                     data={window.topicSeries(metric, charted)} format={format} testId="per-topic-chart"
                     series={charted.map((t, i) => ({ label: t, color: PALETTE[i] }))} height={240} />
            </div>
            <div class="table-wrap">
              <table class="table">
                <thead><tr><th>Topic</th><th class="num">Now</th><th class="num">5-min average</th></tr></thead>
                <tbody>
                  {active.map((t) => (
                    <tr>
                      <td><a href={topicHref(t)} class="topic-link">{t}</a></td>
                      <td class="num">{format(topicRates(window.latest(), t)[metric])}</td>
                      <td class="num">{format(window.average(t)[metric])}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
    </div>
  );
}
