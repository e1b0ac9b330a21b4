package io.millrace.record;

/**
 * The smallest and largest timestamp of a batch's records, as readers will see them. Immutable.
 *
 * @param min the earliest record timestamp
 * @param max the latest record timestamp
 */
public record TimestampRange(long min, long max) {

    public TimestampRange {
        if (min > max) {
            throw new IllegalArgumentException("Timestamp range [" + min + ", " + max + "] is empty");
        }
    }
}
