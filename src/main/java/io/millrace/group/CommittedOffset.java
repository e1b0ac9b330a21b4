package io.millrace.group;

import java.util.Objects;

/**
 * A committed offset as the coordinator stores it: what the consumer committed plus when. Immutable.
 *
 * @param commitTimestamp milliseconds since the epoch, from the coordinator's clock
 */
public record CommittedOffset(long offset, String metadata, long commitTimestamp) {

    public CommittedOffset {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, was " + offset);
        }
        Objects.requireNonNull(metadata, "metadata");
    }

    public OffsetAndMetadata toOffsetAndMetadata() {
        return new OffsetAndMetadata(offset, metadata);
    }
}
