package io.millrace.broker;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.record.RecordBatch;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This broker's one clustered event-bus address for requests other brokers forward on behalf of their clients
 * ({@link #address}): a produce, fetch or offset lookup for a partition led here, or a call for a group coordinated
 * here. It serves each as if the client were
 * connected here, through {@link BrokerService}'s local path, which never forwards again: if this broker does not
 * lead the partition (metadata moved on), the answer is NOT_LEADER and the sender retries where its metadata points.
 * One address per broker, naming one broker, so Vert.x never round-robins a request to another.
 */
public final class ForwardingEndpoint extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardingEndpoint.class);
    static final DeliveryOptions REPLY = new DeliveryOptions().setCodecName(ForwardingCodec.NAME);

    private final BrokerService broker;
    private MessageConsumer<Forwarded> consumer;

    public ForwardingEndpoint(BrokerService broker) {
        this.broker = broker;
    }

    /** Where broker {@code brokerId} takes forwarded requests. */
    public static String address(int brokerId) {
        return "millrace.forwarded." + brokerId;
    }

    @Override
    public Future<?> start() {
        consumer = vertx.eventBus().consumer(address(broker.brokerId()), this::serve);
        return consumer.completion();
    }

    private void serve(Message<Forwarded> message) {
        Forwarded request = message.body();
        Future<? extends Forwarded> answer;
        try {
            answer = answer(request);
        } catch (RuntimeException e) {
            answer = Future.failedFuture(e);
        }
        if (answer == null) {
            return; // not answered (a withdrawal)
        }
        answer.onComplete(done -> {
            if (done.succeeded()) {
                message.reply(done.result(), REPLY);
            } else if (done.cause() instanceof MillraceException e) {
                message.fail(e.errorCode().code(), e.getMessage());
            } else {
                LOG.error("A forwarded {} failed unexpectedly", request.getClass().getSimpleName(), done.cause());
                message.fail(ErrorCode.UNKNOWN.code(), String.valueOf(done.cause()));
            }
        });
    }

    private Future<? extends Forwarded> answer(Forwarded request) {
        if (request instanceof Forwarded.ElectPreferredLeaders) {
            return broker.electPreferredLeadersHere().map(Forwarded.Elected::new);
        }
        if (request instanceof Forwarded.GroupCall call) {
            return broker.groupCallHere(call).map(Forwarded.GroupAnswer::new);
        }
        if (request instanceof Forwarded.Produce p) {
            RecordBatch batch = RecordBatch.wrap(((BufferInternal) p.batch()).getByteBuf().nioBuffer());
            return broker.produceHere(p.topicPartition(), batch, p.acks(), p.currentLeaderEpoch())
                    .map(r -> new Forwarded.Produced(r.baseOffset(), r.lastOffset(),
                            r.logAppendTime().orElse(Forwarded.Produced.NO_LOG_APPEND_TIME), r.logStartOffset()));
        }
        if (request instanceof Forwarded.Fetch f) {
            return broker.fetchHere(f.topicPartition(), f.offset(), f.maxBytes(), f.maxWaitMs(),
                    f.currentLeaderEpoch(), f.fetchId()).map(ForwardingEndpoint::fetched);
        }
        if (request instanceof Forwarded.CancelFetch c) {
            broker.cancelFetchHere(c.topicPartition(), c.fetchId());
            return null;
        }
        if (request instanceof Forwarded.ListOffset l) {
            return broker.listOffsetHere(l.topicPartition(), l.spec(), l.currentLeaderEpoch())
                    .map(o -> new Forwarded.Position(o.offset(), o.timestamp()));
        }
        if (request instanceof Forwarded.DeleteRecords d) {
            return broker.deleteRecordsHere(d.topicPartition(), d.offset())
                    .map(low -> new Forwarded.Position(low, -1));
        }
        if (request instanceof Forwarded.EndOffsetForEpoch e) {
            return broker.endOffsetForEpochHere(e.topicPartition(), e.leaderEpoch(), e.currentLeaderEpoch())
                    .map(end -> new Forwarded.Position(end.endOffset(), end.epoch()));
        }
        throw new MillraceException(ErrorCode.INVALID_REQUEST, "Unknown forwarded request " + request);
    }

    /** The batches of a local fetch as bytes for the wire: read once here, sent as they are on disk. */
    private static Forwarded.Fetched fetched(FetchResult result) {
        Buffer bytes = result.records().isEmpty() ? Buffer.buffer()
                : BufferInternal.buffer(Unpooled.wrappedBuffer(result.readRecords()));
        return new Forwarded.Fetched(bytes, result.records().firstOffset(), result.nextOffset(),
                result.highWatermark(), result.logStartOffset(), result.logEndOffset());
    }
}
