package io.millrace.protocol;

import java.util.Optional;

/**
 * The first six bytes of a frame (after the size prefix) as raw values, readable even when the rest of the frame is
 * not: a server uses it to answer a frame it could not decode ({@link FrameCodec#encodeErrorResponse}) before
 * closing the connection.
 *
 * @param apiKey        the raw {@code int16} key, possibly one this version does not know
 * @param correlationId the raw {@code int32} correlation id
 */
public record FrameHeader(short apiKey, int correlationId) {

    /** The key, if this version defines it. */
    public Optional<ApiKey> knownApiKey() {
        return ApiKey.forId(apiKey);
    }
}
