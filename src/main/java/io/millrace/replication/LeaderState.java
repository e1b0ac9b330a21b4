package io.millrace.replication;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The leader's bookkeeping for one partition during one leader epoch: how far each follower has copied, when each
 * was last caught up, the in-sync replica set (ISR) with at most one change in flight, and from these the high
 * watermark, the offset below which every member of the ISR holds the log. Consumers read only below it and
 * {@code acks=all} producers are answered once it passes their batch.
 *
 * <p>The rules are Kafka's ({@code Partition}, {@code Replica}, and KIP-497's AlterIsr with its "maximal ISR"):
 * <ul>
 *   <li><b>High watermark</b>: the smallest log end over the {@linkplain #maximalIsr() maximal ISR} (the committed
 *       ISR plus any member a pending proposal adds); it never moves back. A follower whose end is not yet known
 *       (it has not fetched in this epoch) holds it where it is.</li>
 *   <li><b>Caught up</b>: a follower is caught up at a fetch whose offset reaches the leader's log end; a fetch that
 *       reaches the leader's log end as of the follower's previous fetch proves it was caught up at that previous
 *       fetch's time. A follower whose end equals the leader's end is caught up now.</li>
 *   <li><b>Shrink</b>: an ISR member other than the leader that has not been caught up for more than
 *       {@code lagTimeMaxMs} is proposed out ({@link #maybeShrinkIsr}).</li>
 *   <li><b>Expand</b>: a replica outside the ISR whose log end reaches both the high watermark and this epoch's start
 *       offset is proposed in ({@link #onFollowerFetch}). The epoch start offset matters because a new leader's
 *       high watermark can lag the old leader's: a follower at the lagging mark may still miss records the old
 *       leader acknowledged, which the new leader holds below its epoch start offset.</li>
 *   <li><b>One change at a time</b>: while a proposal is in flight no other is made; the high watermark is computed
 *       over the maximal ISR, so a shrink counts the leaving member until the metadata store has it and an
 *       expansion counts the joining member at once. Either way the controller's ISR, from which it elects the next
 *       leader, only ever holds replicas that have every record below the high watermark.</li>
 * </ul>
 *
 * <p>State transitions of the ISR change: {@code idle --proposeIsr--> pending --applyIsr | abortIsrProposal-->
 * idle}; {@link #applyIsr} is also how a change made by the controller (not proposed here) arrives, in either state.
 *
 * <p>How the partition drives it (the order the simulation test uses):
 * <ol>
 *   <li>after each append as leader: {@link #updateLeaderEnd};</li>
 *   <li>on a follower fetch whose epoch matches: {@link Divergence#check}; only if it is {@code Ok},
 *       {@link #onFollowerFetch}, then at once {@link #proposeIsr} of any expansion it returns;</li>
 *   <li>every {@code lagTimeMaxMs / 2} or so (Kafka's schedule) while {@link #inSyncFollowerBehind}:
 *       {@link #maybeShrinkIsr}, proposing what it returns;</li>
 *   <li>write a proposal to the metadata store conditionally on the partition's epoch and version; on success or
 *       when the store's ISR changes for this epoch: {@link #applyIsr}; on a failed write: {@link
 *       #abortIsrProposal};</li>
 *   <li>answer an {@code acks=all} produce once {@link #highWatermark()} passes its last offset, with
 *       NOT_ENOUGH_REPLICAS_AFTER_APPEND if {@link #maximalIsr()} then has fewer than {@code min.insync.replicas}
 *       (Kafka's {@code checkEnoughReplicasReachOffset}); refuse one up front if {@link #isr()} is smaller.</li>
 * </ol>
 *
 * <p>Not thread-safe: the partition verticle's context owns it. A new instance is made for every leader epoch.
 */
public final class LeaderState {

    /** What a follower's fetch changed, and an ISR expansion for the caller to propose when one is due. */
    public record FollowerFetch(boolean highWatermarkMoved, Optional<Set<Integer>> isrToPropose) {
    }

    /** One follower's progress as the leader saw it, in Kafka's {@code ReplicaState} terms. */
    private static final class Follower {
        long logEnd = -1;
        long leaderEndAtLastFetch = -1;
        long lastFetchMs;
        long lastCaughtUpMs;
    }

    private final int leaderId;
    private final int leaderEpoch;
    private List<Integer> replicas;
    private final long epochStartOffset;
    private final long lagTimeMaxMs;
    private final Map<Integer, Follower> followers = new LinkedHashMap<>();
    private Set<Integer> isr;
    private Set<Integer> pendingIsr;
    private long leaderEnd;
    private long highWatermark;

    /**
     * @param leaderId             this broker; must be one of {@code replicas} and in {@code isr}
     * @param leaderEpoch          the epoch this broker leads in
     * @param replicas             the partition's assigned replicas
     * @param isr                  the ISR the controller elected this leader with
     * @param leaderEndOffset      the leader's log end offset as it takes over: this epoch's start offset
     * @param initialHighWatermark the high watermark it inherits; clamped to {@code leaderEndOffset}
     * @param lagTimeMaxMs         {@code replica.lag.time.max.ms}
     * @param nowMs                the current time: ISR members count as caught up now, others as never (Kafka's
     *                             {@code resetReplicaState} on a leader change)
     */
    public LeaderState(int leaderId, int leaderEpoch, List<Integer> replicas, Set<Integer> isr,
                       long leaderEndOffset, long initialHighWatermark, long lagTimeMaxMs, long nowMs) {
        if (!replicas.contains(leaderId)) {
            throw new IllegalArgumentException("Leader " + leaderId + " is not a replica of " + replicas);
        }
        if (leaderEndOffset < 0) {
            throw new IllegalArgumentException("Negative leader end offset " + leaderEndOffset);
        }
        this.leaderId = leaderId;
        this.leaderEpoch = leaderEpoch;
        this.replicas = List.copyOf(replicas);
        this.epochStartOffset = leaderEndOffset;
        this.lagTimeMaxMs = lagTimeMaxMs;
        this.leaderEnd = leaderEndOffset;
        this.highWatermark = Math.max(0, Math.min(initialHighWatermark, leaderEndOffset));
        this.isr = validIsr(isr);
        for (int replica : this.replicas) {
            if (replica != leaderId) {
                Follower follower = new Follower();
                // Kafka uses 0 for "never"; a value far in the past keeps that true for a clock that starts at 0.
                follower.lastCaughtUpMs = this.isr.contains(replica) ? nowMs : Long.MIN_VALUE / 2;
                followers.put(replica, follower);
            }
        }
        // A leader alone in its ISR commits its whole log at once (Kafka's makeLeader does the same).
        maybeUpdateHighWatermark();
    }

    public int leaderId() {
        return leaderId;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public List<Integer> replicas() {
        return replicas;
    }

    /** The leader's log end offset when this epoch began; followers must reach it to join the ISR. */
    public long epochStartOffset() {
        return epochStartOffset;
    }

    /** The leader's log end offset as last reported. */
    public long leaderEnd() {
        return leaderEnd;
    }

    /** The committed ISR, as the metadata store holds it. */
    public Set<Integer> isr() {
        return isr;
    }

    /** The proposed ISR while a change is in flight. */
    public Optional<Set<Integer>> pendingIsr() {
        return Optional.ofNullable(pendingIsr);
    }

    /**
     * The committed ISR united with a pending proposal: what the high watermark is computed over and what
     * {@code min.insync.replicas} is checked against (Kafka's rule, safe while a change is in flight).
     */
    public Set<Integer> maximalIsr() {
        if (pendingIsr == null) {
            return isr;
        }
        Set<Integer> maximal = new LinkedHashSet<>(isr);
        maximal.addAll(pendingIsr);
        return Collections.unmodifiableSet(maximal);
    }

    /**
     * The offset below which every maximal-ISR member holds the log. Never moves back; it starts at
     * {@code min(initialHighWatermark, leaderEndOffset)} and moves at once if the ISR is the leader alone.
     */
    public long highWatermark() {
        return highWatermark;
    }

    /**
     * Records the leader's new log end offset after an append; returns whether the high watermark moved.
     *
     * <p>{@code nowMs} does not change any follower's caught-up time, as in Kafka: a follower at the old end stays
     * caught up as of its last fetch. A live follower long-polls and so fetches at least every fetch wait; one that
     * has not fetched for longer than {@code lagTimeMaxMs} before an append (dead, or stuck) leaves the ISR at the
     * next {@link #maybeShrinkIsr} instead of holding {@code acks=all} produces for another lag period.
     *
     * @throws IllegalArgumentException if the log end moves back: a leader never truncates its own log
     */
    public boolean updateLeaderEnd(long logEndOffset, long nowMs) {
        if (logEndOffset < leaderEnd) {
            throw new IllegalArgumentException(
                    "Leader log end moved back from " + leaderEnd + " to " + logEndOffset + " in epoch " + leaderEpoch);
        }
        leaderEnd = logEndOffset;
        return maybeUpdateHighWatermark();
    }

    /**
     * A follower fetched at {@code fetchOffset} (its log end). Call it only for fetches that
     * {@link Divergence#check} answered {@link Divergence.FetchCheck.Ok} (as Kafka updates follower state only when
     * there is no diverging epoch): only then is the follower's log known to match the leader's up to that offset.
     *
     * <p>Caught-up tracking is Kafka's {@code ReplicaState.updateFetchStateOrThrow}: caught up now if
     * {@code fetchOffset >= } the leader's log end; else if {@code fetchOffset >=} the leader's log end at this
     * follower's previous fetch, caught up as of that previous fetch's time.
     *
     * <p>Expansion (Kafka's {@code isFollowerInSync}): a replica outside the ISR whose log end is
     * {@code >= highWatermark()} and {@code >= epochStartOffset()} is returned as {@code isr ∪ {follower}} for the
     * caller to {@linkplain #proposeIsr propose}, unless a proposal is already in flight.
     *
     * @throws IllegalArgumentException if {@code followerId} is not a follower of this partition, or
     *                                  {@code fetchOffset} is outside {@code [0, leaderEnd()]}
     */
    public FollowerFetch onFollowerFetch(int followerId, long fetchOffset, long nowMs) {
        Follower follower = followers.get(followerId);
        if (follower == null) {
            throw new IllegalArgumentException("Broker " + followerId + " is not a follower of " + replicas
                    + " (leader " + leaderId + ")");
        }
        if (fetchOffset < 0 || fetchOffset > leaderEnd) {
            throw new IllegalArgumentException("Follower " + followerId + " fetched at " + fetchOffset
                    + " outside the leader's log [0, " + leaderEnd + "]");
        }
        if (fetchOffset >= leaderEnd) {
            follower.lastCaughtUpMs = Math.max(follower.lastCaughtUpMs, nowMs);
        } else if (follower.leaderEndAtLastFetch >= 0 && fetchOffset >= follower.leaderEndAtLastFetch) {
            follower.lastCaughtUpMs = Math.max(follower.lastCaughtUpMs, follower.lastFetchMs);
        }
        follower.leaderEndAtLastFetch = Math.max(follower.leaderEndAtLastFetch, leaderEnd);
        follower.lastFetchMs = nowMs;
        follower.logEnd = fetchOffset;

        // The high watermark first: the expansion must be judged against the one the caller acknowledges with.
        // (Kafka expands first, but marks the change pending inside the same call, so its high watermark then
        // counts the joining member; here the caller marks it, so a follower judged against a stale mark could
        // join below records just acknowledged without it. The simulation found this: seed 1526.)
        boolean highWatermarkMoved = maybeUpdateHighWatermark();
        Optional<Set<Integer>> expansion = Optional.empty();
        if (pendingIsr == null && !isr.contains(followerId) && isInSync(follower)) {
            Set<Integer> expanded = new LinkedHashSet<>(isr);
            expanded.add(followerId);
            expansion = Optional.of(ordered(expanded));
        }
        return new FollowerFetch(highWatermarkMoved, expansion);
    }

    /** Kafka's {@code isFollowerInSync}: may join the ISR. */
    private boolean isInSync(Follower follower) {
        return follower.logEnd >= highWatermark && follower.logEnd >= epochStartOffset;
    }

    /**
     * The ISR without its members (other than the leader) that are not caught up: their end is below the leader's
     * and they were last caught up more than {@code lagTimeMaxMs} before {@code nowMs} (Kafka's
     * {@code getOutOfSyncReplicas}). Empty when all are caught up or a proposal is already in flight.
     */
    public Optional<Set<Integer>> maybeShrinkIsr(long nowMs) {
        if (pendingIsr != null) {
            return Optional.empty();
        }
        Set<Integer> shrunk = new LinkedHashSet<>(isr);
        boolean anyOut = false;
        for (int member : isr) {
            if (member == leaderId) {
                continue;
            }
            Follower follower = followers.get(member);
            boolean caughtUp = follower.logEnd >= leaderEnd || nowMs - follower.lastCaughtUpMs <= lagTimeMaxMs;
            if (!caughtUp) {
                shrunk.remove(member);
                anyOut = true;
            }
        }
        return anyOut ? Optional.of(ordered(shrunk)) : Optional.empty();
    }

    /**
     * Whether an in-sync follower is behind the leader's log end. Only such a follower can be dropped by
     * {@link #maybeShrinkIsr}, so while this is false the caller need not check: nothing changes it but an append
     * ({@link #updateLeaderEnd}) or a new in-sync set ({@link #applyIsr}).
     */
    public boolean inSyncFollowerBehind() {
        for (int member : isr) {
            if (member != leaderId && followers.get(member).logEnd < leaderEnd) {
                return true;
            }
        }
        return false;
    }

    /**
     * Marks {@code proposed} as in flight; the caller writes it to the metadata store with a conditional update and
     * then calls {@link #applyIsr} or {@link #abortIsrProposal}. Propose an expansion in the same turn as the
     * {@link #onFollowerFetch} that returned it: once the high watermark has moved past the joining follower, it
     * may no longer join.
     *
     * @throws IllegalStateException    if a proposal is already in flight, or it adds a replica that is not in sync
     *                                  (its end is below the high watermark or the epoch start offset)
     * @throws IllegalArgumentException if {@code proposed} lacks the leader or names a non-replica
     */
    public void proposeIsr(Set<Integer> proposed) {
        if (pendingIsr != null) {
            throw new IllegalStateException("ISR change " + pendingIsr + " is already in flight");
        }
        Set<Integer> valid = validIsr(proposed);
        for (int member : valid) {
            if (member != leaderId && !isr.contains(member) && !isInSync(followers.get(member))) {
                throw new IllegalStateException("Replica " + member + " at " + followers.get(member).logEnd
                        + " cannot join the ISR: the high watermark is " + highWatermark + " and epoch "
                        + leaderEpoch + " started at " + epochStartOffset);
            }
        }
        pendingIsr = valid;
    }

    /**
     * The metadata store now holds {@code isr}: our proposal was written, or the controller changed it. Clears any
     * pending proposal; returns whether the high watermark moved. A member the controller added without our
     * proposal counts as caught up at {@code nowMs}, as ISR members do when a leader is elected.
     *
     * @throws IllegalArgumentException if {@code isr} lacks the leader or names a non-replica
     */
    public boolean applyIsr(Set<Integer> isr, long nowMs) {
        Set<Integer> applied = validIsr(isr);
        Set<Integer> before = maximalIsr();
        for (int member : applied) {
            if (member != leaderId && !before.contains(member)) {
                Follower follower = followers.get(member);
                follower.lastCaughtUpMs = Math.max(follower.lastCaughtUpMs, nowMs);
            }
        }
        this.isr = applied;
        this.pendingIsr = null;
        return maybeUpdateHighWatermark();
    }

    /**
     * The partition's replicas changed within this epoch (a reassignment adds replicas, then drops the old ones once
     * the new ones are in sync), with the in-sync set stored alongside. An added replica counts as never caught up
     * until it fetches, as at a leader change; a dropped one is forgotten. Clears any pending proposal (its
     * conditional write cannot succeed against the new state); returns whether the high watermark moved.
     *
     * @throws IllegalArgumentException if {@code newReplicas} lacks the leader, or {@code isr} lacks the leader or
     *                                  names a broker outside {@code newReplicas}
     */
    public boolean applyReplicas(List<Integer> newReplicas, Set<Integer> isr, long nowMs) {
        if (!newReplicas.contains(leaderId)) {
            throw new IllegalArgumentException("Leader " + leaderId + " is not a replica of " + newReplicas);
        }
        this.replicas = List.copyOf(newReplicas);
        followers.keySet().retainAll(replicas);
        for (int replica : replicas) {
            if (replica != leaderId && !followers.containsKey(replica)) {
                Follower follower = new Follower();
                follower.lastCaughtUpMs = Long.MIN_VALUE / 2;
                followers.put(replica, follower);
            }
        }
        pendingIsr = null;
        return applyIsr(isr, nowMs);
    }

    /**
     * Forgets the proposal in flight (its write failed). Without an expansion's joining member the high watermark
     * may move: read {@link #highWatermark()} afterwards.
     */
    public void abortIsrProposal() {
        pendingIsr = null;
        maybeUpdateHighWatermark();
    }

    public boolean isrUpdatePending() {
        return pendingIsr != null;
    }

    /** How far {@code followerId} has copied as of its last fetch in this epoch; -1 if unknown or not a follower. */
    public long followerEnd(int followerId) {
        Follower follower = followers.get(followerId);
        return follower == null ? -1 : follower.logEnd;
    }

    /** Every follower's end, in replica order; -1 for those that have not fetched in this epoch. */
    public Map<Integer, Long> followerEnds() {
        Map<Integer, Long> ends = new LinkedHashMap<>();
        followers.forEach((id, follower) -> ends.put(id, follower.logEnd));
        return Collections.unmodifiableMap(ends);
    }

    private boolean maybeUpdateHighWatermark() {
        long min = leaderEnd;
        for (int member : maximalIsr()) {
            if (member != leaderId) {
                min = Math.min(min, followers.get(member).logEnd);
            }
        }
        if (min > highWatermark) {
            highWatermark = min;
            return true;
        }
        return false;
    }

    private Set<Integer> validIsr(Set<Integer> candidate) {
        if (!candidate.contains(leaderId)) {
            throw new IllegalArgumentException("ISR " + candidate + " lacks the leader " + leaderId);
        }
        if (!replicas.containsAll(candidate)) {
            throw new IllegalArgumentException("ISR " + candidate + " names brokers outside the replicas " + replicas);
        }
        return ordered(candidate);
    }

    /** A copy in replica order, so that proposals and logs read the same on every run. */
    private Set<Integer> ordered(Set<Integer> members) {
        List<Integer> inOrder = new ArrayList<>();
        for (int replica : replicas) {
            if (members.contains(replica)) {
                inOrder.add(replica);
            }
        }
        return Collections.unmodifiableSet(new LinkedHashSet<>(inOrder));
    }
}
