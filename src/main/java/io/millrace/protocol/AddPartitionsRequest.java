package io.millrace.protocol;

import java.util.Objects;

/**
 * Grows a topic to a total number of partitions (partitions are never removed). Answered by an
 * {@link AddPartitionsResponse} describing the topic.
 *
 * @param name            the topic, not null
 * @param totalPartitions the partition count wanted, > 0; the broker rejects a count not above the current one
 */
public record AddPartitionsRequest(String name, int totalPartitions) implements Request {

    public AddPartitionsRequest {
        Objects.requireNonNull(name, "name");
        Require.positive(totalPartitions, "totalPartitions");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.ADD_PARTITIONS;
    }

    void write(WireWriter w) {
        w.string(name);
        w.int32(totalPartitions);
    }

    static AddPartitionsRequest read(WireReader r) {
        return new AddPartitionsRequest(r.string("name"), r.int32("totalPartitions"));
    }
}
