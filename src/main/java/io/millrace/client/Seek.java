package io.millrace.client;

import io.millrace.protocol.SubscribeRequest;

/** Where a consumer starts reading a partition. Immutable. */
public final class Seek {

    private final SubscribeRequest.StartPosition position;

    private Seek(SubscribeRequest.StartPosition position) {
        this.position = position;
    }

    /** The oldest record still in the log. */
    public static Seek earliest() {
        return new Seek(SubscribeRequest.StartPosition.earliest());
    }

    /** Only records produced from now on. */
    public static Seek latest() {
        return new Seek(SubscribeRequest.StartPosition.latest());
    }

    public static Seek offset(long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("Offsets are never negative: " + offset);
        }
        return new Seek(SubscribeRequest.StartPosition.offset(offset));
    }

    /** The first record whose timestamp is at least {@code epochMillis}. */
    public static Seek timestamp(long epochMillis) {
        return new Seek(SubscribeRequest.StartPosition.timestamp(epochMillis));
    }

    SubscribeRequest.StartPosition position() {
        return position;
    }

    @Override
    public String toString() {
        return position.toString();
    }
}
