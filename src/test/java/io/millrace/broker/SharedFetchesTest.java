package io.millrace.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.ErrorCode;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionSettings;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SharedFetches} and the {@link PartitionSubscription}s that use it, against a real {@link BrokerService} and
 * partition verticle ({@link InProcessBroker}).
 */
class SharedFetchesTest {

    private static final TopicPartition TP = new TopicPartition("fan", 0);
    private static final long MAX_WAIT_MS = 2_000;
    private static final int MAX_BYTES = 1 << 20;

    @TempDir
    Path dir;

    private InProcessBroker local;
    private BrokerService broker;
    private Context one;
    private Context two;

    @BeforeEach
    void start() throws Exception {
        local = new InProcessBroker(dir, TP, new PartitionSettings(MAX_WAIT_MS, 1_000, 60_000, 1_000));
        broker = local.broker;
        // from a thread outside Vert.x, each call makes a new event-loop context
        one = local.vertx.getOrCreateContext();
        two = local.vertx.getOrCreateContext();
    }

    @AfterEach
    void stop() throws Exception {
        local.close();
    }

    @Test
    void eachContextHasOneInstanceOfItsOwn() throws Exception {
        SharedFetches ofOne = on(one, () -> SharedFetches.of(one));
        assertThat(on(one, () -> SharedFetches.of(one))).isSameAs(ofOne);
        assertThat(on(two, () -> SharedFetches.of(two))).isNotSameAs(ofOne);
    }

