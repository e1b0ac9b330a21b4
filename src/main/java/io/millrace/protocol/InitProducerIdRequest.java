package io.millrace.protocol;

/**
 * Asks for a new idempotent-producer identity. Empty body; answered by an {@link InitProducerIdResponse}. A producer
 * sends it once, before its first batch, and again only to start over after a batch failed for good.
 */
public record InitProducerIdRequest() implements Request {

    @Override
    public ApiKey apiKey() {
        return ApiKey.INIT_PRODUCER_ID;
    }

    void write(WireWriter w) {
        // empty body
    }

    static InitProducerIdRequest read(WireReader r) {
        return new InitProducerIdRequest();
    }
}
