package io.millrace.partition;

import io.millrace.storage.OpenFileBudget;

/**
 * Broker-wide limits a partition verticle applies.
 *
 * @param maxFetchWaitMs        longest a fetch may wait for data (longer requests are capped)
 * @param maxFetchWaiters       most fetches that may wait on one partition at once; more fail with BROKER_OVERLOADED
 * @param retentionCheckMs      how often retention runs
 * @param flushCheckMs          how often the {@code flush.ms} policy is checked (and the high watermark checkpointed)
 * @param replicaLagTimeMaxMs   a follower that has not caught up with the leader's log end for this long leaves the
 *                              in-sync set ({@code replica.lag.time.max.ms})
 * @param replicaFetchMaxBytes  most bytes a follower asks for per fetch ({@code replica.fetch.max.bytes})
 * @param replicaFetchWaitMaxMs how long a caught-up follower's fetch waits at the leader for new records
 *                              ({@code replica.fetch.wait.max.ms})
 * @param replicaFetchBackoffMs pause before a follower retries a failed fetch ({@code replica.fetch.backoff.ms})
 * @param openFiles             the bound on open segment files that every partition of the broker shares
 *                              ({@code log.max.open.files})
 * @param throttle              the bound on what replicas being added to this broker copy
 *                              ({@code replication.throttled.rate}), shared by every partition of the broker
 */
public record PartitionSettings(long maxFetchWaitMs, int maxFetchWaiters, long retentionCheckMs, long flushCheckMs,
                                long replicaLagTimeMaxMs, int replicaFetchMaxBytes, long replicaFetchWaitMaxMs,
                                long replicaFetchBackoffMs, OpenFileBudget openFiles, ReplicationThrottle throttle) {

    /** These settings with no replication throttle. */
    public PartitionSettings(long maxFetchWaitMs, int maxFetchWaiters, long retentionCheckMs, long flushCheckMs,
                             long replicaLagTimeMaxMs, int replicaFetchMaxBytes, long replicaFetchWaitMaxMs,
                             long replicaFetchBackoffMs, OpenFileBudget openFiles) {
        this(maxFetchWaitMs, maxFetchWaiters, retentionCheckMs, flushCheckMs, replicaLagTimeMaxMs,
                replicaFetchMaxBytes, replicaFetchWaitMaxMs, replicaFetchBackoffMs, openFiles,
                ReplicationThrottle.UNLIMITED);
    }

    public static final PartitionSettings DEFAULTS = new PartitionSettings(30_000, 10_000, 300_000, 1_000, 10_000,
            1024 * 1024, 500, 100);

    /** These settings with no bound on open segment files (tests and set-ups with a few partitions). */
    public PartitionSettings(long maxFetchWaitMs, int maxFetchWaiters, long retentionCheckMs, long flushCheckMs,
                             long replicaLagTimeMaxMs, int replicaFetchMaxBytes, long replicaFetchWaitMaxMs,
                             long replicaFetchBackoffMs) {
        this(maxFetchWaitMs, maxFetchWaiters, retentionCheckMs, flushCheckMs, replicaLagTimeMaxMs,
                replicaFetchMaxBytes, replicaFetchWaitMaxMs, replicaFetchBackoffMs, OpenFileBudget.unlimited());
    }

    /** The defaults with the client-facing limits given; replication settings keep their defaults. */
    public PartitionSettings(long maxFetchWaitMs, int maxFetchWaiters, long retentionCheckMs, long flushCheckMs) {
        this(maxFetchWaitMs, maxFetchWaiters, retentionCheckMs, flushCheckMs, 10_000, 1024 * 1024, 500, 100);
    }
}
