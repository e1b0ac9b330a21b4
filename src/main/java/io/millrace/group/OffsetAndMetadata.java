package io.millrace.group;


/**
 * A position a consumer commits for a partition: the offset of the next record it will read, and free text for its
 * own use (e.g. which instance committed). Immutable.
 *
 * @param offset   the next offset to read, {@code >= 0}
 * @param metadata never null; a null argument becomes the empty string
 */
public record OffsetAndMetadata(long offset, String metadata) {

    public OffsetAndMetadata {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, was " + offset);
        }
        metadata = metadata == null ? "" : metadata;
    }

    public static OffsetAndMetadata of(long offset) {
        return new OffsetAndMetadata(offset, "");
    }
}
