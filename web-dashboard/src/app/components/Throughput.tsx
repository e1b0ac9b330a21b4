import { formatByteRate, formatRate } from '../../data/format';
import type { RateWindow } from '../../data/stats';
import { Chart } from './Chart';

export const IN_COLOR = '#4f46e5';
export const OUT_COLOR = '#0d9488';

/** The pair of charts every throughput view shows: records/s and bytes/s, in and out, last five minutes. */
export function ThroughputCharts(props: { window: RateWindow; topic?: string; testPrefix: string }) {
  const records = props.window.series(['recordsIn', 'recordsOut'], props.topic);
  const bytes = props.window.series(['bytesIn', 'bytesOut'], props.topic);
  return (
    <div class="grid-2">
      <Chart title="Records per second" data={records} format={formatRate} testId={`${props.testPrefix}-records-chart`}
             series={[{ label: 'in', color: IN_COLOR }, { label: 'out', color: OUT_COLOR, dash: [6, 4] }]} />
      <Chart title="Bytes per second" data={bytes} format={formatByteRate} testId={`${props.testPrefix}-bytes-chart`}
             series={[{ label: 'in', color: IN_COLOR }, { label: 'out', color: OUT_COLOR, dash: [6, 4] }]} />
    </div>
  );
}
