package io.millrace.protocol;

import java.util.Objects;

/**
 * The topic after an {@link AddPartitionsRequest} grew it.
 *
 * @param topic not null
 */
public record AddPartitionsResponse(TopicDescription topic) implements Response {

    public AddPartitionsResponse {
        Objects.requireNonNull(topic, "topic");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.ADD_PARTITIONS;
    }

    void write(WireWriter w) {
        topic.write(w);
    }

    static AddPartitionsResponse read(WireReader r) {
        return new AddPartitionsResponse(TopicDescription.read(r));
    }
}
