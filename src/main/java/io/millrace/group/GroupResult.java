package io.millrace.group;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of a group operation: a value, or an error a client can read (a code and a message). Refusals such as
 * {@code REBALANCE_IN_PROGRESS} are ordinary answers of the group protocol, so they are values, not exceptions.
 * Immutable.
 *
 * @param <T> the value's type; {@link Void} for operations that only succeed or fail
 */
public final class GroupResult<T> {

    private static final GroupResult<Void> DONE = new GroupResult<>(null, null, null);

    private final T value;
    private final ErrorCode error;
    private final String message;

    private GroupResult(T value, ErrorCode error, String message) {
        this.value = value;
        this.error = error;
        this.message = message;
    }

    public static <T> GroupResult<T> ok(T value) {
        return new GroupResult<>(Objects.requireNonNull(value, "value"), null, null);
    }

    /** Success without a value. */
    public static GroupResult<Void> done() {
        return DONE;
    }

    /** A failure; a null message becomes the code's {@link ErrorCode#description()}. */
    public static <T> GroupResult<T> failed(ErrorCode code, String message) {
        Objects.requireNonNull(code, "code");
        return new GroupResult<>(null, code, message == null ? code.description() : message);
    }

    public static <T> GroupResult<T> failed(ErrorCode code) {
        return failed(code, null);
    }

    public boolean succeeded() {
        return error == null;
    }

    /** The value of a success ({@code null} for {@link #done()}); throws the error of a failure. */
    public T value() {
        if (error != null) {
            throw toException();
        }
        return value;
    }

    /** The error code of a failure, empty on success. */
    public Optional<ErrorCode> error() {
        return Optional.ofNullable(error);
    }

    /** The failure's message; empty on success. */
    public String message() {
        return message == null ? "" : message;
    }

    /** This failure as an exception (for a host that fails a future with it); must not be called on a success. */
    public MillraceException toException() {
        if (error == null) {
            throw new IllegalStateException("not a failure");
        }
        return new MillraceException(error, message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GroupResult<?> other && Objects.equals(value, other.value) && error == other.error
                && Objects.equals(message, other.message);
    }

    @Override
    public int hashCode() {
        return Objects.hash(value, error, message);
    }

    @Override
    public String toString() {
        return error == null ? "ok(" + value + ")" : "failed(" + error + ": " + message + ")";
    }
}
