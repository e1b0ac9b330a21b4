package io.millrace.group.vertx;

import io.millrace.common.TopicPartition;
import io.vertx.core.Future;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What the group coordinator's host needs to know of the cluster: topic partition counts, who leads each partition
 * of {@value io.millrace.group.OffsetsTopic#NAME}, how large a local one is, and a way to create the topic. In the
 * broker, {@link ClusterOffsetsTopicView} reads the {@code ReplicaManager}'s metadata; tests use a fixed map.
 *
 * <p>Thread-safe: the host calls it on its own context.
 */
public interface OffsetsTopicView {

    /** Partition count of every topic (the offsets topic included). */
    Map<String, Integer> partitionCounts();

    /** The broker leading {@code tp}, empty when the partition is unknown or has no leader. */
    OptionalInt leader(TopicPartition tp);

    /**
     * The leader epoch of {@code tp}, which grows whenever its leader changes; empty when unknown. It lets the host
     * notice leadership that moved away and came back between two of its looks.
     */
    default OptionalInt leaderEpoch(TopicPartition tp) {
        return OptionalInt.empty();
    }

    /** Bytes on disk of {@code tp} when this broker holds it. */
    OptionalLong sizeBytes(TopicPartition tp);

    /**
     * Creates the offsets topic when it does not exist (another broker winning the race is fine); completes with
     * its partition count.
     */
    Future<Integer> ensureOffsetsTopic(int partitions, int replicationFactor);
}
