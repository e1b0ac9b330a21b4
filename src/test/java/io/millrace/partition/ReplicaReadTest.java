package io.millrace.partition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.Acks;
import io.millrace.common.ErrorCode;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionRequest.Fetch;
import io.millrace.partition.PartitionRequest.ReplicaFetch;
import io.millrace.partition.PartitionResponse.Fetched;
import io.millrace.partition.PartitionResponse.ReplicaData;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import io.millrace.storage.LogConfig;
import io.millrace.storage.StorageHealth;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads from an in-sync follower (Kafka's fetch from follower), which a broker uses for its subscribers of a
 * partition led elsewhere: the follower answers only up to the high watermark it has heard from its leader and
 * wakes a waiting read when that moves; and the leader tells a caught-up follower of every new high watermark at
 * once instead of holding its fetch until the next append.
 */
class ReplicaReadTest {

    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final int EPOCH = 3;
    private static final long LONG_WAIT_MS = 30_000;
    private static final DeliveryOptions TO_FOLLOWER = new DeliveryOptions().setCodecName(ReplicationCodec.NAME);

    @TempDir
    Path dir;

    private Vertx vertx;
    private PartitionVerticle verticle;
    /** The fetches a follower under test sent to its leader (broker 0), for the test to answer. */
    private final LinkedBlockingQueue<Message<ReplicaFetch>> fetchesToLeader = new LinkedBlockingQueue<>();

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
    void anInSyncFollowerAnswersUpToTheHighWatermarkItHeardAndWakesAWaitingReadWhenItMoves() throws Exception {
        deployFollowerOfBroker0(List.of(0, 1));
        Message<ReplicaFetch> first = nextFetchToLeader();
        assertThat(first.body().fetchOffset()).isZero();
        first.reply(data(0, 0, batchAt(0, "a", "b")), TO_FOLLOWER);

        Message<ReplicaFetch> second = nextFetchToLeader();
        assertThat(second.body().fetchOffset()).as("the records were appended").isEqualTo(2);
        Fetched uncommitted = get(request(replicaRead(0, 0, LeaderEpoch.UNKNOWN)));
        assertThat(uncommitted.records().isEmpty()).as("nothing is committed yet").isTrue();
        Future<Fetched> read = request(replicaRead(0, LONG_WAIT_MS, LeaderEpoch.UNKNOWN));
        get(request(new PartitionRequest.Describe()));
        assertThat(read.isComplete()).as("the read waits").isFalse();

        second.reply(data(2, 2, Buffer.buffer()), TO_FOLLOWER);
        Fetched fetched = get(read);

        assertThat(fetched.highWatermark()).isEqualTo(2);
        assertThat(offsetsOf(fetched)).containsExactly(0L, 1L);
        assertThat(nextFetchToLeader().body().highWatermark()).as("the follower tells its leader what it heard")
                .isEqualTo(2);
        Fetched again = get(request(replicaRead(0, 0, EPOCH)));
        assertThat(offsetsOf(again)).as("a read naming the leader's epoch").containsExactly(0L, 1L);
    }

    @Test
    void aFollowerRefusesWhatOnlyTheLeaderCanAnswer() throws Exception {
        deployFollowerOfBroker0(List.of(0, 1));
        nextFetchToLeader().reply(data(0, 0, batchAt(0, "a", "b")), TO_FOLLOWER);
        nextFetchToLeader().reply(data(2, 2, Buffer.buffer()), TO_FOLLOWER);
        nextFetchToLeader();

        assertThat(failureOf(new Fetch(0, 1 << 20, 0, LeaderEpoch.UNKNOWN)))
                .as("a read that does not allow a follower").isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(failureOf(replicaRead(0, 0, EPOCH - 1))).as("an older epoch")
                .isEqualTo(ErrorCode.FENCED_LEADER_EPOCH);
        assertThat(failureOf(replicaRead(0, 0, EPOCH + 1))).as("an epoch not heard of yet")
                .isEqualTo(ErrorCode.NOT_LEADER);
        assertThat(failureOf(replicaRead(5, 0, LeaderEpoch.UNKNOWN))).as("past the follower's log end")
                .isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);

        Fetched inSync = get(request(replicaRead(0, 0, LeaderEpoch.UNKNOWN)));
        assertThat(inSync.highWatermark()).isEqualTo(2);
        verticle.applyAssignment(new ReplicaAssignment(0, EPOCH, List.of(0, 1), List.of(0), 1, 1));
        assertThat(failureOf(replicaRead(0, 0, LeaderEpoch.UNKNOWN))).as("out of the in-sync set")
                .isEqualTo(ErrorCode.NOT_LEADER);
    }

    @Test
    void aCaughtUpFollowerHearsOfANewHighWatermarkWithoutWaitingForTheNextAppend() throws Exception {
        deployLeaderWithFollowers1And2();
        Future<ReplicaData> follower1 = request(replicaFetch(1, 0, 0));
        get(request(new PartitionRequest.Produce(TestBatches.of("a", "b"), Acks.LEADER)));
        assertThat(get(follower1).records().length()).as("woken by the append").isPositive();

        Future<ReplicaData> follower1Caught = request(replicaFetch(1, 2, 0));
        get(request(new PartitionRequest.Describe()));
        assertThat(follower1Caught.isComplete()).as("the high watermark has not moved: follower 1 waits").isFalse();
        ReplicaData movingFetch = get(request(replicaFetch(2, 2, 0)));
        assertThat(movingFetch.highWatermark()).as("the fetch that moved the high watermark learns it at once")
                .isEqualTo(2);
        ReplicaData woken = get(follower1Caught);
        assertThat(woken.highWatermark()).as("the waiting follower is told, long before its wait runs out")
                .isEqualTo(2);
        assertThat(woken.records().length()).isZero();

        Future<ReplicaData> upToDate = request(replicaFetch(1, 2, 2));
        get(request(new PartitionRequest.Describe()));
        assertThat(upToDate.isComplete()).as("a follower that knows the high watermark still long-polls").isFalse();
        get(request(new PartitionRequest.Produce(TestBatches.of("c"), Acks.LEADER)));
        assertThat(get(upToDate).records().length()).isPositive();
    }

    private void deployFollowerOfBroker0(List<Integer> isr) throws Exception {
        vertx.eventBus().<ReplicaFetch>consumer(ReplicaEndpoint.address(0), fetchesToLeader::add);
        deploy(1, new ReplicaAssignment(0, EPOCH, List.of(0, 1), isr, 0, 1));
    }

    private void deployLeaderWithFollowers1And2() throws Exception {
        deploy(0, new ReplicaAssignment(0, EPOCH, List.of(0, 1, 2), List.of(0, 1, 2), 0, 2));
    }

    private void deploy(int brokerId, ReplicaAssignment assignment) throws Exception {
        verticle = new PartitionVerticle(TP, dir.resolve("t-0"), LogConfig.from(Map.of()), brokerId, assignment,
                Time.SYSTEM, Runnable::run, new PartitionSettings(LONG_WAIT_MS, 10, 60_000, 100, 10_000, 1 << 20,
                LONG_WAIT_MS, 100),
                (tp, next) -> Future.succeededFuture(Optional.of(next)), new StorageHealth(dir, 0));
        get(vertx.deployVerticle(verticle));
    }

    private Message<ReplicaFetch> nextFetchToLeader() throws InterruptedException {
        Message<ReplicaFetch> fetch = fetchesToLeader.poll(10, TimeUnit.SECONDS);
        assertThat(fetch).as("the follower fetches from its leader").isNotNull();
        return fetch;
    }

    private static Fetch replicaRead(long offset, long maxWaitMs, int currentLeaderEpoch) {
        return new Fetch(offset, 1 << 20, maxWaitMs, currentLeaderEpoch, Fetch.UNNAMED, true);
    }

    private static ReplicaFetch replicaFetch(int replicaId, long offset, long highWatermark) {
        return new ReplicaFetch(TP, replicaId, EPOCH, offset, offset == 0 ? -1 : EPOCH, 1 << 20, LONG_WAIT_MS,
                highWatermark);
    }

    /** What the leader (epoch {@link #EPOCH}, log from 0) answers: {@code records} from {@code fetchOffset}. */
    private static ReplicaData data(long fetchOffset, long highWatermark, Buffer records) {
        long logEnd = fetchOffset + (records.length() == 0 ? 0 : RecordBatches.split(ByteBuffer.wrap(
                records.getBytes())).stream().mapToInt(b -> b.recordCount()).sum());
        return new ReplicaData(EPOCH, highWatermark, 0, logEnd, records, Optional.empty());
    }

    /** A batch as the leader stored it: at {@code baseOffset}, stamped with {@link #EPOCH}. */
    private static Buffer batchAt(long baseOffset, String... values) {
        RecordBatch batch = TestBatches.of(values);
        batch.setBaseOffset(baseOffset);
        batch.setPartitionLeaderEpoch(EPOCH);
        ByteBuffer bytes = batch.buffer().duplicate();
        byte[] copy = new byte[bytes.remaining()];
        bytes.get(copy);
        return Buffer.buffer(copy);
    }

    private static List<Long> offsetsOf(Fetched fetched) {
        return RecordBatches.split(fetched.records().readFully()).stream()
                .flatMap(batch -> batch.records().stream().map(io.millrace.record.Record::offset)).toList();
    }

    private <T> Future<T> request(PartitionRequest request) {
        return vertx.eventBus().<T>request(PartitionAddress.of(TP), request, PartitionAddress.delivery(LONG_WAIT_MS
                + 5_000)).map(Message::body);
    }

    private ErrorCode failureOf(PartitionRequest request) throws Exception {
        try {
            get(request(request));
        } catch (ExecutionException e) {
            return ErrorCode.forCode(((ReplyException) e.getCause()).failureCode());
        }
        throw new AssertionError("expected " + request + " to fail");
    }

    private static <T> T get(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
