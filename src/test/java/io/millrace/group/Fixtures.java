package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Compact notations for assignment tables: members {@code "a:t0,t1/t0-1 t0-2; b:t0"} (topics, then after {@code /}
 * what the member owns), counts {@code "t0=3, t1=2"}, assignments {@code "a=t0-0 t0-1; b="}.
 */
final class Fixtures {

    private Fixtures() {
    }

    static TopicPartition tp(String s) {
        int dash = s.lastIndexOf('-');
        return new TopicPartition(s.substring(0, dash), Integer.parseInt(s.substring(dash + 1)));
    }

    static Set<TopicPartition> tps(String s) {
        Set<TopicPartition> set = Assignments.sortedSet();
        for (String part : s.trim().split("\\s+")) {
            if (!part.isEmpty()) {
                set.add(tp(part));
            }
        }
        return set;
    }

    static Map<String, MemberSubscription> members(String spec) {
        Map<String, MemberSubscription> members = new TreeMap<>();
        for (String entry : spec.split(";")) {
            String[] idRest = entry.trim().split(":", 2);
            String[] topicsOwned = idRest[1].split("/", 2);
            Set<String> topics = new LinkedHashSet<>(Arrays.asList(topicsOwned[0].trim().split("\\s*,\\s*")));
            topics.remove("");
            Set<TopicPartition> owned = topicsOwned.length > 1 ? tps(topicsOwned[1]) : Set.of();
            members.put(idRest[0].trim(), new MemberSubscription(topics, owned));
        }
        return members;
    }

    static Map<String, Integer> counts(String spec) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String entry : spec.split(",")) {
            if (!entry.isBlank()) {
                String[] kv = entry.trim().split("=");
                counts.put(kv[0].trim(), Integer.parseInt(kv[1].trim()));
            }
        }
        return counts;
    }

    static Map<String, Set<TopicPartition>> assignment(String spec) {
        Map<String, Set<TopicPartition>> assignment = new TreeMap<>();
        for (String entry : spec.split(";")) {
            String[] kv = entry.trim().split("=", 2);
            assignment.put(kv[0].trim(), tps(kv.length > 1 ? kv[1] : ""));
        }
        return assignment;
    }

    /** Members with the same topics as {@code members} and the given assignment as what they own. */
    static Map<String, MemberSubscription> owning(Map<String, MemberSubscription> members,
                                                  Map<String, Set<TopicPartition>> owned) {
        Map<String, MemberSubscription> next = new TreeMap<>();
        members.forEach((id, s) -> next.put(id, new MemberSubscription(s.topics(), owned.getOrDefault(id, Set.of()))));
        return next;
    }
}
