package io.millrace.broker;

/** An offset found for a start position, and the timestamp of its record when found by timestamp (else -1). */
public record ResolvedOffset(long offset, long timestamp) {
}
