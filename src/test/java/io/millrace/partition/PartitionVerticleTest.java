package io.millrace.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.Acks;
import io.millrace.common.EpochEndOffset;
import io.millrace.common.ErrorCode;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.OffsetSpec;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.record.RecordBatch;
import io.millrace.storage.LogConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The partition verticle on a real (non-clustered) Vert.x, spoken to over the event bus as the broker does. */
class PartitionVerticleTest {

    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(LocalCodec.NAME);

    @TempDir
    Path dir;

    private Vertx vertx;

    @BeforeEach
    void deploy() throws Exception {
        vertx = Vertx.vertx();
        vertx.eventBus().registerCodec(new LocalCodec());
        PartitionVerticle verticle = new PartitionVerticle(TP, dir.resolve("t-0"),
                LogConfig.from(Map.of(LogConfig.FLUSH_MESSAGES, "1")), 0, 2, Time.SYSTEM, Runnable::run,
                new PartitionSettings(10_000, 2, 60_000, 1_000));
        await(vertx.deployVerticle(verticle));
    }

    @AfterEach
    void close() throws Exception {
        await(vertx.close());
    }

    @Test
    void produceAnswersWithOffsetsAndStampsTheLeaderEpoch() throws Exception {
        PartitionResponse.Produced first = ask(new PartitionRequest.Produce(batch("a", "b"), Acks.ALL));
        PartitionResponse.Produced second = ask(new PartitionRequest.Produce(batch("c"), Acks.LEADER));
        assertThat(first.baseOffset()).isZero();
        assertThat(first.lastOffset()).isEqualTo(1);
        assertThat(second.baseOffset()).isEqualTo(2);
        PartitionResponse.Fetched fetched = ask(new PartitionRequest.Fetch(0, 1 << 20, 0));
        assertThat(fetched.highWatermark()).isEqualTo(3);
        assertThat(io.millrace.record.RecordBatches.split(fetched.records().readFully()).get(0).partitionLeaderEpoch())
                .isEqualTo(2);
    }

