package io.millrace.cluster;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster metadata in ZooKeeper, so that it survives restarts and every broker sees the same picture.
 *
 * <pre>
 * /millrace/topics/&lt;name&gt;        persistent, {@link TopicMetadata} JSON
 * /millrace/brokers/ids/&lt;id&gt;      persistent, {@link BrokerInfo} JSON: every broker that ever joined
 * /millrace/brokers/alive/&lt;id&gt;    ephemeral, present while the broker's session lives
 * /millrace/controller             ephemeral, {"brokerId": id}: the broker that assigns partitions
 * /millrace/producer-ids           persistent, {"next": n}: the next free idempotent-producer id
 * </pre>
 *
 * <p>ZooKeeper calls block, so every method runs them on a worker thread and returns a {@link Future}. Thread-safe.
 */
public final class MetadataStore {

    private static final Logger LOG = LoggerFactory.getLogger(MetadataStore.class);
    static final String ROOT = "/millrace";
    static final String TOPICS = ROOT + "/topics";
    static final String BROKER_IDS = ROOT + "/brokers/ids";
    static final String BROKERS_ALIVE = ROOT + "/brokers/alive";
    static final String CONTROLLER = ROOT + "/controller";
    static final String PRODUCER_IDS = ROOT + "/producer-ids";

    private final Vertx vertx;
    private final CuratorFramework curator;
    private CuratorCache topicCache;
    private CuratorCache controllerCache;

    public MetadataStore(Vertx vertx, CuratorFramework curator) {
        this.vertx = vertx;
        this.curator = curator;
    }

    /** Creates the base paths if missing. */
    public Future<Void> init() {
        return blocking(() -> {
            for (String path : List.of(TOPICS, BROKER_IDS, BROKERS_ALIVE)) {
                try {
                    curator.create().creatingParentsIfNeeded().forPath(path);
                } catch (KeeperException.NodeExistsException ignored) {
                    // Another broker or an earlier run made it.
                }
            }
            return null;
        });
    }

    public boolean isConnected() {
        return curator.getZookeeperClient().isConnected();
    }

    /**
     * Registers this broker as alive. A leftover registration with the same id from an earlier run of this very
     * broker (same data folder; its ZooKeeper session has not expired yet) is replaced; one from a different broker
     * is a configuration error.
     */
    public Future<Void> registerBroker(BrokerInfo broker) {
        return blocking(() -> {
            byte[] data = bytes(broker.toJson());
            String idPath = BROKER_IDS + "/" + broker.id();
            try {
                curator.create().forPath(idPath, data);
            } catch (KeeperException.NodeExistsException e) {
                curator.setData().forPath(idPath, data);
            }
            String alivePath = BROKERS_ALIVE + "/" + broker.id();
            try {
                curator.create().withMode(CreateMode.EPHEMERAL).forPath(alivePath, data);
            } catch (KeeperException.NodeExistsException e) {
                BrokerInfo existing = BrokerInfo.fromJson(json(curator.getData().forPath(alivePath)));
                if (!existing.dataDir().equals(broker.dataDir())) {
                    throw new MillraceException(ErrorCode.INVALID_CONFIG, "Broker id " + broker.id()
                            + " is already in use by a live broker at " + existing.host() + ":" + existing.tcpPort()
                            + "; give each broker its own broker.id");
                }
                LOG.info("Replacing the registration left by this broker's previous run");
                curator.delete().forPath(alivePath);
                curator.create().withMode(CreateMode.EPHEMERAL).forPath(alivePath, data);
            }
            return null;
        });
    }

    /** Every broker that ever registered, with whether it is alive now. */
    public Future<List<BrokerState>> brokers() {
        return blocking(() -> {
            List<BrokerState> out = new ArrayList<>();
            List<String> alive = curator.getChildren().forPath(BROKERS_ALIVE);
            for (String id : curator.getChildren().forPath(BROKER_IDS)) {
                BrokerInfo info = BrokerInfo.fromJson(json(curator.getData().forPath(BROKER_IDS + "/" + id)));
                out.add(new BrokerState(info, alive.contains(id)));
            }
            out.sort((a, b) -> Integer.compare(a.info().id(), b.info().id()));
            return out;
        });
    }

