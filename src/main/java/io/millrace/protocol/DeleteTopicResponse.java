package io.millrace.protocol;

/** The topic is deleted. The body is empty. */
public record DeleteTopicResponse() implements Response {

    @Override
    public ApiKey apiKey() {
        return ApiKey.DELETE_TOPIC;
    }

    void write(WireWriter w) {
        // empty body
    }

    static DeleteTopicResponse read(WireReader r) {
        return new DeleteTopicResponse();
    }
}
