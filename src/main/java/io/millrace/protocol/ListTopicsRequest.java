package io.millrace.protocol;

/** Asks for the names of all topics. Has an empty body; answered by a {@link ListTopicsResponse}. */
public record ListTopicsRequest() implements Request {

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_TOPICS;
    }

    void write(WireWriter w) {
        // empty body
    }

    static ListTopicsRequest read(WireReader r) {
        return new ListTopicsRequest();
    }
}
