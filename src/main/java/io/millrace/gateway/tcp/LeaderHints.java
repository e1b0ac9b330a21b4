package io.millrace.gateway.tcp;

import io.millrace.broker.Broker;
import io.millrace.broker.PartitionDescription;
import io.millrace.broker.TopicDescription;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.ApiError;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;

/**
 * Attaches the partition's current leader to NOT_LEADER and FENCED_LEADER_EPOCH answers (protocol version 3, see
 * {@link ApiError#leader()}), so that a client switches to the new leader without asking for metadata first.
 *
 * <p>The leader comes from {@link Broker#describeTopic}. A failover turns many requests into NOT_LEADER at once, so
 * lookups of one topic that overlap share one call. When the broker cannot say (the topic is gone, the partition is
 * offline, the lookup fails), the error goes out without a hint and the client refreshes its metadata.
 *
 * <p>Not thread-safe: one instance per connection, used on its event loop.
 */
final class LeaderHints {

    private final Broker broker;
    private final Map<String, Future<TopicDescription>> lookups = new HashMap<>();

    LeaderHints(Broker broker) {
        this.broker = broker;
    }

    /** {@code error} with the leader of {@code tp} attached where the code carries one; never fails. */
    Future<ApiError> attach(ApiError error, TopicPartition tp) {
        if (!ApiError.carriesLeader(error.code()) || error.leader().isPresent()) {
            return Future.succeededFuture(error);
        }
        return describe(tp.topic()).map(topic -> {
            for (PartitionDescription p : topic.partitions()) {
                if (p.partition() == tp.partition() && p.leader() >= 0) {
                    return error.withLeader(new ApiError.LeaderHint(p.leader(), Math.max(-1, p.leaderEpoch())));
                }
            }
            return error;
        }).otherwise(error);
    }

    private Future<TopicDescription> describe(String topic) {
        Future<TopicDescription> pending = lookups.get(topic);
        if (pending != null) {
            return pending;
        }
        Future<TopicDescription> lookup;
        try {
            lookup = broker.describeTopic(topic);
        } catch (RuntimeException e) {
            lookup = Future.failedFuture(e);
        }
        if (!lookup.isComplete()) {
            lookups.put(topic, lookup);
            lookup.onComplete(r -> lookups.remove(topic));
        }
        return lookup;
    }
}
