package io.millrace.protocol;

import java.util.Objects;

/**
 * The topic a {@link CreateTopicRequest} created.
 *
 * @param topic not null
 */
public record CreateTopicResponse(TopicDescription topic) implements Response {

    public CreateTopicResponse {
        Objects.requireNonNull(topic, "topic");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.CREATE_TOPIC;
    }

    void write(WireWriter w) {
        topic.write(w);
    }

    static CreateTopicResponse read(WireReader r) {
        return new CreateTopicResponse(TopicDescription.read(r));
    }
}
