package io.millrace.protocol;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;

/**
 * A frame's size field exceeds the receiver's {@code maxFrameBytes}. Thrown by {@link FrameCodec#checkFrameSize}
 * before the body is buffered; always carries {@link ErrorCode#FRAME_TOO_LARGE}. The receiver answers with that code
 * if it can and closes the connection: the stream cannot be resynchronised without reading the body.
 */
public final class FrameTooLargeException extends MillraceException {

    private final int size;
    private final int maxFrameBytes;

    public FrameTooLargeException(int size, int maxFrameBytes) {
        super(ErrorCode.FRAME_TOO_LARGE, "Frame of " + size + " bytes exceeds the limit of " + maxFrameBytes
                + " bytes; send smaller frames or raise the receiver's limit");
        this.size = size;
        this.maxFrameBytes = maxFrameBytes;
    }

    /** The frame's size field: bytes after the size prefix. */
    public int size() {
        return size;
    }

    /** The limit it exceeded. */
    public int maxFrameBytes() {
        return maxFrameBytes;
    }
}
