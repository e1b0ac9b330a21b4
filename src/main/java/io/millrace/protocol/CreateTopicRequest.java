package io.millrace.protocol;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Creates a topic. Answered by a {@link CreateTopicResponse} describing it.
 *
 * @param name              not null; the broker checks the name rules
 * @param partitions        > 0
 * @param replicationFactor in [1, 32767] ({@code int16} on the wire)
 * @param config            topic-level configuration overrides; keys and values not null. Kept sorted by key, so
 *                          the encoding is deterministic.
 */
public record CreateTopicRequest(String name, int partitions, int replicationFactor, Map<String, String> config)
        implements Request {

    public CreateTopicRequest {
        Objects.requireNonNull(name, "name");
        Require.positive(partitions, "partitions");
        Require.int16(replicationFactor, 1, "replicationFactor");
        config = Collections.unmodifiableMap(new TreeMap<>(Objects.requireNonNull(config, "config")));
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.CREATE_TOPIC;
    }

    void write(WireWriter w) {
        w.string(name);
        w.int32(partitions);
        w.int16(replicationFactor);
        w.stringMap(config);
    }

    static CreateTopicRequest read(WireReader r) {
        return new CreateTopicRequest(r.string("name"), r.int32("partitions"), r.int16("replicationFactor"),
                r.stringMap("config"));
    }
}
