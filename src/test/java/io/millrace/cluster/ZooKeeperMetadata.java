package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.Time;
import io.millrace.it.BrokerProcess;
import io.millrace.partition.PartitionSettings;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogLimits;
import io.millrace.storage.StorageHealth;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/**
 * A real ZooKeeper on a free port, with a Curator client, a Vert.x and a {@link MetadataStore} on it: what the
 * cluster package's components need to see real watch events. Close it to stop all of them.
 */
final class ZooKeeperMetadata implements AutoCloseable {

    final ZooKeeperServerEmbedded zooKeeper;
    final CuratorFramework curator;
    final Vertx vertx;
    final MetadataStore store;

    private ZooKeeperMetadata(ZooKeeperServerEmbedded zooKeeper, CuratorFramework curator, Vertx vertx,
                              MetadataStore store) {
        this.zooKeeper = zooKeeper;
        this.curator = curator;
        this.vertx = vertx;
        this.store = store;
    }

    /** Starts ZooKeeper with its data under {@code dir}, connects, and loads the (empty) metadata. */
    static ZooKeeperMetadata start(Path dir) throws Exception {
        // Not a port the kernel picks for a probe socket: an outgoing connection could take it before ZooKeeper binds.
        int port = BrokerProcess.freePort();
        Properties props = new Properties();
        props.setProperty("clientPort", Integer.toString(port));
        props.setProperty("clientPortAddress", "127.0.0.1");
        props.setProperty("tickTime", "500");
        props.setProperty("admin.enableServer", "false");
        ZooKeeperServerEmbedded zooKeeper = ZooKeeperServerEmbedded.builder()
                .baseDir(Files.createDirectories(dir.resolve("zookeeper"))).configuration(props)
                .exitHandler(ExitHandler.LOG_ONLY).build();
        zooKeeper.start(30_000);
        CuratorFramework curator = CuratorFrameworkFactory.newClient("127.0.0.1:" + port,
                new ExponentialBackoffRetry(100, 3));
        curator.start();
        assertThat(curator.blockUntilConnected(30, TimeUnit.SECONDS)).isTrue();
        Vertx vertx = Vertx.vertx();
        MetadataStore store = new MetadataStore(vertx, curator);
        store.init().await(30, TimeUnit.SECONDS);
        return new ZooKeeperMetadata(zooKeeper, curator, vertx, store);
    }

    /** A replica manager of broker {@code brokerId} with default settings, its logs under {@code dir}, deployed. */
    ReplicaManager deployReplicaManager(int brokerId, Path dir) throws Exception {
        return deployReplicaManager(brokerId, dir, PartitionSettings.DEFAULTS);
    }

    /** A replica manager of broker {@code brokerId} with these partition settings, deployed. */
    ReplicaManager deployReplicaManager(int brokerId, Path dir, PartitionSettings settings) throws Exception {
        ReplicaManager replicas = new ReplicaManager(brokerId, dir.resolve("logs"), LogConfig.DEFAULTS,
                new LogLimits(LogConfig.DEFAULTS.maxMessageBytes(), "the default max.message.bytes"),
                settings, Time.SYSTEM, Runnable::run, store, new StorageHealth(dir, 0), 1_000, 30_000);
        vertx.deployVerticle(replicas).await(30, TimeUnit.SECONDS);
        return replicas;
    }

    @Override
    public void close() throws Exception {
        try {
            vertx.close().await(30, TimeUnit.SECONDS);
        } finally {
            store.close();
            curator.close();
            zooKeeper.close();
        }
    }
}
