import { describe, expect, it } from 'vitest';
import { MillraceError } from '../src/client/millrace-client';
import {
  ReassignmentApi, describeStatus, errorOf, moveStatus, parsePlan, parseProgress, phaseName, type FetchLike,
  type MoveProgress,
} from '../src/data/reassignments';

/** A move of orders-0 from [1, 2] to [3, 2] in `phase`, with `isr` in sync. */
function move(phase: MoveProgress['phase'], isr: number[]): MoveProgress {
  return { topic: 'orders', partition: 0, original: [1, 2], target: [3, 2], replicas: [1, 2, 3], isr, leader: 1, phase,
    adding: [3].filter((id) => !isr.includes(id)), removing: [1] };
}

/** A fetch that answers each call with the next of `answers` and records what was asked. */
function broker(...answers: { status: number; body: string }[]): { fetch: FetchLike; calls: { url: string;
    method?: string; body?: string }[] } {
  const calls: { url: string; method?: string; body?: string }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, method: init?.method, body: init?.body });
    const answer = answers.shift()!;
    return { ok: answer.status < 300, status: answer.status, text: async () => answer.body };
  };
  return { fetch, calls };
}

describe('parseProgress', () => {
  it('reads the broker\'s answer, sorted by topic and partition', () => {
    const entry = (topic: string, partition: number) => ({ topic, partition, original: [1], target: [2],
      replicas: [1, 2], isr: [1], leader: 1, phase: 'CATCH_UP', adding: [2], removing: [1] });
    const moves = parseProgress({ reassignments: [entry('b', 0), entry('a', 10), entry('a', 2)] });
    expect(moves.map((m) => `${m.topic}-${m.partition}`)).toEqual(['a-2', 'a-10', 'b-0']);
    expect(moves[0]).toMatchObject({ original: [1], target: [2], replicas: [1, 2], isr: [1], leader: 1,
      phase: 'CATCH_UP', adding: [2], removing: [1] });
  });

  it('reads no moves as an empty list and refuses another shape', () => {
    expect(parseProgress({ reassignments: [] })).toEqual([]);
    expect(() => parseProgress({ moves: [] })).toThrow(MillraceError);
    expect(() => parseProgress({ reassignments: [{ topic: 'a', partition: 0, phase: 'ADD', leader: 1 }] }))
      .toThrow(/original/);
    expect(() => parseProgress({ reassignments: [{ topic: 'a', partition: -1, phase: 'ADD', leader: 1,
      original: [], target: [], replicas: [], isr: [], adding: [], removing: [] }] })).toThrow(MillraceError);
  });
});

describe('parsePlan', () => {
  it('keeps the broker\'s order and checks each entry', () => {
    const plan = parsePlan({ version: 1, partitions: [{ topic: 'b', partition: 1, replicas: [3, 1] },
      { topic: 'a', partition: 0, replicas: [2] }] });
    expect(plan).toEqual([{ topic: 'b', partition: 1, replicas: [3, 1] }, { topic: 'a', partition: 0, replicas: [2] }]);
    expect(parsePlan({ version: 1, partitions: [] })).toEqual([]);
    expect(() => parsePlan({ partitions: [{ topic: 'a', partition: 0, replicas: ['2'] }] })).toThrow(/replicas/);
  });
});

