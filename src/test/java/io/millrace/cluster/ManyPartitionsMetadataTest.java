package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.Time;
import io.millrace.partition.PartitionSettings;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogLimits;
import io.millrace.storage.StorageHealth;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
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
    private ZooKeeperServerEmbedded zooKeeper;
    private CuratorFramework curator;
    private Vertx vertx;
    private MetadataStore store;
    private ReplicaManager replicas;
    private ClusterController controller;

    @BeforeEach
    void start() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Properties props = new Properties();
        props.setProperty("clientPort", Integer.toString(port));
        props.setProperty("clientPortAddress", "127.0.0.1");
        props.setProperty("tickTime", "500");
        props.setProperty("admin.enableServer", "false");
        zooKeeper = ZooKeeperServerEmbedded.builder().baseDir(Files.createDirectories(dir.resolve("zookeeper")))
                .configuration(props).exitHandler(ExitHandler.LOG_ONLY).build();
        zooKeeper.start(30_000);
        curator = CuratorFrameworkFactory.newClient("127.0.0.1:" + port, new ExponentialBackoffRetry(100, 3));
        curator.start();
        assertThat(curator.blockUntilConnected(30, TimeUnit.SECONDS)).isTrue();
        vertx = Vertx.vertx();
        store = new MetadataStore(vertx, curator);
        store.init().await(30, TimeUnit.SECONDS);
        replicas = new ReplicaManager(0, dir.resolve("logs"), LogConfig.DEFAULTS,
                new LogLimits(LogConfig.DEFAULTS.maxMessageBytes(), "the default max.message.bytes"),
                PartitionSettings.DEFAULTS, Time.SYSTEM, Runnable::run, store, new StorageHealth(dir, 0), 1_000,
                30_000);
        vertx.deployVerticle(replicas).await(30, TimeUnit.SECONDS);
        assertThat(store.electController(0).await(30, TimeUnit.SECONDS)).isZero();
        // Broker 1, which leads every partition, counts as alive: the controller finds nothing to change.
        controller = new ClusterController(0, store, false, false, 60_000, () -> Set.of(0, 1),
                ClusterController.ControllerMetrics.NONE);
        vertx.deployVerticle(controller).await(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(controller::isActive);
    }

    @AfterEach
    void stop() throws Exception {
        if (vertx != null) {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
        if (store != null) {
            store.close();
        }
        if (curator != null) {
            curator.close();
        }
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
        assertThat(curator.checkExists().forPath(MetadataStore.topicPath("wide"))).isNull();
        assertThat(replicas.topicsReread() - afterCreate).as("re-reads of the topic for %s partition nodes deleted",
                PARTITIONS).isLessThan(PARTITIONS / 10);
        assertThat(store.cachedTopicNames()).doesNotContain("wide");
        assertThat(controller.partitionsExamined() - examinedAfterCreate).as("partition states the controller read"
                + " for %s partition nodes deleted", PARTITIONS).isLessThan(PARTITIONS * CONTROLLER_READS_PER_NODE);
    }
}
