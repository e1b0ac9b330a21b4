/**
 * Moving partitions between brokers, as the dashboard shows and starts it: the REST answers of
 * `GET|POST /api/reassignments`, `DELETE /api/reassignments/{topic}/{partition}`, `GET /api/cluster/rebalance-plan` and
 * `POST /api/cluster/preferred-leader-election` (docs/PROTOCOL.md, "Growing and shrinking the cluster"), parsed and
 * checked, and what a move's phase means to a person.
 */
import { MillraceError } from '../client/millrace-client';

/** One entry of a plan: the partition is to have exactly `replicas`, the first its preferred leader. */
export interface PlannedMove {
  topic: string;
  partition: number;
  replicas: number[];
}

/** The controller's steps of a move, in order (MoveProgress.phase on the broker). */
export type Phase = 'ADD' | 'CATCH_UP' | 'LEAD' | 'DROP' | 'DONE';

const PHASES: readonly Phase[] = ['ADD', 'CATCH_UP', 'LEAD', 'DROP', 'DONE'];

const PHASE_NAMES: Record<Phase, string> = {
  ADD: 'adding replicas',
  CATCH_UP: 'catching up',
  LEAD: 'moving leadership',
  DROP: 'dropping old replicas',
  DONE: 'finishing',
};

/** One move in progress, as `GET /api/reassignments` reports it. */
export interface MoveProgress {
  topic: string;
  partition: number;
  /** The replicas before the move: where a cancel sends the partition back. */
  original: number[];
  target: number[];
  /** The replicas now: during the move, the original and the target together. */
  replicas: number[];
  isr: number[];
  /** -1 while the partition has no leader. */
  leader: number;
  phase: Phase;
  /** Target replicas not in the in-sync set yet. */
  adding: number[];
  /** Current replicas that are not in the target. */
  removing: number[];
}

/**
 * How far a move is, from what the broker reports: which of the four steps it is in, and how many of the replicas it
 * adds are in sync. The broker does not report bytes copied, so there is no percentage to show.
 */
export interface MoveStatus {
  /** 1-based: 1 adding, 2 catching up, 3 moving leadership, 4 dropping old replicas (also while finishing). */
  step: number;
  steps: number;
  /** Steps already behind the move. */
  stepsDone: number;
  phaseName: string;
  /** The replicas the move adds (in the target, not in the original) and how many of them are in sync now. */
  newReplicas: number;
  newInSync: number;
}

export const MOVE_STEPS = 4;

export function phaseName(phase: string): string {
  return PHASE_NAMES[phase as Phase] ?? phase.toLowerCase().replace(/_/g, ' ');
}

export function moveStatus(move: MoveProgress): MoveStatus {
  const index = PHASES.indexOf(move.phase);
  const step = Math.min(MOVE_STEPS, Math.max(1, index + 1));
  const added = move.target.filter((id) => !move.original.includes(id));
  return {
    step,
    steps: MOVE_STEPS,
    stepsDone: move.phase === 'DONE' ? MOVE_STEPS : step - 1,
    phaseName: phaseName(move.phase),
    newReplicas: added.length,
    newInSync: added.filter((id) => move.isr.includes(id)).length,
  };
}

/** "step 2 of 4 · 1 of 2 new replicas in sync": what the panel writes beside the step bar. */
export function describeStatus(status: MoveStatus): string {
  const sync = status.newReplicas === 0 ? 'no new replicas'
    : `${status.newInSync} of ${status.newReplicas} new ${status.newReplicas === 1 ? 'replica' : 'replicas'} in sync`;
  return `step ${status.step} of ${status.steps} · ${sync}`;
}

export function moveKey(move: { topic: string; partition: number }): string {
  return `${move.topic}-${move.partition}`;
}

/** Parses `{"reassignments": [...]}`, sorted by topic then partition; throws a MillraceError on another shape. */
export function parseProgress(json: unknown): MoveProgress[] {
  const list = field(json, 'reassignments');
  if (!Array.isArray(list)) throw malformed('reassignments', json);
  return list.map((e) => {
    const phase = field(e, 'phase');
    const leader = field(e, 'leader');
    if (typeof phase !== 'string' || typeof leader !== 'number') throw malformed('reassignments', e);
    return {
      ...partitionOf(e, 'reassignments'),
      original: ids(e, 'original'),
      target: ids(e, 'target'),
      replicas: ids(e, 'replicas'),
      isr: ids(e, 'isr'),
      leader,
      phase: phase as Phase,
      adding: ids(e, 'adding'),
      removing: ids(e, 'removing'),
    };
  }).sort(byPartition);
}

/** Parses a plan, `{"partitions": [{"topic", "partition", "replicas"}]}`, in the broker's order. */
export function parsePlan(json: unknown): PlannedMove[] {
  const list = field(json, 'partitions');
  if (!Array.isArray(list)) throw malformed('plan', json);
  return list.map((e) => ({ ...partitionOf(e, 'plan'), replicas: ids(e, 'replicas') }));
}

