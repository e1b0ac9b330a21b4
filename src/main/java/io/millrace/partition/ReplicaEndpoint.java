package io.millrace.partition;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.millrace.common.ErrorCode;

/**
 * This broker's one clustered event-bus address for replication, {@link #address}: followers on other brokers send
 * their {@link PartitionRequest.ReplicaFetch}es here, and it hands each to the local partition verticle. One address
 * per broker (not per partition) keeps the cluster manager's registry small, and since it names one broker, Vert.x
 * never round-robins a fetch to another.
 */
public final class ReplicaEndpoint extends VerticleBase {

    private static final DeliveryOptions WIRE = new DeliveryOptions().setCodecName(ReplicationCodec.NAME);

    private final int brokerId;
    private MessageConsumer<PartitionRequest.ReplicaFetch> consumer;

    public ReplicaEndpoint(int brokerId) {
        this.brokerId = brokerId;
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
        long timeout = fetch.maxWaitMs() + 10_000;
        vertx.eventBus().<PartitionResponse>request(PartitionAddress.of(fetch.topicPartition()), fetch,
                PartitionAddress.delivery(timeout)).onComplete(ar -> {
                    if (ar.succeeded()) {
                        message.reply(ar.result().body(), WIRE);
                    } else if (ar.cause() instanceof ReplyException reply
                            && reply.failureType() == io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE) {
                        message.fail(reply.failureCode(), reply.getMessage());
                    } else {
                        message.fail(ErrorCode.NOT_LEADER.code(), "Broker " + brokerId + " has no replica of "
                                + fetch.topicPartition() + ": " + ar.cause().getMessage());
                    }
                });
    }
}