describe('moveStatus', () => {
  it('names every phase and counts the steps behind', () => {
    expect(['ADD', 'CATCH_UP', 'LEAD', 'DROP', 'DONE'].map(phaseName)).toEqual(['adding replicas', 'catching up',
      'moving leadership', 'dropping old replicas', 'finishing']);
    expect(phaseName('SOMETHING_NEW')).toBe('something new');
    expect(moveStatus(move('ADD', [1, 2]))).toMatchObject({ step: 1, stepsDone: 0, steps: 4 });
    expect(moveStatus(move('CATCH_UP', [1, 2]))).toMatchObject({ step: 2, stepsDone: 1 });
    expect(moveStatus(move('LEAD', [1, 2, 3]))).toMatchObject({ step: 3, stepsDone: 2 });
    expect(moveStatus(move('DROP', [1, 2, 3]))).toMatchObject({ step: 4, stepsDone: 3 });
    expect(moveStatus(move('DONE', [2, 3]))).toMatchObject({ step: 4, stepsDone: 4 });
  });

  it('counts only the replicas the move adds, and which of them are in sync', () => {
    expect(moveStatus(move('CATCH_UP', [1, 2]))).toMatchObject({ newReplicas: 1, newInSync: 0 });
    expect(moveStatus(move('LEAD', [1, 2, 3]))).toMatchObject({ newReplicas: 1, newInSync: 1 });
    expect(describeStatus(moveStatus(move('CATCH_UP', [1, 2])))).toBe('step 2 of 4 · 0 of 1 new replica in sync');
    const shrink = { ...move('DROP', [1, 2]), target: [1] };
    expect(describeStatus(moveStatus(shrink))).toBe('step 4 of 4 · no new replicas');
  });
});

describe('errorOf', () => {
  it('reads the broker\'s error body, else says the status', () => {
    const e = errorOf(400, JSON.stringify({ error: { code: 'INVALID_REPLICA_ASSIGNMENT', message: 'broker 9 is not alive',
      retriable: false } }));
    expect([e.code, e.message, e.retriable]).toEqual(['INVALID_REPLICA_ASSIGNMENT', 'broker 9 is not alive', false]);
    expect(errorOf(502, '<html>Bad gateway</html>').code).toBe('HTTP_502');
    expect(errorOf(503, '').message).toBe('the broker answered 503');
  });
});

describe('ReassignmentApi', () => {
  it('posts the plan it was shown and reads the moves started', async () => {
    const answer = { version: 1, partitions: [{ topic: 'a/b', partition: 2, replicas: [3] }] };
    const { fetch, calls } = broker({ status: 200, body: JSON.stringify(answer) });
    const started = await new ReassignmentApi('http://b1:8080', fetch).start(answer.partitions);
    expect(started).toEqual(answer.partitions);
    expect(calls[0]).toMatchObject({ url: 'http://b1:8080/api/reassignments', method: 'POST' });
    expect(JSON.parse(calls[0].body!)).toEqual({ partitions: answer.partitions });
  });

  it('cancels one move by its encoded topic and partition', async () => {
    const { fetch, calls } = broker({ status: 200, body: '{"cancelled":1}' });
    expect(await new ReassignmentApi('', fetch).cancel({ topic: 'a b', partition: 4 })).toBe(1);
    expect(calls[0]).toMatchObject({ url: '/api/reassignments/a%20b/4', method: 'DELETE' });
  });

  it('fails with the broker\'s code and message', async () => {
    const { fetch } = broker({ status: 404, body: JSON.stringify({ error: { code: 'NO_REASSIGNMENT_IN_PROGRESS',
      message: 'orders-0 is not moving', retriable: false } }) });
    await expect(new ReassignmentApi('', fetch).cancel({ topic: 'orders', partition: 0 }))
      .rejects.toMatchObject({ code: 'NO_REASSIGNMENT_IN_PROGRESS', message: 'orders-0 is not moving' });
  });

  it('says DISCONNECTED when no answer comes, and reads the election\'s count', async () => {
    const down: FetchLike = async () => { throw new TypeError('fetch failed'); };
    await expect(new ReassignmentApi('', down).list()).rejects.toMatchObject({ code: 'DISCONNECTED' });
    const { fetch, calls } = broker({ status: 200, body: '{"partitionsMoved":3}' });
    expect(await new ReassignmentApi('', fetch).electPreferredLeaders()).toBe(3);
    expect(calls[0]).toMatchObject({ url: '/api/cluster/preferred-leader-election', method: 'POST' });
  });

  it('reads a topic\'s current replicas by partition', async () => {
    const { fetch } = broker({ status: 200, body: JSON.stringify({ name: 't', partitions: [
      { partition: 0, replicas: [1, 2], leader: 1 }, { partition: 1, replicas: [2, 3], leader: 2 }] }) });
    expect(await new ReassignmentApi('', fetch).replicasOf('t')).toEqual(new Map([[0, [1, 2]], [1, [2, 3]]]));
  });
});
