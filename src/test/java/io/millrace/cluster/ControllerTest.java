package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ControllerTest {

    @Test
    void leadersSpreadEvenlyAndReplicasAreDistinct() {
        List<PartitionAssignment> assigned = Controller.assign(List.of(3, 1, 2), 0, 9, 2, 7);
        Map<Integer, Integer> leaders = new HashMap<>();
        for (PartitionAssignment p : assigned) {
            assertThat(p.replicas()).hasSize(2).doesNotHaveDuplicates();
            assertThat(p.leader()).isEqualTo(p.replicas().get(0));
            assertThat(p.isr()).isEqualTo(p.replicas());
            leaders.merge(p.leader(), 1, Integer::sum);
        }
        assertThat(leaders).containsOnlyKeys(1, 2, 3).allSatisfy((broker, count) -> assertThat(count).isEqualTo(3));
        assertThat(assigned).extracting(PartitionAssignment::partition).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8);
    }

    @Test
    void addedPartitionsContinueTheNumbering() {
        assertThat(Controller.assign(List.of(0), 4, 2, 1, 0)).extracting(PartitionAssignment::partition)
                .containsExactly(4, 5);
    }

    @Test
    void topicMetadataRoundTripsThroughJson() {
        TopicMetadata topic = new TopicMetadata("t", 1, Map.of("retention.ms", "5"),
                Controller.assign(List.of(0), 0, 3, 1, 0));
        assertThat(TopicMetadata.fromJson(topic.toJson())).isEqualTo(topic);
    }
}
