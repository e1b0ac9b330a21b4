package io.millrace.record;

/**
 * What a batch's timestamps mean; stored in bit 3 of the batch attributes.
 */
public enum TimestampType {
    /** Each record carries the time its producer created it. */
    CREATE_TIME,
    /**
     * The broker stamped the batch when it appended it: every record's timestamp is the batch's max timestamp, and
     * the per-record timestamp deltas are ignored (Kafka semantics).
     */
    LOG_APPEND_TIME
}
