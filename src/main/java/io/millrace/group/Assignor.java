package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.Map;
import java.util.Set;

/**
 * Decides which member of a group reads which partition in the next generation. The coordinator calls it once per
 * rebalance, with every member that will be in the new generation.
 *
 * <p>Contract: a pure function: the result depends only on the arguments (ties are broken by member id and
 * partition order, never by hash order or randomness), and an implementation keeps no state, so it is thread-safe.
 * The result maps every member of {@code members} (and no other) to its partitions, possibly none; gives no partition
 * to two members; and gives a member only partitions of topics it subscribes to and that exist
 * ({@code partition < partitionCounts.get(topic)}).
 *
 * <p>An {@link RebalanceProtocol#EAGER eager} assignor must assign every existing partition of every subscribed
 * topic. A {@link RebalanceProtocol#COOPERATIVE cooperative} one may leave a partition out for one generation: it
 * must, whenever a partition would move from a member that owns it to another one (see
 * {@link CooperativeStickyAssignor}).
 */
public interface Assignor {

    RebalanceProtocol protocol();

    /**
     * @param members         member id → its subscription and the partitions it owns now
     * @param partitionCounts topic → number of partitions; a topic missing from the map has none (yet)
     * @return member id → its partitions in the next generation
     */
    Map<String, Set<TopicPartition>> assign(Map<String, MemberSubscription> members,
                                            Map<String, Integer> partitionCounts);
}
