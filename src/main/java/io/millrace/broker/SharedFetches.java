package io.millrace.broker;

import io.millrace.common.LeaderEpoch;
import io.millrace.common.TopicPartition;
import io.vertx.core.AsyncResult;
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
    /**
     * How many phases a linger is cut into. Lingering readers that pushed together would otherwise all push again
     * together, one linger later, and an event loop writing to hundreds of sockets in one go holds up whatever
     * comes behind (a produce request, the next phase's readers) for the whole burst; spread over phases, each
     * burst is an eighth of that, and readers of one phase still share their timer and fetch.
     */
    static final int LINGER_PHASES = 8;

    private final Vertx vertx;
    private final Map<Key, Shared> inFlight = new HashMap<>();
    private int phasesHandedOut;

    private SharedFetches(Vertx vertx) {
        this.vertx = vertx;
    }

    /**
     * The leader epoch is part of the key: a subscriber with a stale epoch must get its own FENCED_LEADER_EPOCH. So
     * are the linger and its phase: a subscriber must not wait in a fetch that pushes at other times than its own.
     */
    private record Key(TopicPartition tp, long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch,
                       long lingerMs, int phase) {
    }

    /**
     * One fetch and how many readers still want its answer. A lingering fetch may wait for a tick of its phase
     * between requests to the partition: while it waits {@code timer} is set, otherwise {@code fetch} is the request
     * the partition has.
     */
    private static final class Shared {
        final Promise<FetchResult> answer = Promise.promise();
        PendingFetch fetch;
        long timer = -1;
        int readers;

        void withdraw(Vertx vertx) {
            if (timer >= 0) {
                // Waiting for a tick; nobody is left to answer, so its result is never completed.
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
        return fetch(broker, tp, offset, maxBytes, maxWaitMs, LeaderEpoch.UNKNOWN, 0, 0, false).result();
    }

    /** A phase for a new lingering reader, 0 to {@link #LINGER_PHASES} - 1: in turn, so readers spread evenly. */
    int nextLingerPhase() {
        int phase = phasesHandedOut;
        phasesHandedOut = (phasesHandedOut + 1) % LINGER_PHASES;
        return phase;
    }

    /**
     * A share of the fetch in flight for exactly these arguments, or of a new one. Withdrawing the share withdraws
     * the fetch once no other reader holds a share of it.
     *
     * <p>A lingering fetch ({@code lingerMs > 0}) answers at the ticks of its phase: they are {@code lingerMs} apart,
     * {@code phase} eighths of a linger past the clock's multiples of it, so readers of different phases push at
     * different times. When the partition has only a few records at its end for it, it waits for the next tick and
     * asks again, so that what is appended meanwhile comes in the same answer; no record waits longer than the
     * linger for company, and a stream of one record every few milliseconds reaches a reader in one answer per
     * linger. A reader that was answered less than a linger ago ({@code atNextTick}) starts by waiting for the tick,
     * so a busy stream costs one timer and one read per tick. A reader that comes while a fetch waits joins it as it
     * is, so the readers of one phase at one position share one timer and one fetch.
     */
    PendingFetch fetch(BrokerService broker, TopicPartition tp, long offset, int maxBytes, long maxWaitMs,
                       int currentLeaderEpoch, long lingerMs, int phase, boolean atNextTick) {
        Key key = new Key(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch, lingerMs, phase);
        Shared shared = inFlight.get(key);
        if (shared == null) {
            Shared created = new Shared();
            Lingering lingering = lingerMs > 0 ? new Lingering(created, broker, key) : null;
            if (lingering != null && atNextTick) {
                lingering.askAtNextTick();
            } else {
                PendingFetch first = broker.withdrawableFetch(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch);
                if (first.result().isComplete() && (lingering == null || !lingering.worthWaiting(first.result()))) {
                    return first;
                }
                created.fetch = first;
                first.result().onComplete(answer -> {
                    if (lingering != null && lingering.worthWaiting(answer)) {
                        lingering.askAtNextTick();
                    } else {
                        created.answer.handle(answer);
                    }
                });
            }
            if (created.answer.future().isComplete()) {
                shared = created; // answered at once (a tick less than a millisecond away): nothing to share
            } else {
                inFlight.put(key, created);
                // Registered before any subscriber's listener, so the entry is gone by the time subscribers fetch
                // their next position: a completed fetch is never handed out again.
                created.answer.future().onComplete(done -> inFlight.remove(key, created));
                shared = created;
            }
        }
        Shared held = shared;
        held.readers++;
        return new PendingFetch(held.answer.future(), () -> {
            if (--held.readers == 0 && inFlight.remove(key, held)) {
                held.withdraw(vertx);
            }
        });
    }

    /** The steps of one lingering fetch: wait for a tick of its phase, read, and if that found nothing, wait again. */
    private final class Lingering {
        private final Shared shared;
        private final BrokerService broker;
        /** What it fetches, and its linger and phase. */
        private final Key key;

        Lingering(Shared shared, BrokerService broker, Key key) {
            this.shared = shared;
            this.broker = broker;
            this.key = key;
        }

        /**
         * Whether an answer should wait for the next tick: records up to the high watermark that fill less than half
         * of what one answer may carry. A reader behind the end gets its backlog at once.
         */
        boolean worthWaiting(AsyncResult<FetchResult> answer) {
            if (answer.failed()) {
                return false;
            }
            FetchResult fetched = answer.result();
            return !fetched.records().isEmpty() && fetched.nextOffset() >= fetched.highWatermark()
                    && fetched.records().sizeInBytes() <= key.maxBytes() / 2;
        }

        void askAtNextTick() {
            long untilTick = millisToNextTick(System.nanoTime(), key.lingerMs(), key.phase());
            if (untilTick < 1) {
                askAtTick();
                return;
            }
            shared.fetch = null;
            shared.timer = vertx.setTimer(untilTick, id -> {
                shared.timer = -1;
                askAtTick();
            });
        }

        /**
         * At a tick: whatever is there is the answer; when nothing is, wait for the next record as any fetch does,
         * and then for the tick after it.
         */
        private void askAtTick() {
            shared.fetch = ask(0);
            shared.fetch.result().onComplete(atTick -> {
                if (atTick.failed() || !atTick.result().records().isEmpty()) {
                    shared.answer.handle(atTick);
                    return;
                }
                shared.fetch = ask(key.maxWaitMs());
                shared.fetch.result().onComplete(waited -> {
                    if (worthWaiting(waited)) {
                        askAtNextTick();
                    } else {
                        shared.answer.handle(waited);
                    }
                });
            });
        }

        private PendingFetch ask(long maxWaitMs) {
            return broker.withdrawableFetch(key.tp(), key.offset(), key.maxBytes(), maxWaitMs,
                    key.currentLeaderEpoch());
        }
    }

    /**
     * Milliseconds from {@code nowNanos} (a {@link System#nanoTime()}) to the next tick of {@code phase}, 0 to
     * {@code lingerMs}: rounded down, so a tick less than a millisecond away is 0 (ask now).
     */
    static long millisToNextTick(long nowNanos, long lingerMs, int phase) {
        long lingerNanos = TimeUnit.MILLISECONDS.toNanos(lingerMs);
        long phaseNanos = lingerNanos * phase / LINGER_PHASES;
        long sinceTick = Math.floorMod(nowNanos - phaseNanos, lingerNanos);
        return TimeUnit.NANOSECONDS.toMillis(lingerNanos - sinceTick);
    }

    /** Fetches now in flight or lingering (for tests). */
    int inFlight() {
        return inFlight.size();
    }

    /** Fetches now waiting for their linger to end (for tests). */
    int lingering() {
        return (int) inFlight.values().stream().filter(shared -> shared.timer >= 0).count();
    }
}
