package io.millrace.gateway.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.broker.Broker;
import io.millrace.broker.FetchResult;
import io.millrace.broker.FetchedRecords;
import io.millrace.broker.LoopbackConnection;
import io.millrace.broker.Subscription;
import io.millrace.broker.TestFetchedRecords;
import io.millrace.common.ErrorCode;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.Frame;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.Message;
import io.millrace.protocol.Push;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import io.millrace.storage.PartitionLog;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TCP gateway's push path ({@link PushSubscription} over {@link FrameOutput}) with batches in memory, as the broker
 * hands them out when another broker read them, and mixed with segment file regions on one connection: a real server
 * socket writes, a real client socket reads the PUSH frames and decodes them with the SDK's codec.
 */
class PushSubscriptionTest {

    private static final TopicPartition TP = new TopicPartition("orders", 2);
    private static final int BATCHES = 4;
    private static final int RECORDS_PER_BATCH = 100;
    private static final int SUBSCRIPTION_ID = 17;

    @TempDir
    Path dir;

    private PartitionLog log;
    private LoopbackConnection connection;
    private final List<Throwable> broken = new CopyOnWriteArrayList<>();

    @BeforeEach
    void connect() throws Exception {
        log = TestFetchedRecords.log(dir, BATCHES, RECORDS_PER_BATCH, 2048);
        connection = LoopbackConnection.open(socket -> { });
    }

    @AfterEach
    void close() throws Exception {
        connection.close();
        log.close();
    }

    @Test
    void batchesFromMemoryGoOutAsOnePushWhenTheCreditCoversThem() throws Exception {
        FetchedRecords records = TestFetchedRecords.inMemory(log.read(0, 1 << 30));

        long next = connection.onServer(() -> subscription(1_000).onData(result(records), 0));

        assertThat(next).isEqualTo(BATCHES * RECORDS_PER_BATCH);
        Push push = nextPush();
        assertThat(push.topic()).isEqualTo(TP.topic());
        assertThat(push.partition()).isEqualTo(TP.partition());
        assertThat(push.highWatermark()).isEqualTo(log.logEndOffset());
        assertThat(push.error()).isEmpty();
        assertThat(TestFetchedRecords.bytes(push.batches())).isEqualTo(TestFetchedRecords.bytes(records.readFully()));
        assertThat(broken).isEmpty();
    }

    @Test
    void theCreditCutsBatchesFromMemoryAfterTheBatchThatUsesItUp() throws Exception {
        // Starts at the second batch, so the cut's positions are relative to the records, not to the log file.
        FetchedRecords records = TestFetchedRecords.inMemory(log.read(RECORDS_PER_BATCH, 1 << 30));
        List<RecordBatch> batches = RecordBatches.split(records.readFully());

        long next = connection.onServer(() -> subscription(RECORDS_PER_BATCH + 1).onData(result(records),
                RECORDS_PER_BATCH));

        assertThat(next).as("one record of credit left after the first batch takes the second").isEqualTo(
                3L * RECORDS_PER_BATCH);
        Push push = nextPush();
        int twoBatches = batches.get(0).sizeInBytes() + batches.get(1).sizeInBytes();
        assertThat(TestFetchedRecords.bytes(push.batches()))
                .isEqualTo(Arrays.copyOf(TestFetchedRecords.bytes(records.readFully()), twoBatches));
        assertThat(push.recordBatches()).extracting(RecordBatch::baseOffset)
                .containsExactly((long) RECORDS_PER_BATCH, 2L * RECORDS_PER_BATCH);
    }

    @Test
    void fileRegionsAndBatchesFromMemoryFollowEachOtherInOrder() throws Exception {
        // ~820 KiB each: the file regions go out in two chunks, and the third push waits for the in-flight limit.
        FetchedRecords file = TestFetchedRecords.fileRegion(log.read(0, 1 << 30));
        FetchedRecords memory = TestFetchedRecords.inMemory(log.read(RECORDS_PER_BATCH, 1 << 30));
        List<FetchedRecords> sent = List.of(file, memory, file, memory);
        assertThat(file.sizeInBytes()).isGreaterThan(FrameOutput.FILE_CHUNK_BYTES);

        connection.onServer(() -> {
            FrameOutput output = new FrameOutput(connection.server(), () -> { }, broken::add);
            for (int i = 0; i < sent.size(); i++) {
                FetchedRecords records = sent.get(i);
                output.write(FrameCodec.encodePushHeader(SUBSCRIPTION_ID + i, TP.topic(), TP.partition(), i,
                        records.sizeInBytes()));
                output.sendBatches(records, records.sizeInBytes());
            }
            return null;
        });

        for (int i = 0; i < sent.size(); i++) {
            Frame<Message> frame = nextFrame();
            assertThat(frame.correlationId()).isEqualTo(SUBSCRIPTION_ID + i);
            Push push = (Push) frame.message();
            assertThat(push.highWatermark()).isEqualTo(i);
            assertThat(TestFetchedRecords.bytes(push.batches()))
                    .isEqualTo(TestFetchedRecords.bytes(sent.get(i).readFully()));
        }
        assertThat(broken).isEmpty();
    }

