package io.millrace.record;

import static io.millrace.record.RecordBatchTest.bytes;
import static io.millrace.record.RecordBatchTest.copyOf;
import static io.millrace.record.RecordBatchTest.sampleRecords;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bytes from the network or a torn disk write: every malformation must surface as a {@link CorruptRecordException},
 * never as an OutOfMemoryError, IndexOutOfBoundsException, NegativeArraySizeException or the like.
 */
class HostileBatchTest {

    // ---- framing, checked by wrap ----

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 12, 60})
    void tooShortForAHeader(int size) {
        assertCorrupt(() -> RecordBatch.wrap(ByteBuffer.allocate(size)), "smaller than the 61-byte batch header");
    }

    @ParameterizedTest
    @ValueSource(bytes = {0, 1, 3, -1})
    void wrongMagic(byte magic) {
        ByteBuffer bytes = RecordBatchTest.sampleBatch().buffer();
        bytes.put(RecordBatch.MAGIC_OFFSET, magic);

        assertCorrupt(() -> RecordBatch.wrap(bytes), "magic " + magic);
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 48, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void lengthFieldDisagreesWithTheBytes(int length) {
        ByteBuffer bytes = RecordBatchTest.sampleBatch().buffer();
        bytes.putInt(RecordBatch.LENGTH_OFFSET, length);

        assertCorrupt(() -> RecordBatch.wrap(bytes), "length field");
    }

    @Test
    void truncatedBatch() {
        ByteBuffer bytes = RecordBatchTest.sampleBatch().buffer();
        bytes.limit(bytes.limit() - 1);

        assertCorrupt(() -> RecordBatch.wrap(bytes), "length field");
    }

    /** Regression: with no records section, a negative count passed validation that records() then refused. */
    @ParameterizedTest
    @ValueSource(ints = {-1, Integer.MIN_VALUE})
    void aNegativeCountIsCorruptEvenWithoutRecords(int count) {
        RecordBatch batch = rawBatchBytes(CompressionType.NONE, count, new byte[0]);

        assertCorrupt(() -> batch.validateRecords(1 << 20), "negative record count");
        assertCorrupt(batch::records, "negative record count");
    }

    // ---- record data, checked by records() ----

    static Stream<Arguments> malformedRecordSections() {
        return Stream.of(
                Arguments.of("count larger than the records", 3, section(w -> {
                    writeRecord(w, 0, "a");
                    writeRecord(w, 1, "b");
                }), "declares 3 records"),
                Arguments.of("count smaller than the records", 1, section(w -> {
                    writeRecord(w, 0, "a");
                    writeRecord(w, 1, "b");
                }), "follow the 1 records"),
                Arguments.of("negative count", -1, section(w -> writeRecord(w, 0, "a")), "negative record count"),
                Arguments.of("count of 2^31-1 with one record", Integer.MAX_VALUE, section(w -> writeRecord(w, 0, "a")),
                        "declares 2147483647 records"),
                Arguments.of("record length beyond the data", 1, section(w -> Varints.writeVarint(1 << 30, w)),
                        "declares 1073741824 bytes"),
                Arguments.of("negative record length", 1, section(w -> {
                    Varints.writeVarint(-7, w);
                    w.put(new byte[10]);
                }), "declares -7 bytes"),
                Arguments.of("record length varint too long", 1, section(w -> w.put(new byte[] {
                    (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1})),
                        "malformed varint"),
                Arguments.of("truncated record length varint", 1, section(w -> w.put((byte) 0x80)), "truncated"),
                Arguments.of("key length beyond the record", 1, section(w -> writeBody(w, b -> {
                    header(b);
                    Varints.writeVarint(Integer.MAX_VALUE, b);
                    b.put(new byte[4]);
                })), "key of 2147483647 bytes"),
                Arguments.of("key length -2", 1, section(w -> writeBody(w, b -> {
                    header(b);
                    Varints.writeVarint(-2, b);
                    b.put(new byte[4]);
                })), "key of -2 bytes"),
                Arguments.of("value length beyond the record", 1, section(w -> writeBody(w, b -> {
                    header(b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(100, b);
                    b.put(new byte[4]);
                })), "value of 100 bytes"),
                Arguments.of("huge header count", 1, section(w -> writeBody(w, b -> {
                    header(b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(Integer.MAX_VALUE, b);
                    b.put(new byte[8]);
                })), "headers"),
                Arguments.of("negative header count", 1, section(w -> writeBody(w, b -> {
                    header(b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(-3, b);
                })), "-3 headers"),
                Arguments.of("null header key", 1, section(w -> writeBody(w, b -> {
                    header(b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(1, b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(-1, b);
                })), "null key"),
                Arguments.of("header value truncated", 1, section(w -> writeBody(w, b -> {
                    header(b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(1, b);
                    Varints.writeVarint(1, b);
                    b.put((byte) 'h');
                    Varints.writeVarint(50, b);
                })), "header value of 50 bytes"),
                Arguments.of("fields end before the declared length", 1, section(w -> writeBody(w, b -> {
                    header(b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(-1, b);
                    Varints.writeVarint(0, b);
                    b.put(new byte[3]);
                })), "end 3 bytes earlier"),
                Arguments.of("fields run past the declared length", 1, section(w -> {
                    Varints.writeVarint(6, w);
                    header(w);
                    Varints.writeVarint(2, w); // key of 2 bytes eats the value length and the header count
                    w.put(new byte[] {1, 1});
                    w.put(new byte[4]);
                }), "truncated"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedRecordSections")
    void malformedRecordsAreCorruptInEveryCodec(String name, int count, byte[] records, String message) {
        for (CompressionType compression : CompressionType.values()) {
            RecordBatch batch = rawBatch(compression, count, records);
            assertThat(batch.isValid()).isTrue();
            assertCorrupt(batch::records, message);
        }
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void garbageInsteadOfACompressedStreamIsCorrupt(CompressionType compression) {
        RecordBatch batch = rawBatchBytes(compression, 1, bytes("this is not a " + compression + " stream"));

        assertCorrupt(batch::records, "decompress");
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void truncatedCompressedStreamsAreCorrupt(CompressionType compression) {
        byte[] whole = compress(compression, section(w -> writeRecord(w, 0, "a value that makes the stream longer")));
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 12);

        assertCorrupt(rawBatchBytes(compression, 1, truncated)::records, "decompress");
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void decompressionBeyondTheCapIsRefused(CompressionType compression) {
        RecordBatch bomb = new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 0)
                .append(0, null, new byte[1 << 20])
                .build();
        assertThat(bomb.sizeInBytes()).isLessThan(64 * 1024);

        assertThatThrownBy(() -> bomb.records(64 * 1024))
                .isInstanceOf(MillraceException.class)
                .hasMessageContaining("more than 65536 bytes")
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.RECORD_TOO_LARGE);
        assertThat(bomb.records()).hasSize(1);
    }

    @Test
    void aSnappyChunkClaimingGigabytesIsRefusedBeforeAnythingIsAllocated() {
        ByteBuffer stream = ByteBuffer.allocate(16 + 4 + 8);
        stream.put(new byte[] {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}).putInt(1).putInt(1);
        stream.putInt(8);
        // A raw Snappy block starts with its decompressed length as a varint: here 2^31 - 1 bytes.
        stream.put(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 0, 0, 0});
        RecordBatch batch = rawBatchBytes(CompressionType.SNAPPY, 1, stream.array());

        assertThatThrownBy(() -> batch.records(1 << 20))
                .hasMessageContaining("more than 1048576 bytes")
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.RECORD_TOO_LARGE);
    }

    static Stream<Arguments> damagedLz4Frames() {
        return Stream.of(
                Arguments.of("wrong descriptor checksum", (Consumer<ByteBuffer>) f -> f.put(6, (byte) (f.get(6) ^ 1)),
                        "descriptor checksum"),
                Arguments.of("dependent blocks", (Consumer<ByteBuffer>) f -> f.put(4, (byte) 0x40), "dependent"),
                Arguments.of("a dictionary id", (Consumer<ByteBuffer>) f -> f.put(4, (byte) 0x61), "reserved"),
                Arguments.of("version 2", (Consumer<ByteBuffer>) f -> f.put(4, (byte) 0xA0), "version"),
                Arguments.of("block size code 3", (Consumer<ByteBuffer>) f -> f.put(5, (byte) 0x30), "block size"),
                Arguments.of("a block larger than the maximum", (Consumer<ByteBuffer>) f -> f.putInt(7,
                        Integer.reverseBytes(64 * 1024 + 1)), "exceeds the frame's maximum"),
                Arguments.of("no end mark", (Consumer<ByteBuffer>) f -> f.limit(f.limit() - 4), "ends before"),
                Arguments.of("wrong magic", (Consumer<ByteBuffer>) f -> f.put(0, (byte) 0x05), "Not an LZ4 frame"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("damagedLz4Frames")
    void lz4FramesOutsideWhatKafkaReadsAreCorrupt(String name, Consumer<ByteBuffer> damage, String message) {
        ByteBuffer frame = ByteBuffer.wrap(compress(CompressionType.LZ4,
                section(w -> writeRecord(w, 0, "a value"))));
        damage.accept(frame);
        byte[] section = java.util.Arrays.copyOf(frame.array(), frame.limit());

        assertCorrupt(rawBatchBytes(CompressionType.LZ4, 1, section)::records, message);
    }

    /** Seeded fuzzing: random byte damage and truncation may decode or fail, but only with a MillraceException. */
    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void randomDamageFailsOnlyWithMillraceExceptions(CompressionType compression) {
        ByteBuffer original = RecordBatchTest.builderWith(compression, TimestampType.CREATE_TIME, 0,
                sampleRecords(0).subList(0, 5)).build().buffer();
        Random random = new Random(20240601L + compression.id());
        for (int round = 0; round < 20_000; round++) {
            ByteBuffer damaged = copyOf(original);
            int flips = 1 + random.nextInt(4);
            for (int i = 0; i < flips; i++) {
                // Past the attributes, so the codec stays as built and decoding is actually exercised.
                int from = RecordBatch.LAST_OFFSET_DELTA_OFFSET;
                int at = from + random.nextInt(damaged.limit() - from);
                damaged.put(at, (byte) random.nextInt(256));
            }
            if (random.nextBoolean()) {
                int cut = random.nextInt(damaged.limit() - RecordBatch.HEADER_SIZE);
                damaged.limit(damaged.limit() - cut);
                damaged.putInt(RecordBatch.LENGTH_OFFSET, damaged.limit() - RecordBatch.LOG_OVERHEAD);
            }
            RecordBatch batch = RecordBatch.wrap(damaged);
            try {
                batch.records(1 << 20);
            } catch (MillraceException expected) {
                // Corrupt data, a decompression overrun or an unsupported codec id are all fine answers.
            } catch (Throwable t) {
                fail("round " + round + " threw " + t, t);
            }
        }
    }

    @Test
    void randomGarbageOfEverySizeNeverEscapes() {
        Random random = new Random(7);
        for (int size = 0; size < 300; size++) {
            byte[] garbage = new byte[size];
            random.nextBytes(garbage);
            assertThatCode(() -> {
                try {
                    for (RecordBatch batch : RecordBatches.split(ByteBuffer.wrap(garbage))) {
                        batch.records();
                    }
                } catch (MillraceException expected) {
                    // fine
                }
            }).doesNotThrowAnyException();
        }
    }

    // ---- helpers ----

    private static void assertCorrupt(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String message) {
        assertThatThrownBy(call)
                .isInstanceOf(CorruptRecordException.class)
                .hasMessageContaining(message)
                .extracting(e -> ((MillraceException) e).errorCode()).isEqualTo(ErrorCode.CORRUPT_RECORD);
    }

    /** A framing-valid batch (right magic, length and CRC) around an arbitrary records section. */
    static RecordBatch rawBatch(CompressionType compression, int count, byte[] uncompressedRecords) {
        byte[] section = compression == CompressionType.NONE ? uncompressedRecords
                : compress(compression, uncompressedRecords);
        return rawBatchBytes(compression, count, section);
    }

    static RecordBatch rawBatchBytes(CompressionType compression, int count, byte[] section) {
        ByteBuffer bytes = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + section.length);
        bytes.putLong(RecordBatch.BASE_OFFSET_OFFSET, 0);
        bytes.putInt(RecordBatch.LENGTH_OFFSET, bytes.capacity() - RecordBatch.LOG_OVERHEAD);
        bytes.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, -1);
        bytes.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);
        bytes.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) compression.id());
        bytes.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, Math.max(0, count - 1));
        bytes.putLong(RecordBatch.PRODUCER_ID_OFFSET, -1);
        bytes.putShort(RecordBatch.PRODUCER_EPOCH_OFFSET, (short) -1);
        bytes.putInt(RecordBatch.BASE_SEQUENCE_OFFSET, -1);
        bytes.putInt(RecordBatch.RECORD_COUNT_OFFSET, count);
        bytes.put(RecordBatch.RECORDS_OFFSET, section);
        return RecordBatchTest.fixCrc(bytes);
    }

    private static byte[] section(Consumer<ByteBuffer> writer) {
        ByteBuffer out = ByteBuffer.allocate(1024);
        writer.accept(out);
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    /** A well-formed record with a null key and the given value. */
    private static void writeRecord(ByteBuffer out, int offsetDelta, String value) {
        byte[] v = bytes(value);
        writeBody(out, b -> {
            b.put((byte) 0);
            Varints.writeVarlong(0, b);
            Varints.writeVarint(offsetDelta, b);
            Varints.writeVarint(-1, b);
            Varints.writeVarint(v.length, b);
            b.put(v);
            Varints.writeVarint(0, b);
        });
    }

    /** Attributes, timestamp delta 0 and offset delta 0. */
    private static void header(ByteBuffer b) {
        b.put((byte) 0);
        Varints.writeVarlong(0, b);
        Varints.writeVarint(0, b);
    }

    /** Writes a body prefixed with its true length. */
    private static void writeBody(ByteBuffer out, Consumer<ByteBuffer> body) {
        byte[] bytes = section(body);
        Varints.writeVarint(bytes.length, out);
        out.put(bytes);
    }

    private static byte[] compress(CompressionType compression, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream compressing = compression.wrapForOutput(out)) {
            compressing.write(data);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toByteArray();
    }
}
