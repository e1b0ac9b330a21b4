package io.millrace.record;

import static io.millrace.record.RecordBatchTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RecordBatchesTest {

    private static ByteBuffer concat(RecordBatch... batches) {
        int size = 0;
        for (RecordBatch b : batches) {
            size += b.sizeInBytes();
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        for (RecordBatch b : batches) {
            out.put(b.buffer());
        }
        return out.flip();
    }

    private static RecordBatch batch(CompressionType compression, long baseOffset, int records) {
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, baseOffset);
        for (int i = 0; i < records; i++) {
            builder.append(1000 + i, bytes("k" + i), bytes("v" + (baseOffset + i)));
        }
        return builder.build();
    }

    @Test
    void splitsBatchesBackToBack() {
        ByteBuffer log = concat(batch(CompressionType.NONE, 0, 3), batch(CompressionType.GZIP, 3, 2),
                batch(CompressionType.NONE, 5, 1));

        List<RecordBatch> batches = RecordBatches.split(log);

        assertThat(log.position()).isZero();
        assertThat(batches).extracting(RecordBatch::baseOffset).containsExactly(0L, 3L, 5L);
        assertThat(batches).allMatch(RecordBatch::isValid);
        assertThat(batches.stream().flatMap(b -> b.records().stream()).map(Record::offset))
                .containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void emptyBufferHasNoBatches() {
        assertThat(RecordBatches.split(ByteBuffer.allocate(0))).isEmpty();
    }

    @Test
    void startsAtThePositionAndStopsAtTheLimit() {
        ByteBuffer two = concat(batch(CompressionType.NONE, 10, 1), batch(CompressionType.NONE, 11, 1));
        ByteBuffer framed = ByteBuffer.allocate(two.remaining() + 9);
        framed.position(4).put(two).position(4).limit(4 + two.limit());

        assertThat(RecordBatches.split(framed)).extracting(RecordBatch::baseOffset).containsExactly(10L, 11L);
        assertThat(framed.position()).isEqualTo(4);
    }

    @Test
    void batchesShareTheBuffersContent() {
        ByteBuffer log = concat(batch(CompressionType.NONE, 0, 1), batch(CompressionType.NONE, 1, 1));

        RecordBatches.split(log).get(1).setBaseOffset(42);

        assertThat(RecordBatches.split(log).get(1).baseOffset()).isEqualTo(42);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 11, 12, 60, 61})
    void partialTrailingBatchIsCorrupt(int cut) {
        RecordBatch second = batch(CompressionType.NONE, 3, 2);
        ByteBuffer log = concat(batch(CompressionType.NONE, 0, 3), second);
        log.limit(log.limit() - second.sizeInBytes() + Math.min(cut, second.sizeInBytes() - 1));

        assertThatThrownBy(() -> RecordBatches.split(log))
                .isInstanceOf(CorruptRecordException.class)
                .hasMessageContaining("at byte " + batch(CompressionType.NONE, 0, 3).sizeInBytes());
    }

    @Test
    void lengthTooSmallForAHeaderIsCorrupt() {
        ByteBuffer log = concat(batch(CompressionType.NONE, 0, 1));
        log.putInt(RecordBatch.LENGTH_OFFSET, 10);

        assertThatThrownBy(() -> RecordBatches.split(log)).isInstanceOf(CorruptRecordException.class)
                .hasMessageContaining("minimum 61");
    }

    @Test
    void wrongMagicInsideTheBufferIsCorrupt() {
        ByteBuffer log = concat(batch(CompressionType.NONE, 0, 1), batch(CompressionType.NONE, 1, 1));
        log.put(batch(CompressionType.NONE, 0, 1).sizeInBytes() + RecordBatch.MAGIC_OFFSET, (byte) 1);

        assertThatThrownBy(() -> RecordBatches.split(log)).isInstanceOf(CorruptRecordException.class)
                .hasMessageContaining("magic 1");
    }
}
