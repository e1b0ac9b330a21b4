package io.millrace.common;

/**
 * An error that carries an {@link ErrorCode}, so that every layer can hand it to a client as a code and a message.
 */
public class MillraceException extends RuntimeException {

    private final ErrorCode errorCode;

    public MillraceException(ErrorCode errorCode, String message) {
        super(message);
        this.errorCode = errorCode;
    }

    public MillraceException(ErrorCode errorCode, String message, Throwable cause) {
        super(message, cause);
        this.errorCode = errorCode;
    }

    public ErrorCode errorCode() {
        return errorCode;
    }
}
