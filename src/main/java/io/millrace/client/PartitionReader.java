package io.millrace.client;

import io.millrace.client.MillraceClientException.ConnectionException;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.CreditRequest;
import io.millrace.protocol.Push;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import io.millrace.protocol.UnsubscribeRequest;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;

/**
 * Feeds one partition into a {@link FluxSink}: subscribes at the partition's leader, turns the sink's demand into
 * credits, decodes pushed batches into records, and follows the leader when it moves.
 *
 * <h2>States</h2>
 * <pre>
 * from         event                                            does                                         to
 * IDLE         demand                                           SUBSCRIBE at the leader from the position   SUBSCRIBING
 * SUBSCRIBING  answered                                         grants credit                               READING
 * SUBSCRIBING  PUSH taken in before the answer                  records: delivered and counted; an error:   SUBSCRIBING
 *                                                               kept, and the answer then retries with it
 * SUBSCRIBING  retriable failure (NOT_LEADER, FENCED_LEADER_     leader hint: at once; else metadata         SUBSCRIBING
 *              EPOCH, UNKNOWN_TOPIC_OR_PARTITION, lost or        refresh after a back-off that doubles up
 *              refused connection, timeout, ...)                 to reconnectBackoffMax
 * READING      PUSH with a retriable error, or connection lost  the same, from the position                 SUBSCRIBING
 * any          error that is not retriable                      fails the stream                            DONE
 * any          cancel                                           UNSUBSCRIBE                                 DONE
 * </pre>
 * The position is the offset after the last record delivered (before the first subscription: the requested start),
 * so a resubscription, on the same broker or a new leader, neither skips nor repeats a record. A retriable error
 * never ends the stream; the back-off keeps a dead broker from being dialled in a tight loop (and
 * {@link BrokerConnection} adds its own). Each subscription attempt has a number: answers, pushes and disconnects of
 * an earlier attempt are ignored.
 *
 * <p>Credit accounting: the broker subtracts the record count of every batch it pushes; this reader keeps the same
 * count ({@code brokerCredits}) and tops it up to the outstanding demand, capped at {@code maxCreditsPerRequest}. The
 * count starts when the SUBSCRIBE leaves, not when its answer is taken in: the connection's thread may hand this
 * reader the pushes that follow the answer (records, or the error that ends the subscription) before the thread that
 * subscribed has taken the answer, and a count reset by the answer would believe the broker owes records it has
 * already sent, and wait for them forever.
 *
 * <p>Thread-safe: demand arrives on the subscriber's thread, pushes on the connection's; both take the monitor.
 * Records are handed to the sink outside the monitor, in offset order, by one thread at a time ({@link #deliver}):
 * the sink runs the application's code and the SDK's own operators (a group member acknowledging a record takes the
 * group session's monitor), and a monitor held across that call deadlocks against a thread that holds the group
 * session and stops this reader.
 */
final class PartitionReader {

