package io.millrace.record;

import java.io.IOException;

/**
 * A compressed section declares more decompressed bytes than the reader allows; thrown before anything that large is
 * allocated. {@link RecordBatch} answers it as {@code RECORD_TOO_LARGE}, as when the bytes actually produced pass the
 * limit.
 */
final class DecompressionLimitException extends IOException {
    DecompressionLimitException(String message) {
        super(message);
    }
}
