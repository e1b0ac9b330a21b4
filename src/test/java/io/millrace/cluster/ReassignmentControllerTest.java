package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller carrying out a move against a real ZooKeeper, playing the partition's leader by hand (it adds the
 * new replica to the in-sync set, as a leader does once the replica has caught up). The first controller dies
 * after the ADD step; a second one, on another broker, resumes the move from ZooKeeper alone and finishes it.
 */
class ReassignmentControllerTest {

    private static final Set<Integer> LIVE = Set.of(1, 2, 3, 4);
    private static final Duration STEP = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private ZooKeeperMetadata zooKeeper;

    @BeforeEach
    void start() throws Exception {
        zooKeeper = ZooKeeperMetadata.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        if (zooKeeper != null) {
            zooKeeper.close();
        }
    }

    @Test
    void aMoveSurvivesTheControllersDeathAndEndsOnTheTarget() throws Exception {
        MetadataStore store = zooKeeper.store;
        store.createTopic(new TopicMetadata("t", 2, Map.of(), List.of(
                new PartitionAssignment(0, List.of(1, 2), 1, 3, List.of(1, 2)),
                new PartitionAssignment(1, List.of(2, 1), 2, 0, List.of(2, 1))))).await(30, TimeUnit.SECONDS);
        store.watchTopics(name -> { }).await(30, TimeUnit.SECONDS);
        store.writeReassignments(List.of(new Reassignment("t", 0, List.of(1, 2), List.of(4, 2), -1)))
                .await(30, TimeUnit.SECONDS);

        String first = deployController(1, store);
        await().alias("ADD: 4 added, target first, same epoch").atMost(STEP)
                .until(() -> state(store).replicas().equals(List.of(4, 2, 1)));
        assertThat(state(store).leaderEpoch()).isEqualTo(3);
        assertThat(state(store).isr()).containsExactly(1, 2);

        // The controller dies; broker 2 takes over with its own view of ZooKeeper.
        zooKeeper.vertx.undeploy(first).await(30, TimeUnit.SECONDS);
        zooKeeper.curator.delete().forPath(MetadataStore.CONTROLLER);
        MetadataStore second = new MetadataStore(zooKeeper.vertx, zooKeeper.curator);
        try {
            deployController(2, second);
            // Nothing moves until 4 is in sync: the leader (played here) adds it.
            PartitionAssignment caughtUp = state(store);
            assertThat(caughtUp.leader()).isEqualTo(1);
            assertThat(store.updatePartition("t", caughtUp.withIsr(List.of(4, 2, 1))).await(30, TimeUnit.SECONDS))
                    .isPresent();

            await().alias("LEAD, DROP, done: on 4,2 led by 4, the move's node gone").atMost(STEP)
                    .until(() -> state(store).replicas().equals(List.of(4, 2)) && store.cachedReassignments().isEmpty());
            PartitionAssignment done = state(store);
            assertThat(done.leader()).isEqualTo(4);
            assertThat(done.leaderEpoch()).as("one leader change").isEqualTo(4);
            assertThat(done.isr()).containsExactly(4, 2);
            assertThat(store.cachedTopic("t").orElseThrow().partition(1).replicas())
                    .as("the partition not moved").containsExactly(2, 1);
        } finally {
            second.close();
        }
    }

    private String deployController(int brokerId, MetadataStore store) throws Exception {
        assertThat(store.electController(brokerId).await(30, TimeUnit.SECONDS)).isEqualTo(brokerId);
        ClusterController controller = new ClusterController(brokerId, store, false, false, 300_000, () -> LIVE,
                ClusterController.ControllerMetrics.NONE);
        return zooKeeper.vertx.deployVerticle(controller).await(30, TimeUnit.SECONDS);
    }

    private static PartitionAssignment state(MetadataStore store) {
        return store.cachedTopic("t").orElseThrow().partition(0);
    }
}
