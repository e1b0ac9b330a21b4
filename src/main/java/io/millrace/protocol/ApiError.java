package io.millrace.protocol;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import java.util.Objects;

/**
 * An error as it travels on the wire: {@code int16 code} ({@link ErrorCode#code()}) and {@code string message}. The
 * absence of an error (wire code 0, message null) is modelled as an empty {@code Optional<ApiError>}, since
 * {@link ErrorCode} has no "none" constant.
 *
 * <p>A code this version does not know decodes as {@link ErrorCode#UNKNOWN} (see {@link ErrorCode#forCode}).
 *
 * @param code    never null
 * @param message for humans; a null message becomes the code's {@link ErrorCode#description()}, and a message
 *                longer than {@value #MAX_MESSAGE_CHARS} characters is cut there, so that an error always fits
 *                in a wire string (at most 32767 UTF-8 bytes)
 */
public record ApiError(ErrorCode code, String message) {

    /** Longest message kept; 4096 characters are at most 12288 UTF-8 bytes. */
    public static final int MAX_MESSAGE_CHARS = 4096;

    public ApiError {
        Objects.requireNonNull(code, "code");
        if (message == null) {
            message = code.description();
        } else if (message.length() > MAX_MESSAGE_CHARS) {
            int end = MAX_MESSAGE_CHARS;
            if (Character.isHighSurrogate(message.charAt(end - 1))) {
                end--; // never split a surrogate pair
            }
            message = message.substring(0, end);
        }
    }

    /** The error with the code's default description as its message. */
    public static ApiError of(ErrorCode code) {
        return new ApiError(code, null);
    }

    /** The code and message of an exception, to answer a client with. */
    public static ApiError of(MillraceException e) {
        return new ApiError(e.errorCode(), e.getMessage());
    }

    /** This error as an exception, for a client to throw or fail a future with. */
    public MillraceException toException() {
        return new MillraceException(code, message);
    }
}
