package io.millrace.storage;

/** The first record at or after a searched-for timestamp: its timestamp and offset. */
public record TimestampOffset(long timestamp, long offset) {
}
