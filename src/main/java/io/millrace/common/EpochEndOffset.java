package io.millrace.common;

/**
 * Where a leader epoch ended in a replica's log: {@code epoch} is the largest epoch at or below the one asked about
 * that the log knows, {@code endOffset} the offset after its last record (the start offset of the next epoch, or the
 * log end for the latest epoch). Both are {@link #UNDEFINED} when the log knows no epoch at or below the one asked.
 * A follower compares its own answer with its leader's to find where their logs diverge (Kafka's KIP-101/KIP-279).
 */
public record EpochEndOffset(int epoch, long endOffset) {

    public static final int UNDEFINED_EPOCH = -1;
    public static final long UNDEFINED_OFFSET = -1;
    public static final EpochEndOffset UNDEFINED = new EpochEndOffset(UNDEFINED_EPOCH, UNDEFINED_OFFSET);

    public boolean isUndefined() {
        return epoch == UNDEFINED_EPOCH;
    }
}
