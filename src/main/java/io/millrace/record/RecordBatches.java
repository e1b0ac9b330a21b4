package io.millrace.record;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Iterates the batches in a buffer holding zero or more whole batches back to back, as a log segment slice or a fetch
 * response does. Stateless and thread-safe.
 */
public final class RecordBatches {

    private RecordBatches() {
    }

    /**
     * Splits the bytes from {@code buffer}'s position to its limit into batch views that share its content. The
     * buffer's position and limit are untouched. CRCs are not checked (see {@link RecordBatch#ensureValid()}).
     *
     * @throws CorruptRecordException if the bytes end inside a batch, or a batch has a bad length or magic
     */
    public static List<RecordBatch> split(ByteBuffer buffer) {
        ByteBuffer bytes = buffer.duplicate();
        List<RecordBatch> batches = new ArrayList<>();
        int start = bytes.position();
        int end = bytes.limit();
        while (start < end) {
            int remaining = end - start;
            if (remaining < RecordBatch.LOG_OVERHEAD) {
                throw new CorruptRecordException("The last " + remaining + " bytes (at byte " + start
                        + ") are too few for a batch header");
            }
            // duplicate() is big-endian whatever the caller's buffer order is, as the format requires.
            long size = RecordBatch.LOG_OVERHEAD + (long) bytes.getInt(start + RecordBatch.LENGTH_OFFSET);
            if (size < RecordBatch.HEADER_SIZE || size > remaining) {
                throw new CorruptRecordException("The batch at byte " + start + " declares " + size + " bytes but "
                        + remaining + " remain (minimum " + RecordBatch.HEADER_SIZE + ")");
            }
            batches.add(RecordBatch.wrap(bytes.limit(start + (int) size).position(start)));
            bytes.limit(end);
            start += (int) size;
        }
        return batches;
    }
}
