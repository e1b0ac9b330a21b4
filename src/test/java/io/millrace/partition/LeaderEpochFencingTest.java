package io.millrace.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.Acks;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The partition verticle checks a client request's {@code currentLeaderEpoch} before anything else (Kafka's KIP-320):
 * an older epoch is FENCED_LEADER_EPOCH, a newer one NOT_LEADER, and neither appends nor reads; -1 is not checked.
 * Broker 0 leads {@code t-0} in epoch 2, as in {@link PartitionVerticleTest}.
 */
class LeaderEpochFencingTest {

    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(LocalCodec.NAME);
    private static final int EPOCH = 2;

    @TempDir
    Path dir;

    private Vertx vertx;
    private PartitionVerticle verticle;

    @BeforeEach
    void deploy() throws Exception {
        vertx = Vertx.vertx();
        vertx.eventBus().registerCodec(new LocalCodec());
        vertx.eventBus().registerCodec(new ReplicationCodec());
        verticle = new PartitionVerticle(TP, dir.resolve("t-0"), LogConfig.from(Map.of(LogConfig.FLUSH_MESSAGES, "1")),
                0, EPOCH, Time.SYSTEM, Runnable::run, new PartitionSettings(10_000, 2, 60_000, 1_000));
        await(vertx.deployVerticle(verticle));
    }

    @AfterEach
    void close() throws Exception {
        await(vertx.close());
    }

    @Test
    void aProduceInTheLeadersEpochOrWithoutOneIsAppended() throws Exception {
        PartitionResponse.Produced current = ask(new PartitionRequest.Produce(batch("a"), Acks.LEADER, EPOCH));
        PartitionResponse.Produced unknown = ask(new PartitionRequest.Produce(batch("b"), Acks.LEADER,
                LeaderEpoch.UNKNOWN));

        assertThat(current.baseOffset()).isZero();
        assertThat(unknown.baseOffset()).isEqualTo(1);
    }

    @Test
    void aProduceWithAStaleEpochIsFencedAndANewerOneIsNotLeaderAndNothingIsAppended() throws Exception {
        Failure stale = failureOf(new PartitionRequest.Produce(batch("stale"), Acks.LEADER, EPOCH - 1));
        Failure newer = failureOf(new PartitionRequest.Produce(batch("newer"), Acks.ALL, EPOCH + 1));

        assertThat(stale.code()).isEqualTo(ErrorCode.FENCED_LEADER_EPOCH);
        assertThat(stale.message()).contains("epoch 1", "epoch 2");
        assertThat(newer.code()).isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(newer.message()).contains("names leader epoch 3", "only learned epoch 2");
        assertThat(logEndOffset()).as("nothing appended").isZero();
    }

    @Test
    void fetchesAndOffsetLookupsAreCheckedTheSameWay() throws Exception {
        ask(new PartitionRequest.Produce(batch("a", "b"), Acks.LEADER));

        assertThat(failureOf(new PartitionRequest.Fetch(0, 1 << 20, 0, EPOCH - 1)).code())
                .isEqualTo(ErrorCode.FENCED_LEADER_EPOCH);
        assertThat(failureOf(new PartitionRequest.Fetch(0, 1 << 20, 0, EPOCH + 1)).code())
                .isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(failureOf(new PartitionRequest.ListOffset(OffsetSpec.LATEST, EPOCH - 1)).code())
                .isEqualTo(ErrorCode.FENCED_LEADER_EPOCH);
        assertThat(failureOf(new PartitionRequest.ListOffset(OffsetSpec.LATEST, EPOCH + 1)).code())
                .isEqualTo(ErrorCode.NOT_LEADER);

        PartitionResponse.Fetched fetched = ask(new PartitionRequest.Fetch(0, 1 << 20, 0, EPOCH));
        assertThat(fetched.records().nextOffset()).isEqualTo(2);
        PartitionResponse.Offset latest = ask(new PartitionRequest.ListOffset(OffsetSpec.LATEST, EPOCH));
        assertThat(latest.offset()).isEqualTo(2);
    }

    @Test
    void aDeposedLeaderFencesItsOldEpochAndRefusesTheNewOneAsAFollower() throws Exception {
        ask(new PartitionRequest.Produce(batch("a"), Acks.LEADER, EPOCH));
        verticle.applyAssignment(new ReplicaAssignment(1, EPOCH + 1, List.of(0, 1), List.of(0, 1), 0, 1));
        // The assignment is applied on the verticle's context; a Describe queued behind it sees the new role.
        PartitionResponse.Status status = ask(new PartitionRequest.Describe());
        assertThat(status.leaderEpoch()).isEqualTo(EPOCH + 1);

        Failure old = failureOf(new PartitionRequest.Produce(batch("lost?"), Acks.LEADER, EPOCH));
        Failure current = failureOf(new PartitionRequest.Produce(batch("lost?"), Acks.LEADER, EPOCH + 1));
        Failure unknown = failureOf(new PartitionRequest.Produce(batch("lost?"), Acks.LEADER, LeaderEpoch.UNKNOWN));

        assertThat(old.code()).isEqualTo(ErrorCode.FENCED_LEADER_EPOCH);
        assertThat(current.code()).isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(current.message()).contains("broker 1 does");
        assertThat(unknown.code()).isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(logEndOffset()).as("nothing appended after the first batch").isEqualTo(1);
    }

    private long logEndOffset() throws Exception {
        PartitionResponse.Status status = ask(new PartitionRequest.Describe());
        return status.logEndOffset();
    }

    private static RecordBatch batch(String... values) {
        return TestBatches.of(values);
    }

    private <T> T ask(PartitionRequest request) throws Exception {
        return await(vertx.eventBus().<T>request(PartitionAddress.of(TP), request, LOCAL).map(m -> m.body()));
    }

    private record Failure(ErrorCode code, String message) {
    }

    private Failure failureOf(PartitionRequest request) throws Exception {
        try {
            ask(request);
        } catch (ExecutionException e) {
            ReplyException reply = (ReplyException) e.getCause();
            return new Failure(ErrorCode.forCode(reply.failureCode()), reply.getMessage());
        }
        throw new AssertionError("expected a failure");
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
