package io.millrace.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.internals.AbstractPartitionAssignor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Range and round-robin must put partitions exactly where Kafka's own assignors (kafka-clients, a test-only
 * dependency) put them, so that a group looks the same to an operator who knows Kafka. Random groups, seeded.
 */
class KafkaAssignorCompatibilityTest {

    static LongStream seeds() {
        return LongStream.range(0, 300);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void rangeMatchesKafka(long seed) {
        compare(seed, new RangeAssignor(), new org.apache.kafka.clients.consumer.RangeAssignor());
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void roundRobinMatchesKafka(long seed) {
        compare(seed, new RoundRobinAssignor(), new org.apache.kafka.clients.consumer.RoundRobinAssignor());
    }

    private static void compare(long seed, Assignor ours, AbstractPartitionAssignor kafka) {
        Random random = new Random(seed);
        List<String> topics = List.of("alpha", "beta", "gamma", "delta");
        Map<String, Integer> counts = new TreeMap<>();
        topics.forEach(t -> counts.put(t, 1 + random.nextInt(9)));
        int memberCount = 1 + random.nextInt(7);
        Map<String, MemberSubscription> members = new TreeMap<>();
        Map<String, Subscription> kafkaMembers = new HashMap<>();
        for (int i = 0; i < memberCount; i++) {
            String id = "client-" + random.nextInt(20) + "-" + Long.toHexString(random.nextLong());
            List<String> subscribed = new ArrayList<>();
            for (String t : topics) {
                if (random.nextInt(3) > 0) {
                    subscribed.add(t);
                }
            }
            if (subscribed.isEmpty()) {
                subscribed.add(topics.get(random.nextInt(topics.size())));
            }
            members.put(id, MemberSubscription.of(Set.copyOf(subscribed)));
            kafkaMembers.put(id, new Subscription(subscribed));
        }

        Map<String, List<org.apache.kafka.common.TopicPartition>> theirs = kafka.assign(counts, kafkaMembers);
        Map<String, Set<TopicPartition>> expected = new TreeMap<>();
        theirs.forEach((id, list) -> {
            Set<TopicPartition> set = Assignments.sortedSet();
            list.forEach(tp -> set.add(new TopicPartition(tp.topic(), tp.partition())));
            expected.put(id, set);
        });
        assertThat(ours.assign(members, counts)).isEqualTo(expected);
    }
}
