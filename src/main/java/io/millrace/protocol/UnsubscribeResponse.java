package io.millrace.protocol;

/** The subscription is closed: no PUSH for it follows this response. The body is empty. */
public record UnsubscribeResponse() implements Response {

    @Override
    public ApiKey apiKey() {
        return ApiKey.UNSUBSCRIBE;
    }

    void write(WireWriter w) {
        // empty body
    }

    static UnsubscribeResponse read(WireReader r) {
        return new UnsubscribeResponse();
    }
}
