package io.millrace.broker;

/**
 * This broker's share of the user topics' partitions at one moment (the internal {@code __consumer_offsets} left
 * out).
 *
 * @param replicas        partition replicas open here, led or followed
 * @param leaders         those this broker leads
 * @param underReplicated those it leads with fewer in-sync replicas than replicas
 */
public record LocalPartitionCounts(int replicas, int leaders, int underReplicated) {
}
