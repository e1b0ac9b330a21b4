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
    void aLingeringSubscriptionGetsWhatWasAppendedDuringItsLingerInOneDelivery() throws Exception {
        long lingerMs = 2_000;
        Reader lingering = subscribe(one, 1_000, lingerMs);
        Reader alsoLingering = subscribe(one, 1_000, lingerMs);
        Reader eager = subscribe(one, 1_000, 0);
        SharedFetches shared = on(one, () -> SharedFetches.of(one));
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, shared::inFlight) == 2);

        // Nothing came before, so the first record is not held back.
        produce(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> lingering.offsets.size() == 1
                && alsoLingering.offsets.size() == 1 && eager.offsets.size() == 1);
        // Four appends in a row while the lingering readers wait: the eager reader has them before the linger ends,
        // the lingering ones get all four in one delivery, no sooner than the linger after their last one.
        for (int i = 0; i < 4; i++) {
            produce(1);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> eager.offsets.size() == 5);
        long eagerDone = eager.deliveries.get(eager.deliveries.size() - 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> lingering.offsets.size() == 5
                && alsoLingering.offsets.size() == 5);
        for (Reader reader : List.of(lingering, alsoLingering)) {
            reader.assertReadExactly(5);
            assertThat(reader.deliveries).hasSize(2);
            assertThat(TimeUnit.NANOSECONDS.toMillis(reader.deliveries.get(1) - reader.deliveries.get(0)))
                    .as("time between the two deliveries").isGreaterThanOrEqualTo(lingerMs - 10);
            assertThat(reader.deliveries.get(1)).as("after the eager reader had every record").isGreaterThan(eagerDone);
        }
        eager.assertReadExactly(5);
        // Both lingering readers waited on one timer and one fetch, apart from the eager reader's.
        await().atMost(Duration.ofSeconds(5)).until(() -> on(one, shared::inFlight) == 2);
    }

    @Test
    void aSubscriptionCancelledWhileItLingersLeavesNoFetchBehind() throws Exception {
        Reader lingering = subscribe(one, 1_000, 60_000);
        SharedFetches shared = on(one, () -> SharedFetches.of(one));
        produce(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> lingering.offsets.size() == 1);
        assertThat(on(one, shared::inFlight)).as("the lingering fetch, waiting for its timer").isEqualTo(1);

        on(one, () -> {
            lingering.subscription.cancel();
            return null;
        });
        assertThat(on(one, shared::inFlight)).isZero();
        produce(1);
        // A later subscription at the same position is not held back by the cancelled one's linger.
        Reader next = subscribe(one, 1_000, 60_000);
        await().atMost(Duration.ofSeconds(5)).until(() -> next.offsets.size() == 2);
        assertThat(lingering.offsets).hasSize(1);
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
            for (RecordBatch batch : RecordBatches.split(result.readRecords())) {
                for (Record record : batch.records()) {
                    if (record.offset() < position) {
                        continue;
                    }
                    if (credit == 0) {
                        return next;
                    }
                    credit--;
                    offsets.add(record.offset());
                    values.add(new String(record.value(), StandardCharsets.UTF_8));
                    next = record.offset() + 1;
                }
            }
            if (next > position) {
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
