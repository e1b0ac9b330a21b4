package io.millrace.protocol;

import java.util.Objects;

/**
 * Asks for a topic's configuration and the state of each partition. Answered by a {@link DescribeTopicResponse}.
 *
 * @param name the topic, not null
 */
public record DescribeTopicRequest(String name) implements Request {

    public DescribeTopicRequest {
        Objects.requireNonNull(name, "name");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_TOPIC;
    }

    void write(WireWriter w) {
        w.string(name);
    }

    static DescribeTopicRequest read(WireReader r) {
        return new DescribeTopicRequest(r.string("name"));
    }
}
