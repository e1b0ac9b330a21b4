package io.millrace.protocol;

import java.util.Objects;

/** A member leaves its group on purpose. Answered by an empty {@link GroupAckResponse}. */
public record LeaveGroupRequest(String groupId, String memberId) implements Request {

    public LeaveGroupRequest {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(memberId, "memberId");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.LEAVE_GROUP;
    }

    void write(WireWriter w) {
        w.string(groupId);
        w.string(memberId);
    }

    static LeaveGroupRequest read(WireReader r) {
        return new LeaveGroupRequest(r.string("groupId"), r.string("memberId"));
    }
}
