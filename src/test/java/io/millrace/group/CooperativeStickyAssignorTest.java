package io.millrace.group;

import static io.millrace.group.Fixtures.assignment;
import static io.millrace.group.Fixtures.counts;
import static io.millrace.group.Fixtures.members;
import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class CooperativeStickyAssignorTest {

    private final Assignor assignor = new CooperativeStickyAssignor();

    /** One generation's assignment: the sticky target minus partitions another member still owns. */
    @ParameterizedTest(name = "{0}: {1} over {2}")
    @CsvSource(delimiter = '|', textBlock = """
            fresh, 3 on 6        | a:t; b:t; c:t                    | t=6      | a=t-0 t-3; b=t-1 t-4; c=t-2 t-5
            newcomers wait       | a:t/t-0 t-1 t-2 t-3 t-4 t-5; b:t; c:t | t=6 | a=t-0 t-1; b=; c=
            leaver's move now    | a:t/t-0 t-1; b:t/t-2 t-3         | t=6      | a=t-0 t-1 t-4; b=t-2 t-3 t-5
            added are filled in  | a:t/t-0 t-1 t-2; b:t/t-3 t-4 t-5 | t=8      | a=t-0 t-1 t-2 t-6; b=t-3 t-4 t-5 t-7
            only surplus revoked | a:t/t-0 t-1 t-2 t-3; b:t/t-4 t-5; c:t | t=6 | a=t-0 t-1; b=t-4 t-5; c=
            balanced owners keep | a:t/t-0 t-2 t-4; b:t/t-1 t-3 t-5 | t=6      | a=t-0 t-2 t-4; b=t-1 t-3 t-5
            unsubscribed: revoke | a:x/y-0; b:x,y                   | x=2, y=1 | a=x-0 x-1; b=
            scarce placed first  | a:x; b:x,y                       | x=4, y=4 | a=x-0 x-1 x-2 x-3; b=y-0 y-1 y-2 y-3
            vanished are dropped | a:t/t-0 t-5; b:t/t-1             | t=4      | a=t-0 t-2; b=t-1 t-3
            deleted topic        | a:t,gone/gone-0 t-0              | t=2      | a=t-0 t-1
            """)
    void assignsOneGeneration(String name, String members, String counts, String expected) {
        assertThat(assignor.assign(members(members), counts(counts))).isEqualTo(assignment(expected));
        assertThat(assignor.protocol()).isEqualTo(RebalanceProtocol.COOPERATIVE);
    }

    /**
     * With different subscriptions a member can be filled with a partition it did not own and then have to give one
     * away: it gives that one (no revocation), not one it owns. Here e owns x-2 and gets x-1, y-4 and y-5 in the fill
     * (z is full and t was emptier only for x-0); balancing moves x-1 to t.
     */
    @Test
    void balancingGivesAwayAFreshPartitionBeforeAnOwnedOne() {
        assertThat(assignor.assign(members("e:x,y/x-2; t:x; z:y/y-0 y-1 y-2 y-3"), counts("x=3, y=6")))
                .isEqualTo(assignment("e=x-2 y-4 y-5; t=x-0 x-1; z=y-0 y-1 y-2 y-3"));
    }

    @Test
    void withheldPartitionsAreGivenOutInTheFollowUpGeneration() {
        Map<String, MemberSubscription> members = members("a:t/t-0 t-1 t-2 t-3 t-4 t-5; b:t; c:t");
        Map<String, Integer> counts = counts("t=6");

        Map<String, Set<TopicPartition>> first = assignor.assign(members, counts);
        assertThat(first).isEqualTo(assignment("a=t-0 t-1; b=; c="));

        Map<String, Set<TopicPartition>> second = assignor.assign(Fixtures.owning(members, first), counts);
        assertThat(second).isEqualTo(assignment("a=t-0 t-1; b=t-2 t-4; c=t-3 t-5"));

        // and then nothing moves any more
        assertThat(assignor.assign(Fixtures.owning(members, second), counts)).isEqualTo(second);
    }

    static LongStream seeds() {
        return LongStream.range(0, 500);
    }

    /**
     * Random groups: the result keeps to the assignor contract, withholds only partitions another member owns, and
     * converges in two generations; with identical subscriptions it is balanced and revokes the fewest possible.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void propertiesHoldOnRandomGroups(long seed) {
        Random random = new Random(seed);
        boolean identical = random.nextBoolean();
        List<String> topics = List.of("x", "y", "z");
        Map<String, Integer> counts = new TreeMap<>();
        topics.forEach(t -> counts.put(t, random.nextInt(8)));
        int n = 1 + random.nextInt(6);
        Set<String> shared = randomTopics(random, topics);
        List<TopicPartition> universe = new ArrayList<>();
        for (String t : topics) {
            // owned partitions may be stale: up to two past the current count
            universe.addAll(Assignments.partitions(t, counts.get(t) + 2));
        }
        Map<String, MemberSubscription> members = new TreeMap<>();
        Set<TopicPartition> taken = new HashSet<>();
        for (int i = 0; i < n; i++) {
            Set<TopicPartition> owned = Assignments.sortedSet();
            for (TopicPartition tp : universe) {
                if (random.nextInt(n + 1) == 0 && taken.add(tp)) {
                    owned.add(tp);
                }
            }
            members.put("m" + i, new MemberSubscription(identical ? shared : randomTopics(random, topics), owned));
        }

        Map<String, Set<TopicPartition>> first = assignor.assign(members, counts);
        checkContract(members, counts, first);
        Map<String, Set<TopicPartition>> second = assignor.assign(Fixtures.owning(members, first), counts);
        checkContract(Fixtures.owning(members, first), counts, second);
        Set<TopicPartition> all = Assignments.sortedSet();
        second.values().forEach(all::addAll);
        assertThat(all).as("every valid partition is owned after the follow-up").isEqualTo(valid(members, counts));

        if (identical) {
            int revoked = 0;
            for (String id : members.keySet()) {
                revoked += (int) members.get(id).owned().stream()
                        .filter(tp -> isValid(members.get(id), tp, counts) && !first.get(id).contains(tp)).count();
                assertThat(first.get(id)).as("the follow-up revokes nothing").isSubsetOf(second.get(id));
            }
            assertThat(revoked).isEqualTo(minimalRevocations(members, counts));
            int min = second.values().stream().mapToInt(Set::size).min().orElseThrow();
            int max = second.values().stream().mapToInt(Set::size).max().orElseThrow();
            assertThat(max - min).isLessThanOrEqualTo(1);
        }
    }

    private static Set<String> randomTopics(Random random, List<String> topics) {
        Set<String> set = new HashSet<>();
        topics.forEach(t -> {
            if (random.nextBoolean()) {
                set.add(t);
            }
        });
        return set;
    }

    private static void checkContract(Map<String, MemberSubscription> members, Map<String, Integer> counts,
                                      Map<String, Set<TopicPartition>> result) {
        assertThat(result.keySet()).isEqualTo(members.keySet());
        Set<TopicPartition> seen = new HashSet<>();
        result.forEach((id, partitions) -> partitions.forEach(tp -> {
            assertThat(isValid(members.get(id), tp, counts)).as("%s may read %s", id, tp).isTrue();
            assertThat(seen.add(tp)).as("%s assigned twice", tp).isTrue();
            members.forEach((other, s) -> {
                if (!other.equals(id)) {
                    assertThat(s.owned()).as("%s still owned by %s", tp, other).doesNotContain(tp);
                }
            });
        }));
        // anything valid left out must be waiting for its owner's revocation
        for (TopicPartition tp : valid(members, counts)) {
            if (!seen.contains(tp)) {
                assertThat(members.values().stream().anyMatch(s -> s.owned().contains(tp))).as("%s withheld", tp)
                        .isTrue();
            }
        }
    }

    private static boolean isValid(MemberSubscription s, TopicPartition tp, Map<String, Integer> counts) {
        return s.topics().contains(tp.topic()) && tp.partition() < counts.getOrDefault(tp.topic(), 0);
    }

    private static Set<TopicPartition> valid(Map<String, MemberSubscription> members, Map<String, Integer> counts) {
        Set<TopicPartition> valid = Assignments.sortedSet();
        members.values().forEach(s -> s.topics()
                .forEach(t -> valid.addAll(Assignments.partitions(t, counts.getOrDefault(t, 0)))));
        return valid;
    }

    /**
     * With identical subscriptions over P partitions and n members, P % n members may keep P / n + 1 and the others
     * P / n; the fewest revocations give the larger quotas to the members that own the most.
     */
    static int minimalRevocations(Map<String, MemberSubscription> members, Map<String, Integer> counts) {
        int p = valid(members, counts).size();
        int n = members.size();
        List<Integer> owned = new ArrayList<>();
        members.values().forEach(s -> owned.add((int) s.owned().stream().filter(tp -> isValid(s, tp, counts)).count()));
        owned.sort((a, b) -> b - a);
        int revocations = 0;
        for (int i = 0; i < n; i++) {
            int quota = p / n + (i < p % n ? 1 : 0);
            revocations += Math.max(0, owned.get(i) - quota);
        }
        return revocations;
    }
}
