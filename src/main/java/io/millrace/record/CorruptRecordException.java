package io.millrace.record;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;

/**
 * Bytes that do not form a well-formed record batch: wrong size or magic, a CRC mismatch, or malformed record data.
 * Always carries {@link ErrorCode#CORRUPT_RECORD}.
 */
public final class CorruptRecordException extends MillraceException {

    public CorruptRecordException(String message) {
        super(ErrorCode.CORRUPT_RECORD, message);
    }

    public CorruptRecordException(String message, Throwable cause) {
        super(ErrorCode.CORRUPT_RECORD, message, cause);
    }
}
