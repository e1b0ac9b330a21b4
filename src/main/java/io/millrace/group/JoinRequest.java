package io.millrace.group;

import java.util.Objects;
import java.util.Set;

/**
 * A member (re)joining a group. Immutable.
 *
 * @param groupId            the group
 * @param memberId           the id the coordinator gave this member earlier, or empty for a new member (the
 *                           coordinator then makes one from the client id)
 * @param clientId           the client's self-chosen name, shown by admin tools
 * @param host               where the client connects from, shown by admin tools
 * @param topics             the topics it subscribes to; may be empty, and may name topics that do not exist yet
 * @param sessionTimeoutMs   the member is evicted when no heartbeat arrives for this long
 * @param rebalanceTimeoutMs how long a rebalance waits for this member to rejoin (the group waits for the longest)
 * @param strategy           the assignment strategy it wants; must match the group's
 */
public record JoinRequest(String groupId, String memberId, String clientId, String host, Set<String> topics,
                          int sessionTimeoutMs, int rebalanceTimeoutMs, AssignmentStrategy strategy) {

    public JoinRequest {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(memberId, "memberId");
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(host, "host");
        topics = Set.copyOf(Objects.requireNonNull(topics, "topics"));
        Objects.requireNonNull(strategy, "strategy");
    }

    /** The same request from a member that now has an id. */
    public JoinRequest withMemberId(String memberId) {
        return new JoinRequest(groupId, memberId, clientId, host, topics, sessionTimeoutMs, rebalanceTimeoutMs,
                strategy);
    }
}
