package io.millrace.protocol;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Asks for the brokers, the controller and the leaders and replicas of some topics, or of all topics.
 *
 * @param topics the topic names, or empty for every topic (a null array on the wire)
 */
public record MetadataRequest(Optional<List<String>> topics) implements Request {

    public MetadataRequest {
        topics = Objects.requireNonNull(topics, "topics").map(t -> Require.list(t, "topics"));
    }

    /** Metadata of every topic. */
    public static MetadataRequest allTopics() {
        return new MetadataRequest(Optional.empty());
    }

    /** Metadata of the named topics. */
    public static MetadataRequest of(List<String> topics) {
        return new MetadataRequest(Optional.of(topics));
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.METADATA;
    }

    void write(WireWriter w) {
        w.nullableStringArray(topics);
    }

    static MetadataRequest read(WireReader r) {
        return new MetadataRequest(r.nullableStringArray("topics"));
    }
}
