package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Kafka's {@code RangeAssignor}: topic by topic, the members subscribed to the topic, sorted by member id, each take
 * a contiguous range of its partitions; with {@code P} partitions and {@code C} members the first {@code P % C}
 * members take {@code P / C + 1} partitions and the others {@code P / C}.
 *
 * <p>Members that subscribe to the same topics with the same partition counts get the same partition numbers of each
 * topic, which is what joins of co-partitioned topics need; the price is that the first members get one extra
 * partition per topic, so over many topics the load can differ by more than one. Eager. Stateless and thread-safe.
 */
public final class RangeAssignor implements Assignor {

    @Override
    public RebalanceProtocol protocol() {
        return RebalanceProtocol.EAGER;
    }

    @Override
    public Map<String, Set<TopicPartition>> assign(Map<String, MemberSubscription> members,
                                                   Map<String, Integer> partitionCounts) {
        Map<String, TreeSet<TopicPartition>> result = Assignments.emptyResult(members.keySet());
        TreeSet<String> topics = new TreeSet<>();
        members.values().forEach(s -> topics.addAll(s.topics()));
        for (String topic : topics) {
            int count = partitionCounts.getOrDefault(topic, 0);
            List<String> consumers = new ArrayList<>();
            for (String id : new TreeSet<>(members.keySet())) {
                if (members.get(id).topics().contains(topic)) {
                    consumers.add(id);
                }
            }
            int each = count / consumers.size();
            int extra = count % consumers.size();
            for (int i = 0; i < consumers.size(); i++) {
                int start = each * i + Math.min(i, extra);
                int length = each + (i < extra ? 1 : 0);
                for (int p = start; p < start + length; p++) {
                    result.get(consumers.get(i)).add(new TopicPartition(topic, p));
                }
            }
        }
        return Assignments.freeze(result);
    }
}
