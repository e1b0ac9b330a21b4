package io.millrace.protocol;

import java.util.Objects;

/** Asks for a group's state, members, committed offsets and lag. Answered by a {@link DescribeGroupResponse}. */
public record DescribeGroupRequest(String groupId) implements Request {

    public DescribeGroupRequest {
        Objects.requireNonNull(groupId, "groupId");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_GROUP;
    }

    void write(WireWriter w) {
        w.string(groupId);
    }

    static DescribeGroupRequest read(WireReader r) {
        return new DescribeGroupRequest(r.string("groupId"));
    }
}
