package io.millrace.protocol;

import java.util.List;
import java.util.Objects;

/**
 * Asks for a group's committed offsets. Answered by a {@link FetchOffsetsResponse}.
 *
 * @param partitions the partitions wanted; empty asks for every partition the group has an offset for
 */
public record FetchOffsetsRequest(String groupId, List<TopicPartitions> partitions) implements Request {

    public FetchOffsetsRequest {
        Objects.requireNonNull(groupId, "groupId");
        partitions = Require.list(partitions, "partitions");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.FETCH_OFFSETS;
    }

    void write(WireWriter w) {
        w.string(groupId);
        TopicPartitions.writeAll(w, partitions);
    }

    static FetchOffsetsRequest read(WireReader r) {
        return new FetchOffsetsRequest(r.string("groupId"), TopicPartitions.readAll(r, "partitions"));
    }
}
