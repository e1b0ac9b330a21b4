package io.millrace.storage;

import io.millrace.common.MillraceException;
import java.util.Optional;

/** The outcome of one batch of a grouped append: what was written, or why the batch was refused. */
public record LogAppendResult(Optional<LogAppendInfo> info, Optional<MillraceException> error) {

    static LogAppendResult of(LogAppendInfo info) {
        return new LogAppendResult(Optional.of(info), Optional.empty());
    }

    static LogAppendResult failed(MillraceException error) {
        return new LogAppendResult(Optional.empty(), Optional.of(error));
    }
}
