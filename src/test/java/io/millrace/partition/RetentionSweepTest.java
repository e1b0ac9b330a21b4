package io.millrace.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.Acks;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.storage.LogConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker-wide retention sweep over real partition verticles: partitions apply retention when the sweep asks, and
 * only then (they keep no timer of their own).
 */
class RetentionSweepTest {

    private static final int PARTITIONS = 3;
    private static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(LocalCodec.NAME);
    /** Small segments and a size bound of one segment: a few hundred records leave whole segments to delete. */
    private static final LogConfig SMALL_SEGMENTS = LogConfig.from(Map.of(LogConfig.SEGMENT_BYTES, "1024",
            LogConfig.RETENTION_BYTES, "1024"));

    @TempDir
    Path dir;

    private Vertx vertx;
    private final List<PartitionVerticle> partitions = new ArrayList<>();

    @BeforeEach
    void deploy() throws Exception {
        vertx = Vertx.vertx();
        vertx.eventBus().registerCodec(new LocalCodec());
        for (int p = 0; p < PARTITIONS; p++) {
            TopicPartition tp = new TopicPartition("t", p);
            PartitionVerticle verticle = new PartitionVerticle(tp, dir.resolve(tp.toString()), SMALL_SEGMENTS, 0, 1,
                    Time.SYSTEM, Runnable::run, new PartitionSettings(10_000, 10, 60_000, 1_000));
            get(vertx.deployVerticle(verticle));
            partitions.add(verticle);
            for (int i = 0; i < 40; i++) {
                get(vertx.eventBus().request(PartitionAddress.of(tp), new PartitionRequest.Produce(
                        TestBatches.of("record number " + i + " of a partition that outgrows its retention.bytes"),
                        Acks.ALL), LOCAL));
            }
        }
    }

    @AfterEach
    void close() throws Exception {
        get(vertx.close());
    }

    @Test
    void aSweepAppliesRetentionToEveryPartition() throws Exception {
        RetentionSweep sweep = new RetentionSweep(vertx, 60_000, () -> partitions);
        assertThat(partitions).allSatisfy(p -> assertThat(p.stats().logStartOffset()).isZero());

        assertThat(get(sweep.sweep())).isEqualTo(PARTITIONS);

        assertThat(partitions).allSatisfy(p -> {
            assertThat(p.stats().logStartOffset()).isPositive();
            assertThat(p.stats().sizeBytes()).isLessThanOrEqualTo(2 * 1024);
        });
    }

    @Test
    void theTimerSweepsEveryInterval() {
        RetentionSweep sweep = new RetentionSweep(vertx, 100, () -> partitions);
        sweep.start();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(partitions).allSatisfy(p -> assertThat(p.stats().logStartOffset()).isPositive()));
        sweep.stop();
    }

    @Test
    void aStoppedSweepAsksNoPartition() throws Exception {
        RetentionSweep sweep = new RetentionSweep(vertx, 60_000, () -> partitions);
        sweep.start();
        sweep.stop();

        assertThat(get(sweep.sweep())).isZero();
        assertThat(partitions).allSatisfy(p -> assertThat(p.stats().logStartOffset()).isZero());
    }

    @Test
    void aSweepDueWhileOneRunsIsSkipped() throws Exception {
        List<PartitionVerticle> many = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            many.addAll(partitions);
        }
        RetentionSweep sweep = new RetentionSweep(vertx, 60_000, () -> many);

        Future<Integer> first = sweep.sweep();
        Future<Integer> overlapping = sweep.sweep();

        assertThat(get(overlapping)).as("a sweep while one runs adds nothing").isZero();
        assertThat(get(first)).isEqualTo(many.size());
        assertThat(get(sweep.sweep())).as("the next sweep runs once the first is done").isEqualTo(many.size());
    }

    private static <T> T get(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
