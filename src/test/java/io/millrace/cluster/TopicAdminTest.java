package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ControllerTest {

    @Test
    void leadersSpreadEvenlyAndReplicasAreDistinct() {
        List<PartitionAssignment> assigned = TopicAdmin.assign(List.of(3, 1, 2), 0, 9, 2, 7);
        Map<Integer, Integer> leaders = new HashMap<>();
        for (PartitionAssignment p : assigned) {
            assertThat(p.replicas()).hasSize(2).doesNotHaveDuplicates();
            assertThat(p.leader()).isEqualTo(p.replicas().get(0));
            assertThat(p.isr()).as("followers join the in-sync set once they hold the data")
                    .containsExactly(p.leader());
            leaders.merge(p.leader(), 1, Integer::sum);
        }
        assertThat(leaders).containsOnlyKeys(1, 2, 3).allSatisfy((broker, count) -> assertThat(count).isEqualTo(3));
        assertThat(assigned).extracting(PartitionAssignment::partition).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8);
    }

    @Test
    void addedPartitionsContinueTheNumbering() {
        assertThat(TopicAdmin.assign(List.of(0), 4, 2, 1, 0)).extracting(PartitionAssignment::partition)
                .containsExactly(4, 5);
    }

    @Test
    void topicMetadataRoundTripsThroughItsNodeAndPartitionNodes() {
        TopicMetadata topic = new TopicMetadata("t", 1, Map.of("retention.ms", "5"),
                TopicAdmin.assign(List.of(0), 0, 3, 1, 0)).created(0);
        Map<Integer, PartitionAssignment> states = new HashMap<>();
        for (PartitionAssignment p : topic.partitions()) {
            states.put(p.partition(), PartitionAssignment.fromJson(p.toJson(), p.version()));
        }
        assertThat(topic.toJson().containsKey("partitions")).as("no partition state in the topic node").isFalse();
        assertThat(TopicMetadata.fromJson(topic.toJson(), states)).isEqualTo(topic);
    }

    @Test
    void partitionsWhoseNodeIsNotThereYetHaveNoLeader() {
        TopicMetadata topic = new TopicMetadata("t", 1, Map.of(), TopicAdmin.assign(List.of(0), 0, 2, 1, 0));
        TopicMetadata read = TopicMetadata.fromJson(topic.toJson(), Map.of());
        assertThat(read.partitions()).allSatisfy(p -> assertThat(p.hasLeader()).isFalse());
    }

    @Test
    void versionOneTopicNodesKeepTheirPartitionStates() {
        io.vertx.core.json.JsonObject legacy = new io.vertx.core.json.JsonObject().put("version", 1).put("name", "t")
                .put("replicationFactor", 1).put("config", new io.vertx.core.json.JsonObject())
                .put("partitions", new io.vertx.core.json.JsonArray().add(new PartitionAssignment(0, List.of(4), 4, 2,
                        List.of(4)).toJson()));
        assertThat(TopicMetadata.partitionCount(legacy)).isEqualTo(1);
        assertThat(TopicMetadata.legacyPartitions(legacy)).singleElement()
                .satisfies(p -> assertThat(p.leaderEpoch()).isEqualTo(2));
    }
}