    /**
     * The segment is truncated after the read. With credit for two and a half batches the cut must read the third
     * batch's header, which is gone; with credit within the first batch, whose bytes are still in the file, the cut
     * works, but bytes of a file changed since the read are not sent. Either way the subscription fetches once more
     * from the same offset, and ends on a second miss.
     */
    @ParameterizedTest
    @ValueSource(ints = {2 * RECORDS_PER_BATCH + RECORDS_PER_BATCH / 2, RECORDS_PER_BATCH / 2})
    void aReadWhoseSegmentWasCutBeforeThePushIsFetchedAgainOnceThenTheSubscriptionEnds(int credits)
            throws Exception {
        FetchedRecords records = TestFetchedRecords.fileRegion(log.read(0, 1 << 30));
        log.truncateTo(RECORDS_PER_BATCH);
        List<Long> seeks = new CopyOnWriteArrayList<>();
        List<PushSubscription> ended = new CopyOnWriteArrayList<>();
        PushSubscription push = subscription(credits, ended::add);

        long next = connection.onServer(() -> {
            push.start(brokerThatRecordsSeeks(seeks), 0);
            return push.onData(result(records), 0);
        });

        assertThat(next).as("nothing taken").isZero();
        assertThat(seeks).as("one more fetch from the same offset").containsExactly(0L);
        assertThat(ended).isEmpty();
        assertThat(connection.nextFrame(200)).as("no push").isNull();

        long again = connection.onServer(() -> push.onData(result(records), 0));

        assertThat(again).isZero();
        assertThat(seeks).containsExactly(0L);
        Push failure = nextPush();
        assertThat(failure.error()).hasValueSatisfying(error -> {
            assertThat(error.code()).isEqualTo(ErrorCode.STORAGE_ERROR);
            assertThat(error.message()).contains("deleted or cut while being read");
        });
        assertThat(ended).containsExactly(push);
        assertThat(broken).isEmpty();
    }

    private PushSubscription subscription(int credits) {
        return subscription(credits, ended -> broken.add(new AssertionError("the subscription ended")));
    }

    private PushSubscription subscription(int credits, Consumer<PushSubscription> onEnd) {
        return new PushSubscription(SUBSCRIPTION_ID, TP, -1, credits, 1 << 20,
                new FrameOutput(connection.server(), () -> { }, broken::add), new LeaderHints(null),
                FrameCodec.MAX_VERSION, onEnd);
    }

    /** A broker whose only use is a subscription that records where it is told to fetch from. */
    private static Broker brokerThatRecordsSeeks(List<Long> seeks) {
        Subscription subscription = new Subscription() {
            @Override
            public void request(long records) {
            }

            @Override
            public void seek(long offset) {
                seeks.add(offset);
            }

            @Override
            public long position() {
                return seeks.isEmpty() ? 0 : seeks.get(seeks.size() - 1);
            }

            @Override
            public long demand() {
                return 0;
            }

            @Override
            public void cancel() {
            }
        };
        return (Broker) Proxy.newProxyInstance(Broker.class.getClassLoader(), new Class<?>[] {Broker.class},
                (proxy, method, arguments) -> {
                    if (method.getName().equals("subscribe")) {
                        return subscription;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    private FetchResult result(FetchedRecords records) {
        return new FetchResult(TP, records, log.logEndOffset(), log.logStartOffset(), log.logEndOffset());
    }

    private Push nextPush() throws InterruptedException {
        Frame<Message> frame = nextFrame();
        assertThat(frame.correlationId()).isEqualTo(SUBSCRIPTION_ID);
        return (Push) frame.message();
    }

    private Frame<Message> nextFrame() throws InterruptedException {
        ByteBuffer frame = connection.nextFrame();
        assertThat(frame).as("a frame within 10 s").isNotNull();
        return FrameCodec.decodeResponse(frame);
    }
}
