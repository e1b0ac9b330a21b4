package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Shapes of an assignment and the one order partitions are sorted in, shared by the assignors and the coordinator. */
final class Assignments {

    /** Topic name, then partition number: the order every assignor iterates in, so results are reproducible. */
    static final Comparator<TopicPartition> ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private Assignments() {
    }

    static TreeSet<TopicPartition> sortedSet() {
        return new TreeSet<>(ORDER);
    }

    static TreeSet<TopicPartition> sortedSet(Collection<TopicPartition> partitions) {
        TreeSet<TopicPartition> set = sortedSet();
        set.addAll(partitions);
        return set;
    }

    /** Partitions 0..count-1 of a topic. */
    static List<TopicPartition> partitions(String topic, int count) {
        List<TopicPartition> list = new ArrayList<>(count);
        for (int p = 0; p < count; p++) {
            list.add(new TopicPartition(topic, p));
        }
        return list;
    }

    /** topic → sorted partition numbers, sorted by topic; unmodifiable. */
    static Map<String, List<Integer>> byTopic(Collection<TopicPartition> partitions) {
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        for (TopicPartition tp : sortedSet(partitions)) {
            byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
        }
        byTopic.replaceAll((t, list) -> List.copyOf(list));
        return Collections.unmodifiableMap(byTopic);
    }

    /** The inverse of {@link #byTopic}. */
    static Set<TopicPartition> flatten(Map<String, List<Integer>> byTopic) {
        TreeSet<TopicPartition> set = sortedSet();
        byTopic.forEach((topic, list) -> list.forEach(p -> set.add(new TopicPartition(topic, p))));
        return Collections.unmodifiableSet(set);
    }

    /** An empty, sorted, mutable result map with an entry per member. */
    static Map<String, TreeSet<TopicPartition>> emptyResult(Collection<String> memberIds) {
        Map<String, TreeSet<TopicPartition>> result = new TreeMap<>();
        for (String id : memberIds) {
            result.put(id, sortedSet());
        }
        return result;
    }

    /** Freezes a result map: unmodifiable map of unmodifiable sorted sets. */
    static Map<String, Set<TopicPartition>> freeze(Map<String, ? extends Set<TopicPartition>> result) {
        Map<String, Set<TopicPartition>> frozen = new TreeMap<>();
        result.forEach((id, set) -> frozen.put(id, Collections.unmodifiableSet(sortedSet(set))));
        return Collections.unmodifiableMap(frozen);
    }
}
