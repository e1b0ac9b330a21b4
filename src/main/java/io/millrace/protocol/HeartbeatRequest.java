package io.millrace.protocol;

import java.util.Objects;

/**
 * Keeps a member's session alive. Answered by an empty {@link GroupAckResponse}, or REBALANCE_IN_PROGRESS (rejoin),
 * ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID.
 */
public record HeartbeatRequest(String groupId, String memberId, int generation) implements Request {

    public HeartbeatRequest {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(memberId, "memberId");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.HEARTBEAT;
    }

    void write(WireWriter w) {
        w.string(groupId);
        w.string(memberId);
        w.int32(generation);
    }

    static HeartbeatRequest read(WireReader r) {
        return new HeartbeatRequest(r.string("groupId"), r.string("memberId"), r.int32("generation"));
    }
}