    @Test
    void aWaitingFetchWakesOnAppend() throws Exception {
        long start = System.nanoTime();
        Future<PartitionResponse.Fetched> waiting = vertx.eventBus()
                .<PartitionResponse.Fetched>request(PartitionAddress.of(TP), new PartitionRequest.Fetch(0, 1000, 5_000),
                        LOCAL)
                .map(m -> m.body());
        Thread.sleep(100);
        assertThat(waiting.isComplete()).isFalse();
        ask(new PartitionRequest.Produce(batch("x"), Acks.LEADER));
        PartitionResponse.Fetched fetched = await(waiting);
        assertThat(fetched.records().nextOffset()).isEqualTo(1);
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.MILLISECONDS.toNanos(3_000));
    }

    @Test
    void aFetchWithNothingToReadReturnsEmptyAfterItsWait() throws Exception {
        long start = System.nanoTime();
        PartitionResponse.Fetched fetched = ask(new PartitionRequest.Fetch(0, 1000, 200));
        assertThat(fetched.records().isEmpty()).isTrue();
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(190));
    }

    @Test
    void tooManyWaitersAreRefused() throws Exception {
        vertx.eventBus().request(PartitionAddress.of(TP), new PartitionRequest.Fetch(0, 1000, 400), LOCAL);
        vertx.eventBus().request(PartitionAddress.of(TP), new PartitionRequest.Fetch(0, 1000, 400), LOCAL);
        Thread.sleep(50);
        assertThat(errorOf(new PartitionRequest.Fetch(0, 1000, 400))).isEqualTo(ErrorCode.BROKER_OVERLOADED);
    }

    @Test
    void offsetsResolveAndBadOnesAreRefused() throws Exception {
        ask(new PartitionRequest.Produce(batch("a", "b", "c"), Acks.LEADER));
        assertThat(((PartitionResponse.Offset) ask(new PartitionRequest.ListOffset(OffsetSpec.EARLIEST))).offset())
                .isZero();
        assertThat(((PartitionResponse.Offset) ask(new PartitionRequest.ListOffset(OffsetSpec.LATEST))).offset())
                .isEqualTo(3);
        assertThat(errorOf(new PartitionRequest.ListOffset(new OffsetSpec.AtOffset(4))))
                .isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        assertThat(errorOf(new PartitionRequest.Fetch(-1, 100, 0))).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        assertThat(errorOf(new PartitionRequest.Fetch(9, 100, 0))).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        PartitionResponse.Status status = ask(new PartitionRequest.Describe());
        assertThat(status.logEndOffset()).isEqualTo(3);
        assertThat(status.highWatermark()).isEqualTo(3);
        assertThat(status.inSyncReplicas()).containsExactly(0);
    }

    @Test
    void deleteRecordsMovesTheLogStartUpToTheHighWatermark() throws Exception {
        ask(new PartitionRequest.Produce(batch("a", "b", "c"), Acks.ALL));
        ask(new PartitionRequest.Produce(batch("d", "e"), Acks.ALL));

        assertThat(((PartitionResponse.Status) ask(new PartitionRequest.DeleteRecords(1))).logStartOffset())
                .isEqualTo(1);
        assertThat(errorOf(new PartitionRequest.Fetch(0, 100, 0))).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        assertThat(((PartitionResponse.Offset) ask(new PartitionRequest.ListOffset(OffsetSpec.EARLIEST))).offset())
                .isEqualTo(1);
        assertThat(errorOf(new PartitionRequest.DeleteRecords(6))).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        assertThat(errorOf(new PartitionRequest.DeleteRecords(-2))).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        assertThat(((PartitionResponse.Status) ask(new PartitionRequest.DeleteRecords(
                PartitionRequest.DeleteRecords.HIGH_WATERMARK))).logStartOffset()).isEqualTo(5);
    }

    /** The leader is in epoch 2 (see {@link #deploy}), which wrote everything. */
    @Test
    void endOffsetForEpochAnswersFromTheEpochCacheInTheLeadersEpoch() throws Exception {
        ask(new PartitionRequest.Produce(batch("a", "b", "c"), Acks.ALL));

        assertThat((EpochEndOffset) ask(new PartitionRequest.EndOffsetForEpoch(2, 2)))
                .isEqualTo(new EpochEndOffset(2, 3));
        assertThat((EpochEndOffset) ask(new PartitionRequest.EndOffsetForEpoch(2, LeaderEpoch.UNKNOWN)))
                .isEqualTo(new EpochEndOffset(2, 3));
        assertThat((EpochEndOffset) ask(new PartitionRequest.EndOffsetForEpoch(1, 2)))
                .as("below every epoch the log knows").isEqualTo(EpochEndOffset.UNDEFINED);
        assertThat((EpochEndOffset) ask(new PartitionRequest.EndOffsetForEpoch(3, LeaderEpoch.UNKNOWN)))
                .as("above every epoch the log knows").isEqualTo(EpochEndOffset.UNDEFINED);
        assertThat(errorOf(new PartitionRequest.EndOffsetForEpoch(2, 1))).isEqualTo(ErrorCode.FENCED_LEADER_EPOCH);
        assertThat(errorOf(new PartitionRequest.EndOffsetForEpoch(2, 3))).isEqualTo(ErrorCode.NOT_LEADER);
    }

    @Test
    void aCorruptBatchIsRefusedWithItsCode() throws Exception {
        RecordBatch bad = batch("a");
        java.nio.ByteBuffer bytes = bad.buffer();
        bytes.put(bytes.limit() - 1, (byte) (bytes.get(bytes.limit() - 1) + 1));
        assertThat(errorOf(new PartitionRequest.Produce(RecordBatch.wrap(bytes), Acks.LEADER)))
                .isEqualTo(ErrorCode.CORRUPT_RECORD);
    }

    private static RecordBatch batch(String... values) {
        return TestBatches.of(values);
    }

    private <T> T ask(PartitionRequest request) throws Exception {
        return await(vertx.eventBus().<T>request(PartitionAddress.of(TP), request, LOCAL).map(m -> m.body()));
    }

    private ErrorCode errorOf(PartitionRequest request) throws Exception {
        try {
            ask(request);
        } catch (java.util.concurrent.ExecutionException e) {
            return ErrorCode.forCode(((ReplyException) e.getCause()).failureCode());
        }
        throw new AssertionError("expected a failure");
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
