package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Kafka's {@code cooperative-sticky} strategy: members keep what they own, the load is balanced, and as few
 * partitions as possible move; partitions that do move are handed over cooperatively.
 *
 * <p>The target assignment is computed in three steps:
 * <ol>
 *   <li><b>keep</b>: every member keeps each partition it owns that is still valid for it (its topic is subscribed
 *   and the partition exists); a partition claimed by two members (never produced by the coordinator) stays with
 *   the first by member id;</li>
 *   <li><b>fill</b>: each remaining partition, those with the fewest eligible members first, goes to the eligible
 *   member with the fewest partitions (ties: member id);</li>
 *   <li><b>balance</b>: while a member has at least two more partitions than a member that could take one of them,
 *   one moves from the fuller to the emptier member, preferring a partition the giver did not own before (moving it
 *   revokes nothing). No member both gives and takes, so when every member subscribes to the same topics the counts
 *   end up differing by at most one with the fewest revocations possible; with different subscriptions the result is
 *   balanced in the sense that no single move would make two members' counts closer.</li>
 * </ol>
 *
 * <p><b>The cooperative protocol.</b> The generation then gets the target <i>minus every partition that some other
 * member still owns</i>: such a partition is only revoked from its old owner in this generation and is owned by
 * nobody; once the old owner has rejoined (having stopped reading it and committed), the next rebalance finds it
 * unowned and step 2 gives it out. So a partition is never owned by two members in the same generation, nor by one
 * member in generation {@code N} and another in {@code N+1} while the first is still in the group; and members keep
 * reading every partition that does not move. A partition whose old owner left or was evicted has no owner in the
 * input and moves at once.
 *
 * <p>Cost: the balance step makes at most one move per partition, each costing {@code O(members + partitions)}.
 * Stateless and thread-safe.
 */
public final class CooperativeStickyAssignor implements Assignor {

    @Override
    public RebalanceProtocol protocol() {
        return RebalanceProtocol.COOPERATIVE;
    }

    @Override
    public Map<String, Set<TopicPartition>> assign(Map<String, MemberSubscription> members,
                                                   Map<String, Integer> partitionCounts) {
        Map<String, TreeSet<TopicPartition>> target = target(members, partitionCounts);
        Map<TopicPartition, List<String>> owners = new HashMap<>();
        members.forEach((id, s) -> s.owned().forEach(tp -> owners.computeIfAbsent(tp, k -> new ArrayList<>()).add(id)));
        target.forEach((id, partitions) -> partitions.removeIf(tp -> {
            List<String> owning = owners.getOrDefault(tp, List.of());
            return owning.size() > (owning.contains(id) ? 1 : 0);
        }));
        return Assignments.freeze(target);
    }

    /** Steps 1-3 of the class comment: the balanced, sticky assignment, before cooperative hand-over. */
    private static Map<String, TreeSet<TopicPartition>> target(Map<String, MemberSubscription> members,
                                                              Map<String, Integer> counts) {
        TreeSet<String> ids = new TreeSet<>(members.keySet());
        Map<String, TreeSet<TopicPartition>> target = Assignments.emptyResult(ids);

        // 1. keep
        Set<TopicPartition> claimed = Assignments.sortedSet();
        for (String id : ids) {
            for (TopicPartition tp : Assignments.sortedSet(members.get(id).owned())) {
                if (eligible(members.get(id), tp, counts) && claimed.add(tp)) {
                    target.get(id).add(tp);
                }
            }
        }

        // 2. fill
        TreeSet<String> topics = new TreeSet<>();
        members.values().forEach(s -> topics.addAll(s.topics()));
        Map<TopicPartition, List<String>> candidates = new HashMap<>();
        List<TopicPartition> unassigned = new ArrayList<>();
        for (String topic : topics) {
            List<String> subscribers = ids.stream().filter(id -> members.get(id).topics().contains(topic)).toList();
            for (TopicPartition tp : Assignments.partitions(topic, counts.getOrDefault(topic, 0))) {
                candidates.put(tp, subscribers);
                if (!claimed.contains(tp)) {
                    unassigned.add(tp);
                }
            }
        }
        unassigned.sort(Comparator.<TopicPartition>comparingInt(tp -> candidates.get(tp).size())
                .thenComparing(Assignments.ORDER));
        for (TopicPartition tp : unassigned) {
            String emptiest = null;
            for (String id : candidates.get(tp)) {
                if (emptiest == null || target.get(id).size() < target.get(emptiest).size()) {
                    emptiest = id;
                }
            }
            target.get(emptiest).add(tp);
        }

        // 3. balance
        while (moveOne(ids, members, target, counts)) {
            // each move lowers the sum of squared counts, so this ends
        }
        return target;
    }

    private static boolean moveOne(TreeSet<String> ids, Map<String, MemberSubscription> members,
                                   Map<String, TreeSet<TopicPartition>> target, Map<String, Integer> counts) {
        Comparator<String> bySize = Comparator.<String>comparingInt(id -> target.get(id).size())
                .thenComparing(Comparator.naturalOrder());
        List<String> emptiestFirst = new ArrayList<>(ids);
        emptiestFirst.sort(bySize);
        List<String> fullestFirst = new ArrayList<>(ids);
        fullestFirst.sort(Comparator.<String>comparingInt(id -> -target.get(id).size())
                .thenComparing(Comparator.naturalOrder()));
        for (String giver : fullestFirst) {
            for (String taker : emptiestFirst) {
                if (target.get(giver).size() - target.get(taker).size() < 2) {
                    break;
                }
                TopicPartition moved = pick(target.get(giver), members.get(giver).owned(), members.get(taker), counts);
                if (moved != null) {
                    target.get(giver).remove(moved);
                    target.get(taker).add(moved);
                    return true;
                }
            }
        }
        return false;
    }

    /** A partition of {@code from} the taker may read, preferring one the giver did not own; null if none. */
    private static TopicPartition pick(TreeSet<TopicPartition> from, Set<TopicPartition> giverOwned,
                                       MemberSubscription taker, Map<String, Integer> counts) {
        TopicPartition owned = null;
        for (TopicPartition tp : from.descendingSet()) {
            if (eligible(taker, tp, counts)) {
                if (!giverOwned.contains(tp)) {
                    return tp;
                }
                if (owned == null) {
                    owned = tp;
                }
            }
        }
        return owned;
    }

    private static boolean eligible(MemberSubscription member, TopicPartition tp, Map<String, Integer> counts) {
        return member.topics().contains(tp.topic()) && tp.partition() < counts.getOrDefault(tp.topic(), 0);
    }
}
