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
 * A topic of thousands of partitions through a real ZooKeeper: its creation and deletion each fire a watch event per
 * partition node, and neither the replica manager nor the controller may read the whole topic for each of them (that
 * is quadratic: creating 2,000 partitions blocked an event loop for over 12 s). Its partitions live on broker 1, so
 * the replica manager of broker 0 reads all the metadata and opens no log; broker 0 is the controller and finds
 * nothing to change.
 */
class ManyPartitionsMetadataTest {

    private static final int PARTITIONS = 5_000;
    /**
     * Partition states the controller may read per partition node created or deleted: a pass per burst of events, and
     * a loaded machine splits the events into more, shorter bursts (51 passes seen). One pass per event, the quadratic
     * cost this guards against, reads {@code PARTITIONS} states per node.
     */
    private static final long CONTROLLER_READS_PER_NODE = 100;

    @TempDir
    Path dir;
    private ZooKeeperMetadata zooKeeper;
    private MetadataStore store;
    private ReplicaManager replicas;
    private ClusterController controller;

    @BeforeEach
    void start() throws Exception {
        zooKeeper = ZooKeeperMetadata.start(dir);
        store = zooKeeper.store;
        replicas = zooKeeper.deployReplicaManager(0, dir);
        assertThat(store.electController(0).await(30, TimeUnit.SECONDS)).isZero();
        // Broker 1, which leads every partition, counts as alive: the controller finds nothing to change.
        controller = new ClusterController(0, store, false, false, 60_000, () -> Set.of(0, 1),
                ClusterController.ControllerMetrics.NONE);
        zooKeeper.vertx.deployVerticle(controller).await(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(controller::isActive);
    }

    @AfterEach
    void stop() throws Exception {
        if (zooKeeper != null) {
            zooKeeper.close();
        }
    }

    @Test
    void creatingAndDeletingAWideTopicReadsItOncePerBurstOfWatchEventsNotOncePerPartition() throws Exception {
        TopicMetadata topic = new TopicMetadata("wide", 1, Map.of(),
                TopicAdmin.assign(List.of(1), 0, PARTITIONS, 1, 0));
        store.createTopic(topic).await(60, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(60)).until(() -> replicas.topic("wide")
                .filter(t -> t.partitions().stream().allMatch(p -> p.version() == 0 && p.leader() == 1))
                .isPresent());
        long afterCreate = replicas.topicsReread();
        assertThat(afterCreate).as("re-reads of the topic for %s partition nodes created", PARTITIONS)
                .isLessThan(PARTITIONS / 10);
        long examinedAfterCreate = controller.partitionsExamined();
        assertThat(examinedAfterCreate).as("partition states the controller read for %s partition nodes created",
                PARTITIONS).isLessThan(PARTITIONS * CONTROLLER_READS_PER_NODE);

        store.deleteTopic("wide").await(60, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(60)).until(() -> replicas.topic("wide").isEmpty());
        assertThat(zooKeeper.curator.checkExists().forPath(MetadataStore.topicPath("wide"))).isNull();
        assertThat(replicas.topicsReread() - afterCreate).as("re-reads of the topic for %s partition nodes deleted",
                PARTITIONS).isLessThan(PARTITIONS / 10);
        assertThat(store.cachedTopicNames()).doesNotContain("wide");
        assertThat(controller.partitionsExamined() - examinedAfterCreate).as("partition states the controller read"
                + " for %s partition nodes deleted", PARTITIONS).isLessThan(PARTITIONS * CONTROLLER_READS_PER_NODE);
    }
}
