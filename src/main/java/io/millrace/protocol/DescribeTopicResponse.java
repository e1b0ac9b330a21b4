package io.millrace.protocol;

import java.util.Objects;

/**
 * The topic a {@link DescribeTopicRequest} asked for.
 *
 * @param topic not null
 */
public record DescribeTopicResponse(TopicDescription topic) implements Response {

    public DescribeTopicResponse {
        Objects.requireNonNull(topic, "topic");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_TOPIC;
    }

    void write(WireWriter w) {
        topic.write(w);
    }

    static DescribeTopicResponse read(WireReader r) {
        return new DescribeTopicResponse(TopicDescription.read(r));
    }
}
