package io.millrace.broker;

/**
 * The broker API's own settings, read from the broker config.
 *
 * @param requestTimeoutMs        how long to wait for a partition to answer a produce or offset request
 * @param maxFetchWaitMs          cap on a fetch's long-poll wait
 * @param autoCreateTopics        create unknown topics on first produce
 * @param defaultPartitions       partitions of a topic created without a count
 * @param defaultReplicationFactor replication factor of a topic created without one
 * @param subscriptionsReadLocalReplica whether a subscription to a partition led elsewhere reads this broker's
 *                                in-sync replica of it, when it has one, rather than the leader
 */
public record BrokerSettings(long requestTimeoutMs, long maxFetchWaitMs, boolean autoCreateTopics,
                             int defaultPartitions, int defaultReplicationFactor,
                             boolean subscriptionsReadLocalReplica) {
}
