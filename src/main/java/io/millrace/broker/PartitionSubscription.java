package io.millrace.broker;

import io.millrace.common.ErrorCode;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.vertx.core.AsyncResult;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Subscription} as a loop of long-poll fetches: while there is demand and no fetch in flight, fetch from
 * the position; hand what comes back to the handler; move the position to where the handler stopped; repeat.
 * An empty fetch (the wait ran out) is simply retried. At most one fetch is in flight, so memory per subscription
 * is bounded by {@code maxBytesPerFetch}. Subscriptions of one event loop waiting at the same position share their
 * fetch ({@link SharedFetches}).
 *
 * <p>Every fetch carries the subscriber's leader epoch. With a known epoch a leader change ends the subscription at
 * once ({@code FENCED_LEADER_EPOCH} or {@code NOT_LEADER} to the handler): retrying with the same epoch could never
 * succeed, and the subscriber (a TCP client) learns the new leader and epoch and subscribes again. Without one
 * (WebSocket, older TCP clients) the broker follows the leader: each fetch goes to the partition's leader, on this
 * broker or forwarded to another, from the subscription's own position, so a leader change neither skips nor
 * repeats a record for it.
 *
 * <p>A subscription may linger: at the partition's end, it takes records only at the ticks of its own phase, a linger
 * apart, so that a partition appended to in a steady trickle reaches it in one answer per linger rather than one per
 * append (a WebSocket pays a frame and a socket write per answer); see {@link SharedFetches}. Outside Vert.x (no
 * shared fetches) it does not linger.
 *
 * <p>A cancel or a seek withdraws the fetch in flight ({@link PendingFetch}), so that subscribing and unsubscribing
 * again and again cannot fill the partition's waiting slots with fetches nobody wants.
 *
 * <p>Not thread-safe: confined to the context that created it, where the fetch futures complete.
 */
final class PartitionSubscription implements Subscription {

    private final BrokerService broker;
    private final BrokerMetrics metrics;
    private final TopicPartition tp;
    private final int maxBytesPerFetch;
    private final long maxWaitMs;
    private final int currentLeaderEpoch;
    private final long lingerMs;
    private final Handler handler;
    /** The fetches of this subscription's event loop; null when created outside Vert.x (then nothing is shared). */
    private final SharedFetches sharedFetches;
    /** Which ticks this lingering subscription takes records at ({@link SharedFetches#nextLingerPhase()}). */
    private final int lingerPhase;
    /**
     * When this lingering subscription last took records that brought it to the partition's end (a
     * {@link System#nanoTime()}), or 0.
     */
    private long lastTakenNanos;
    private long position;
    private long demand;
    private boolean fetching;
    /** The fetch this subscription waits for; null when none is in flight or its answer is being handled. */
    private PendingFetch pending;
    /** Whether request() was called since the last fetch completed (it may come from inside the handler). */
    private boolean askedAgain;
    private boolean cancelled;
    private int handlerFailures;
    private int retriableFailures;
    private static final int MAX_RETRIABLE_FAILURES = 50;
    private static final int MAX_HANDLER_FAILURES = 3;
    /** Bumped by seek and cancel, so a fetch that was in flight before them is ignored when it completes. */
    private long generation;

    PartitionSubscription(BrokerService broker, BrokerMetrics metrics, TopicPartition tp, long startOffset,
                          int maxBytesPerFetch, long maxWaitMs, int currentLeaderEpoch, long lingerMs,
                          Handler handler) {
        this.broker = broker;
        this.metrics = metrics;
        this.tp = tp;
        this.position = startOffset;
        this.maxBytesPerFetch = maxBytesPerFetch;
        this.maxWaitMs = maxWaitMs;
        this.currentLeaderEpoch = currentLeaderEpoch;
        this.lingerMs = Math.max(0, lingerMs);
        this.handler = handler;
        io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
        this.sharedFetches = context == null ? null : SharedFetches.of(context);
        this.lingerPhase = sharedFetches == null || this.lingerMs == 0 ? 0 : sharedFetches.nextLingerPhase();
    }

    @Override
    public void request(long records) {
        if (cancelled) {
            return;
        }
        demand = Math.min(Long.MAX_VALUE / 2, demand + Math.max(0, records));
        askedAgain = true;
        maybeFetch();
    }

