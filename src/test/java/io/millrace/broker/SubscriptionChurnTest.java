package io.millrace.broker;

import static io.millrace.broker.InProcessBroker.on;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.LeaderEpoch;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionSettings;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Subscribing and unsubscribing again and again (a browser tab reloading, a dashboard switching topics) must not
 * fill a partition's {@code partition.max.fetch.waiters} with long-polls nobody waits for: a cancelled subscription
 * withdraws its waiting fetch at once instead of leaving it parked until {@code fetch.max.wait.ms}.
 */
class SubscriptionChurnTest {

    private static final TopicPartition TP = new TopicPartition("churn", 0);
    /** Far longer than the test: a fetch left parked would hold its slot for the whole test. */
    private static final long MAX_WAIT_MS = 60_000;
    private static final int MAX_WAITERS = 4;
    private static final int MAX_BYTES = 1 << 20;

    @TempDir
    Path dir;

    private InProcessBroker local;

    @BeforeEach
    void start() throws Exception {
        local = new InProcessBroker(dir, TP, new PartitionSettings(MAX_WAIT_MS, MAX_WAITERS, 60_000, 1_000));
    }

    @AfterEach
    void stop() throws Exception {
        local.close();
    }

    @Test
    void churnBeyondTheWaiterLimitLeavesTheSlotsFree() throws Exception {
        for (int cycle = 0; cycle < 5 * MAX_WAITERS; cycle++) {
            // a context of its own per subscriber, so that no two of them share a fetch
            Context socket = local.vertx.getOrCreateContext();
            Subscription subscription = on(socket, () -> {
                Subscription s = local.broker.subscribe(TP, 0, MAX_BYTES, LeaderEpoch.UNKNOWN, new Collector());
                s.request(100);
                return s;
            });
            on(socket, () -> {
                subscription.cancel();
                return null;
            });
        }

        Collector newcomer = new Collector();
        Context socket = local.vertx.getOrCreateContext();
        on(socket, () -> {
            local.broker.subscribe(TP, 0, MAX_BYTES, LeaderEpoch.UNKNOWN, newcomer).request(100);
            return null;
        });
        // a plain long-poll too: refused at once with BROKER_OVERLOADED if the churn had left its fetches parked
        Future<FetchResult> longPoll = local.broker.fetch(TP, 0, MAX_BYTES, MAX_WAIT_MS, LeaderEpoch.UNKNOWN);
        local.produce(3);

        assertThat(longPoll.await(10, TimeUnit.SECONDS).nextOffset()).isEqualTo(3);
        await().atMost(Duration.ofSeconds(5)).until(() -> newcomer.received.size() >= 3);
        assertThat(newcomer.errors).isEmpty();
        assertThat(newcomer.received).containsExactly(0L, 1L, 2L);
    }

    @Test
    void aSharedFetchIsWithdrawnOnlyWhenItsLastReaderLeaves() throws Exception {
        Context socket = local.vertx.getOrCreateContext();
        SharedFetches shared = on(socket, () -> SharedFetches.of(socket));
        List<PendingFetch> readers = on(socket, () -> List.of(
                shared.fetch(local.broker, TP, 0, MAX_BYTES, MAX_WAIT_MS, LeaderEpoch.UNKNOWN, 0, 0, false),
                shared.fetch(local.broker, TP, 0, MAX_BYTES, MAX_WAIT_MS, LeaderEpoch.UNKNOWN, 0, 0, false)));
        assertThat(readers.get(1).result()).isSameAs(readers.get(0).result());
        on(socket, () -> {
            readers.get(0).withdraw();
            return null;
        });
        local.produce(2);
        assertThat(readers.get(1).result().await(10, TimeUnit.SECONDS).nextOffset()).isEqualTo(2);

        PendingFetch alone = on(socket, () -> shared.fetch(local.broker, TP, 2, MAX_BYTES, MAX_WAIT_MS,
                LeaderEpoch.UNKNOWN, 0, 0, false));
        on(socket, () -> {
            alone.withdraw();
            return null;
        });
        // the wait is a minute: only the withdrawal answers it this soon, with no records
        assertThat(alone.result().await(10, TimeUnit.SECONDS).records().isEmpty()).isTrue();
        assertThat(on(socket, shared::inFlight)).isZero();
    }

    /** Takes every record it is given and remembers the offsets; runs on its subscription's context. */
    private static final class Collector implements Subscription.Handler {
        final List<Long> received = new CopyOnWriteArrayList<>();
        final List<MillraceException> errors = new CopyOnWriteArrayList<>();

        @Override
        public long onData(FetchResult result, long position) {
            for (long offset = Math.max(position, result.records().firstOffset()); offset < result.nextOffset();
                    offset++) {
                received.add(offset);
            }
            return result.nextOffset();
        }

        @Override
        public void onError(MillraceException error) {
            errors.add(error);
        }
    }
}
