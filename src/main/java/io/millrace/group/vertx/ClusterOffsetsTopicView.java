package io.millrace.group.vertx;

import io.millrace.cluster.TopicAdmin;
import io.millrace.cluster.ReplicaManager;
import io.millrace.cluster.TopicMetadata;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.group.OffsetsTopic;
import io.millrace.partition.PartitionVerticle;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The broker's {@link OffsetsTopicView}: metadata from the {@link ReplicaManager}'s cache (no ZooKeeper round trip),
 * topic creation through the {@link TopicAdmin}, with the configured replication factor or the live brokers, whichever
 * is fewer. The offsets topic keeps its records forever by time and size: the
 * coordinator's snapshots, not retention, decide what may go. Thread-safe.
 */
public final class ClusterOffsetsTopicView implements OffsetsTopicView {

    private final ReplicaManager replicas;
    private final TopicAdmin topicAdmin;

    public ClusterOffsetsTopicView(ReplicaManager replicas, TopicAdmin topicAdmin) {
        this.replicas = replicas;
        this.topicAdmin = topicAdmin;
    }

    @Override
    public Map<String, Integer> partitionCounts() {
        Map<String, Integer> counts = new HashMap<>();
        replicas.topics().forEach((name, topic) -> counts.put(name, topic.partitionCount()));
        return counts;
    }

    @Override
    public OptionalInt leader(TopicPartition tp) {
        return replicas.topic(tp.topic())
                .filter(t -> tp.partition() < t.partitionCount())
                .map(t -> t.partition(tp.partition()).leader())
                .filter(leader -> leader >= 0)
                .map(OptionalInt::of).orElse(OptionalInt.empty());
    }

    @Override
    public OptionalInt leaderEpoch(TopicPartition tp) {
        return replicas.topic(tp.topic())
                .filter(t -> tp.partition() < t.partitionCount())
                .map(t -> OptionalInt.of(t.partition(tp.partition()).leaderEpoch()))
                .orElse(OptionalInt.empty());
    }

    @Override
    public OptionalLong sizeBytes(TopicPartition tp) {
        return replicas.localPartition(tp).map(PartitionVerticle::stats).map(s -> OptionalLong.of(s.sizeBytes()))
                .orElse(OptionalLong.empty());
    }

    @Override
    public Future<Integer> ensureOffsetsTopic(int partitions, int replicationFactor) {
        if (replicas.topic(OffsetsTopic.NAME).isPresent()) {
            return Future.succeededFuture(replicas.topic(OffsetsTopic.NAME).get().partitionCount());
        }
        Map<String, String> config = Map.of("retention.ms", "-1", "retention.bytes", "-1");
        return topicAdmin.liveBrokerCount().compose(live -> topicAdmin.createInternalTopic(OffsetsTopic.NAME,
                        partitions, Math.max(1, Math.min(replicationFactor, live)), config))
                .map(TopicMetadata::partitionCount)
                .recover(e -> {
                    if (!(e instanceof MillraceException m) || m.errorCode() != ErrorCode.TOPIC_ALREADY_EXISTS) {
                        return Future.failedFuture(e);
                    }
                    // Another broker created it first; this broker's view may not show it yet.
                    return replicas.topic(OffsetsTopic.NAME).map(t -> Future.succeededFuture(t.partitionCount()))
                            .orElseGet(() -> Future.failedFuture(new MillraceException(
                                    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, OffsetsTopic.NAME
                                    + " was just created by another broker; retry shortly")));
                });
    }
}
