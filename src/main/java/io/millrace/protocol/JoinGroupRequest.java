package io.millrace.protocol;

import java.util.List;
import java.util.Objects;

/**
 * A member joins or rejoins a consumer group. Answered by a {@link JoinGroupResponse} once the rebalance it causes
 * completes (which may take up to the rebalance timeout), or at once when nothing changes.
 *
 * @param groupId            not null
 * @param memberId           the id the broker gave this member, or "" for a new member
 * @param clientId           shown by admin tools, not null
 * @param sessionTimeoutMs   > 0: the member is evicted after this long without a heartbeat
 * @param rebalanceTimeoutMs > 0: how long a rebalance waits for this member to rejoin
 * @param strategy           "range", "roundrobin" or "cooperative-sticky"
 * @param topics             subscribed topics, not null
 */
public record JoinGroupRequest(String groupId, String memberId, String clientId, int sessionTimeoutMs,
                               int rebalanceTimeoutMs, String strategy, List<String> topics) implements Request {

    public JoinGroupRequest {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(memberId, "memberId");
        Objects.requireNonNull(clientId, "clientId");
        Require.positive(sessionTimeoutMs, "sessionTimeoutMs");
        Require.positive(rebalanceTimeoutMs, "rebalanceTimeoutMs");
        Objects.requireNonNull(strategy, "strategy");
        topics = Require.list(topics, "topics");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.JOIN_GROUP;
    }

    void write(WireWriter w) {
        w.string(groupId);
        w.string(memberId);
        w.string(clientId);
        w.int32(sessionTimeoutMs);
        w.int32(rebalanceTimeoutMs);
        w.string(strategy);
        w.stringArray(topics);
    }

    static JoinGroupRequest read(WireReader r) {
        return new JoinGroupRequest(r.string("groupId"), r.string("memberId"), r.string("clientId"),
                r.int32("sessionTimeoutMs"), r.int32("rebalanceTimeoutMs"), r.string("strategy"),
                r.stringArray("topics"));
    }
}
