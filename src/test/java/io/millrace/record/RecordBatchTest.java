package io.millrace.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class RecordBatchTest {

    private static final long T0 = 1_700_000_000_000L;

    static Stream<Arguments> codecsAndTimestampTypes() {
        return Stream.of(CompressionType.values())
                .flatMap(c -> Stream.of(TimestampType.values()).map(t -> Arguments.of(c, t)));
    }

    /** Records covering the awkward cases: nulls, empty arrays, headers with null values, non-ASCII, out-of-order. */
    static List<Record> sampleRecords(long baseOffset) {
        byte[] big = new byte[100_000];
        new Random(1).nextBytes(big);
        return List.of(
                new Record(baseOffset, T0, bytes("k0"), bytes("v0"), List.of()),
                new Record(baseOffset + 1, T0 + 5, null, bytes("no key"), List.of()),
                new Record(baseOffset + 2, T0 + 3, bytes("tombstone"), null, List.of()),
                new Record(baseOffset + 3, T0 - 1000, new byte[0], new byte[0], List.of()),
                new Record(baseOffset + 4, T0 + 9, null, null, List.of(
                        new Header("trace-id", bytes("abc")),
                        new Header("empty", new byte[0]),
                        new Header("nothing", null),
                        new Header("", bytes("empty key")),
                        new Header("clé-ünïcödé", bytes("x")),
                        new Header("trace-id", bytes("duplicate keys are kept in order")))),
                new Record(baseOffset + 5, T0 + 7, bytes("big"), big, List.of(new Header("h", big))));
    }

    static RecordBatchBuilder builderWith(CompressionType compression, TimestampType type, long baseOffset,
            List<Record> records) {
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, type, baseOffset);
        for (Record r : records) {
            builder.append(r.timestamp(), r.key(), r.value(), r.headers());
        }
        return builder;
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("codecsAndTimestampTypes")
    void roundTripsRecordsAndHeaderFields(CompressionType compression, TimestampType type) {
        List<Record> expected = sampleRecords(100);
        RecordBatchBuilder builder = builderWith(compression, type, 100, expected);

        RecordBatch batch = builder.build();

        assertThat(batch.isValid()).isTrue();
        batch.ensureValid();
        assertThat(batch.magic()).isEqualTo(RecordBatch.MAGIC);
        assertThat(batch.baseOffset()).isEqualTo(100);
        assertThat(batch.lastOffsetDelta()).isEqualTo(5);
        assertThat(batch.lastOffset()).isEqualTo(105);
        assertThat(batch.recordCount()).isEqualTo(6);
        assertThat(batch.compressionType()).isEqualTo(compression);
        assertThat(batch.timestampType()).isEqualTo(type);
        assertThat(batch.firstTimestamp()).isEqualTo(T0);
        assertThat(batch.maxTimestamp()).isEqualTo(T0 + 9);
        assertThat(batch.isControl()).isFalse();
        assertThat(batch.isTransactional()).isFalse();
        assertThat(batch.producerId()).isEqualTo(-1L);
        assertThat(batch.producerEpoch()).isEqualTo((short) -1);
        assertThat(batch.baseSequence()).isEqualTo(-1);
        assertThat(batch.lastSequence()).isEqualTo(-1);
        assertThat(batch.partitionLeaderEpoch()).isEqualTo(-1);
        assertThat(batch.buffer().position()).isZero();
        assertThat(batch.buffer().remaining()).isEqualTo(batch.sizeInBytes());
        assertThat(builder.recordCount()).isEqualTo(6);
        if (compression == CompressionType.NONE) {
            assertThat(builder.estimatedSizeInBytes()).isEqualTo(batch.sizeInBytes());
        } else {
            // The random 100 kB payloads do not compress, but no codec adds much: the estimate stays close.
            assertThat(batch.sizeInBytes()).isBetween(builder.estimatedSizeInBytes() / 2,
                    builder.estimatedSizeInBytes() + 1024);
        }

        List<Record> expectedAsRead = type == TimestampType.CREATE_TIME ? expected : expected.stream()
                .map(r -> new Record(r.offset(), T0 + 9, r.key(), r.value(), r.headers()))
                .toList();
        assertThat(batch.records()).isEqualTo(expectedAsRead);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void roundTripsManyRecords(CompressionType compression) {
        List<Record> expected = new ArrayList<>();
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 0);
        for (int i = 0; i < 10_000; i++) {
            byte[] key = bytes("key-" + i);
            byte[] value = bytes("value-" + i + "-".repeat(i % 50));
            List<Header> headers = i % 3 == 0 ? List.of(new Header("n", bytes(Integer.toString(i)))) : List.of();
            builder.append(T0 + i, key, value, headers);
            expected.add(new Record(i, T0 + i, key, value, headers));
        }

        RecordBatch batch = builder.build();

        assertThat(batch.isValid()).isTrue();
        assertThat(batch.recordCount()).isEqualTo(10_000);
        assertThat(batch.lastOffset()).isEqualTo(9_999);
        assertThat(batch.records()).isEqualTo(expected);
        if (compression != CompressionType.NONE) {
            // About 540 kB of records: many 32 KiB Snappy chunks and 64 KiB LZ4 blocks, all of them shrunk.
            assertThat(batch.sizeInBytes()).isLessThan(builder.estimatedSizeInBytes() / 2);
        }
    }

    @Test
    void writesProducerStateAndLeaderEpoch() {
        RecordBatch batch = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 7)
                .producer(4242L, (short) 3, Integer.MAX_VALUE - 1)
                .partitionLeaderEpoch(9)
                .append(T0, bytes("a"), bytes("1"))
                .append(T0, bytes("b"), bytes("2"))
                .append(T0, bytes("c"), bytes("3"))
                .build();

        assertThat(batch.producerId()).isEqualTo(4242L);
        assertThat(batch.producerEpoch()).isEqualTo((short) 3);
        assertThat(batch.baseSequence()).isEqualTo(Integer.MAX_VALUE - 1);
        // Sequences wrap past Integer.MAX_VALUE to 0, as in Kafka.
        assertThat(batch.lastSequence()).isEqualTo(0);
        assertThat(batch.partitionLeaderEpoch()).isEqualTo(9);
        assertThat(batch.isValid()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void baseOffsetAndLeaderEpochChangeInPlaceWithoutBreakingTheCrc(CompressionType compression) {
        ByteBuffer bytes = builderWith(compression, TimestampType.CREATE_TIME, 0, sampleRecords(0)).build().buffer();
        RecordBatch batch = RecordBatch.wrap(bytes);
        long crcBefore = batch.checksum();

        batch.setBaseOffset(1_000_000L);
        batch.setPartitionLeaderEpoch(12);

        assertThat(batch.isValid()).isTrue();
        assertThat(batch.checksum()).isEqualTo(crcBefore);
        RecordBatch seenThroughOriginalBuffer = RecordBatch.wrap(bytes);
        assertThat(seenThroughOriginalBuffer.baseOffset()).isEqualTo(1_000_000L);
        assertThat(seenThroughOriginalBuffer.lastOffset()).isEqualTo(1_000_005L);
        assertThat(seenThroughOriginalBuffer.partitionLeaderEpoch()).isEqualTo(12);
        assertThat(batch.records()).isEqualTo(sampleRecords(1_000_000L));
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void logAppendTimeRewritesTheHeaderAndCrcInPlace(CompressionType compression) {
        RecordBatch batch = builderWith(compression, TimestampType.CREATE_TIME, 0, sampleRecords(0)).build();
        long appendTime = T0 + 60_000;

        batch.setLogAppendTime(appendTime);

        assertThat(batch.isValid()).isTrue();
        assertThat(batch.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
        assertThat(batch.maxTimestamp()).isEqualTo(appendTime);
        assertThat(batch.firstTimestamp()).isEqualTo(T0);
        assertThat(batch.compressionType()).isEqualTo(compression);
        assertThat(batch.records()).extracting(Record::timestamp).containsOnly(appendTime);

        long crc = batch.checksum();
        batch.setLogAppendTime(appendTime);
        assertThat(batch.checksum()).isEqualTo(crc);
    }

    @Test
    void flippingAnyByteInsideTheCrcSpanIsDetected() {
        RecordBatch batch = builderWith(CompressionType.NONE, TimestampType.CREATE_TIME, 0,
                sampleRecords(0).subList(0, 5)).build();
        ByteBuffer bytes = batch.buffer();

        for (int i = RecordBatch.CRC_OFFSET; i < batch.sizeInBytes(); i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte original = bytes.get(i);
                bytes.put(i, (byte) (original ^ (1 << bit)));
                assertThat(batch.isValid()).as("byte %d bit %d flipped", i, bit).isFalse();
                bytes.put(i, original);
            }
        }
        assertThat(batch.isValid()).isTrue();
    }

    @Test
    void bytesOutsideTheCrcSpanDoNotAffectValidity() {
        RecordBatch batch = builderWith(CompressionType.NONE, TimestampType.CREATE_TIME, 0, sampleRecords(0)).build();
        ByteBuffer bytes = batch.buffer();

        for (int i = RecordBatch.BASE_OFFSET_OFFSET; i < RecordBatch.LENGTH_OFFSET; i++) {
            bytes.put(i, (byte) ~bytes.get(i));
        }
        for (int i = RecordBatch.PARTITION_LEADER_EPOCH_OFFSET; i < RecordBatch.MAGIC_OFFSET; i++) {
            bytes.put(i, (byte) ~bytes.get(i));
        }

        assertThat(batch.isValid()).isTrue();
    }

    @Test
    void ensureValidNamesTheBatchAndBothChecksums() {
        RecordBatch batch = builderWith(CompressionType.NONE, TimestampType.CREATE_TIME, 77, sampleRecords(77))
                .build();
        ByteBuffer bytes = batch.buffer();
        bytes.put(bytes.limit() - 1, (byte) (bytes.get(bytes.limit() - 1) + 1));

        assertThatThrownBy(batch::ensureValid)
                .isInstanceOf(CorruptRecordException.class)
                .hasMessageContaining("base offset 77")
                .hasMessageContaining("stored CRC32C " + batch.checksum())
                .hasMessageContaining("computed " + batch.computeChecksum())
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.CORRUPT_RECORD);
    }

    @Test
    void wrapTakesASliceAndLeavesTheCallersBufferAlone() {
        ByteBuffer one = builderWith(CompressionType.NONE, TimestampType.CREATE_TIME, 5, sampleRecords(5)).build()
                .buffer();
        ByteBuffer framed = ByteBuffer.allocate(one.remaining() + 20);
        framed.position(7).put(one.duplicate()).position(7).limit(7 + one.remaining());

        RecordBatch batch = RecordBatch.wrap(framed);

        assertThat(framed.position()).isEqualTo(7);
        assertThat(framed.limit()).isEqualTo(7 + one.remaining());
        assertThat(batch.sizeInBytes()).isEqualTo(one.remaining());
        assertThat(batch.isValid()).isTrue();
        assertThat(batch.records()).isEqualTo(sampleRecords(5));
    }

    @Test
    void builderCanBuildAgainAfterMoreAppends() {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.GZIP, TimestampType.CREATE_TIME, 0)
                .append(T0, null, bytes("one"));
        RecordBatch first = builder.build();
        RecordBatch second = builder.append(T0 + 1, null, bytes("two")).build();

        assertThat(first.records()).hasSize(1);
        assertThat(second.records()).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .containsExactly("one", "two");
    }

    @Test
    void builderRejectsEmptyBatchesAndBadTimestamps() {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);

        assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> builder.append(-2, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(builder.append(-1, null, null).build().records())
                .containsExactly(new Record(0, -1, null, null, List.of()));
    }

    // ---- codec ids ----

    @ParameterizedTest
    @ValueSource(ints = {5, 6, 7})
    void unknownCodecIdsAreUnsupported(int id) {
        RecordBatch batch = withAttributes(sampleBatch(), id);

        assertThat(batch.isValid()).isTrue();
        assertThatThrownBy(batch::compressionType)
                .hasMessageContaining("Unknown compression type id " + id)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.UNSUPPORTED_COMPRESSION);
        assertThatThrownBy(batch::records)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.UNSUPPORTED_COMPRESSION);
        assertThatThrownBy(() -> batch.validateRecords(1 << 20))
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.UNSUPPORTED_COMPRESSION);
        assertThatThrownBy(() -> CompressionType.forId(id)).isInstanceOf(MillraceException.class);
    }

    @Test
    void compressionIdsAreKafkas() {
        assertThat(CompressionType.values()).extracting(CompressionType::id).containsExactly(0, 1, 2, 3, 4);
        for (CompressionType c : CompressionType.values()) {
            assertThat(CompressionType.forId(c.id())).isEqualTo(c);
            assertThat(c.isSupported()).as("%s's library is on the broker's class path", c).isTrue();
        }
        assertThat(CompressionType.NONE.library()).isNull();
        assertThat(CompressionType.LZ4.library()).isEqualTo("org.lz4:lz4-java");
    }

    // ---- records ----

    @Test
    void recordsCompareArraysByContent() {
        Record a = new Record(1, 2, bytes("k"), bytes("v"), List.of(new Header("h", bytes("x"))));
        Record b = new Record(1, 2, bytes("k"), bytes("v"), List.of(new Header("h", bytes("x"))));

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(new Record(1, 2, bytes("k"), null, List.of()));
        assertThat(new Record(1, 2, null, new byte[0], List.of()))
                .isNotEqualTo(new Record(1, 2, null, null, List.of()));
        assertThat(a.toString()).contains("offset=1", "timestamp=2", "[107]", "Header(h=[120])");
        assertThat(new Record(0, 0, null, new byte[1000], List.of()).toString()).contains("byte[1000]");
        assertThatThrownBy(() -> new Header(null, null)).isInstanceOf(NullPointerException.class);
    }

    static RecordBatch sampleBatch() {
        return builderWith(CompressionType.NONE, TimestampType.CREATE_TIME, 0, sampleRecords(0)).build();
    }

    /** The same batch with its attributes replaced and its CRC fixed, as a producer with another codec would write. */
    static RecordBatch withAttributes(RecordBatch batch, int attributes) {
        ByteBuffer copy = copyOf(batch.buffer());
        copy.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) attributes);
        return fixCrc(copy);
    }

    static RecordBatch fixCrc(ByteBuffer bytes) {
        RecordBatch batch = RecordBatch.wrap(bytes);
        bytes.putInt(bytes.position() + RecordBatch.CRC_OFFSET, (int) batch.computeChecksum());
        return batch;
    }

    static ByteBuffer copyOf(ByteBuffer bytes) {
        ByteBuffer copy = ByteBuffer.allocate(bytes.remaining());
        copy.put(bytes.duplicate()).flip();
        return copy;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
