package io.millrace.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.record.CorruptRecordException;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import io.millrace.storage.LogSlice;
import io.millrace.storage.PartitionLog;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Both forms of {@link FetchedRecords} over the same batches: the same answers, positions relative to the first batch,
 * and the same bytes on a real socket, in order with what is written around them.
 */
class FetchedRecordsTest {

    /** Four batches of 100 records of 2 KiB: about 820 KiB, so a send needs two chunks of the file form. */
    private static final int BATCHES = 4;
    private static final int RECORDS_PER_BATCH = 100;

    enum Form {
        FILE_REGION(TestFetchedRecords::fileRegion), IN_MEMORY(TestFetchedRecords::inMemory);

        final Function<LogSlice, FetchedRecords> of;

        Form(Function<LogSlice, FetchedRecords> of) {
            this.of = of;
        }
    }

    @TempDir
    Path dir;

    private PartitionLog log;

    @BeforeEach
    void fillLog() {
        log = TestFetchedRecords.log(dir, BATCHES, RECORDS_PER_BATCH, 2048);
    }

    @AfterEach
    void close() {
        log.close();
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void offsetsSizeAndBytesAreThoseOfTheBatchesRead(Form form) {
        LogSlice slice = log.read(RECORDS_PER_BATCH + 5, 1 << 30);
        FetchedRecords records = form.of.apply(slice);

        assertThat(records.firstOffset()).as("the batch holding the offset asked for").isEqualTo(RECORDS_PER_BATCH);
        assertThat(records.nextOffset()).isEqualTo(BATCHES * RECORDS_PER_BATCH);
        assertThat(records.sizeInBytes()).isEqualTo(slice.sizeInBytes());
        assertThat(records.isEmpty()).isFalse();
        assertThat(TestFetchedRecords.bytes(records.readFully()))
                .isEqualTo(TestFetchedRecords.bytes(slice.readFully()));
        assertThat(RecordBatches.split(records.readFully())).hasSize(BATCHES - 1);
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void leadingBatchesBelowAnOffsetAreThoseStartingUnderIt(Form form) throws IOException {
        FetchedRecords records = form.of.apply(log.read(RECORDS_PER_BATCH + 5, 1 << 30));
        byte[] all = TestFetchedRecords.bytes(records.readFully());
        int batchSize = RecordBatches.split(records.readFully()).get(0).sizeInBytes();

        assertThat(records.leadingBatchesBelow(BATCHES * RECORDS_PER_BATCH)).as("all start below the end")
                .isSameAs(records);
        for (long limit : new long[] {0, RECORDS_PER_BATCH + 1, 2 * RECORDS_PER_BATCH}) {
            FetchedRecords first = records.leadingBatchesBelow(limit);
            assertThat(first.firstOffset()).as("below %d", limit).isEqualTo(RECORDS_PER_BATCH);
            assertThat(first.nextOffset()).as("at least the first batch, below %d", limit)
                    .isEqualTo(2 * RECORDS_PER_BATCH);
            assertThat(TestFetchedRecords.bytes(first.readFully())).isEqualTo(Arrays.copyOf(all, batchSize));
        }
        FetchedRecords two = records.leadingBatchesBelow(2 * RECORDS_PER_BATCH + 1);
        assertThat(two.nextOffset()).isEqualTo(3 * RECORDS_PER_BATCH);
        assertThat(TestFetchedRecords.bytes(two.readFully())).isEqualTo(Arrays.copyOf(all, 2 * batchSize));
        assertThat(two.isStillValid(two.sizeInBytes())).isTrue();
    }

    @Test
    void theFileFormCannotBeCutOnceItsSegmentIsTruncated() {
        FetchedRecords records = TestFetchedRecords.fileRegion(log.read(0, 1 << 30));
        log.truncateTo(RECORDS_PER_BATCH);

        assertThatThrownBy(() -> records.leadingBatchesBelow(3 * RECORDS_PER_BATCH))
                .isInstanceOf(IOException.class);
    }

    @Test
    void theMemoryFormIsAReadOnlyViewAndAlwaysValid() {
        LogSlice slice = log.read(0, 1 << 30);
        FetchedRecords records = TestFetchedRecords.inMemory(slice);
        log.truncateTo(0);

        ByteBuffer first = records.readFully();
        ByteBuffer second = records.readFully();
        assertThat(first.isReadOnly()).isTrue();
        assertThatThrownBy(() -> first.put(0, (byte) 1)).isInstanceOf(ReadOnlyBufferException.class);
        first.position(first.limit());
        assertThat(second.position()).as("each call its own view").isZero();
        assertThat(records.isStillValid(records.sizeInBytes())).isTrue();
        assertThat(RecordBatches.split(second)).hasSize(BATCHES);
    }

    @Test
    void theFileFormIsNoLongerValidOnceItsSegmentIsTruncated() {
        FetchedRecords records = TestFetchedRecords.fileRegion(log.read(0, 1 << 30));
        assertThat(records.isStillValid(records.sizeInBytes())).isTrue();

        log.truncateTo(RECORDS_PER_BATCH);

        assertThat(records.isStillValid(1)).isFalse();
        assertThat(records.isStillValid(0)).as("nothing to send is always sendable").isTrue();
    }

    @Test
    void emptyIsNoBytesAtTheOffset() {
        FetchedRecords empty = FetchedRecords.empty(42);
        assertThat(empty.isEmpty()).isTrue();
        assertThat(empty.firstOffset()).isEqualTo(42);
        assertThat(empty.nextOffset()).isEqualTo(42);
        assertThat(empty.readFully().remaining()).isZero();
        assertThat(FetchedRecords.of(Buffer.buffer(), 7, 7).nextOffset()).isEqualTo(7);
        assertThatThrownBy(() -> FetchedRecords.of(Buffer.buffer(), 7, 8)).isInstanceOf(CorruptRecordException.class);
    }

    @Test
    void bytesThatAreNotWholeBatchesOrDisagreeWithTheOffsetsAreRefused() {
        byte[] batches = TestFetchedRecords.bytes(log.read(0, 1 << 30).readFully());
        int first = RecordBatches.split(ByteBuffer.wrap(batches)).get(0).sizeInBytes();
        long end = BATCHES * RECORDS_PER_BATCH;

        assertThat(FetchedRecords.of(Buffer.buffer(batches), 0, end).sizeInBytes()).isEqualTo(batches.length);
        assertThatThrownBy(() -> FetchedRecords.of(Buffer.buffer(Arrays.copyOf(batches, batches.length - 1)), 0, end))
                .as("cut inside the last batch").isInstanceOf(CorruptRecordException.class);
        assertThatThrownBy(() -> FetchedRecords.of(Buffer.buffer(Arrays.copyOf(batches, first + 20)), 0,
                RECORDS_PER_BATCH)).as("cut inside a header").isInstanceOf(CorruptRecordException.class);
        assertThatThrownBy(() -> FetchedRecords.of(Buffer.buffer(batches), 1, end))
                .as("another first offset").isInstanceOf(CorruptRecordException.class);
        assertThatThrownBy(() -> FetchedRecords.of(Buffer.buffer(batches), 0, end - 1))
                .as("another next offset").isInstanceOf(CorruptRecordException.class);
        byte[] lying = batches.clone();
        ByteBuffer.wrap(lying).putInt(RecordBatch.LENGTH_OFFSET, 10);
        assertThatThrownBy(() -> FetchedRecords.of(Buffer.buffer(lying), 0, end))
                .as("a length below a header").isInstanceOf(CorruptRecordException.class);
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void sendToPutsTheRangeOnTheSocketBetweenWhatIsWrittenAroundIt(Form form) throws Exception {
        FetchedRecords records = form.of.apply(log.read(0, 1 << 30));
        byte[] all = TestFetchedRecords.bytes(records.readFully());
        int from = 1000;
        int length = all.length - 2000;
        assertThat(length).as("more than one chunk of the file form").isGreaterThan(512 * 1024);

        ByteBuffer received = sendAndReceive(socket -> {
            socket.write(Buffer.buffer().appendInt(length + 2).appendString("<"));
            records.sendTo(socket, from, length);
            socket.write(Buffer.buffer(">"));
            return records.sendTo(socket, 0, 0);
        });

        assertThat(received.remaining()).isEqualTo(length + 2);
        assertThat(Arrays.copyOfRange(received.array(), 1, length + 1))
                .isEqualTo(Arrays.copyOfRange(all, from, from + length));
        assertThat(received.get(0)).isEqualTo((byte) '<');
        assertThat(received.get(length + 1)).isEqualTo((byte) '>');
    }

    @Test
    void sendToFailsWhenTheFileChangedAndOutsideTheBatches() throws Exception {
        FetchedRecords records = TestFetchedRecords.fileRegion(log.read(0, 1 << 30));
        FetchedRecords memory = TestFetchedRecords.inMemory(log.read(0, 1 << 30));
        log.truncateTo(RECORDS_PER_BATCH);
        List<Throwable> failures = new CopyOnWriteArrayList<>();

        sendAndReceive(socket -> {
            records.sendTo(socket, 0, 10).onFailure(failures::add);
            memory.sendTo(socket, memory.sizeInBytes() - 5, 10).onFailure(failures::add);
            socket.write(Buffer.buffer().appendInt(1));
            return memory.sendTo(socket, 0, 1);
        });

        assertThat(failures).hasSize(2).allMatch(e -> e instanceof IOException);
    }

    /**
     * Runs {@code send} on the event loop of a server-side socket and returns the one frame (size-prefixed) the client
     * side then receives; fails if {@code send}'s future fails or no frame comes within 10 s.
     */
    private static ByteBuffer sendAndReceive(Function<NetSocket, Future<Void>> send) throws Exception {
        try (LoopbackConnection connection = LoopbackConnection.open(socket -> { })) {
            connection.onServer(() -> send.apply(connection.server())).await(10, TimeUnit.SECONDS);
            ByteBuffer frame = connection.nextFrame();
            assertThat(frame).as("a frame within 10 s").isNotNull();
            return frame;
        }
    }
}
