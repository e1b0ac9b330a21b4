package io.millrace.partition;

import io.millrace.common.Acks;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.OffsetSpec;
import io.millrace.common.TopicPartition;
import io.millrace.record.RecordBatch;

/**
 * What a partition verticle is asked over the event bus. Same-node requests travel as these objects without being
 * serialized (see {@link LocalCodec}).
 *
 * <p>The client requests that only a leader serves (produce, fetch, list offsets) carry {@code currentLeaderEpoch}:
 * the epoch the client believes the leader has, or {@link LeaderEpoch#UNKNOWN} for no check. The verticle checks it
 * before anything else: older than its own epoch is FENCED_LEADER_EPOCH, newer is NOT_LEADER (it has not learned the
 * new state yet), and neither touches the log.
 */
public sealed interface PartitionRequest {

    /**
     * Append one batch as leader.
     *
     * @param batch a whole RecordBatch v2; the verticle rewrites its offsets in place, so the sender must not reuse it
     */
    record Produce(RecordBatch batch, Acks acks, int currentLeaderEpoch) implements PartitionRequest {

        /** A produce that goes by the partition's own state (no epoch check). */
        public Produce(RecordBatch batch, Acks acks) {
            this(batch, acks, LeaderEpoch.UNKNOWN);
        }
    }

    /**
     * Read committed records from {@code offset}. If none are there yet, wait up to {@code maxWaitMs} for some.
     *
     * @param fetchId     names a waiting fetch so that its sender can withdraw it with {@link CancelFetch}: unique
     *                    among the sender's fetches, or {@link #UNNAMED} for a fetch that is never withdrawn
     * @param anyInSync   whether an in-sync follower may answer too, up to the high watermark it has heard from its
     *                    leader (Kafka's fetch from follower): in the leader's epoch ({@code currentLeaderEpoch} is
     *                    checked as a leader checks it), from an offset within its log
     */
    record Fetch(long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch, long fetchId, boolean anyInSync)
            implements PartitionRequest {

        /** The id of a fetch that cannot be withdrawn. */
        public static final long UNNAMED = 0;

        /** A fetch that only the leader answers. */
        public Fetch(long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch, long fetchId) {
            this(offset, maxBytes, maxWaitMs, currentLeaderEpoch, fetchId, false);
        }

        /** A fetch that cannot be withdrawn. */
        public Fetch(long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch) {
            this(offset, maxBytes, maxWaitMs, currentLeaderEpoch, UNNAMED);
        }

        /** A fetch that goes by the partition's own state (no epoch check) and cannot be withdrawn. */
        public Fetch(long offset, int maxBytes, long maxWaitMs) {
            this(offset, maxBytes, maxWaitMs, LeaderEpoch.UNKNOWN);
        }
    }

    /**
     * Withdraw the waiting {@link Fetch} named {@code fetchId}: its reader went away (unsubscribed, closed), so it
     * must not hold one of the partition's {@code partition.max.fetch.waiters} slots until its wait runs out. The
     * fetch is answered at once with no records; a fetch already answered is not affected. Sent without expecting a
     * reply.
     */
    record CancelFetch(long fetchId) implements PartitionRequest {
    }

    /** Resolve a start position to an offset. */
    record ListOffset(OffsetSpec spec, int currentLeaderEpoch) implements PartitionRequest {

        /** A lookup that goes by the partition's own state (no epoch check). */
        public ListOffset(OffsetSpec spec) {
            this(spec, LeaderEpoch.UNKNOWN);
        }
    }

    /** Report the partition's state. */
    record Describe() implements PartitionRequest {
    }

    /**
     * Where {@code leaderEpoch} ended in the leader's log (Kafka's OffsetForLeaderEpoch from a client): answered by
     * the leader only, in {@code currentLeaderEpoch} unless that is {@link LeaderEpoch#UNKNOWN}, with an
     * {@link io.millrace.common.EpochEndOffset}.
     */
    record EndOffsetForEpoch(int leaderEpoch, int currentLeaderEpoch) implements PartitionRequest {
    }

    /** Start a new segment at the log end (nothing happens when the active segment is empty); answers a Status. */
    record Roll() implements PartitionRequest {
    }

    /**
     * Delete the whole segments below {@code offset}, which must not exceed the high watermark: for an owner that
     * has rewritten what they held at or after it (the offsets topic's snapshot). Answers a Status.
     */
    record DeleteSegmentsBefore(long offset) implements PartitionRequest {
    }

    /**
     * Move the log start offset to {@code offset}, or to the high watermark for {@link #HIGH_WATERMARK} (Kafka's
     * DeleteRecords): reads below it become OFFSET_OUT_OF_RANGE and whole segments below it are deleted. An offset
     * above the high watermark, or negative other than {@link #HIGH_WATERMARK}, is OFFSET_OUT_OF_RANGE; one at or
     * below the current start changes nothing. Answers a Status carrying the new log start offset.
     */
    record DeleteRecords(long offset) implements PartitionRequest {

        /** Asks to delete every committed record. */
        public static final long HIGH_WATERMARK = -1;
    }

    /**
     * A follower on broker {@code replicaId} copies the leader's log from {@code fetchOffset} (its log end); the
     * epoch of its last record lets the leader find where their logs diverge; {@code leaderEpoch} is the epoch the
     * follower believes the leader has (a stale one is fenced). {@code highWatermark} is the one the follower last
     * heard: a caught-up fetch waits at the leader only while that is still current, so a follower learns each new
     * high watermark one round trip after it moves (it serves reads up to it). Crosses brokers with
     * {@link ReplicationCodec}.
     */
    record ReplicaFetch(TopicPartition topicPartition, int replicaId, int leaderEpoch, long fetchOffset,
                        int lastFetchedEpoch, int maxBytes, long maxWaitMs, long highWatermark)
            implements PartitionRequest {
    }
}
