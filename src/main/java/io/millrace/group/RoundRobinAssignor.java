package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Kafka's {@code RoundRobinAssignor}: every partition of every subscribed topic, in order (topic name, then
 * partition), is dealt to the members sorted by id in turn; a member not subscribed to the partition's topic is
 * passed over (it loses that turn, as in Kafka). When every member subscribes to the same topics the counts differ by
 * at most one. Eager. Stateless and thread-safe.
 */
public final class RoundRobinAssignor implements Assignor {

    @Override
    public RebalanceProtocol protocol() {
        return RebalanceProtocol.EAGER;
    }

    @Override
    public Map<String, Set<TopicPartition>> assign(Map<String, MemberSubscription> members,
                                                   Map<String, Integer> partitionCounts) {
        Map<String, TreeSet<TopicPartition>> result = Assignments.emptyResult(members.keySet());
        if (members.isEmpty()) {
            return Assignments.freeze(result);
        }
        List<String> ring = new ArrayList<>(new TreeSet<>(members.keySet()));
        TreeSet<String> topics = new TreeSet<>();
        members.values().forEach(s -> topics.addAll(s.topics()));
        int next = 0;
        for (String topic : topics) {
            for (TopicPartition tp : Assignments.partitions(topic, partitionCounts.getOrDefault(topic, 0))) {
                // Some member subscribes to the topic (it came from a subscription), so this loop ends.
                while (!members.get(ring.get(next)).topics().contains(topic)) {
                    next = (next + 1) % ring.size();
                }
                result.get(ring.get(next)).add(tp);
                next = (next + 1) % ring.size();
            }
        }
        return Assignments.freeze(result);
    }
}
