package io.millrace.client;

import io.millrace.client.MillraceClientException.ConnectionException;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.CreditRequest;
import io.millrace.protocol.Push;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import io.millrace.protocol.UnsubscribeRequest;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;

/**
 * Feeds one partition into a {@link FluxSink}: subscribes at the partition's leader, turns the sink's demand into
 * credits, decodes pushed batches into records, and resubscribes from the next offset when the connection drops.
 *
 * <p>Credit accounting: the broker subtracts the record count of every batch it pushes; this reader keeps the same
 * count ({@code brokerCredits}) and tops it up to the outstanding demand, capped at {@code maxCreditsPerRequest}.
 *
 * <p>Thread-safe: demand arrives on the subscriber's thread, pushes on the connection's; both take the monitor.
 */
final class PartitionReader {

    private final Cluster cluster;
    private final ConsumerConfig config;
    private final TopicPartition tp;
    private final FluxSink<ConsumerRecord> sink;
    private Seek start;
    private long position = -1;
    private long outstanding;
    private long brokerCredits;
    private BrokerConnection connection;
    private int subscriptionId = -1;
    private boolean subscribing;
    private boolean done;
    private int failedAttempts;

    PartitionReader(Cluster cluster, ConsumerConfig config, TopicPartition tp, Seek start,
                    FluxSink<ConsumerRecord> sink) {
        this.cluster = cluster;
        this.config = config;
        this.tp = tp;
        this.start = start;
        this.sink = sink;
    }

    void start() {
        sink.onRequest(this::onRequest);
        sink.onDispose(this::stop);
    }

    private synchronized void onRequest(long n) {
        outstanding = Math.min(Long.MAX_VALUE / 2, outstanding + n);
        if (subscriptionId < 0) {
            if (!subscribing && !done) {
                subscribe();
            }
        } else {
            topUp();
        }
    }

    private void subscribe() {
        subscribing = true;
        Seek from = position >= 0 ? Seek.offset(position) : start;
        int credits = (int) Math.max(1, Math.min(outstanding, config.maxCreditsPerRequest()));
        SubscribeRequest request = new SubscribeRequest(tp.topic(), tp.partition(), from.position(), credits,
                config.maxBytesPerPush());
        cluster.leader(tp)
                .flatMap(conn -> conn.<SubscribeResponse>subscribe(request, this::onPush, this::onDisconnect)
                        .map(result -> Map.entry(conn, result)))
                .subscribe(result -> subscribed(result.getKey(), result.getValue().getKey(),
                        result.getValue().getValue().startOffset(), credits), this::subscribeFailed);
    }

    private synchronized void subscribed(BrokerConnection conn, int id, long startOffset, int credits) {
        subscribing = false;
        failedAttempts = 0;
        if (done) {
            conn.sendOnCurrent(new UnsubscribeRequest(id)).subscribe();
            return;
        }
        connection = conn;
        subscriptionId = id;
        brokerCredits = credits;
        if (position < 0) {
            position = startOffset;
        }
        topUp();
    }

    private void subscribeFailed(Throwable error) {
        synchronized (this) {
            subscribing = false;
            if (done) {
                return;
            }
        }
        boolean retriable = error instanceof MillraceClientException e && e.retriable();
        if (retriable && ++failedAttempts <= config.reconnectAttempts()) {
            cluster.invalidate(tp.topic());
            Mono.delay(config.reconnectBackoff().multipliedBy(Math.min(failedAttempts, 10)))
                    .subscribe(t -> resubscribe());
        } else {
            fail(error);
        }
    }

    private synchronized void resubscribe() {
        if (!done && subscriptionId < 0 && !subscribing) {
            subscribe();
        }
    }

    private void onPush(Push push) {
        if (push.error().isPresent()) {
            fail(MillraceClientException.from(push.error().get()));
            return;
        }
        List<RecordBatch> batches = RecordBatches.split(push.batches());
        synchronized (this) {
            if (done) {
                return;
            }
            for (RecordBatch batch : batches) {
                brokerCredits -= batch.recordCount();
                for (Record r : batch.records()) {
                    if (r.offset() >= position) {
                        sink.next(new ConsumerRecord(tp.topic(), tp.partition(), r.offset(), r.timestamp(), r.key(),
                                r.value(), r.headers()));
                        position = r.offset() + 1;
                        outstanding--;
                    }
                }
            }
            topUp();
        }
    }

    /** Grants the broker credits up to the outstanding demand. Called with the monitor held. */
    private void topUp() {
        long target = Math.min(outstanding, config.maxCreditsPerRequest());
        long grant = target - brokerCredits;
        if (grant > 0 && connection != null && subscriptionId >= 0) {
            brokerCredits += grant;
            connection.sendOnCurrent(new CreditRequest(subscriptionId, (int) grant)).subscribe();
        }
    }

    private void onDisconnect() {
        synchronized (this) {
            subscriptionId = -1;
            connection = null;
            if (done) {
                return;
            }
        }
        subscribeFailed(new ConnectionException("Connection lost while reading " + tp, null));
    }

    private void fail(Throwable error) {
        synchronized (this) {
            if (done) {
                return;
            }
            done = true;
        }
        sink.error(error);
    }

    private void stop() {
        BrokerConnection conn;
        int id;
        synchronized (this) {
            done = true;
            conn = connection;
            id = subscriptionId;
            subscriptionId = -1;
        }
        if (conn != null && id >= 0) {
            conn.sendOnCurrent(new UnsubscribeRequest(id)).subscribe();
            conn.unsubscribed(id);
        }
    }
}
