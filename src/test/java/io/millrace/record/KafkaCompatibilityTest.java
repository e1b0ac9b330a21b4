package io.millrace.record;

import static io.millrace.record.RecordBatchTest.bytes;
import static io.millrace.record.RecordBatchTest.copyOf;
import static io.millrace.record.RecordBatchTest.sampleRecords;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.DefaultRecordBatch;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.utils.ByteUtils;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Proves the record format and the partitioner against Apache Kafka's own classes (kafka-clients, test scope only):
 * Kafka reads what we write, we read what Kafka writes, and keys land on the same partitions.
 */
class KafkaCompatibilityTest {

    private static final long T0 = 1_700_000_000_000L;
    private static final long PRODUCER_ID = 987_654_321L;
    private static final short PRODUCER_EPOCH = 7;
    private static final int BASE_SEQUENCE = 1234;
    private static final int LEADER_EPOCH = 5;

    static Stream<Arguments> codecsAndTimestampTypes() {
        return RecordBatchTest.codecsAndTimestampTypes();
    }

    // ---- (1) Kafka reads what we write ----

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("codecsAndTimestampTypes")
    void kafkaReadsOurBatches(CompressionType compression, TimestampType type) {
        List<Record> appended = sampleRecords(0);
        RecordBatch ours = RecordBatchTest.builderWith(compression, type, 0, appended)
                .producer(PRODUCER_ID, PRODUCER_EPOCH, BASE_SEQUENCE)
                .partitionLeaderEpoch(LEADER_EPOCH)
                .build();
        ours.setBaseOffset(5_000_000_000L);
        if (type == TimestampType.LOG_APPEND_TIME) {
            ours.setLogAppendTime(T0 + 60_000);
        }

        List<MutableRecordBatch> kafkaBatches = batchesOf(MemoryRecords.readableRecords(ours.buffer()));

        assertThat(kafkaBatches).hasSize(1);
        MutableRecordBatch kafka = kafkaBatches.get(0);
        kafka.ensureValid();
        assertThat(kafka.isValid()).isTrue();
        assertSameHeader(ours, kafka);
        assertThat(kafka.baseOffset()).isEqualTo(5_000_000_000L);
        assertThat(kafka.lastOffset()).isEqualTo(5_000_000_005L);
        assertThat(kafka.producerId()).isEqualTo(PRODUCER_ID);
        assertThat(kafka.producerEpoch()).isEqualTo(PRODUCER_EPOCH);
        assertThat(kafka.baseSequence()).isEqualTo(BASE_SEQUENCE);
        assertThat(kafka.lastSequence()).isEqualTo(BASE_SEQUENCE + 5);
        assertThat(kafka.partitionLeaderEpoch()).isEqualTo(LEADER_EPOCH);

        List<Record> readByKafka = recordsOf(kafka);
        List<Record> expected = appended.stream()
                .map(r -> new Record(r.offset() + 5_000_000_000L,
                        type == TimestampType.LOG_APPEND_TIME ? T0 + 60_000 : r.timestamp(),
                        r.key(), r.value(), r.headers()))
                .toList();
        assertThat(readByKafka).isEqualTo(expected).isEqualTo(ours.records());
    }

    @ParameterizedTest
    @EnumSource(TimestampType.class)
    void uncompressedBatchesAreByteIdenticalToKafkas(TimestampType type) {
        long appendTime = T0 + 60_000;
        RecordBatch ours = RecordBatchTest.builderWith(CompressionType.NONE, type, 42, sampleRecords(42))
                .producer(PRODUCER_ID, PRODUCER_EPOCH, BASE_SEQUENCE)
                .partitionLeaderEpoch(LEADER_EPOCH)
                .build();
        if (type == TimestampType.LOG_APPEND_TIME) {
            ours.setLogAppendTime(appendTime);
        }

        MemoryRecords kafka = kafkaBuilt(Compression.NONE,
                org.apache.kafka.common.record.TimestampType.valueOf(type.name()), 42,
                type == TimestampType.LOG_APPEND_TIME ? appendTime : -1L, PRODUCER_ID, PRODUCER_EPOCH, BASE_SEQUENCE,
                LEADER_EPOCH, sampleRecords(42));

        assertThat(ours.buffer()).isEqualTo(kafka.buffer());
    }

