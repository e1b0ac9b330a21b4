import { useState } from 'preact/hooks';
import {
  ReassignmentApi, describeStatus, moveKey, moveStatus, type MoveProgress, type PlannedMove,
} from '../../data/reassignments';
import { useReassignments } from '../state';
import { EmptyState } from './EmptyState';
import { FormResult } from './Field';
import { Replicas } from './PartitionTable';
import { errorText } from './Forms';

type Result = { ok: boolean; text: string } | null;

/**
 * Planning, starting and cancelling go to the broker that served the page (any broker answers them, and another
 * broker's origin would need CORS); only the election goes to the controller.
 */
const api = new ReassignmentApi();

/** Four segments, one per step of a move: done, the current one, still ahead. */
function StepBar(props: { move: MoveProgress }) {
  const status = moveStatus(props.move);
  return (
    <div class="move-progress" title={describeStatus(status)}>
      <div class="steps" role="progressbar" aria-valuemin={0} aria-valuemax={status.steps}
           aria-valuenow={status.stepsDone} aria-valuetext={describeStatus(status)}>
        {Array.from({ length: status.steps }, (_, i) => (
          <span class={i < status.stepsDone ? 'step done' : i === status.step - 1 ? 'step now' : 'step'} />
        ))}
      </div>
      <span class="muted small">{describeStatus(status)}</span>
    </div>
  );
}

/**
 * Every partition moving between brokers, asked for every second: from where to where, the controller's step, which
 * new replicas are in sync, and a button that sends the partition back to where it started.
 */
