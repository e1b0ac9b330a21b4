package io.millrace.common;

/** Where a reader starts: the log start, the log end (only new records), an offset, or the first record at a time. */
public sealed interface OffsetSpec {

    record Earliest() implements OffsetSpec {
    }

    record Latest() implements OffsetSpec {
    }

    record AtOffset(long offset) implements OffsetSpec {
        public AtOffset {
            if (offset < 0) {
                throw new MillraceException(ErrorCode.INVALID_REQUEST, "Offset must not be negative, was " + offset);
            }
        }
    }

    /** The first record whose timestamp is at least {@code timestamp} (epoch milliseconds); the log end if none. */
    record AtTimestamp(long timestamp) implements OffsetSpec {
    }

    OffsetSpec EARLIEST = new Earliest();
    OffsetSpec LATEST = new Latest();
}
