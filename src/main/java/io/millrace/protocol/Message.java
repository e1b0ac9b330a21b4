package io.millrace.protocol;

/**
 * The typed body of a frame: a {@link Request} (client to server), a {@link Response} (server to client, answering a
 * request with the same correlation id) or a {@link Push} (server to client, unsolicited, for a subscription).
 * Messages are immutable values; those holding record batches share the bytes of the frame they were decoded from.
 */
public sealed interface Message permits Request, Response, Push {

    /** The key this message travels under. */
    ApiKey apiKey();
}
