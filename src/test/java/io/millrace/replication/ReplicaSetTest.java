package io.millrace.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReplicaSetTest {

    @Test
    void aLoneLeaderCommitsWhatItWrites() {
        ReplicaSet replicas = new ReplicaSet(1, 3, 10, 10);
        assertThat(replicas.highWatermark()).isEqualTo(10);
        assertThat(replicas.updateLeaderEnd(15)).isTrue();
        assertThat(replicas.highWatermark()).isEqualTo(15);
        assertThat(replicas.updateLeaderEnd(15)).isFalse();
        assertThat(replicas.inSyncReplicas()).containsExactly(1);
        assertThat(replicas.leaderEpoch()).isEqualTo(3);
    }

    @Test
    void theInheritedHighWatermarkNeverExceedsTheLog() {
        assertThat(new ReplicaSet(1, 0, 5, 9).highWatermark()).isEqualTo(5);
    }

    @Test
    void followersOutsideTheInSyncSetDoNotMoveTheHighWatermark() {
        ReplicaSet replicas = new ReplicaSet(1, 0, 0, 0);
        assertThat(replicas.updateFollowerEnd(2, 100)).isFalse();
        assertThat(replicas.highWatermark()).isZero();
    }

    @Test
    void truncationLowersTheHighWatermark() {
        ReplicaSet replicas = new ReplicaSet(1, 0, 20, 20);
        replicas.resetLeaderEnd(12);
        assertThat(replicas.highWatermark()).isEqualTo(12);
    }
}
