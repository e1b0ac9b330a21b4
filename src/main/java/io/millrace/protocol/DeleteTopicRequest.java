package io.millrace.protocol;

import java.util.Objects;

/**
 * Deletes a topic and all its data. Answered by an empty {@link DeleteTopicResponse}.
 *
 * @param name the topic, not null
 */
public record DeleteTopicRequest(String name) implements Request {

    public DeleteTopicRequest {
        Objects.requireNonNull(name, "name");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.DELETE_TOPIC;
    }

    void write(WireWriter w) {
        w.string(name);
    }

    static DeleteTopicRequest read(WireReader r) {
        return new DeleteTopicRequest(r.string("name"));
    }
}