/** The body that starts a plan: the shape the plan came in, so what was shown is what is posted. */
export function planBody(plan: PlannedMove[]): { partitions: PlannedMove[] } {
  return { partitions: plan.map((m) => ({ topic: m.topic, partition: m.partition, replicas: [...m.replicas] })) };
}

/**
 * A failed REST answer as the broker's error: `{"error": {"code", "message", "retriable"}}`, or, when the body is not
 * that (a proxy's page, say), the HTTP status.
 */
export function errorOf(status: number, body: string): MillraceError {
  try {
    const error = field(JSON.parse(body), 'error');
    const code = field(error, 'code');
    const message = field(error, 'message');
    if (typeof code === 'string' && typeof message === 'string') {
      return new MillraceError(code, message, field(error, 'retriable') === true);
    }
  } catch {
    // Not JSON: fall through to the status.
  }
  return new MillraceError(`HTTP_${status}`, body.trim().slice(0, 200) || `the broker answered ${status}`);
}

/** The parts of `fetch` the API uses, so tests can answer for the broker. */
export type FetchLike = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string;
  signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** How long a call may take before it fails with TIMEOUT: a controller busy with many moves answers slowly. */
export const REST_TIMEOUT_MS = 30_000;

/**
 * The reassignment endpoints of one broker (`base`, '' for the page's own). Every method fails with a MillraceError:
 * the broker's code and message, `TIMEOUT`, or `DISCONNECTED` when no answer came.
 */
export class ReassignmentApi {
  constructor(private readonly base = '', private readonly fetchFn: FetchLike = (url, init) => globalThis.fetch(url, init)) {}

  async list(): Promise<MoveProgress[]> {
    return parseProgress(await this.call('GET', '/api/reassignments'));
  }

  async rebalancePlan(): Promise<PlannedMove[]> {
    return parsePlan(await this.call('GET', '/api/cluster/rebalance-plan'));
  }

  /** Starts `plan`; resolves with the moves started (entries whose target is the current replicas are left out). */
  async start(plan: PlannedMove[]): Promise<PlannedMove[]> {
    return parsePlan(await this.call('POST', '/api/reassignments', planBody(plan)));
  }

  /** Sends the partition back to its replicas before the move; resolves with the number cancelled. */
  async cancel(move: { topic: string; partition: number }): Promise<number> {
    const answer = await this.call('DELETE',
      `/api/reassignments/${encodeURIComponent(move.topic)}/${move.partition}`);
    return numberField(answer, 'cancelled');
  }

  /** Resolves with the number of partitions whose leadership moved to their preferred replica. */
  async electPreferredLeaders(): Promise<number> {
    return numberField(await this.call('POST', '/api/cluster/preferred-leader-election'), 'partitionsMoved');
  }

  /** The current replicas of every partition of `topic`, by partition number. */
  async replicasOf(topic: string): Promise<Map<number, number[]>> {
    const answer = await this.call('GET', `/api/topics/${encodeURIComponent(topic)}`);
    const partitions = field(answer, 'partitions');
    if (!Array.isArray(partitions)) throw malformed('topic', answer);
    return new Map(partitions.map((p) => {
      const partition = field(p, 'partition');
      if (!Number.isInteger(partition)) throw malformed('topic', answer);
      return [partition as number, ids(p, 'replicas')];
    }));
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let response;
    try {
      response = await this.fetchFn(this.base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REST_TIMEOUT_MS),
      });
    } catch (e) {
      throw (e as Error)?.name === 'TimeoutError'
        ? new MillraceError('TIMEOUT', `no answer to ${method} ${path} within ${REST_TIMEOUT_MS / 1000} s`, true)
        : new MillraceError('DISCONNECTED', `cannot reach the broker for ${method} ${path}`, true);
    }
    const text = await response.text();
    if (!response.ok) throw errorOf(response.status, text);
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      throw new MillraceError('INVALID_RESPONSE', `${method} ${path} answered something that is not JSON`);
    }
  }
}

function byPartition(a: { topic: string; partition: number }, b: { topic: string; partition: number }): number {
  return a.topic.localeCompare(b.topic) || a.partition - b.partition;
}

function field(json: unknown, name: string): unknown {
  return json !== null && typeof json === 'object' ? (json as Record<string, unknown>)[name] : undefined;
}

function partitionOf(json: unknown, what: string): { topic: string; partition: number } {
  const topic = field(json, 'topic');
  const partition = field(json, 'partition');
  if (typeof topic !== 'string' || !Number.isInteger(partition) || (partition as number) < 0) {
    throw malformed(what, json);
  }
  return { topic, partition: partition as number };
}

function ids(json: unknown, name: string): number[] {
  const list = field(json, name);
  if (!Array.isArray(list) || !list.every((id) => Number.isInteger(id) && id >= 0)) {
    throw malformed(`'${name}'`, json);
  }
  return list as number[];
}

function numberField(json: unknown, name: string): number {
  const value = field(json, name);
  if (typeof value !== 'number') throw malformed(`'${name}'`, json);
  return value;
}

function malformed(what: string, json: unknown): MillraceError {
  return new MillraceError('INVALID_RESPONSE', `unexpected ${what} in the broker's answer: ${JSON.stringify(json)}`);
}
