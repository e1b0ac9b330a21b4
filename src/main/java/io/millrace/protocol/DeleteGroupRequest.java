package io.millrace.protocol;

import java.util.Objects;

/** Deletes a group without members, with its offsets. Answered by an empty {@link GroupAckResponse}. */
public record DeleteGroupRequest(String groupId) implements Request {

    public DeleteGroupRequest {
        Objects.requireNonNull(groupId, "groupId");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.DELETE_GROUP;
    }

    void write(WireWriter w) {
        w.string(groupId);
    }

    static DeleteGroupRequest read(WireReader r) {
        return new DeleteGroupRequest(r.string("groupId"));
    }
}