    /** Live broker ids. */
    public Future<List<Integer>> liveBrokerIds() {
        return blocking(() -> curator.getChildren().forPath(BROKERS_ALIVE).stream().map(Integer::parseInt)
                .sorted().toList());
    }

    /**
     * Tries to become the controller; completes with the id of whoever is. A leftover node from this broker's own
     * previous run (its session not yet expired) is taken over.
     */
    public Future<Integer> electController(int brokerId) {
        return blocking(() -> {
            // Elections can run concurrently (start-up, a reconnect, the watch on the controller node): each step
            // below tolerates the others, and the loop ends once some live session owns the node.
            synchronized (this) {
                byte[] data = bytes(new JsonObject().put("brokerId", brokerId));
                long ourSession = curator.getZookeeperClient().getZooKeeper().getSessionId();
                while (true) {
                    try {
                        curator.create().withMode(CreateMode.EPHEMERAL).forPath(CONTROLLER, data);
                        return brokerId;
                    } catch (KeeperException.NodeExistsException taken) {
                        Stat stat = new Stat();
                        int current;
                        try {
                            current = json(curator.getData().storingStatIn(stat).forPath(CONTROLLER))
                                    .getInteger("brokerId");
                        } catch (KeeperException.NoNodeException goneMeanwhile) {
                            continue;
                        }
                        if (current != brokerId || stat.getEphemeralOwner() == ourSession) {
                            return current;
                        }
                        // Left by this broker's previous run, whose session has not expired yet: take it over.
                        try {
                            curator.delete().withVersion(stat.getVersion()).forPath(CONTROLLER);
                        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException raced) {
                            // Someone else moved first; look again.
                        }
                    }
                }
            }
        });
    }

    /** The current controller's broker id, if any. */
    public Future<Optional<Integer>> controller() {
        return blocking(() -> {
            try {
                return Optional.of(json(curator.getData().forPath(CONTROLLER)).getInteger("brokerId"));
            } catch (KeeperException.NoNodeException e) {
                return Optional.<Integer>empty();
            }
        });
    }

    /**
     * Reserves {@code count} idempotent-producer ids for this broker and returns the first. Brokers reserve blocks
     * with a compare-and-set on the counter's version, so no two brokers ever hand out the same id.
     */
    public Future<Long> allocateProducerIds(int count) {
        return blocking(() -> {
            while (true) {
                try {
                    Stat stat = new Stat();
                    long next = json(curator.getData().storingStatIn(stat).forPath(PRODUCER_IDS)).getLong("next");
                    curator.setData().withVersion(stat.getVersion())
                            .forPath(PRODUCER_IDS, bytes(new JsonObject().put("next", next + count)));
                    return next;
                } catch (KeeperException.NoNodeException e) {
                    try {
                        curator.create().creatingParentsIfNeeded()
                                .forPath(PRODUCER_IDS, bytes(new JsonObject().put("next", 0L)));
                    } catch (KeeperException.NodeExistsException raced) {
                        // Another broker created it; read it again.
                    }
                } catch (KeeperException.BadVersionException raced) {
                    // Another broker reserved a block meanwhile; try again on the new value.
                }
            }
        });
    }

    public Future<Void> createTopic(TopicMetadata topic) {
        return blocking(() -> {
            try {
                curator.create().forPath(TOPICS + "/" + topic.name(), bytes(topic.toJson()));
            } catch (KeeperException.NodeExistsException e) {
                throw new MillraceException(ErrorCode.TOPIC_ALREADY_EXISTS, "Topic " + topic.name()
                        + " already exists");
            }
            return null;
        });
    }

