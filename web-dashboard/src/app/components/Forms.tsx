import { useState } from 'preact/hooks';
import { MillraceError, type TopicDescription } from '../../client/millrace-client';
import type { TopicFigures } from '../../data/stats';
import { client } from '../state';
import { Field, FormResult } from './Field';

type Result = { ok: boolean; text: string } | null;

export function errorText(e: unknown): string {
  if (e instanceof MillraceError) {
    return e.code === 'DISCONNECTED' ? 'The connection dropped before the broker answered; check and retry.'
      : `${e.code}: ${e.message}`;
  }
  return String(e);
}

export function CreateTopicForm(props: { onCreated?: (t: TopicDescription) => void }) {
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('3');
  const [rf, setRf] = useState('1');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    try {
      const topic = await client.createTopic({ name: name.trim(), partitions: Number(partitions),
        replicationFactor: Number(rf) });
      setResult({ ok: true, text: `Created ${topic.name} with ${topic.partitions.length} partition(s).` });
      setName('');
      props.onCreated?.(topic);
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card form" onSubmit={submit} data-testid="create-topic-form">
      <div class="card-title">Create topic</div>
      <div class="form-row">
        <Field label="Name" grow>
          <input name="name" required maxLength={249} pattern="[a-zA-Z0-9._\-]+" placeholder="orders"
                 title="1-249 characters: letters, digits, '.', '_' and '-'" value={name}
                 onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Partitions">
          <input name="partitions" type="number" min={1} max={10000} required value={partitions}
                 onInput={(e) => setPartitions(e.currentTarget.value)} />
        </Field>
        <Field label="Replication">
          <input name="replicationFactor" type="number" min={1} max={32} required value={rf}
                 onInput={(e) => setRf(e.currentTarget.value)} />
        </Field>
        <button class="btn btn-primary" type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create'}</button>
      </div>
      <FormResult result={result} />
    </form>
  );
}

export function AddPartitionsForm(props: { topics: TopicFigures[]; fixedTopic?: string }) {
  const [topic, setTopic] = useState(props.fixedTopic ?? '');
  const [total, setTotal] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result>(null);
  const chosen = props.fixedTopic ?? (topic || props.topics[0]?.name || '');
  const current = props.topics.find((t) => t.name === chosen)?.partitionCount ?? 0;

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    try {
      const updated = await client.addPartitions(chosen, Number(total));
      setResult({ ok: true, text: `${updated.name} now has ${updated.partitions.length} partitions.` });
      setTotal('');
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  if (props.topics.length === 0) {
    return (
      <div class="card form">
        <div class="card-title">Add partitions</div>
        <p class="muted">Create a topic first.</p>
      </div>
    );
  }
  return (
    <form class="card form" onSubmit={submit} data-testid="add-partitions-form">
      <div class="card-title">Add partitions</div>
      <div class="form-row">
        {!props.fixedTopic && (
          <Field label="Topic" grow>
            <select name="topic" value={chosen} onChange={(e) => setTopic(e.currentTarget.value)}>
              {props.topics.map((t) => <option value={t.name}>{t.name}</option>)}
            </select>
          </Field>
        )}
        <Field label="New total" hint={`now ${current}; partitions are never removed`}>
          <input name="partitions" type="number" min={current + 1} max={10000} required value={total}
                 placeholder={String(current + 1)} onInput={(e) => setTotal(e.currentTarget.value)} />
        </Field>
        <button class="btn" type="submit" disabled={busy}>{busy ? 'Adding…' : 'Add'}</button>
      </div>
      <FormResult result={result} />
    </form>
  );
}

export function ProduceForm(props: { topic: string; partitions: number }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [headers, setHeaders] = useState('');
  const [partition, setPartition] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    try {
      const parsed: Record<string, string> = {};
      for (const line of headers.split('\n').map((l) => l.trim()).filter(Boolean)) {
        const at = line.indexOf('=');
        if (at <= 0) throw new MillraceError('INVALID_REQUEST', `Header "${line}" must look like name=value`);
        parsed[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      const [meta] = await client.produce(props.topic, {
        key: key === '' ? null : key, value, headers: parsed,
        ...(partition === '' ? {} : { partition: Number(partition) }),
      });
      setResult({ ok: true, text: `Written to partition ${meta.partition} at offset ${meta.offset}.` });
      setValue('');
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card form" onSubmit={submit} data-testid="produce-form">
      <div class="card-title">Produce a record</div>
      <div class="form-row">
        <Field label="Key" hint="optional; same key, same partition" grow>
          <input name="key" value={key} placeholder="customer-42" onInput={(e) => setKey(e.currentTarget.value)} />
        </Field>
        <Field label="Partition">
          <select name="partition" value={partition} onChange={(e) => setPartition(e.currentTarget.value)}>
            <option value="">auto</option>
            {Array.from({ length: props.partitions }, (_, i) => <option value={String(i)}>{i}</option>)}
          </select>
        </Field>
      </div>
      <Field label="Value">
        <textarea name="value" rows={3} value={value} placeholder='{"amount": 42}'
                  onInput={(e) => setValue(e.currentTarget.value)} />
      </Field>
      <Field label="Headers" hint="one name=value per line">
        <textarea name="headers" rows={2} value={headers} placeholder="source=dashboard"
                  onInput={(e) => setHeaders(e.currentTarget.value)} />
      </Field>
      <div class="form-actions">
        <button class="btn btn-primary" type="submit" disabled={busy}>{busy ? 'Sending…' : 'Produce'}</button>
      </div>
      <FormResult result={result} />
    </form>
  );
}
