package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.Set;

/**
 * One member of a group, as the coordinator tracks it. Mutable; not thread-safe: only the coordinator's owner thread
 * touches it.
 */
final class Member {

    final String memberId;
    String clientId;
    String host;
    Set<String> topics;
    int sessionTimeoutMs;
    int rebalanceTimeoutMs;
    /** When the coordinator last heard from it (join or heartbeat); its session ends {@code sessionTimeoutMs} later. */
    long lastHeardMs;
    /** What it owns in the current generation: sorted, unmodifiable. */
    Set<TopicPartition> assignment = Set.of();

    Member(String memberId, JoinRequest request, long now) {
        this.memberId = memberId;
        update(request, now);
    }

    void update(JoinRequest request, long now) {
        clientId = request.clientId();
        host = request.host();
        topics = request.topics();
        sessionTimeoutMs = request.sessionTimeoutMs();
        rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        lastHeardMs = now;
    }

    boolean sessionExpired(long now) {
        return now - lastHeardMs >= sessionTimeoutMs;
    }

    MemberSubscription subscription() {
        return new MemberSubscription(topics, assignment);
    }

    MemberDescription describe() {
        return new MemberDescription(memberId, clientId, host, topics, Assignments.byTopic(assignment));
    }
}
