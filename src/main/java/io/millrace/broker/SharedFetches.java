package io.millrace.broker;

import io.millrace.common.LeaderEpoch;
import io.millrace.common.TopicPartition;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;

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

    private final Map<Key, Shared> inFlight = new HashMap<>();

    /** The leader epoch is part of the key: a subscriber with a stale epoch must get its own FENCED_LEADER_EPOCH. */
    private record Key(TopicPartition tp, long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch) {
    }

    /** One fetch in flight and how many readers still want its answer. */
    private static final class Shared {
        final PendingFetch fetch;
        int readers;

        Shared(PendingFetch fetch) {
            this.fetch = fetch;
        }
    }

    /** The instance of {@code context}, created on first use. */
    static SharedFetches of(Context context) {
        SharedFetches shared = context.get(CONTEXT_KEY);
        if (shared == null) {
            shared = new SharedFetches();
            context.put(CONTEXT_KEY, shared);
        }
        return shared;
    }

    /** The fetch in flight for exactly these arguments, or a new one; without a leader epoch check. */
    Future<FetchResult> fetch(BrokerService broker, TopicPartition tp, long offset, int maxBytes, long maxWaitMs) {
        return fetch(broker, tp, offset, maxBytes, maxWaitMs, LeaderEpoch.UNKNOWN).result();
    }

    /**
     * A share of the fetch in flight for exactly these arguments, or of a new one. Withdrawing the share withdraws
     * the fetch once no other reader holds a share of it.
     */
    PendingFetch fetch(BrokerService broker, TopicPartition tp, long offset, int maxBytes, long maxWaitMs,
                       int currentLeaderEpoch) {
        Key key = new Key(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch);
        Shared shared = inFlight.get(key);
        if (shared == null) {
            PendingFetch fetch = broker.withdrawableFetch(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch);
            if (fetch.result().isComplete()) {
                return fetch;
            }
            Shared created = new Shared(fetch);
            inFlight.put(key, created);
            // Registered before any subscriber's listener, so the entry is gone by the time subscribers fetch their
            // next position: a completed fetch is never handed out again.
            fetch.result().onComplete(done -> inFlight.remove(key, created));
            shared = created;
        }
        Shared held = shared;
        held.readers++;
        return new PendingFetch(held.fetch.result(), () -> {
            if (--held.readers == 0 && inFlight.remove(key, held)) {
                held.fetch.withdraw();
            }
        });
    }

    /** Fetches now in flight (for tests). */
    int inFlight() {
        return inFlight.size();
    }
}
