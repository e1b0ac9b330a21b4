package io.millrace.partition;

import io.millrace.common.ErrorCode;
import io.millrace.common.TopicPartition;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.Optional;
import java.util.function.Function;

/**
 * This broker's one clustered event-bus address for replication, {@link #address}: followers on other brokers send
 * their {@link PartitionRequest.ReplicaFetch}es here, and it hands each to the local partition verticle, which answers
 * the follower itself. One address per broker (not per partition) keeps the cluster manager's registry small, and
 * since it names one broker, Vert.x never round-robins a fetch to another.
 *
 * <p>The fetch goes to the partition's event loop directly rather than through the partition's local event-bus
 * address: that would add a reply hop back to this verticle's loop before the answer could leave, on the path every
 * acks=all produce waits for twice.
 */
public final class ReplicaEndpoint extends VerticleBase {

    private final int brokerId;
    private final Function<TopicPartition, Optional<PartitionVerticle>> localPartitions;
    private MessageConsumer<PartitionRequest.ReplicaFetch> consumer;

    /** @param localPartitions the verticle of this broker's replica of a partition, if it holds one */
    public ReplicaEndpoint(int brokerId, Function<TopicPartition, Optional<PartitionVerticle>> localPartitions) {
        this.brokerId = brokerId;
        this.localPartitions = localPartitions;
    }

    /** Where broker {@code brokerId} takes replica fetches. */
    public static String address(int brokerId) {
        return "millrace.replication." + brokerId;
    }

    @Override
    public Future<?> start() {
        consumer = vertx.eventBus().consumer(address(brokerId), this::forward);
        return consumer.completion();
    }

    private void forward(Message<PartitionRequest.ReplicaFetch> message) {
        PartitionRequest.ReplicaFetch fetch = message.body();
        Optional<PartitionVerticle> partition = localPartitions.apply(fetch.topicPartition());
        if (partition.isPresent()) {
            partition.get().serveReplicaFetch(fetch, message);
        } else {
            message.fail(ErrorCode.NOT_LEADER.code(), "Broker " + brokerId + " has no replica of "
                    + fetch.topicPartition());
        }
    }
}
