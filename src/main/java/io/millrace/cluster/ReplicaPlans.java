package io.millrace.cluster;

import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Plans of replica moves, to review and then execute as reassignments. Pure and deterministic (the same cluster
 * gives the same plan), so it is tested on its own.
 *
 * <ul>
 *   <li>{@link #rebalance}: every partition's replicas end on the given brokers, with the replica counts of any two
 *   brokers at most one apart and, where the replicas allow it, the same for preferred leaders (first replicas). It
 *   moves as few replicas as it can: a replica only leaves a broker above its share, or one not in the set.</li>
 *   <li>{@link #decommission}: every replica on one broker moves to the least loaded other broker that does not hold
 *   the partition yet, taking its place in the replica list; nothing else moves.</li>
 * </ul>
 */
public final class ReplicaPlans {

    private ReplicaPlans() {
    }

    /**
     * The moves that spread {@code current} (partition → replicas, first the preferred leader) evenly over
     * {@code brokers}. Partitions whose replicas do not change are left out.
     *
     * @throws IllegalArgumentException if a partition has more replicas than there are brokers
     */
    public static Map<TopicPartition, List<Integer>> rebalance(Map<TopicPartition, List<Integer>> current,
                                                               Set<Integer> brokers) {
        List<Integer> sorted = brokers.stream().sorted().toList();
        Map<TopicPartition, List<Integer>> plan = new TreeMap<>(ORDER);
        current.forEach((tp, replicas) -> {
            if (replicas.size() > sorted.size()) {
                throw new IllegalArgumentException(tp + " has " + replicas.size() + " replicas but only "
                        + sorted.size() + " brokers are given");
            }
            plan.put(tp, new ArrayList<>(replicas));
        });
        Map<Integer, Integer> load = new HashMap<>();
        sorted.forEach(b -> load.put(b, 0));
        plan.values().forEach(rs -> rs.forEach(b -> load.computeIfPresent(b, (k, v) -> v + 1)));
        // Replicas on brokers outside the set go first, each to the least loaded broker the partition lacks.
        plan.forEach((tp, rs) -> {
            for (int i = 0; i < rs.size(); i++) {
                if (!load.containsKey(rs.get(i))) {
                    int to = leastLoaded(load, rs);
                    rs.set(i, to);
                    load.merge(to, 1, Integer::sum);
                }
            }
        });
        // Then from the most to the least loaded broker while they are more than one apart.
        while (true) {
            int most = sorted.stream().max(Comparator.comparingInt((Integer b) -> load.get(b))
                    .thenComparing(Comparator.reverseOrder())).orElseThrow();
            int least = sorted.stream().min(Comparator.comparingInt((Integer b) -> load.get(b))
                    .thenComparing(Comparator.naturalOrder())).orElseThrow();
            if (load.get(most) - load.get(least) <= 1 || !moveOne(plan, most, least)) {
                break;
            }
            load.merge(most, -1, Integer::sum);
            load.merge(least, 1, Integer::sum);
        }
        balanceLeaders(plan, sorted);
        Map<TopicPartition, List<Integer>> changed = new LinkedHashMap<>();
        plan.forEach((tp, rs) -> {
            if (!rs.equals(current.get(tp))) {
                changed.put(tp, List.copyOf(rs));
            }
        });
        return changed;
    }

    /**
     * The moves that take every replica off {@code broker}, onto the least loaded of {@code remaining} that does not
     * hold the partition yet.
     *
     * @throws IllegalArgumentException if a partition on {@code broker} has as many replicas as there are remaining
     *                                  brokers plus one, so no broker is left to take it
     */
    public static Map<TopicPartition, List<Integer>> decommission(Map<TopicPartition, List<Integer>> current,
                                                                  int broker, Set<Integer> remaining) {
        Map<Integer, Integer> load = new HashMap<>();
        remaining.stream().filter(b -> b != broker).forEach(b -> load.put(b, 0));
        current.values().forEach(rs -> rs.forEach(b -> load.computeIfPresent(b, (k, v) -> v + 1)));
        Map<TopicPartition, List<Integer>> sorted = new TreeMap<>(ORDER);
        sorted.putAll(current);
        Map<TopicPartition, List<Integer>> plan = new LinkedHashMap<>();
        sorted.forEach((tp, replicas) -> {
            int at = replicas.indexOf(broker);
            if (at < 0) {
                return;
            }
            List<Integer> rs = new ArrayList<>(replicas);
            if (load.keySet().stream().allMatch(rs::contains)) {
                throw new IllegalArgumentException(tp + " has replicas " + replicas + ": no other live broker is "
                        + "left to take the one on broker " + broker);
            }
            int to = leastLoaded(load, rs);
            rs.set(at, to);
            load.merge(to, 1, Integer::sum);
            plan.put(tp, List.copyOf(rs));
        });
        return plan;
    }

    /** Moves one replica of a partition from {@code from} to {@code to}, if some partition allows it. */
    private static boolean moveOne(Map<TopicPartition, List<Integer>> plan, int from, int to) {
        for (List<Integer> rs : plan.values()) {
            int at = rs.indexOf(from);
            if (at >= 0 && !rs.contains(to)) {
                rs.set(at, to);
                return true;
            }
        }
        return false;
    }

    /**
     * Reorders replica lists (never changing their sets) so that first replicas spread as evenly as the sets allow:
     * while a broker leads more than one partition more than another, a partition it leads that the other also holds
     * gets the other first.
     */
    private static void balanceLeaders(Map<TopicPartition, List<Integer>> plan, List<Integer> brokers) {
        Map<Integer, Integer> leaders = new HashMap<>();
        brokers.forEach(b -> leaders.put(b, 0));
        plan.values().forEach(rs -> leaders.merge(rs.get(0), 1, Integer::sum));
        int guard = plan.size() * brokers.size() + 1;
        boolean moved = true;
        while (moved && guard-- > 0) {
            moved = false;
            List<Integer> byLeaders = new ArrayList<>(brokers);
            byLeaders.sort(Comparator.comparingInt((Integer b) -> leaders.get(b)).thenComparing(Comparator.naturalOrder()));
            search:
            for (int hi = byLeaders.size() - 1; hi > 0; hi--) {
                for (int lo = 0; lo < hi; lo++) {
                    int many = byLeaders.get(hi);
                    int few = byLeaders.get(lo);
                    if (leaders.get(many) - leaders.get(few) <= 1) {
                        continue;
                    }
                    for (List<Integer> rs : plan.values()) {
                        if (rs.get(0) == many && rs.contains(few)) {
                            rs.remove(Integer.valueOf(few));
                            rs.add(0, few);
                            leaders.merge(many, -1, Integer::sum);
                            leaders.merge(few, 1, Integer::sum);
                            moved = true;
                            break search;
                        }
                    }
                }
            }
        }
    }

    private static int leastLoaded(Map<Integer, Integer> load, List<Integer> exclude) {
        return load.entrySet().stream().filter(e -> !exclude.contains(e.getKey()))
                .min(Map.Entry.<Integer, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey)
                .orElseThrow(() -> new IllegalArgumentException("No broker is left for a replica of " + exclude));
    }

    private static final Comparator<TopicPartition> ORDER = Comparator.comparing(TopicPartition::topic)
            .thenComparingInt(TopicPartition::partition);
}
