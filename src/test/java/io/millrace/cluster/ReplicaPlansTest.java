package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.TopicPartition;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Rebalance and decommission plans: even spread, few moves, nothing on the wrong broker. */
class ReplicaPlansTest {

    /** A topic as {@link TopicAdmin#assign} lays it out on {@code brokers}. */
    private static Map<TopicPartition, List<Integer>> topic(String name, int partitions, int rf, List<Integer> brokers) {
        Map<TopicPartition, List<Integer>> out = new LinkedHashMap<>();
        TopicAdmin.assign(brokers, 0, partitions, rf, 0).forEach(p -> out.put(new TopicPartition(name, p.partition()),
                p.replicas()));
        return out;
    }

    private static Map<Integer, Integer> replicaCounts(Map<TopicPartition, List<Integer>> layout) {
        Map<Integer, Integer> counts = new HashMap<>();
        layout.values().forEach(rs -> rs.forEach(b -> counts.merge(b, 1, Integer::sum)));
        return counts;
    }

    private static Map<Integer, Integer> leaderCounts(Map<TopicPartition, List<Integer>> layout) {
        Map<Integer, Integer> counts = new HashMap<>();
        layout.values().forEach(rs -> counts.merge(rs.get(0), 1, Integer::sum));
        return counts;
    }

    private static Map<TopicPartition, List<Integer>> applied(Map<TopicPartition, List<Integer>> current,
                                                              Map<TopicPartition, List<Integer>> plan) {
        Map<TopicPartition, List<Integer>> after = new LinkedHashMap<>(current);
        after.putAll(plan);
        return after;
    }

    @ParameterizedTest(name = "{0} partitions x RF {1}, {2} brokers -> {3}")
    @CsvSource({"12, 2, 3, 4", "12, 3, 3, 4", "10, 3, 3, 5", "7, 1, 2, 3", "30, 3, 4, 6"})
    void aNewBrokerGetsItsShareOfReplicasAndLeaders(int partitions, int rf, int before, int after) {
        List<Integer> old = java.util.stream.IntStream.rangeClosed(1, before).boxed().toList();
        Set<Integer> grown = Set.copyOf(java.util.stream.IntStream.rangeClosed(1, after).boxed().toList());
        Map<TopicPartition, List<Integer>> current = topic("t", partitions, rf, old);

        Map<TopicPartition, List<Integer>> plan = ReplicaPlans.rebalance(current, grown);
        Map<TopicPartition, List<Integer>> result = applied(current, plan);

        Map<Integer, Integer> replicas = replicaCounts(result);
        assertThat(replicas.keySet()).isEqualTo(grown);
        assertThat(java.util.Collections.max(replicas.values()) - java.util.Collections.min(replicas.values()))
                .as("replicas per broker %s", replicas).isLessThanOrEqualTo(1);
        Map<Integer, Integer> leaders = leaderCounts(result);
        int most = java.util.Collections.max(leaders.values());
        int fewest = grown.stream().mapToInt(b -> leaders.getOrDefault(b, 0)).min().orElseThrow();
        assertThat(most - fewest).as("leaders per broker %s", leaders).isLessThanOrEqualTo(1);
        result.forEach((tp, rs) -> assertThat(Set.copyOf(rs)).as("%s distinct", tp).hasSize(rf));
        // Few moves: only replicas beyond a broker's share leave it.
        int moved = plan.entrySet().stream().mapToInt(e -> (int) e.getValue().stream()
                .filter(b -> !current.get(e.getKey()).contains(b)).count()).sum();
        int share = (partitions * rf + after - 1) / after;
        Map<Integer, Integer> had = replicaCounts(current);
        int deficits = grown.stream().mapToInt(b -> Math.max(0, share - had.getOrDefault(b, 0))).sum();
        assertThat(moved).as("replicas moved").isLessThanOrEqualTo(deficits);
    }

    @Test
    void aBalancedClusterNeedsNoMove() {
        Map<TopicPartition, List<Integer>> current = topic("t", 6, 2, List.of(1, 2, 3));
        assertThat(ReplicaPlans.rebalance(current, Set.of(1, 2, 3))).isEmpty();
    }

    @Test
    void replicasOnABrokerLeftOutOfTheSetMove() {
        Map<TopicPartition, List<Integer>> current = topic("t", 6, 2, List.of(1, 2, 3));
        Map<TopicPartition, List<Integer>> result = applied(current, ReplicaPlans.rebalance(current, Set.of(1, 2, 4)));
        assertThat(replicaCounts(result)).doesNotContainKey(3).containsEntry(4, 4);
    }

    @Test
    void decommissionMovesEveryReplicaOffTheBrokerAndNothingElse() {
        Map<TopicPartition, List<Integer>> current = topic("t", 8, 2, List.of(1, 2, 3, 4));
        Map<TopicPartition, List<Integer>> plan = ReplicaPlans.decommission(current, 2, Set.of(1, 2, 3, 4));
        assertThat(plan.keySet()).isEqualTo(current.entrySet().stream().filter(e -> e.getValue().contains(2))
                .map(Map.Entry::getKey).collect(java.util.stream.Collectors.toSet()));
        Map<TopicPartition, List<Integer>> result = applied(current, plan);
        assertThat(replicaCounts(result)).doesNotContainKey(2);
        result.forEach((tp, rs) -> assertThat(Set.copyOf(rs)).hasSize(2));
        plan.forEach((tp, rs) -> {
            List<Integer> before = current.get(tp);
            int at = before.indexOf(2);
            for (int i = 0; i < rs.size(); i++) {
                if (i != at) {
                    assertThat(rs.get(i)).as("%s keeps its other replicas in place", tp).isEqualTo(before.get(i));
                }
            }
        });
        Map<Integer, Integer> counts = replicaCounts(result);
        assertThat(java.util.Collections.max(counts.values()) - java.util.Collections.min(counts.values()))
                .as("spread over the rest %s", counts).isLessThanOrEqualTo(1);
    }

    @Test
    void decommissionFailsWhenAPartitionWouldHaveNowhereToGo() {
        Map<TopicPartition, List<Integer>> current = topic("t", 3, 3, List.of(1, 2, 3));
        assertThatThrownBy(() -> ReplicaPlans.decommission(current, 3, Set.of(1, 2, 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no other live broker");
    }

    @Test
    void moreReplicasThanBrokersIsRefused() {
        Map<TopicPartition, List<Integer>> current = topic("t", 3, 3, List.of(1, 2, 3));
        assertThatThrownBy(() -> ReplicaPlans.rebalance(current, Set.of(1, 2)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