    @Test
    void logAppendTimeStampsTheSameBytesAsKafka() {
        long appendTime = T0 + 123_456;
        RecordBatch ours = RecordBatchTest.builderWith(CompressionType.NONE, TimestampType.CREATE_TIME, 0,
                sampleRecords(0)).build();
        ByteBuffer kafkaCopy = copyOf(ours.buffer());
        DefaultRecordBatch kafka = (DefaultRecordBatch) batchesOf(MemoryRecords.readableRecords(kafkaCopy)).get(0);

        ours.setLogAppendTime(appendTime);
        kafka.setMaxTimestamp(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, appendTime);

        assertThat(ours.buffer()).isEqualTo(kafkaCopy);
        assertThat(ours.computeChecksum()).isEqualTo(kafka.checksum());
    }

    @Test
    void kafkaSeesOurInPlaceOffsetAndEpochChanges() {
        RecordBatch ours = RecordBatchTest.builderWith(CompressionType.GZIP, TimestampType.CREATE_TIME, 0,
                sampleRecords(0)).build();
        ByteBuffer kafkaCopy = copyOf(ours.buffer());
        DefaultRecordBatch kafka = (DefaultRecordBatch) batchesOf(MemoryRecords.readableRecords(kafkaCopy)).get(0);

        ours.setBaseOffset(900);
        ours.setPartitionLeaderEpoch(31);
        kafka.setLastOffset(905);
        kafka.setPartitionLeaderEpoch(31);

        assertThat(ours.buffer()).isEqualTo(kafkaCopy);
    }

    // ---- (2) we read what Kafka writes ----

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("codecsAndTimestampTypes")
    void weReadKafkasBatches(CompressionType compression, TimestampType type) {
        Compression kafkaCompression = kafkaCompression(compression);
        org.apache.kafka.common.record.TimestampType kafkaType =
                org.apache.kafka.common.record.TimestampType.valueOf(type.name());
        long logAppendTime = type == TimestampType.LOG_APPEND_TIME ? T0 + 99 : -1L;
        MemoryRecords first = kafkaBuilt(kafkaCompression, kafkaType, 100, logAppendTime, PRODUCER_ID, PRODUCER_EPOCH,
                BASE_SEQUENCE, LEADER_EPOCH, sampleRecords(100));
        MemoryRecords second = MemoryRecords.withRecords(106L, kafkaCompression, LEADER_EPOCH,
                new SimpleRecord(T0, bytes("k"), bytes("v")),
                new SimpleRecord(T0 + 1, (byte[]) null, (byte[]) null, new org.apache.kafka.common.header.Header[] {
                    new RecordHeader("h", null)}),
                new SimpleRecord(T0 - 5, new byte[0], new byte[0]));
        ByteBuffer log = concat(first.buffer(), second.buffer());

        List<RecordBatch> ours = RecordBatches.split(log);
        List<MutableRecordBatch> kafka = batchesOf(MemoryRecords.readableRecords(log.duplicate()));

        assertThat(ours).hasSize(2);
        for (int i = 0; i < 2; i++) {
            RecordBatch batch = ours.get(i);
            batch.ensureValid();
            assertThat(batch.computeChecksum()).isEqualTo(kafka.get(i).checksum());
            assertSameHeader(batch, kafka.get(i));
            assertThat(batch.records()).isEqualTo(recordsOf(kafka.get(i)));
        }
        assertThat(ours.get(0).records()).hasSize(6);
        assertThat(ours.get(1).records()).extracting(Record::offset).containsExactly(106L, 107L, 108L);
    }

    @Test
    void weReadKafkasTransactionMarkers() {
        MemoryRecords marker = MemoryRecords.withEndTransactionMarker(77L, T0, LEADER_EPOCH, PRODUCER_ID,
                PRODUCER_EPOCH, new EndTransactionMarker(ControlRecordType.COMMIT, 3));
        MutableRecordBatch kafka = batchesOf(marker).get(0);

        RecordBatch ours = RecordBatch.wrap(marker.buffer());

        assertThat(ours.isValid()).isTrue();
        assertThat(ours.isControl()).isTrue();
        assertThat(ours.isTransactional()).isTrue();
        assertSameHeader(ours, kafka);
        assertThat(ours.records()).isEqualTo(recordsOf(kafka));
    }

