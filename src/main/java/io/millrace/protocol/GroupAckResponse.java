package io.millrace.protocol;

import java.util.Objects;

/**
 * The empty success body that answers HEARTBEAT, LEAVE_GROUP, COMMIT_OFFSETS, RESET_OFFSETS and DELETE_GROUP: those
 * operations either succeed as a whole or fail with the response header's error.
 *
 * @param apiKey which of those operations it answers
 */
public record GroupAckResponse(ApiKey apiKey) implements Response {

    public GroupAckResponse {
        Objects.requireNonNull(apiKey, "apiKey");
        if (!acknowledges(apiKey)) {
            throw new IllegalArgumentException(apiKey + " is not answered by an empty group acknowledgement");
        }
    }

    static boolean acknowledges(ApiKey key) {
        return switch (key) {
            case HEARTBEAT, LEAVE_GROUP, COMMIT_OFFSETS, RESET_OFFSETS, DELETE_GROUP -> true;
            default -> false;
        };
    }

    void write(WireWriter w) {
        // empty body
    }
}
