package io.millrace.protocol;

import java.util.Objects;

/**
 * The answer to a request that failed as a whole: nothing it asked for took effect. On the wire it is a response
 * header with a non-zero error code and no body. Operations over several partitions report partition failures
 * inside a successful body instead.
 *
 * @param apiKey the request's key; one that has a response
 * @param error  never null
 */
public record ErrorResponse(ApiKey apiKey, ApiError error) implements Response {

    public ErrorResponse {
        Objects.requireNonNull(apiKey, "apiKey");
        if (!apiKey.hasResponse()) {
            throw new IllegalArgumentException(apiKey + " has no response");
        }
        Objects.requireNonNull(error, "error");
    }
}
