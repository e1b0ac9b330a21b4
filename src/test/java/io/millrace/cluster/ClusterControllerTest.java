package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The controller's decisions about one partition, for every case of live brokers. */
class ClusterControllerTest {

    private static PartitionAssignment state(int leader, int epoch, List<Integer> isr) {
        return new PartitionAssignment(0, List.of(1, 2, 3), leader, epoch, isr, 7);
    }

    @Test
    void nothingChangesWhileTheLeaderAndEveryInSyncReplicaLive() {
        assertThat(ClusterController.decide(state(1, 4, List.of(1, 2, 3)), Set.of(1, 2, 3), false)).isEmpty();
    }

    @Test
    void aDeadFollowerLeavesTheInSyncSetAtOnceWithoutANewEpoch() {
        PartitionAssignment next = ClusterController.decide(state(1, 4, List.of(1, 2, 3)), Set.of(1, 2), false)
                .orElseThrow();
        assertThat(next.leader()).isEqualTo(1);
        assertThat(next.leaderEpoch()).isEqualTo(4);
        assertThat(next.isr()).containsExactly(1, 2);
        assertThat(next.version()).as("conditional on the version read").isEqualTo(7);
    }

    @Test
    void aDeadLeaderIsReplacedByTheFirstLiveInSyncReplicaInANewEpoch() {
        PartitionAssignment next = ClusterController.decide(state(1, 4, List.of(1, 3)), Set.of(2, 3), false)
                .orElseThrow();
        assertThat(next.leader()).as("2 is alive but not in sync").isEqualTo(3);
        assertThat(next.leaderEpoch()).isEqualTo(5);
        assertThat(next.isr()).containsExactly(3);
    }

    @Test
    void withNoLiveInSyncReplicaThePartitionGoesOfflineKeepingItsInSyncSet() {
        PartitionAssignment next = ClusterController.decide(state(1, 4, List.of(1)), Set.of(2, 3), false)
                .orElseThrow();
        assertThat(next.hasLeader()).isFalse();
        assertThat(next.leaderEpoch()).isEqualTo(5);
        assertThat(next.isr()).containsExactly(1);
        assertThat(ClusterController.decide(next.withVersion(8), Set.of(2, 3), false)).as("stays offline").isEmpty();
    }

    @Test
    void anOfflinePartitionComesBackWithTheFirstInSyncReplicaToReturn() {
        PartitionAssignment offline = state(-1, 5, List.of(1));
        PartitionAssignment next = ClusterController.decide(offline, Set.of(1, 2), false).orElseThrow();
        assertThat(next.leader()).isEqualTo(1);
        assertThat(next.leaderEpoch()).isEqualTo(6);
    }

    @Test
    void uncleanElectionPicksAnyLiveReplicaOnlyWhenEnabled() {
        PartitionAssignment next = ClusterController.decide(state(1, 4, List.of(1)), Set.of(3), true).orElseThrow();
        assertThat(next.leader()).isEqualTo(3);
        assertThat(next.isr()).containsExactly(3);
    }

    @Test
    void preferredLeaderReturnsOnlyWhenAliveAndInSync() {
        PartitionAssignment ledByTwo = state(2, 5, List.of(2, 3));
        assertThat(ClusterController.preferred(ledByTwo, Set.of(1, 2, 3))).as("1 not in sync yet").isEmpty();
        PartitionAssignment caughtUp = state(2, 5, List.of(2, 3, 1));
        Optional<PartitionAssignment> moved = ClusterController.preferred(caughtUp, Set.of(1, 2, 3));
        assertThat(moved).hasValueSatisfying(p -> {
            assertThat(p.leader()).isEqualTo(1);
            assertThat(p.leaderEpoch()).isEqualTo(6);
        });
        assertThat(ClusterController.preferred(caughtUp, Set.of(2, 3))).as("1 is dead").isEmpty();
        assertThat(ClusterController.preferred(state(1, 5, List.of(1, 2)), Set.of(1, 2))).isEmpty();
    }
}
