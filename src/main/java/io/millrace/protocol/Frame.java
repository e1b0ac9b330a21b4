package io.millrace.protocol;

import java.util.Objects;

/**
 * One frame of the native protocol: a correlation id and a typed message. The frame's apiKey is the message's.
 *
 * @param correlationId chosen by the client, echoed by the server in the response; for a {@link Push} it is the
 *                      subscription id (the correlation id of the SUBSCRIBE that opened it)
 * @param message       never null
 * @param <M>           {@link Request} for frames a server decodes, {@link Message} for frames a client decodes
 */
public record Frame<M extends Message>(int correlationId, M message) {

    public Frame {
        Objects.requireNonNull(message, "message");
    }

    /** The key the frame travels under: {@code message().apiKey()}. */
    public ApiKey apiKey() {
        return message.apiKey();
    }
}
