package io.millrace.storage;

import java.util.Arrays;

/**
 * Some batches of a {@link LogSlice} as its segment's offset index knew them when the slice was read: for each, the
 * last offset and the byte position where the batch starts, in file order. A copy, so that a reader on any thread can
 * jump close to an offset inside the slice and read a header or two from there instead of walking every batch.
 * Immutable (nobody writes the arrays after construction).
 */
record IndexedBatches(long[] lastOffsets, int[] positions) {

    static final IndexedBatches NONE = new IndexedBatches(new long[0], new int[0]);

    /** The position of the last batch listed whose last offset is below {@code offset}, or -1 if none is. */
    long startOfLastBatchEndingBelow(long offset) {
        // Last offsets strictly increase; a miss gives the insertion point as -(point) - 1.
        int found = Arrays.binarySearch(lastOffsets, offset);
        int below = (found >= 0 ? found : -found - 1) - 1;
        return below < 0 ? -1 : positions[below];
    }
}
