package io.millrace.partition;

/**
 * Broker-wide limits a partition verticle applies.
 *
 * @param maxFetchWaitMs        longest a fetch may wait for data (longer requests are capped)
 * @param maxFetchWaiters       most fetches that may wait on one partition at once; more fail with BROKER_OVERLOADED
 * @param retentionCheckMs      how often retention runs
 * @param flushCheckMs          how often the {@code flush.ms} policy is checked
 */
public record PartitionSettings(long maxFetchWaitMs, int maxFetchWaiters, long retentionCheckMs, long flushCheckMs) {

    public static final PartitionSettings DEFAULTS = new PartitionSettings(30_000, 10_000, 300_000, 1_000);
}
