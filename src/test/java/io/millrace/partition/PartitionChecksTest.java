package io.millrace.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.Acks;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.record.RecordBatch;
import io.millrace.storage.LogConfig;
import io.millrace.storage.StorageHealth;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The partition's periodic checks, which run only while they have something to do (an idle partition holds no
 * timer): {@code flush.ms} and the high-watermark checkpoint still happen within {@code log.flush.check.interval.ms}
 * of an append, and a leader still drops an in-sync follower that falls behind for {@code replica.lag.time.max.ms},
 * within half that again (Kafka's schedule), also when nothing is produced after the follower stops.
 */
class PartitionChecksTest {

    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final long FLUSH_CHECK_MS = 100;
    private static final long LAG_MAX_MS = 400;

    @TempDir
    Path dir;

    private Vertx vertx;
    private final AtomicInteger flushes = new AtomicInteger();
    private final Executor countingFlushExecutor = task -> {
        flushes.incrementAndGet();
        task.run();
    };
    private final List<ReplicaAssignment> isrWrites = new CopyOnWriteArrayList<>();
    private final IsrWriter recordingIsrWriter = (tp, next) -> {
        isrWrites.add(next);
        return Future.succeededFuture(Optional.of(new ReplicaAssignment(next.leader(), next.leaderEpoch(),
                next.replicas(), next.isr(), next.version() + 1, next.minInSyncReplicas())));
    };

    @BeforeEach
    void startVertx() {
        vertx = Vertx.vertx();
        vertx.eventBus().registerCodec(new LocalCodec());
        vertx.eventBus().registerCodec(new ReplicationCodec());
    }

    @AfterEach
    void close() throws Exception {
        get(vertx.close());
    }

    @Test
    void flushMsAndTheHighWatermarkCheckpointFollowAnAppendWithinTheCheckInterval() throws Exception {
        deploy(Map.of(LogConfig.FLUSH_MS, "0"), new ReplicaAssignment(0, 1, List.of(0), List.of(0), 0, 1));
        int flushesBefore = flushes.get();
        long start = System.nanoTime();

        ask(new PartitionRequest.Produce(batch("a", "b"), Acks.LEADER));

        await().atMost(Duration.ofSeconds(5)).until(() -> flushes.get() > flushesBefore
                && checkpointedHighWatermark() == 2);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(FLUSH_CHECK_MS * 20));
        int flushesAfter = flushes.get();
        await().during(Duration.ofMillis(FLUSH_CHECK_MS * 5)).atMost(Duration.ofSeconds(5))
                .until(() -> flushes.get() == flushesAfter);
    }

    @Test
    void withoutFlushMsNothingIsFlushedButTheHighWatermarkIsStillCheckpointed() throws Exception {
        deploy(Map.of(), new ReplicaAssignment(0, 1, List.of(0), List.of(0), 0, 1));
        int flushesBefore = flushes.get();

        ask(new PartitionRequest.Produce(batch("a"), Acks.LEADER));

        await().atMost(Duration.ofSeconds(5)).until(() -> checkpointedHighWatermark() == 1);
        assertThat(flushes.get()).as("checkpoints run on the worker pool, fsyncs on the flush executor")
                .isEqualTo(flushesBefore);
    }

    @Test
    void anInSyncFollowerThatNeverFetchesLeavesTheIsrOfAnIdleLeader() throws Exception {
        long start = System.nanoTime();
        deploy(Map.of(), new ReplicaAssignment(0, 1, List.of(0, 1), List.of(0, 1), 0, 1));

        await().atMost(Duration.ofSeconds(10)).until(() -> !isrWrites.isEmpty());

        assertThat(isrWrites.get(0).isr()).containsExactly(0);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(LAG_MAX_MS))
                .isLessThan(Duration.ofMillis(LAG_MAX_MS * 3 / 2 + 2_000));
    }

    @Test
    void aFollowerThatStopsAfterCatchingUpLeavesTheIsrAfterTheNextAppend() throws Exception {
        deploy(Map.of(), new ReplicaAssignment(0, 1, List.of(0, 1), List.of(0, 1), 0, 1));
        ask(new PartitionRequest.ReplicaFetch(TP, 1, 1, 0, -1, 1 << 20, 0, 0));
        await().during(Duration.ofMillis(LAG_MAX_MS * 2)).atMost(Duration.ofSeconds(10))
                .until(isrWrites::isEmpty);

        long appended = System.nanoTime();
        ask(new PartitionRequest.Produce(batch("a"), Acks.LEADER));

        await().atMost(Duration.ofSeconds(10)).until(() -> !isrWrites.isEmpty());
        assertThat(isrWrites.get(0).isr()).containsExactly(0);
        assertThat(Duration.ofNanos(System.nanoTime() - appended))
                .isLessThan(Duration.ofMillis(LAG_MAX_MS * 3 / 2 + 2_000));
    }

    @Test
    void aFollowerThatKeepsUpStaysInSync() throws Exception {
        deploy(Map.of(), new ReplicaAssignment(0, 1, List.of(0, 1), List.of(0, 1), 0, 1));
        long end = 0;
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LAG_MAX_MS * 3);
        while (System.nanoTime() < until) {
            ask(new PartitionRequest.ReplicaFetch(TP, 1, 1, end, end == 0 ? -1 : 1, 1 << 20, 0, 0));
            PartitionResponse.Produced produced = ask(new PartitionRequest.Produce(batch("x"), Acks.LEADER));
            end = produced.lastOffset() + 1;
        }
        ask(new PartitionRequest.ReplicaFetch(TP, 1, 1, end, 1, 1 << 20, 0, 0));

        assertThat(isrWrites).isEmpty();
    }

    private void deploy(Map<String, String> config, ReplicaAssignment assignment) throws Exception {
        PartitionVerticle verticle = new PartitionVerticle(TP, dir.resolve("t-0"), LogConfig.from(config), 0,
                assignment, Time.SYSTEM, countingFlushExecutor,
                new PartitionSettings(10_000, 10, 60_000, FLUSH_CHECK_MS, LAG_MAX_MS, 1 << 20, 100, 100),
                recordingIsrWriter, new StorageHealth(dir, 0));
        get(vertx.deployVerticle(verticle));
    }

    private long checkpointedHighWatermark() throws Exception {
        Path file = dir.resolve("t-0").resolve("high-watermark-checkpoint");
        if (!Files.exists(file)) {
            return -1;
        }
        List<String> lines = Files.readAllLines(file);
        return lines.size() < 2 ? -1 : Long.parseLong(lines.get(1).trim());
    }

    private static RecordBatch batch(String... values) {
        return TestBatches.of(values);
    }

    private <T> T ask(PartitionRequest request) throws Exception {
        return get(vertx.eventBus().<T>request(PartitionAddress.of(TP), request, PartitionAddress.delivery(10_000))
                .map(m -> m.body()));
    }

    private static <T> T get(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
