package io.millrace.common;

/**
 * The leader epoch a request says its sender believes a partition is in (Kafka's {@code currentLeaderEpoch},
 * KIP-320). A replica compares it with its own before doing anything: an older epoch is fenced
 * ({@link ErrorCode#FENCED_LEADER_EPOCH}: the sender's metadata is stale), a newer one means the replica has not
 * learned the new state yet ({@link ErrorCode#NOT_LEADER}, retriable). {@link #UNKNOWN} asks for no check: clients of
 * protocol versions before 4, WebSocket and REST, and internal callers that go by the replica's own state.
 */
public final class LeaderEpoch {

    /** No epoch known: the replica does not check. */
    public static final int UNKNOWN = -1;

    private LeaderEpoch() {
    }

    /**
     * {@code epoch} if it is {@link #UNKNOWN} or a real epoch (>= 0).
     *
     * @throws IllegalArgumentException if it is below -1
     */
    public static int requireValid(int epoch, String name) {
        if (epoch < UNKNOWN) {
            throw new IllegalArgumentException(name + " must be -1 (unknown) or >= 0, was " + epoch);
        }
        return epoch;
    }
}