    @Test
    void fetchesForTheSameArgumentsOnOneContextAreOneFetch() throws Exception {
        SharedFetches shared = on(one, () -> SharedFetches.of(one));
        List<Future<FetchResult>> fetches = on(one, () -> List.of(
                shared.fetch(broker, TP, 0, MAX_BYTES, MAX_WAIT_MS),
                shared.fetch(broker, TP, 0, MAX_BYTES, MAX_WAIT_MS),
                shared.fetch(broker, TP, 0, MAX_BYTES / 2, MAX_WAIT_MS),
                shared.fetch(broker, TP, 0, MAX_BYTES, MAX_WAIT_MS - 1)));
        Future<FetchResult> elsewhere = on(two, () -> SharedFetches.of(two).fetch(broker, TP, 0, MAX_BYTES,
                MAX_WAIT_MS));

        assertThat(fetches.get(1)).isSameAs(fetches.get(0));
        assertThat(fetches.get(2)).isNotSameAs(fetches.get(0));
        assertThat(fetches.get(3)).isNotSameAs(fetches.get(0)).isNotSameAs(fetches.get(2));
        assertThat(elsewhere).isNotSameAs(fetches.get(0));
        assertThat(on(one, shared::inFlight)).isEqualTo(3);

        produce(1);
        for (Future<FetchResult> fetch : fetches) {
            assertThat(fetch.await(10, TimeUnit.SECONDS).nextOffset()).isEqualTo(1);
        }
        assertThat(elsewhere.await(10, TimeUnit.SECONDS).nextOffset()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, shared::inFlight) == 0);
    }

    @Test
    void aCompletedFetchIsNeverHandedOutAgain() throws Exception {
        SharedFetches shared = on(one, () -> SharedFetches.of(one));
        AtomicReference<Future<FetchResult>> again = new AtomicReference<>();
        AtomicReference<Boolean> againWasComplete = new AtomicReference<>();
        Future<FetchResult> first = on(one, () -> {
            Future<FetchResult> fetch = shared.fetch(broker, TP, 0, MAX_BYTES, MAX_WAIT_MS);
            // as a subscription whose handler took nothing fetches its position again
            fetch.onComplete(done -> {
                Future<FetchResult> next = shared.fetch(broker, TP, 0, MAX_BYTES, MAX_WAIT_MS);
                againWasComplete.set(next.isComplete());
                again.set(next);
            });
            return fetch;
        });

        produce(2);

        await().atMost(Duration.ofSeconds(10)).until(() -> again.get() != null);
        assertThat(again.get()).isNotSameAs(first);
        assertThat(againWasComplete.get()).isFalse();
        assertThat(again.get().await(10, TimeUnit.SECONDS).nextOffset()).isEqualTo(2);
    }

    @Test
    void aFetchThatFailsAtOnceIsNotKept() throws Exception {
        SharedFetches shared = on(one, () -> SharedFetches.of(one));
        Future<FetchResult> unknown = on(one, () -> shared.fetch(broker, new TopicPartition("nope", 0), 0,
                MAX_BYTES, MAX_WAIT_MS));

        assertThat(unknown.failed()).isTrue();
        assertThat(on(one, shared::inFlight)).isZero();
    }

    @Test
    void aFailedFetchIsForgottenWhenItFails() throws Exception {
        SharedFetches shared = on(one, () -> SharedFetches.of(one));
        Future<FetchResult> beyond = on(one, () -> shared.fetch(broker, TP, 5, MAX_BYTES, MAX_WAIT_MS));

        await().atMost(Duration.ofSeconds(10)).until(beyond::isComplete);
        assertThat(beyond.cause()).isInstanceOfSatisfying(MillraceException.class,
                e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE));
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, shared::inFlight) == 0);
        assertThat(on(one, () -> shared.fetch(broker, TP, 5, MAX_BYTES, MAX_WAIT_MS))).isNotSameAs(beyond);
    }

    @Test
    void subscriptionsOfOneContextShareTheirFetchAndEachGetsEveryRecordOnce() throws Exception {
        List<Reader> ample = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ample.add(subscribe(one, 1_000));
        }
        for (int i = 0; i < 5; i++) {
            ample.add(subscribe(two, 1_000));
        }
        Reader leaver = ample.get(7);
        Reader short3 = subscribe(one, 3);
        SharedFetches sharedOne = on(one, () -> SharedFetches.of(one));
        SharedFetches sharedTwo = on(two, () -> SharedFetches.of(two));
        // 21 subscriptions waiting at offset 0 on one context, 5 on the other: one fetch each
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, sharedOne::inFlight) == 1
                && on(two, sharedTwo::inFlight) == 1);

        produce(1, 2, 3, 4, 5, 1, 1, 8);
        await().atMost(Duration.ofSeconds(10)).until(() -> ample.stream().allMatch(r -> r.offsets.size() >= 25));
        on(one, () -> {
            leaver.subscription.cancel();
            return null;
        });
        produce(4, 3, 2, 1, 15);

        List<Reader> staying = ample.stream().filter(r -> r != leaver).toList();
        await().atMost(Duration.ofSeconds(10)).until(() -> staying.stream().allMatch(r -> r.offsets.size() >= 50));
        for (Reader reader : staying) {
            reader.assertReadExactly(50);
        }
        leaver.assertReadExactly(25);
        short3.assertReadExactly(3);
        // everyone caught up waits at the end again, in one fetch per context; the short one does not fetch
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, sharedOne::inFlight) == 1
                && on(two, sharedTwo::inFlight) == 1);

        on(one, () -> {
            short3.credit(100);
            return null;
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> short3.offsets.size() >= 50);
        short3.assertReadExactly(50);
        leaver.assertReadExactly(25);
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, sharedOne::inFlight) == 1);
    }

    @Test
    void aRequestFromInsideTheHandlerDoesNotRefetchTheOldPosition() throws Exception {
        // A WebSocket whose write drains its queue calls request(0) from inside the handler; a fetch started then
        // from the position not yet advanced brought back only records already taken, and the subscription waited
        // for good.
        Reader reader = new Reader(1_000) {
            private boolean drained;

            @Override
            public long onData(FetchResult result, long position) {
                long next = super.onData(result, position);
                if (!drained) {
                    drained = true; // a socket drains once
                    subscription.request(0);
                }
                return next;
            }
        };
        produce(1, 2); // all there before the first fetch, so a refetch of offset 0 would bring only these back
        on(one, () -> {
            reader.subscription = broker.subscribe(TP, 0, MAX_BYTES, reader);
            reader.subscription.request(1_000);
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> reader.offsets.size() >= 3);
        for (int round = 2; round <= 5; round++) {
            produce(1, 2);
            int expected = 3 * round;
            await().atMost(Duration.ofSeconds(5)).until(() -> reader.offsets.size() >= expected);
        }
        reader.assertReadExactly(15);
    }

    @Test
    void aLingeringSubscriptionGetsAStreamInFewPushesAndNoRecordWaitsLongerThanTheLinger() throws Exception {
        long lingerMs = 3_000;
        Reader lingering = subscribe(one, 1_000, lingerMs);
        Reader eager = subscribe(one, 1_000, 0);

        // Five appends one by one, well within one linger: the eager reader has each as it comes; the lingering one
        // gets them in one push at the next tick of its phase, or two when that tick fell between the appends.
        List<Long> appended = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            appended.add(System.nanoTime());
            produce(1);
            int count = i + 1;
            await().atMost(Duration.ofSeconds(5)).until(() -> eager.offsets.size() == count);
        }
        await().atMost(Duration.ofMillis(lingerMs + 5_000)).until(() -> lingering.offsets.size() == 5);
        eager.assertReadExactly(5);
        assertThat(eager.deliveries).hasSize(5);
        lingering.assertReadExactly(5);
        assertThat(lingering.deliveries).as("pushes to the lingering reader").hasSizeBetween(1, 2);
        for (int push = 0; push < lingering.deliveries.size(); push++) {
            long firstRecord = lingering.firstOffsets.get(push);
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(lingering.deliveries.get(push)
                    - appended.get((int) firstRecord));
            assertThat(waitedMs).as("wait of record %d, the first of push %d", firstRecord, push)
                    .isLessThanOrEqualTo(lingerMs + 1_000);
        }
        if (lingering.deliveries.size() == 2) {
            assertThat(TimeUnit.NANOSECONDS.toMillis(lingering.deliveries.get(1) - lingering.deliveries.get(0)))
                    .as("time between the two pushes, a tick apart").isGreaterThanOrEqualTo(lingerMs - 10);
        }
    }

    @Test
    void lingeringReadersSpreadOverThePhasesAndShareOneFetchPerPhase() throws Exception {
        List<Reader> readers = new ArrayList<>();
        for (int i = 0; i < 2 * SharedFetches.LINGER_PHASES; i++) {
            readers.add(subscribe(one, 1_000, 60_000));
        }
        SharedFetches shared = on(one, () -> SharedFetches.of(one));
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, shared::inFlight) == SharedFetches.LINGER_PHASES);

        produce(1);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> on(one, shared::lingering) == SharedFetches.LINGER_PHASES);
        assertThat(on(one, shared::inFlight)).isEqualTo(SharedFetches.LINGER_PHASES);
        assertThat(readers).allSatisfy(reader -> assertThat(reader.offsets).isEmpty());
        on(one, () -> {
            readers.forEach(reader -> reader.subscription.cancel());
            return null;
        });
        assertThat(on(one, shared::inFlight)).isZero();
    }

    @Test
    void aPhasesTicksAreALingerApartAndOffsetByAPhaseEach() {
        long linger = 40;
        long phaseNanos = TimeUnit.MILLISECONDS.toNanos(linger) / SharedFetches.LINGER_PHASES;
        long tick = TimeUnit.MILLISECONDS.toNanos(linger) * 1_000_003;
        assertThat(SharedFetches.millisToNextTick(tick, linger, 0)).as("at a tick: the next one").isEqualTo(40);
        assertThat(SharedFetches.millisToNextTick(tick + 1, linger, 0)).isEqualTo(39);
        assertThat(SharedFetches.millisToNextTick(tick, linger, 1)).isEqualTo(TimeUnit.NANOSECONDS.toMillis(phaseNanos));
        assertThat(SharedFetches.millisToNextTick(tick + phaseNanos - 500_000, linger, 1))
                .as("half a millisecond before its tick: ask now").isZero();
        assertThat(SharedFetches.millisToNextTick(tick - 1, linger, 7)).as("phase 7 ticks 35 ms after phase 0").isEqualTo(35);
        assertThat(SharedFetches.millisToNextTick(-tick + 1, linger, 0)).as("nanoTime may be negative")
                .isEqualTo(39);
    }

    @Test
    void aLingeringSubscriptionBehindTheEndGetsItsBacklogAtOnce() throws Exception {
        produce(1, 1, 1);
        Reader lingering = subscribe(one, 1_000, 60_000);
        SharedFetches shared = on(one, () -> SharedFetches.of(one));
        // Three records at the end, with room for more: it lingers, as a subscriber at the end would.
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, shared::lingering) == 1);
        assertThat(lingering.offsets).isEmpty();
        on(one, () -> {
            lingering.subscription.cancel();
            return null;
        });

        // A reader whose fetch cannot hold all that is there is behind: it is not held back.
        Reader behind = new Reader(1_000);
        on(one, () -> {
            behind.subscription = broker.subscribe(TP, 0, 1, LeaderEpoch.UNKNOWN, 60_000, behind);
            behind.subscription.request(1_000);
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> behind.offsets.size() == 3);
        behind.assertReadExactly(3);
        assertThat(lingering.offsets).isEmpty();
    }

    @Test
    void aSubscriptionCancelledWhileItLingersLeavesNoFetchBehind() throws Exception {
        Reader lingering = subscribe(one, 1_000, 60_000);
        SharedFetches shared = on(one, () -> SharedFetches.of(one));
        produce(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, shared::lingering) == 1);
        assertThat(lingering.offsets).as("a record held back for the linger").isEmpty();

        on(one, () -> {
            lingering.subscription.cancel();
            return null;
        });
        assertThat(on(one, shared::inFlight)).isZero();
        assertThat(on(one, shared::lingering)).as("its timer cancelled").isZero();
        produce(1);
        Reader next = subscribe(one, 1_000, 0);
        await().atMost(Duration.ofSeconds(5)).until(() -> next.offsets.size() == 2);
        assertThat(lingering.offsets).isEmpty();
    }

    private void produce(int... batchSizes) throws Exception {
        local.produce(batchSizes);
    }

    private Reader subscribe(Context context, long credit) throws Exception {
        return subscribe(context, credit, 0);
    }

    private Reader subscribe(Context context, long credit, long lingerMs) throws Exception {
        Reader reader = new Reader(credit);
        on(context, () -> {
            reader.subscription = broker.subscribe(TP, 0, MAX_BYTES, LeaderEpoch.UNKNOWN, lingerMs, reader);
            reader.subscription.request(credit);
            return null;
        });
        return reader;
    }

    private static <T> T on(Context context, Callable<T> action) throws Exception {
        return InProcessBroker.on(context, action);
    }

    /**
     * A subscriber with a credit in records, as a WebSocket subscription has: takes what its credit allows from each
     * fetch and leaves the rest. Runs on its context; the test thread reads what it took.
     */
    private static class Reader implements Subscription.Handler {
        final List<Long> offsets = new CopyOnWriteArrayList<>();
        final List<String> values = new CopyOnWriteArrayList<>();
        final List<MillraceException> errors = new CopyOnWriteArrayList<>();
        /** When each call that took records came ({@link System#nanoTime()}). */
        final List<Long> deliveries = new CopyOnWriteArrayList<>();
        /** The first offset of each delivery. */
        final List<Long> firstOffsets = new CopyOnWriteArrayList<>();
        Subscription subscription;
        private long credit;

        Reader(long credit) {
            this.credit = credit;
        }

        void credit(long more) {
            credit += more;
            subscription.request(more);
        }

        @Override
        public long onData(FetchResult result, long position) {
            long next = position;
            long first = -1;
            for (RecordBatch batch : RecordBatches.split(result.readRecords())) {
                for (Record record : batch.records()) {
                    if (record.offset() < position) {
                        continue;
                    }
                    if (credit == 0) {
                        return next;
                    }
                    credit--;
                    if (first < 0) {
                        first = record.offset();
                    }
                    offsets.add(record.offset());
                    values.add(new String(record.value(), StandardCharsets.UTF_8));
                    next = record.offset() + 1;
                }
            }
            if (next > position) {
                firstOffsets.add(first);
                deliveries.add(System.nanoTime());
            }
            return next;
        }

        @Override
        public void onError(MillraceException error) {
            errors.add(error);
        }

        void assertReadExactly(int count) {
            assertThat(errors).isEmpty();
            assertThat(offsets).containsExactlyElementsOf(LongStream.range(0, count).boxed().toList());
            assertThat(values).containsExactlyElementsOf(LongStream.range(0, count).mapToObj(i -> "v-" + i).toList());
        }
    }
}