    /**
     * The same library, block size and level as Kafka's producer, and for LZ4 the same frame descriptor: a batch we
     * compress is the batch Kafka would have written, byte for byte. Not Zstandard: its output depends on how the
     * input is cut into writes (Kafka's producer writes record by record through a 16 KiB buffer), so there the
     * proof is that each side reads the other's batches (above).
     */
    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = {"GZIP", "SNAPPY", "LZ4"})
    void compressedBatchesAreByteIdenticalToKafkas(CompressionType compression) {
        List<Record> records = new ArrayList<>(sampleRecords(42));
        for (int i = 0; i < 2_000; i++) {
            // Enough compressible bytes for several Snappy chunks and LZ4 blocks.
            records.add(new Record(48 + i, T0 + i, bytes("key-" + i), bytes("value-" + i + "=".repeat(i % 90)),
                    List.of(new Header("n", bytes(Integer.toString(i))))));
        }
        RecordBatch ours = RecordBatchTest.builderWith(compression, TimestampType.CREATE_TIME, 42, records)
                .producer(PRODUCER_ID, PRODUCER_EPOCH, BASE_SEQUENCE)
                .partitionLeaderEpoch(LEADER_EPOCH)
                .build();

        MemoryRecords kafka = kafkaBuilt(kafkaCompression(compression),
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 42, -1L, PRODUCER_ID, PRODUCER_EPOCH,
                BASE_SEQUENCE, LEADER_EPOCH, records);

        assertThat(ours.buffer()).isEqualTo(kafka.buffer());
    }

    /**
     * LZ4 frames as other writers make them (lz4-java's own frame stream here, as librdkafka's lz4 does): block
     * checksums, the content size and a content checksum in the frame. Kafka 4.1 reads them, checks block checksums
     * and skips the content checksum without verifying it; so do we, so both read the same records or both refuse.
     */
    @Test
    void lz4FramesWithChecksumsAndAContentSizeReadAsKafkaReadsThem() throws IOException {
        RecordBatch uncompressed = RecordBatchTest.builderWith(CompressionType.NONE, TimestampType.CREATE_TIME, 0,
                sampleRecords(0)).build();
        byte[] records = toArray(uncompressed.buffer().duplicate().position(RecordBatch.RECORDS_OFFSET));
        ByteArrayOutputStream framed = new ByteArrayOutputStream();
        try (LZ4FrameOutputStream out = new LZ4FrameOutputStream(framed, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB,
                records.length, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE,
                LZ4FrameOutputStream.FLG.Bits.BLOCK_CHECKSUM, LZ4FrameOutputStream.FLG.Bits.CONTENT_SIZE,
                LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM)) {
            out.write(records);
        }
        byte[] frame = framed.toByteArray();

        RecordBatch ours = withLz4Section(uncompressed, frame);
        assertThat(ours.records()).isEqualTo(sampleRecords(0)).isEqualTo(recordsOf(kafkaView(ours)));

        byte[] wrongContentChecksum = frame.clone();
        wrongContentChecksum[frame.length - 1] ^= 1;
        RecordBatch stillRead = withLz4Section(uncompressed, wrongContentChecksum);
        assertThat(stillRead.records()).isEqualTo(recordsOf(kafkaView(stillRead)));

        byte[] wrongBlockChecksum = frame.clone();
        wrongBlockChecksum[frame.length - 9] ^= 1; // the last block's checksum, before the end mark and content checksum
        RecordBatch refused = withLz4Section(uncompressed, wrongBlockChecksum);
        assertThatThrownBy(refused::records).isInstanceOf(CorruptRecordException.class)
                .hasMessageContaining("block checksum");
        assertThatThrownBy(() -> recordsOf(kafkaView(refused))).hasRootCauseMessage("Block checksum mismatch");
    }

    /** The batch's header with LZ4 as its codec and {@code frame} as its records section, CRC fixed. */
    private static RecordBatch withLz4Section(RecordBatch uncompressed, byte[] frame) {
        ByteBuffer bytes = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + frame.length);
        bytes.put(uncompressed.buffer().duplicate().limit(RecordBatch.HEADER_SIZE)).put(frame).flip();
        bytes.putInt(RecordBatch.LENGTH_OFFSET, bytes.limit() - RecordBatch.LOG_OVERHEAD);
        bytes.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) CompressionType.LZ4.id());
        return RecordBatchTest.fixCrc(bytes);
    }

    private static MutableRecordBatch kafkaView(RecordBatch ours) {
        return batchesOf(MemoryRecords.readableRecords(copyOf(ours.buffer()))).get(0);
    }

    // ---- (3) keys land on Kafka's partitions ----

    @Test
    void partitionerMatchesKafkaOnRandomKeys() {
        Random random = new Random(0x5eed);
        int[] partitionCounts = {1, 2, 3, 7, 12, 50, 100, 1024, Integer.MAX_VALUE};
        List<byte[]> keys = new ArrayList<>();
        keys.add(new byte[0]);
        for (int i = 0; i < 10_000; i++) {
            byte[] key = new byte[random.nextInt(80)];
            random.nextBytes(key);
            keys.add(key);
        }
        keys.add(bytes("user-42"));

        for (byte[] key : keys) {
            assertThat(Partitioner.murmur2(key)).as("murmur2 of %s", Arrays.toString(key))
                    .isEqualTo(Utils.murmur2(key));
            assertThat(Partitioner.toPositive(Partitioner.murmur2(key)))
                    .isEqualTo(Utils.toPositive(Utils.murmur2(key)));
            for (int n : partitionCounts) {
                assertThat(Partitioner.partitionForKey(key, n)).isEqualTo(BuiltInPartitioner.partitionForKey(key, n));
            }
        }
    }

    @Test
    void toPositiveMatchesKafkaAtTheEdges() {
        for (int n : new int[] {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, -123_456}) {
            assertThat(Partitioner.toPositive(n)).isEqualTo(Utils.toPositive(n));
        }
    }

    // ---- varints ----

    @Test
    void varintsEncodeAndDecodeLikeKafkasByteUtils() {
        Random random = new Random(99);
        ByteBuffer ours = ByteBuffer.allocate(10);
        ByteBuffer kafka = ByteBuffer.allocate(10);
        List<Long> values = new ArrayList<>(List.of(0L, -1L, 1L, (long) Integer.MIN_VALUE, (long) Integer.MAX_VALUE,
                Long.MIN_VALUE, Long.MAX_VALUE));
        for (int i = 0; i < 20_000; i++) {
            values.add(random.nextLong() >> random.nextInt(64));
        }
        for (long value : values) {
            int intValue = (int) value;
            ours.clear();
            kafka.clear();
            Varints.writeVarint(intValue, ours);
            ByteUtils.writeVarint(intValue, kafka);
            assertThat(ours.flip()).isEqualTo(kafka.flip());
            assertThat(Varints.sizeOfVarint(intValue)).isEqualTo(ByteUtils.sizeOfVarint(intValue));

            ours.clear();
            kafka.clear();
            Varints.writeVarlong(value, ours);
            ByteUtils.writeVarlong(value, kafka);
            assertThat(ours.flip()).isEqualTo(kafka.flip());
            assertThat(Varints.sizeOfVarlong(value)).isEqualTo(ByteUtils.sizeOfVarlong(value));
        }
    }

    @Test
    void arbitraryBytesDecodeLikeKafkasByteUtils() {
        Random random = new Random(100);
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = new byte[random.nextInt(12)];
            random.nextBytes(bytes);
            // Bias towards continuation bits so that long and over-long encodings are common.
            for (int j = 0; j < bytes.length; j++) {
                if (random.nextInt(4) != 0) {
                    bytes[j] |= (byte) 0x80;
                }
            }
            assertThat(decode(bytes, true, false)).as("varint %s", Arrays.toString(bytes))
                    .isEqualTo(decode(bytes, true, true));
            assertThat(decode(bytes, false, false)).as("varlong %s", Arrays.toString(bytes))
                    .isEqualTo(decode(bytes, false, true));
        }
    }

    /** "value@position", or the exception's kind, so that both implementations can be compared as strings. */
    private static String decode(byte[] bytes, boolean varint, boolean kafka) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        try {
            long value;
            if (varint) {
                value = kafka ? ByteUtils.readVarint(buffer) : Varints.readVarint(buffer);
            } else {
                value = kafka ? ByteUtils.readVarlong(buffer) : Varints.readVarlong(buffer);
            }
            return value + "@" + buffer.position();
        } catch (BufferUnderflowException e) {
            return "underflow";
        } catch (IllegalArgumentException e) {
            return "too long";
        }
    }

    // ---- helpers ----

    private static Compression kafkaCompression(CompressionType compression) {
        return compression == CompressionType.NONE ? Compression.NONE
                : Compression.of(org.apache.kafka.common.record.CompressionType.forId(compression.id())).build();
    }

    private static MemoryRecords kafkaBuilt(Compression compression,
            org.apache.kafka.common.record.TimestampType type, long baseOffset, long logAppendTime, long producerId,
            short producerEpoch, int baseSequence, int leaderEpoch, List<Record> records) {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(1024),
                org.apache.kafka.common.record.RecordBatch.MAGIC_VALUE_V2, compression, type, baseOffset,
                logAppendTime, producerId, producerEpoch, baseSequence, false, leaderEpoch);
        for (Record r : records) {
            org.apache.kafka.common.header.Header[] headers = r.headers().stream()
                    .map(h -> new RecordHeader(h.key(), h.value()))
                    .toArray(org.apache.kafka.common.header.Header[]::new);
            builder.append(r.timestamp(), r.key(), r.value(), headers);
        }
        return builder.build();
    }

    private static void assertSameHeader(RecordBatch ours, MutableRecordBatch kafka) {
        assertThat(ours.sizeInBytes()).isEqualTo(kafka.sizeInBytes());
        assertThat(ours.baseOffset()).isEqualTo(kafka.baseOffset());
        assertThat(ours.lastOffset()).isEqualTo(kafka.lastOffset());
        assertThat(ours.recordCount()).isEqualTo(kafka.countOrNull());
        assertThat(ours.magic()).isEqualTo(kafka.magic());
        assertThat(ours.checksum()).isEqualTo(kafka.checksum());
        assertThat(ours.compressionType().id()).isEqualTo(kafka.compressionType().id);
        assertThat(ours.timestampType().name()).isEqualTo(kafka.timestampType().name());
        assertThat(ours.firstTimestamp()).isEqualTo(((DefaultRecordBatch) kafka).baseTimestamp());
        assertThat(ours.maxTimestamp()).isEqualTo(kafka.maxTimestamp());
        assertThat(ours.producerId()).isEqualTo(kafka.producerId());
        assertThat(ours.producerEpoch()).isEqualTo(kafka.producerEpoch());
        assertThat(ours.baseSequence()).isEqualTo(kafka.baseSequence());
        assertThat(ours.lastSequence()).isEqualTo(kafka.lastSequence());
        assertThat(ours.partitionLeaderEpoch()).isEqualTo(kafka.partitionLeaderEpoch());
        assertThat(ours.isTransactional()).isEqualTo(kafka.isTransactional());
        assertThat(ours.isControl()).isEqualTo(kafka.isControlBatch());
    }

    private static List<MutableRecordBatch> batchesOf(MemoryRecords records) {
        List<MutableRecordBatch> batches = new ArrayList<>();
        records.batches().forEach(batches::add);
        return batches;
    }

    private static List<Record> recordsOf(MutableRecordBatch batch) {
        List<Record> records = new ArrayList<>();
        for (org.apache.kafka.common.record.Record r : batch) {
            List<Header> headers = Arrays.stream(r.headers()).map(h -> new Header(h.key(), h.value())).toList();
            records.add(new Record(r.offset(), r.timestamp(), toArray(r.key()), toArray(r.value()), headers));
        }
        return records;
    }

    private static byte[] toArray(ByteBuffer buffer) {
        return buffer == null ? null : Utils.toArray(buffer);
    }

    private static ByteBuffer concat(ByteBuffer a, ByteBuffer b) {
        ByteBuffer out = ByteBuffer.allocate(a.remaining() + b.remaining());
        out.put(a.duplicate()).put(b.duplicate());
        return out.flip();
    }
}
