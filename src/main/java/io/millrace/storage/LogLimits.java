package io.millrace.storage;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.record.RecordBatch;
import java.util.Map;

/**
 * Bounds a topic's log config must keep on this broker beyond the per-key rules of {@link LogConfig}: they come from
 * broker settings a topic cannot override. A topic asking for more is refused when it is created
 * ({@link #check}); one stored before the bound applied, or by a broker with a larger bound, is brought within it
 * when a partition opens ({@link #clamp}). Immutable.
 *
 * @param maxMessageBytes the largest {@code max.message.bytes}: the largest batch every front-end can carry
 * @param reason          where {@code maxMessageBytes} comes from, named in the refusal
 */
public record LogLimits(int maxMessageBytes, String reason) {

    public LogLimits {
        if (maxMessageBytes < RecordBatch.HEADER_SIZE) {
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "The broker cannot carry a record batch: "
                    + reason);
        }
    }

    /**
     * @throws MillraceException {@code INVALID_CONFIG} naming the bound, if {@code config} asks for more than it
     */
    public void check(LogConfig config) {
        if (config.maxMessageBytes() > maxMessageBytes) {
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "Invalid " + LogConfig.MAX_MESSAGE_BYTES + ": "
                    + config.maxMessageBytes() + " is larger than " + maxMessageBytes + ", the largest batch this"
                    + " broker can carry (" + reason + ")");
        }
    }

    /** {@code config} within these bounds. */
    public LogConfig clamp(LogConfig config) {
        if (config.maxMessageBytes() <= maxMessageBytes) {
            return config;
        }
        return config.with(Map.of(LogConfig.MAX_MESSAGE_BYTES, Integer.toString(maxMessageBytes)));
    }
}