    private final Cluster cluster;
    private final ConsumerConfig config;
    private final TopicPartition tp;
    private final FluxSink<ConsumerRecord> sink;
    private final Seek start;
    private long position = -1;
    private long outstanding;
    private long brokerCredits;
    private BrokerConnection connection;
    private int subscriptionId = -1;
    private boolean subscribing;
    private boolean retryScheduled;
    private boolean done;
    /** Subscription attempts so far; the current one is this number. */
    private int attempt;
    /**
     * Why the current attempt ended before its answer was taken in (its connection dropped, or the broker ended the
     * subscription with an error push), or null. The answer may be taken in after the pushes that followed it: the
     * connection's thread can handle them while the thread that sent the SUBSCRIBE has not yet taken the answer.
     */
    private Throwable attemptEnded;
    private int failedAttempts;
    /** Records decoded from pushes and not yet handed to the sink, in offset order. */
    private final ArrayDeque<ConsumerRecord> ready = new ArrayDeque<>();
    /** A thread is handing {@link #ready} to the sink; the others only queue. */
    private boolean delivering;
    /** The error that ends the stream once the records queued before it are delivered. */
    private Throwable failure;

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
            if (!subscribing && !retryScheduled && !done) {
                subscribe();
            }
        } else {
            topUp();
        }
    }

    /** Called with the monitor held. */
    private void subscribe() {
        subscribing = true;
        attemptEnded = null;
        int mine = ++attempt;
        Seek from = position >= 0 ? Seek.offset(position) : start;
        int credits = (int) Math.max(1, Math.min(outstanding, config.maxCreditsPerRequest()));
        // Counted from here, not from the answer: pushes of this attempt may be taken in before its answer is.
        brokerCredits = credits;
        BrokerConnection[] target = new BrokerConnection[1];
        cluster.leaderAndEpoch(tp)
                .doOnNext(leader -> target[0] = leader.connection())
                .flatMap(leader -> {
                    // The epoch travels with the subscription: a leader change ends it (FENCED_LEADER_EPOCH or
                    // NOT_LEADER), and the next attempt subscribes at the new leader with the new epoch.
                    BrokerConnection conn = leader.connection();
                    SubscribeRequest request = new SubscribeRequest(tp.topic(), tp.partition(), leader.leaderEpoch(),
                            from.position(), credits, config.maxBytesPerPush());
                    return conn.<SubscribeResponse>subscribe(request, push -> onPush(mine, conn, push),
                            () -> onDisconnect(mine)).map(result -> Map.entry(conn, result));
                })
                .subscribe(result -> subscribed(mine, result.getKey(), result.getValue().getKey(),
                        result.getValue().getValue().startOffset()),
                        error -> subscribeFailed(mine, error, target[0]));
    }

    private void subscribed(int mine, BrokerConnection conn, int id, long startOffset) {
        Throwable ended;
        synchronized (this) {
            if (mine != attempt) {
                return;
            }
            subscribing = false;
            ended = attemptEnded;
            if (done) {
                conn.sendOnCurrent(new UnsubscribeRequest(id)).subscribe();
                conn.unsubscribed(id);
                return;
            }
            if (ended == null) {
                failedAttempts = 0;
                connection = conn;
                subscriptionId = id;
                if (position < 0) {
                    position = startOffset;
                }
                topUp();
                return;
            }
        }
        conn.unsubscribed(id);
        retryLater(ended, conn);
    }

    private void subscribeFailed(int mine, Throwable error, BrokerConnection conn) {
        synchronized (this) {
            if (mine != attempt) {
                return;
            }
            subscribing = false;
        }
        retryLater(error, conn);
    }

    /**
     * After a failure of the current attempt: fails the stream if the error is not retriable, else subscribes again,
     * at once when the broker named the new leader, otherwise after a back-off (the metadata is refreshed by then).
     */
    private void retryLater(Throwable error, BrokerConnection failedOn) {
        boolean retriable = error instanceof MillraceClientException e && e.retriable();
        if (!retriable) {
            fail(error);
            return;
        }
        boolean hinted = cluster.onPartitionError(tp, error, failedOn);
        Duration delay;
        synchronized (this) {
            if (done || retryScheduled) {
                return;
            }
            retryScheduled = true;
            failedAttempts++;
            // Only the first hint is followed at once: brokers with stale views could otherwise bounce it between them.
            delay = hinted && failedAttempts == 1 ? Duration.ZERO : backoff(failedAttempts);
        }
        Mono.delay(delay).subscribe(t -> resubscribe());
    }

    /** {@code reconnectBackoff}, doubling per failed attempt, capped by the client's reconnect back-off maximum. */
    private Duration backoff(int failures) {
        long base = Math.max(1, config.reconnectBackoff().toMillis());
        long max = Math.max(base, cluster.config().reconnectBackoffMax().toMillis());
        return Duration.ofMillis(Math.min(max, base << Math.min(failures - 1, 20)));
    }

    private synchronized void resubscribe() {
        retryScheduled = false;
        if (!done && subscriptionId < 0 && !subscribing) {
            subscribe();
        }
    }

    private void onPush(int mine, BrokerConnection conn, Push push) {
        if (push.error().isPresent()) {
            int id;
            synchronized (this) {
                if (mine != attempt || done) {
                    return;
                }
                if (subscribing) {
                    // Ended before its answer was taken in: the answer, when it is, follows the leader or gives up.
                    attemptEnded = MillraceClientException.from(push.error().get());
                    return;
                }
                // The broker ended the subscription: forget it here too, then follow the leader or give up.
                id = subscriptionId;
                subscriptionId = -1;
                connection = null;
            }
            if (id >= 0) {
                conn.unsubscribed(id);
            }
            retryLater(MillraceClientException.from(push.error().get()), conn);
            return;
        }
        List<RecordBatch> batches = RecordBatches.split(push.batches());
        List<List<Record>> decoded = new ArrayList<>(batches.size());
        try {
            for (RecordBatch batch : batches) {
                decoded.add(batch.records());
            }
        } catch (MillraceException e) {
            // A batch this application cannot decode (a codec library missing from its class path, or records the
            // broker should never have accepted) stays undecodable on every retry: the stream ends with the reason.
            fail(new MillraceClientException(e.errorCode(), "Cannot read the records of " + tp + " from offset "
                    + batches.get(decoded.size()).baseOffset() + ": " + e.getMessage(), e));
            return;
        }
        synchronized (this) {
            if (done || mine != attempt) {
                return;
            }
            for (int i = 0; i < batches.size(); i++) {
                brokerCredits -= batches.get(i).recordCount();
                for (Record r : decoded.get(i)) {
                    if (r.offset() >= position) {
                        ready.add(new ConsumerRecord(tp.topic(), tp.partition(), r.offset(), r.timestamp(), r.key(),
                                r.value(), r.headers()));
                        position = r.offset() + 1;
                        outstanding--;
                    }
                }
            }
            topUp();
        }
        deliver();
    }

    /**
     * Hands the queued records, then the ending error if there is one, to the sink, without the monitor. A thread that
     * finds another delivering leaves its records to it, so the sink sees them one thread at a time and in order.
     */
    private void deliver() {
        synchronized (this) {
            if (delivering) {
                return;
            }
            delivering = true;
        }
        while (true) {
            ConsumerRecord next;
            Throwable end;
            synchronized (this) {
                next = ready.poll();
                end = next == null ? failure : null;
                if (next == null) {
                    delivering = false;
                    failure = null;
                    if (end == null) {
                        return;
                    }
                }
            }
            if (next == null) {
                sink.error(end);
                return;
            }
            sink.next(next);
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

    private void onDisconnect(int mine) {
        BrokerConnection lostOn;
        synchronized (this) {
            if (mine != attempt || done) {
                return;
            }
            if (subscribing) {
                // the SUBSCRIBE's own failure or answer comes next and retries
                attemptEnded = new ConnectionException("Connection lost while subscribing to " + tp, null);
                return;
            }
            lostOn = connection;
            subscriptionId = -1;
            connection = null;
        }
        retryLater(new ConnectionException("Connection lost while reading " + tp, null), lostOn);
    }

    private void fail(Throwable error) {
        synchronized (this) {
            if (done) {
                return;
            }
            done = true;
            failure = error;
        }
        deliver();
    }

    private void stop() {
        BrokerConnection conn;
        int id;
        synchronized (this) {
            done = true;
            ready.clear();
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