    /** Replaces a topic's metadata (e.g. added partitions). */
    public Future<Void> updateTopic(TopicMetadata topic) {
        return blocking(() -> {
            try {
                curator.setData().forPath(TOPICS + "/" + topic.name(), bytes(topic.toJson()));
            } catch (KeeperException.NoNodeException e) {
                throw unknownTopic(topic.name());
            }
            return null;
        });
    }

    public Future<Void> deleteTopic(String name) {
        return blocking(() -> {
            try {
                curator.delete().forPath(TOPICS + "/" + name);
            } catch (KeeperException.NoNodeException e) {
                throw unknownTopic(name);
            }
            return null;
        });
    }

    public Future<List<TopicMetadata>> topics() {
        return blocking(() -> {
            List<TopicMetadata> out = new ArrayList<>();
            for (String name : curator.getChildren().forPath(TOPICS)) {
                try {
                    out.add(TopicMetadata.fromJson(json(curator.getData().forPath(TOPICS + "/" + name))));
                } catch (KeeperException.NoNodeException deletedMeanwhile) {
                    // Deleted between the listing and the read.
                }
            }
            return out;
        });
    }

    /**
     * Calls {@code onChange} (on a ZooKeeper thread) whenever a topic is created, changed or deleted, by any broker.
     */
    public void watchTopics(Consumer<String> onChange) {
        topicCache = CuratorCache.build(curator, TOPICS);
        topicCache.listenable().addListener(CuratorCacheListener.builder()
                .forAll((type, oldData, data) -> {
                    String path = data != null ? data.getPath() : oldData.getPath();
                    if (path.length() > TOPICS.length() + 1) {
                        onChange.accept(path.substring(TOPICS.length() + 1));
                    }
                })
                .build());
        topicCache.start();
    }

    /**
     * Keeps this broker registered and the cluster with a controller: registers now and runs for controller, then
     * does both again whenever the ZooKeeper session is re-established (a new session lost the old ephemeral nodes)
     * and whenever the controller node disappears (its broker died or left). Completes with the first election's
     * winner.
     */
    public Future<Integer> maintainRegistration(BrokerInfo broker) {
        curator.getConnectionStateListenable().addListener((client, state) -> {
            if (state == ConnectionState.RECONNECTED) {
                LOG.info("ZooKeeper session re-established; registering broker {} again", broker.id());
                registerBroker(broker).compose(v -> electController(broker.id()))
                        .onFailure(e -> LOG.warn("Re-registration failed: {}", e.getMessage()));
            }
        });
        controllerCache = CuratorCache.build(curator, CONTROLLER);
        controllerCache.listenable().addListener(CuratorCacheListener.builder()
                .forDeletes(deleted -> electController(broker.id())
                        .onSuccess(id -> LOG.info("Controller is now broker {}", id))
                        .onFailure(e -> LOG.warn("Controller election failed: {}", e.getMessage())))
                .build());
        controllerCache.start();
        return registerBroker(broker).compose(v -> electController(broker.id()));
    }

    public void close() {
        if (topicCache != null) {
            topicCache.close();
        }
        if (controllerCache != null) {
            controllerCache.close();
        }
    }

    private static MillraceException unknownTopic(String name) {
        return new MillraceException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + name + " does not exist");
    }

    private <T> Future<T> blocking(ZkCall<T> call) {
        return vertx.executeBlocking(() -> {
            try {
                return call.run();
            } catch (MillraceException e) {
                throw e;
            } catch (Exception e) {
                throw new MillraceException(ErrorCode.STORAGE_ERROR, "ZooKeeper request failed: " + e, e);
            }
        }, false);
    }

    private static byte[] bytes(JsonObject json) {
        return json.encode().getBytes(StandardCharsets.UTF_8);
    }

    private static JsonObject json(byte[] data) {
        return new JsonObject(new String(data, StandardCharsets.UTF_8));
    }

    @FunctionalInterface
    private interface ZkCall<T> {
        T run() throws Exception;
    }

    /** A registered broker and whether its session is alive. */
    public record BrokerState(BrokerInfo info, boolean alive) {
    }
}