export function ReassignmentsPanel(props: ReturnType<typeof useReassignments>) {
  const [cancelling, setCancelling] = useState<string | null>(null);
  const [result, setResult] = useState<Result>(null);
  const { moves, error } = props;

  async function cancel(move: MoveProgress) {
    setCancelling(moveKey(move));
    setResult(null);
    try {
      await api.cancel(move);
      setResult({ ok: true, text: `Cancelled the move of ${moveKey(move)}: it goes back to [${move.original.join(', ')}].` });
      props.refresh();
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setCancelling(null);
    }
  }

  return (
    <section class="card" data-testid="reassignments-panel">
      <div class="card-head">
        <div class="card-title">Reassignments</div>
        {moves && <span class="muted small" data-testid="reassignments-count">
          {moves.length === 0 ? 'none running' : `${moves.length} running`} · live</span>}
      </div>
      {error && (
        <div class="form-result error" role="status" data-testid="reassignments-error">
          Cannot read the moves in progress ({errorText(error)}){moves ? '; showing the last answer.' : '.'}
        </div>
      )}
      {!moves ? (
        !error && <EmptyState compact title="Loading reassignments…" tone="loading" />
      ) : moves.length === 0 ? (
        <EmptyState compact title="No reassignment running" testId="no-reassignments">
          Start one with Rebalance below, <code>bin/millrace reassign</code> or <code>POST /api/reassignments</code>.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table" data-testid="reassignments-table">
            <thead>
              <tr><th>Partition</th><th>From</th><th>To</th><th>Phase</th><th>Progress</th>
                <th title="the leader highlighted, replicas not in sync yet struck through">Replicas now</th><th /></tr>
            </thead>
            <tbody>
              {moves.map((m) => (
                <tr data-move={moveKey(m)}>
                  <td class="mono">{m.topic}-{m.partition}</td>
                  <td><Replicas ids={m.original} /></td>
                  <td><Replicas ids={m.target} /></td>
                  <td><span class="badge badge-info" data-testid="move-phase">{moveStatus(m).phaseName}</span></td>
                  <td><StepBar move={m} /></td>
                  <td><Replicas ids={m.replicas} leader={m.leader} isr={m.isr} /></td>
                  <td class="num">
                    <button class="btn btn-ghost" type="button" disabled={cancelling !== null}
                            data-testid={`cancel-${moveKey(m)}`} onClick={() => cancel(m)}>
                      {cancelling === moveKey(m) ? 'Cancelling…' : 'Cancel'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <FormResult result={result} testId="reassignment-result" />
    </section>
  );
}

/** A plan entry beside the partition's replicas now (absent when its topic could not be described). */
interface PlanRow extends PlannedMove {
  current?: number[];
}

/** The current replicas of each planned partition, one description per topic; a failed description leaves them out. */
async function withCurrentReplicas(plan: PlannedMove[]): Promise<PlanRow[]> {
  const topics = [...new Set(plan.map((m) => m.topic))];
  const described = await Promise.all(topics.map((t) => api.replicasOf(t).catch(() => undefined)));
  const byTopic = new Map(topics.map((t, i) => [t, described[i]]));
  return plan.map((m) => ({ ...m, current: byTopic.get(m.topic)?.get(m.partition) }));
}

/**
 * Rebalance: asks the broker for a plan that spreads replicas and preferred leaders evenly, shows what would move,
 * and starts it on Apply. Beside it, a preferred leader election.
 */
export function RebalanceCard(props: { onStarted: () => void }) {
  const [plan, setPlan] = useState<PlanRow[] | null>(null);
  const [busy, setBusy] = useState<'plan' | 'apply' | 'elect' | null>(null);
  const [result, setResult] = useState<Result>(null);

  async function run(what: 'plan' | 'apply' | 'elect', action: () => Promise<void>) {
    setBusy(what);
    setResult(null);
    try {
      await action();
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(null);
    }
  }

  const fetchPlan = () => run('plan', async () => {
    setPlan(null);
    setPlan(await withCurrentReplicas(await api.rebalancePlan()));
  });

  const apply = () => run('apply', async () => {
    const started = await api.start(plan ?? []);
    setPlan(null);
    setResult({ ok: true, text: started.length === 0 ? 'Nothing to move: every partition is already where the plan puts it.'
      : `Started ${started.length} ${started.length === 1 ? 'move' : 'moves'}; follow them under Reassignments.` });
    props.onStarted();
  });

  const elect = () => run('elect', async () => {
    const moved = await api.electPreferredLeaders();
    setResult({ ok: true, text: moved === 0 ? 'Every partition is already led by its preferred replica.'
      : `Leadership moved to the preferred replica of ${moved} ${moved === 1 ? 'partition' : 'partitions'}.` });
  });

  return (
    <section class="card form" data-testid="rebalance-card">
      <div class="card-title">Rebalance</div>
      <p class="muted small">A plan spreads every partition's replicas, then preferred leaders, evenly over the live
        brokers, moving as few replicas as it can. Nothing moves until you apply it; moves run online.</p>
      <div class="form-actions">
        <button class="btn" type="button" disabled={busy !== null} data-testid="rebalance-plan-button" onClick={fetchPlan}>
          {busy === 'plan' ? 'Planning…' : 'Plan rebalance'}
        </button>
        <button class="btn" type="button" disabled={busy !== null} data-testid="preferred-leader-button" onClick={elect}>
          {busy === 'elect' ? 'Electing…' : 'Preferred leader election'}
        </button>
      </div>
      {plan && (plan.length === 0 ? (
        <div class="form-result ok" role="status" data-testid="rebalance-plan">
          Already balanced: the plan moves nothing.
        </div>
      ) : (
        <div data-testid="rebalance-plan" class="form">
          <div class="card-head">
            <strong data-testid="rebalance-plan-count">
              {plan.length} {plan.length === 1 ? 'partition' : 'partitions'} would move
            </strong>
            <div class="form-actions">
              <button class="btn btn-ghost" type="button" disabled={busy !== null} onClick={() => setPlan(null)}>
                Discard
              </button>
              <button class="btn btn-primary" type="button" disabled={busy !== null} data-testid="rebalance-apply"
                      onClick={apply}>{busy === 'apply' ? 'Starting…' : 'Apply'}</button>
            </div>
          </div>
          <div class="table-wrap plan-list">
            <table class="table">
              <thead><tr><th>Partition</th><th>Replicas now</th><th>Replicas after</th></tr></thead>
              <tbody>
                {plan.map((m) => (
                  <tr data-plan={moveKey(m)}>
                    <td class="mono">{m.topic}-{m.partition}</td>
                    <td>{m.current ? <Replicas ids={m.current} /> : <span class="muted">—</span>}</td>
                    <td><Replicas ids={m.replicas} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
      <FormResult result={result} testId="rebalance-result" />
    </section>
  );
}