    @Override
    public void seek(long offset) {
        position = offset;
        lastTakenNanos = 0;
        generation++;
        withdrawPending();
        fetching = false;
        maybeFetch();
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public long demand() {
        return demand;
    }

    @Override
    public void cancel() {
        cancelled = true;
        generation++;
        withdrawPending();
    }

    private void withdrawPending() {
        PendingFetch withdrawn = pending;
        pending = null;
        if (withdrawn != null) {
            withdrawn.withdraw();
        }
    }

    private void vertxTimer(long delayMs) {
        io.vertx.core.Vertx.currentContext().owner().setTimer(delayMs, id -> {
            if (!cancelled) {
                maybeFetch();
            }
        });
    }

    private void maybeFetch() {
        if (fetching || cancelled || demand <= 0) {
            return;
        }
        fetching = true;
        long fetchGeneration = generation;
        PendingFetch fetch = sharedFetches == null
                ? broker.withdrawableFetch(tp, position, maxBytesPerFetch, maxWaitMs, currentLeaderEpoch)
                : sharedFetches.fetch(broker, tp, position, maxBytesPerFetch, maxWaitMs, currentLeaderEpoch,
                        lingerMs, lingerPhase, tookWithinLinger());
        pending = fetch;
        fetch.result().onComplete(result -> {
            if (fetchGeneration != generation) {
                return;
            }
            pending = null;
            // Still "fetching" until the result is handled: a request() made meanwhile from inside the handler (a
            // socket that drained as the handler wrote to it) must not start a fetch from the old position, which
            // would bring back only what the handler just took. It is remembered instead.
            askedAgain = false;
            boolean wait = handle(result);
            if (fetchGeneration != generation) {
                return; // the handler sought (which fetches from the new position) or cancelled
            }
            fetching = false;
            if (!wait || askedAgain) {
                maybeFetch();
            }
        });
    }

    /**
     * Whether a lingering subscription reached the end less than a linger ago: its next records come at its next
     * tick.
     */
    private boolean tookWithinLinger() {
        return lastTakenNanos != 0 && System.nanoTime() - lastTakenNanos < TimeUnit.MILLISECONDS.toNanos(lingerMs);
    }

    /**
     * Whether {@code code} means leadership moved away so that the subscriber must follow the leader itself: only
     * when it named a leader epoch (a TCP client, which learns the new leader and epoch and subscribes again). Without
     * one (WebSocket, older clients) the broker follows the leader for it: each fetch goes wherever the metadata
     * points, so these errors are retried like other retriable ones.
     */
    private boolean leaderChanged(ErrorCode code) {
        return (code == ErrorCode.FENCED_LEADER_EPOCH || code == ErrorCode.NOT_LEADER)
                && currentLeaderEpoch != LeaderEpoch.UNKNOWN;
    }

    /** Handles one fetch's outcome; true when the subscription should wait (for a timer or a request). */
    private boolean handle(AsyncResult<FetchResult> result) {
        if (result.failed() && result.cause() instanceof MillraceException m && m.errorCode().retriable()
                && m.errorCode() != ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && !leaderChanged(m.errorCode())
                && ++retriableFailures <= MAX_RETRIABLE_FAILURES) {
            // A full partition (BROKER_OVERLOADED), a slow answer or a moving leader is not the end of a live
            // subscription: try again after a pause that grows with each failure in a row.
            vertxTimer(Math.min(5_000, 100L << Math.min(retriableFailures, 6)));
            return true;
        }
        if (result.failed()) {
            cancelled = true;
            Throwable error = result.cause();
            handler.onError(error instanceof MillraceException m ? m
                    : new MillraceException(ErrorCode.UNKNOWN, String.valueOf(error.getMessage()), error));
            return true;
        }
        retriableFailures = 0;
        FetchResult fetched = result.result();
        if (fetched.records().isEmpty()) {
            return false;
        }
        long handledGeneration = generation;
        long next;
        try {
            next = handler.onData(fetched, position);
            handlerFailures = 0;
        } catch (RuntimeException e) {
            // The slice could not be read (e.g. retention deleted its segment meanwhile): fetch it again; the broker
            // then answers with data or with an error the subscriber can act on.
            if (++handlerFailures > MAX_HANDLER_FAILURES) {
                cancelled = true;
                handler.onError(e instanceof MillraceException m ? m
                        : new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot read " + tp + ": " + e, e));
                return true;
            }
            return false;
        }
        if (handledGeneration != generation) {
            return true; // sought or cancelled meanwhile: the position is no longer this fetch's
        }
        if (next <= position) {
            // The handler took nothing: wait for it to ask again rather than spin.
            return true;
        }
        long taken = next - position;
        long available = fetched.nextOffset() - Math.max(position, fetched.records().firstOffset());
        metrics.recordsOut(tp.topic(), taken, fetched.records().sizeInBytes() * taken / Math.max(1, available));
        demand -= taken;
        position = next;
        // Only a subscription that is now at the partition's end waits for its next tick; one behind reads on.
        lastTakenNanos = lingerMs > 0 && next >= fetched.highWatermark() ? System.nanoTime() : 0;
        return false;
    }
}
