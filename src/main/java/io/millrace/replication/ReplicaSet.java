package io.millrace.replication;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The leader's view of one partition's replicas: which brokers are in sync, how far each has copied, and from that
 * the high watermark, the offset below which every in-sync replica holds the log. Consumers read only below it and
 * {@code acks=all} producers are answered once it passes their batch.
 *
 * <p>With a single broker the in-sync set is the leader alone, so the high watermark follows the log end. Followers
 * join through {@link #updateFollowerEnd}; the rules for shrinking and growing the in-sync set live here too, so the
 * partition verticle only reports facts and asks {@code maybeX} questions.
 *
 * <p>Not thread-safe: the partition verticle's context owns it.
 *
 * <p>Superseded by {@link LeaderState}; kept only until {@code PartitionVerticle} switches to it (outside this
 * package), then deleted with its test.
 */
public final class ReplicaSet {

    private final int leaderId;
    private final int leaderEpoch;
    private final Map<Integer, Long> inSyncEnds = new LinkedHashMap<>();
    private long highWatermark;

    /**
     * @param leaderId         this broker
     * @param leaderEpoch      the epoch this broker leads in
     * @param leaderEndOffset  the leader's log end offset when it took over
     * @param initialHighWatermark the high watermark it inherits (never above {@code leaderEndOffset})
     */
    public ReplicaSet(int leaderId, int leaderEpoch, long leaderEndOffset, long initialHighWatermark) {
        this.leaderId = leaderId;
        this.leaderEpoch = leaderEpoch;
        this.inSyncEnds.put(leaderId, leaderEndOffset);
        this.highWatermark = Math.min(initialHighWatermark, leaderEndOffset);
    }

    public int leaderId() {
        return leaderId;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public long highWatermark() {
        return highWatermark;
    }

    public Set<Integer> inSyncReplicas() {
        return Collections.unmodifiableSet(inSyncEnds.keySet());
    }

    /** Records the leader's new log end offset; returns whether the high watermark moved. */
    public boolean updateLeaderEnd(long logEndOffset) {
        inSyncEnds.put(leaderId, logEndOffset);
        return maybeUpdateHighWatermark();
    }

    /** Records how far an in-sync follower has copied; returns whether the high watermark moved. */
    public boolean updateFollowerEnd(int brokerId, long logEndOffset) {
        if (!inSyncEnds.containsKey(brokerId)) {
            return false;
        }
        inSyncEnds.put(brokerId, logEndOffset);
        return maybeUpdateHighWatermark();
    }

    /** After a truncation of the leader's own log (never above what followers hold in a correct protocol). */
    public void resetLeaderEnd(long logEndOffset) {
        inSyncEnds.put(leaderId, logEndOffset);
        highWatermark = Math.min(highWatermark, logEndOffset);
        maybeUpdateHighWatermark();
    }

    /** The high watermark is the smallest end offset in the in-sync set; it never moves backwards. */
    private boolean maybeUpdateHighWatermark() {
        long min = Long.MAX_VALUE;
        for (long end : inSyncEnds.values()) {
            min = Math.min(min, end);
        }
        if (min > highWatermark) {
            highWatermark = min;
            return true;
        }
        return false;
    }
}
