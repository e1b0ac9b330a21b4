package io.millrace.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Mutation;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.Size;

/**
 * Property-based fuzzing of the RecordBatch v2 decoders on bytes from a producer or a torn disk write: splitting,
 * the CRC check, {@link RecordBatch#validateRecords} (what a broker runs before accepting a batch) and
 * {@link RecordBatch#records()}. Each either succeeds or fails with CORRUPT_RECORD, UNSUPPORTED_COMPRESSION or
 * RECORD_TOO_LARGE, never with another exception; and a batch the broker accepts is one every reader can decode.
 * {@link HostileBatchTest} holds the named malformations.
 */
class RecordBatchFuzzTest {

    /** What hostile batch bytes may fail with. */
    private static final Set<ErrorCode> TYPED = EnumSet.of(ErrorCode.CORRUPT_RECORD,
            ErrorCode.UNSUPPORTED_COMPRESSION, ErrorCode.RECORD_TOO_LARGE);

    /** Decompression cap of the properties: enough for every generated batch, small enough for a quick bomb check. */
    private static final int MAX_DECOMPRESSED_BYTES = 1 << 20;

    /** A record as the generator draws it. */
    record Drawn(byte[] key, byte[] value, List<Header> headers) {
    }

    /**
     * Damage anywhere in valid batches, with the CRC and length fields repaired afterwards when {@code repair} is
     * set, so that the damage reaches the records decoder instead of stopping at the checksum.
     */
    @Property(seed = Mutation.SEED)
    void damagedBatchesFailOnlyWithTypedErrors(@ForAll("batches") byte[] valid, @ForAll("mutations")
            List<Mutation> mutations, @ForAll boolean repair) {
        byte[] damaged = Mutation.apply(valid, mutations);
        if (repair && damaged.length >= RecordBatch.HEADER_SIZE) {
            ByteBuffer bytes = ByteBuffer.wrap(damaged);
            bytes.putInt(RecordBatch.LENGTH_OFFSET, damaged.length - RecordBatch.LOG_OVERHEAD);
            bytes.put(RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC);
            RecordBatchTest.fixCrc(bytes);
        }
        decodeEverything(damaged);
    }

    @Property(seed = Mutation.SEED)
    void randomBytesFailOnlyWithTypedErrors(@ForAll @Size(max = 300) byte[] bytes) {
        decodeEverything(bytes);
    }

    /**
     * Splits {@code bytes}, checks every batch and decodes it as a broker and a reader would; fails the property on
     * any exception other than a typed one, and when a batch the broker would accept cannot be read.
     */
    private static void decodeEverything(byte[] bytes) {
        List<RecordBatch> batches;
        try {
            batches = RecordBatches.split(ByteBuffer.wrap(bytes));
        } catch (RuntimeException | Error e) {
            assertTyped(bytes, "split", e);
            return;
        }
        assertThat(batches.stream().mapToInt(RecordBatch::sizeInBytes).sum()).isEqualTo(bytes.length);
        for (RecordBatch batch : batches) {
            boolean accepted;
            try {
                batch.ensureValid();
                batch.validateRecords(MAX_DECOMPRESSED_BYTES);
                accepted = true;
            } catch (RuntimeException | Error e) {
                assertTyped(bytes, "validation", e);
                accepted = false;
            }
            try {
                List<Record> records = batch.records(MAX_DECOMPRESSED_BYTES);
                assertThat(records).hasSize(batch.recordCount());
            } catch (RuntimeException | Error e) {
                if (accepted) {
                    fail("an accepted batch cannot be read: " + HexFormat.of().formatHex(bytes), e);
                }
                assertTyped(bytes, "records", e);
            }
        }
    }

    private static void assertTyped(byte[] bytes, String step, Throwable e) {
        if (!(e instanceof MillraceException m) || !TYPED.contains(m.errorCode())) {
            fail(step + " of " + HexFormat.of().formatHex(bytes) + " escaped as " + e, e);
        }
    }

    @Provide
    Arbitrary<byte[]> batches() {
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(24).injectNull(0.2);
        Arbitrary<Header> header = Combinators.combine(Arbitraries.strings().ofMaxLength(8),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(8).injectNull(0.2)).as(Header::new);
        Arbitrary<Drawn> record = Combinators.combine(bytes, bytes, header.list().ofMaxSize(3)).as(Drawn::new);
        Arbitrary<byte[]> built = Combinators.combine(Arbitraries.of(CompressionType.class),
                Arbitraries.of(TimestampType.class), Arbitraries.longs().between(0, 1L << 40),
                record.list().ofMinSize(1).ofMaxSize(6)).as((compression, type, baseOffset, records) -> {
                    RecordBatchBuilder builder = new RecordBatchBuilder(compression, type, baseOffset);
                    long timestamp = 1_700_000_000_000L;
                    for (Drawn r : records) {
                        builder.append(timestamp++, r.key, r.value, r.headers);
                    }
                    ByteBuffer encoded = builder.build().buffer();
                    byte[] out = new byte[encoded.remaining()];
                    encoded.get(out);
                    return out;
                });
        return Arbitraries.frequencyOf(Tuple.of(9, built), Tuple.of(1, built.map(RecordBatchFuzzTest::headerOnly)));
    }

    /** The batch's header alone, with the length, count and CRC of an empty batch: a producer may send one. */
    private static byte[] headerOnly(byte[] batch) {
        ByteBuffer empty = ByteBuffer.wrap(java.util.Arrays.copyOf(batch, RecordBatch.HEADER_SIZE));
        empty.putInt(RecordBatch.LENGTH_OFFSET, RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD);
        empty.putInt(RecordBatch.RECORD_COUNT_OFFSET, 0);
        empty.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 0);
        RecordBatchTest.fixCrc(empty);
        return empty.array();
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return Mutation.lists(4);
    }
}
