import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface SeriesSpec {
  label: string;
  color: string;
  dash?: number[];
}

const AXIS_FONT = '11px Inter, system-ui, sans-serif';

function clock(seconds: number, withSeconds: boolean): string {
  const d = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${withSeconds ? `:${pad(d.getSeconds())}` : ''}`;
}

function lastValue(values: (number | null)[] | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return null;
}

/**
 * A live line chart (uPlot) of the last five minutes. `data` is uPlot's `[seconds[], ...values[]]`. The chart keeps
 * its uPlot instance across updates and only swaps the data, so it moves smoothly every second. The legend shows
 * each series' newest value.
 */
export function Chart(props: { title: string; data: (number | null)[][]; series: SeriesSpec[];
    format: (v: number) => string; height?: number; testId?: string; windowSeconds?: number; bare?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => `${s.label}:${s.color}`).join('|');
  const height = props.height ?? 180;
  const format = useRef(props.format);
  format.current = props.format;
  const windowSeconds = props.windowSeconds ?? 300;

  useEffect(() => {
    const el = host.current!;
    const grid = { stroke: '#eef2f7', width: 1 };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: (_u, min, max) => [Math.min(min, max - windowSeconds), max] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        { stroke: '#64748b', grid, ticks: { show: false }, font: AXIS_FONT, space: 60, size: 30,
          values: (_u, splits, _axis, _space, increment) => splits.map((v) => clock(v, increment < 60)) },
        { stroke: '#64748b', grid, ticks: { show: false }, size: 68, font: AXIS_FONT,
          values: (_u, splits) => splits.map((v) => format.current(v)) },
      ],
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label, stroke: s.color, width: 2, dash: s.dash, points: { show: false },
          fill: s.dash ? undefined : `${s.color}12`,
        })),
      ],
    };
    const u = new uPlot(opts, props.data as uPlot.AlignedData, el);
    plot.current = u;
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (Math.abs(width - u.width) > 1) u.setSize({ width, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);

  let max = 0;
  for (let i = 1; i < props.data.length; i++) {
    for (const v of props.data[i]) if (v !== null && v > max) max = v;
  }
  const points = props.data[0]?.length ?? 0;
  return (
    <figure class={props.bare ? 'chart chart-bare' : 'card chart'} data-testid={props.testId} data-max={max}
            data-points={points}>
      <figcaption class="chart-head">
        <span class="card-title">{props.title}</span>
        <span class="chart-legend">
          {props.series.map((s, i) => {
            const v = lastValue(props.data[i + 1]);
            return (
              <span class="legend-item">
                <span class={`legend-mark ${s.dash ? 'dashed' : ''}`} style={{ borderColor: s.color }} />
                {s.label} <strong>{v === null ? '—' : props.format(v)}</strong>
              </span>
            );
          })}
        </span>
      </figcaption>
      {points < 2 && <div class="chart-note">Collecting samples…</div>}
      <div ref={host} class="chart-plot" style={{ height: `${height}px` }} />
    </figure>
  );
}
