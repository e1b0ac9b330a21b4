import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConsumedRecord, From, Subscription } from '../../client/millrace-client';
import { formatOffset, formatTime } from '../../data/format';
import { matchesKey, prependRecords } from '../../data/records';
import { client } from '../state';
import { EmptyState } from './EmptyState';
import { Field } from './Field';
import { errorText } from './Forms';

const MAX_ROWS = 500;
type Mode = 'latest' | 'earliest' | 'offset' | 'timestamp';

/**
 * A live tail of a topic: the page is itself a WebSocket consumer (a credit-based subscription of the client
 * module). Newest records first; at most 500 kept.
 */
export function LiveTail(props: { topic: string; partitions: number }) {
  const [mode, setMode] = useState<Mode>('latest');
  const [offset, setOffset] = useState('0');
  const [timestamp, setTimestamp] = useState('');
  const [partition, setPartition] = useState('');
  const [keyFilter, setKeyFilter] = useState('');
  const [rows, setRows] = useState<ConsumedRecord[]>([]);
  const [received, setReceived] = useState(0);
  const [paused, setPaused] = useState(false);
  const [status, setStatus] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);
  const [generation, setGeneration] = useState(0);
  const sub = useRef<Subscription | null>(null);

  useEffect(() => {
    let from: From = mode === 'earliest' ? 'earliest' : 'latest';
    if (mode === 'offset') from = { offset: Math.max(0, Number(offset) || 0) };
    if (mode === 'timestamp') from = { timestamp: timestamp ? new Date(timestamp).getTime() : Date.now() };
    setRows([]);
    setReceived(0);
    setPaused(false);
    setStatus(null);
    const subscription = client.subscribe({
      topic: props.topic, from, window: 500,
      ...(partition === '' ? {} : { partitions: [Number(partition)] }),
    }, {
      onRecords: (records) => {
        setReceived((n) => n + records.length);
        setRows((old) => prependRecords(old, records, MAX_ROWS));
      },
      onError: (error) => setStatus({ tone: 'error', text: errorText(error) }),
    });
    sub.current = subscription;
    subscription.ready.then((positions) => {
      const where = [...positions].map(([p, o]) => `p${p}@${formatOffset(o)}`).join(', ');
      setStatus({ tone: 'ok', text: `Tailing from ${describe(from)}${where ? ` (${where})` : ''}` });
    }).catch(() => { /* onError shows it */ });
    return () => {
      subscription.close();
      sub.current = null;
    };
    // Restart on "Start" (generation) or when the topic grows, so new partitions are read too.
  }, [props.topic, generation, props.partitions]);

  function togglePause() {
    const s = sub.current;
    if (!s) return;
    if (s.paused) s.resume(); else s.pause();
    setPaused(s.paused);
  }

  const shown = rows.filter((r) => matchesKey(r, keyFilter));
  return (
    <section class="card tail" data-testid="live-tail">
      <div class="card-head">
        <div class="card-title">Live tail</div>
        <div class="tail-stats muted small" data-testid="tail-count">
          {received} received{keyFilter ? `, ${shown.length} shown` : ''}
        </div>
      </div>
      <form class="form-row tail-controls" onSubmit={(e) => { e.preventDefault(); setGeneration((g) => g + 1); }}>
        <Field label="Start from">
          <select name="from" value={mode} onChange={(e) => setMode(e.currentTarget.value as Mode)}>
            <option value="latest">Latest (new records)</option>
            <option value="earliest">Earliest</option>
            <option value="offset">Offset…</option>
            <option value="timestamp">Time…</option>
          </select>
        </Field>
        {mode === 'offset' && (
          <Field label="Offset">
            <input name="offset" type="number" min={0} value={offset} onInput={(e) => setOffset(e.currentTarget.value)} />
          </Field>
        )}
        {mode === 'timestamp' && (
          <Field label="Time">
            <input name="timestamp" type="datetime-local" step={1} value={timestamp}
                   onInput={(e) => setTimestamp(e.currentTarget.value)} />
          </Field>
        )}
        <Field label="Partition">
          <select name="partition" value={partition} onChange={(e) => setPartition(e.currentTarget.value)}>
            <option value="">all</option>
            {Array.from({ length: props.partitions }, (_, i) => <option value={String(i)}>{i}</option>)}
          </select>
        </Field>
        <button class="btn" type="submit">Start</button>
        <button class="btn" type="button" onClick={togglePause} data-testid="tail-pause">
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button class="btn btn-ghost" type="button" onClick={() => { setRows([]); setReceived(0); }}>Clear</button>
        <Field label="Filter by key" grow>
          <input name="keyFilter" type="search" placeholder="key contains…" value={keyFilter}
                 onInput={(e) => setKeyFilter(e.currentTarget.value)} />
        </Field>
      </form>
      {status && <div class={`tail-status ${status.tone}`} role={status.tone === 'error' ? 'alert' : 'status'}>
        {paused && status.tone === 'ok' ? 'Paused — records wait on the broker until you resume.' : status.text}
      </div>}
      {shown.length === 0 ? (
        <EmptyState compact title={rows.length === 0 ? 'Waiting for records…' : 'No record matches the key filter'}
                    tone="empty">
          {rows.length === 0 ? 'New records appear here as they are written.' : `${rows.length} records hidden.`}
        </EmptyState>
      ) : (
        <div class="table-wrap tail-table">
          <table class="table" data-testid="tail-table">
            <thead>
              <tr><th class="num">Partition</th><th class="num">Offset</th><th class="col-time">Time</th><th>Key</th><th>Value</th>
                <th class="col-headers">Headers</th></tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={`${r.partition}:${r.offset}`}>
                  <td class="num">{r.partition}</td>
                  <td class="num mono">{formatOffset(r.offset)}</td>
                  <td class="mono nowrap col-time" title={formatTime(r.timestamp)}>{formatTime(r.timestamp).slice(11)}</td>
                  <td class="mono nowrap key-cell" title={r.key ?? ''}>{r.key ?? <span class="muted">null</span>}</td>
                  <td class="mono value-cell" title={r.value ?? ''}>{r.value ?? <span class="muted">null</span>}</td>
                  <td class="mono small col-headers">{r.headers.length === 0 ? <span class="muted">—</span>
                    : r.headers.map((h) => `${h.key}=${h.value ?? ''}`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function describe(from: From): string {
  if (typeof from === 'string') return from;
  if ('offset' in from) return `offset ${formatOffset(from.offset)}`;
  return formatTime(from.timestamp);
}
