package io.millrace.broker;

import io.millrace.common.LeaderEpoch;
import io.millrace.common.TopicPartition;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The long-poll fetches in flight for the subscriptions of one event loop, so that subscriptions asking for the
 * same thing share one fetch. Subscribers that keep up with a partition all wait at its end: without sharing, every
 * record appended would wake one fetch per subscriber, each crossing the event bus and reading the same bytes from
 * the segment file; with it, each event loop asks the partition once and hands the one {@link FetchResult} (read
 * from the file at most once) to all of them.
 *
 * <p>A reader that no longer wants a shared fetch withdraws its share; the fetch itself is withdrawn at the
 * partition when its last reader has gone, so a fetch nobody waits for does not hold a waiting slot there.
 *
 * <p>Confined to its context: the fetches complete there, so no lock is needed.
 */
final class SharedFetches {

    private static final String CONTEXT_KEY = SharedFetches.class.getName();

    private final Vertx vertx;
    private final Map<Key, Shared> inFlight = new HashMap<>();

    private SharedFetches(Vertx vertx) {
        this.vertx = vertx;
    }

    /**
     * The leader epoch is part of the key: a subscriber with a stale epoch must get its own FENCED_LEADER_EPOCH. So
     * is the linger: a subscriber that does not linger must not wait in a fetch that does.
     */
    private record Key(TopicPartition tp, long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch,
                       long lingerMs) {
    }

    /**
     * One fetch and how many readers still want its answer. A lingering fetch waits for its timer before it asks
     * the partition: until then {@code fetch} is null and {@code timer} is set.
     */
    private static final class Shared {
        final Future<FetchResult> result;
        PendingFetch fetch;
        long timer = -1;
        int readers;

        Shared(Future<FetchResult> result) {
            this.result = result;
        }

        void withdraw(Vertx vertx) {
            if (timer >= 0) {
                // It never asked the partition; nobody is left to answer, so its result is never completed.
                vertx.cancelTimer(timer);
                timer = -1;
            } else {
                fetch.withdraw();
            }
        }
    }

    /** The instance of {@code context}, created on first use. */
    static SharedFetches of(Context context) {
        SharedFetches shared = context.get(CONTEXT_KEY);
        if (shared == null) {
            shared = new SharedFetches(context.owner());
            context.put(CONTEXT_KEY, shared);
        }
        return shared;
    }

    /** The fetch in flight for exactly these arguments, or a new one; without a leader epoch check or a linger. */
    Future<FetchResult> fetch(BrokerService broker, TopicPartition tp, long offset, int maxBytes, long maxWaitMs) {
        return fetch(broker, tp, offset, maxBytes, maxWaitMs, LeaderEpoch.UNKNOWN, 0, 0).result();
    }

    /**
     * A share of the fetch in flight for exactly these arguments, or of a new one. Withdrawing the share withdraws
     * the fetch once no other reader holds a share of it.
     *
     * <p>A reader that lingers ({@code lingerMs > 0}) and received records a moment ago asks the partition no sooner
     * than {@code notBeforeNanos} (a {@link System#nanoTime()}), so what was appended meanwhile reaches it in one
     * answer instead of one answer per append. A new fetch waits for that time; a reader that comes later joins it
     * as it is, so every reader of one turn's delivery shares one timer and one fetch.
     */
    PendingFetch fetch(BrokerService broker, TopicPartition tp, long offset, int maxBytes, long maxWaitMs,
                       int currentLeaderEpoch, long lingerMs, long notBeforeNanos) {
        Key key = new Key(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch, lingerMs);
        Shared shared = inFlight.get(key);
        if (shared == null) {
            long waitNanos = lingerMs > 0 ? notBeforeNanos - System.nanoTime() : 0;
            Shared created;
            if (waitNanos >= 1_000_000) {
                Promise<FetchResult> answer = Promise.promise();
                created = new Shared(answer.future());
                created.timer = vertx.setTimer(TimeUnit.NANOSECONDS.toMillis(waitNanos), id -> {
                    created.timer = -1;
                    created.fetch = broker.withdrawableFetch(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch);
                    created.fetch.result().onComplete(answer);
                });
            } else {
                PendingFetch fetch = broker.withdrawableFetch(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch);
                if (fetch.result().isComplete()) {
                    return fetch;
                }
                created = new Shared(fetch.result());
                created.fetch = fetch;
            }
            inFlight.put(key, created);
            // Registered before any subscriber's listener, so the entry is gone by the time subscribers fetch their
            // next position: a completed fetch is never handed out again.
            created.result.onComplete(done -> inFlight.remove(key, created));
            shared = created;
        }
        Shared held = shared;
        held.readers++;
        return new PendingFetch(held.result, () -> {
            if (--held.readers == 0 && inFlight.remove(key, held)) {
                held.withdraw(vertx);
            }
        });
    }

    /** Fetches now in flight or lingering (for tests). */
    int inFlight() {
        return inFlight.size();
    }
}
