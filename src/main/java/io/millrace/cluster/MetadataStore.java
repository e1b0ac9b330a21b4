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
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import io.vertx.core.Promise;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.recipes.cache.ChildData;
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
 * /millrace/topics/&lt;name&gt;/partitions/&lt;p&gt;  persistent, {@link PartitionAssignment} JSON, updated conditionally
 * /millrace/topics/&lt;name&gt;/reassignments/&lt;p&gt;  persistent, {@link Reassignment} JSON while the partition moves
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
    /** Partition nodes created per ZooKeeper transaction (each ~150 bytes; ZooKeeper refuses requests over 1 MiB). */
    private static final int PARTITIONS_PER_TRANSACTION = 1000;

    private volatile CuratorCache topicCache;
    private Future<Void> topicCacheLoaded;
    private final List<Consumer<String>> topicListeners = new CopyOnWriteArrayList<>();
    private CuratorCache controllerCache;
    private volatile CuratorCache aliveCache;
    private Future<Void> aliveCacheLoaded;
    private final List<Runnable> liveBrokerListeners = new CopyOnWriteArrayList<>();
    private final List<IntConsumer> controllerListeners = new CopyOnWriteArrayList<>();
    private volatile int cachedController = -1;

    public MetadataStore(Vertx vertx, CuratorFramework curator) {
        this.vertx = vertx;
        this.curator = curator;
    }

    /** Creates the base paths if missing, and moves topics written by an earlier version to per-partition nodes. */
    public Future<Void> init() {
        return blocking(() -> {
            for (String path : List.of(TOPICS, BROKER_IDS, BROKERS_ALIVE)) {
                try {
                    curator.create().creatingParentsIfNeeded().forPath(path);
                } catch (KeeperException.NodeExistsException ignored) {
                    // Another broker or an earlier run made it.
                }
            }
            for (String name : curator.getChildren().forPath(TOPICS)) {
                upgradeTopicNode(name);
            }
            return null;
        });
    }

    /** Rewrites a version 1 topic node (partition states inline) as a version 2 node with a node per partition. */
    private void upgradeTopicNode(String name) throws Exception {
        Stat stat = new Stat();
        JsonObject json;
        try {
            json = json(curator.getData().storingStatIn(stat).forPath(topicPath(name)));
        } catch (KeeperException.NoNodeException deleted) {
            return;
        }
        List<PartitionAssignment> legacy = TopicMetadata.legacyPartitions(json);
        if (legacy.isEmpty()) {
            return;
        }
        TopicMetadata topic = TopicMetadata.fromJson(json, Map.of());
        List<CuratorOp> ops = new ArrayList<>();
        ops.add(curator.transactionOp().setData().withVersion(stat.getVersion())
                .forPath(topicPath(name), bytes(topic.toJson())));
        ops.add(curator.transactionOp().create().forPath(partitionsPath(name)));
        try {
            curator.transaction().forOperations(ops);
            createPartitionNodes(name, legacy);
            LOG.info("Moved the {} partition states of topic {} to their own ZooKeeper nodes", legacy.size(), name);
        } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException raced) {
            // Another broker is upgrading it.
        }
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
            registerAlive(alivePath, broker, data);
            return null;
        });
    }

    /**
     * Creates this broker's ephemeral node under {@code /brokers/alive}. A node left by this broker's previous run
     * (same data directory, its session not expired yet) is replaced; it may expire at any point meanwhile, so a
     * node that vanishes between the calls is simply gone, not an error (a restart once failed on that race).
     */
    private void registerAlive(String alivePath, BrokerInfo broker, byte[] data) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                curator.create().withMode(CreateMode.EPHEMERAL).forPath(alivePath, data);
                return;
            } catch (KeeperException.NodeExistsException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
            BrokerInfo existing;
            try {
                existing = BrokerInfo.fromJson(json(curator.getData().forPath(alivePath)));
            } catch (KeeperException.NoNodeException expired) {
                continue;
            }
            if (!existing.dataDir().equals(broker.dataDir())) {
                throw new MillraceException(ErrorCode.INVALID_CONFIG, "Broker id " + broker.id()
                        + " is already in use by a live broker at " + existing.host() + ":" + existing.tcpPort()
                        + "; give each broker its own broker.id");
            }
            LOG.info("Replacing the registration left by this broker's previous run");
            try {
                curator.delete().forPath(alivePath);
            } catch (KeeperException.NoNodeException expired) {
                // its session ended meanwhile: nothing left to replace
            }
        }
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
                        controllerChanged(brokerId);
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
                            controllerChanged(current);
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

    /**
     * Removes the controller node if broker {@code brokerId} holds it under ZooKeeper session {@code session}: that
     * broker was found dead, and waiting for its session to expire would leave the cluster without a controller
     * meanwhile. The deletion wakes every broker's election.
     */
    public Future<Boolean> removeDeadController(int brokerId, long session) {
        return blocking(() -> {
            Stat stat = new Stat();
            try {
                int holder = json(curator.getData().storingStatIn(stat).forPath(CONTROLLER)).getInteger("brokerId");
                if (holder != brokerId || stat.getEphemeralOwner() != session) {
                    return false;
                }
                curator.delete().withVersion(stat.getVersion()).forPath(CONTROLLER);
                LOG.info("Removed the controller node of dead broker {}", brokerId);
                return true;
            } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
                return false;
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

    /**
     * Creates a topic: its node and one state node per partition. The first transaction creates the topic node, so
     * two brokers racing to create the same name cannot both succeed; a topic of many partitions takes further
     * transactions of {@value #PARTITIONS_PER_TRANSACTION} partition nodes each (ZooKeeper bounds a request's size),
     * and until they land its remaining partitions read as not yet led.
     */
    public Future<Void> createTopic(TopicMetadata topic) {
        return blocking(() -> {
            List<PartitionAssignment> partitions = topic.partitions();
            int first = Math.min(partitions.size(), PARTITIONS_PER_TRANSACTION);
            List<CuratorOp> ops = new ArrayList<>();
            ops.add(curator.transactionOp().create().forPath(topicPath(topic.name()), bytes(topic.toJson())));
            ops.add(curator.transactionOp().create().forPath(partitionsPath(topic.name())));
            for (PartitionAssignment p : partitions.subList(0, first)) {
                ops.add(createPartitionOp(topic.name(), p));
            }
            try {
                curator.transaction().forOperations(ops);
            } catch (KeeperException.NodeExistsException e) {
                throw new MillraceException(ErrorCode.TOPIC_ALREADY_EXISTS, "Topic " + topic.name()
                        + " already exists");
            }
            createPartitionNodes(topic.name(), partitions.subList(first, partitions.size()));
            return null;
        });
    }

    /** Grows a topic: the topic node's partition count (conditional on the count it had) and the new state nodes. */
    public Future<Void> addPartitions(TopicMetadata grown, int previousCount) {
        return blocking(() -> {
            String path = topicPath(grown.name());
            Stat stat = new Stat();
            JsonObject current;
            try {
                current = json(curator.getData().storingStatIn(stat).forPath(path));
            } catch (KeeperException.NoNodeException e) {
                throw unknownTopic(grown.name());
            }
            if (TopicMetadata.partitionCount(current) != previousCount) {
                throw new MillraceException(ErrorCode.INVALID_REQUEST, "Topic " + grown.name()
                        + " changed meanwhile (it now has " + TopicMetadata.partitionCount(current)
                        + " partitions); retry");
            }
            List<PartitionAssignment> added = grown.partitions().subList(previousCount, grown.partitionCount());
            int first = Math.min(added.size(), PARTITIONS_PER_TRANSACTION);
            List<CuratorOp> ops = new ArrayList<>();
            ops.add(curator.transactionOp().setData().withVersion(stat.getVersion())
                    .forPath(path, bytes(grown.toJson())));
            for (PartitionAssignment p : added.subList(0, first)) {
                ops.add(createPartitionOp(grown.name(), p));
            }
            try {
                curator.transaction().forOperations(ops);
            } catch (KeeperException.BadVersionException e) {
                throw new MillraceException(ErrorCode.INVALID_REQUEST, "Topic " + grown.name()
                        + " changed meanwhile; retry");
            }
            createPartitionNodes(grown.name(), added.subList(first, added.size()));
            return null;
        });
    }

    private void createPartitionNodes(String topic, List<PartitionAssignment> partitions) throws Exception {
        for (int from = 0; from < partitions.size(); from += PARTITIONS_PER_TRANSACTION) {
            List<CuratorOp> ops = new ArrayList<>();
            for (PartitionAssignment p : partitions.subList(from,
                    Math.min(partitions.size(), from + PARTITIONS_PER_TRANSACTION))) {
                ops.add(createPartitionOp(topic, p));
            }
            curator.transaction().forOperations(ops);
        }
    }

    private CuratorOp createPartitionOp(String topic, PartitionAssignment p) throws Exception {
        return curator.transactionOp().create().forPath(partitionPath(topic, p.partition()), bytes(p.toJson()));
    }

    /**
     * Deletes a topic: its partition nodes in transactions of {@value #PARTITIONS_PER_TRANSACTION} (one ZooKeeper
     * write, and one log sync on the server, per transaction rather than per partition), then the topic node. Until
     * the topic node goes, the partitions already deleted read as not led, as during a creation.
     */
    public Future<Void> deleteTopic(String name) {
        return blocking(() -> {
            if (curator.checkExists().forPath(topicPath(name)) == null) {
                throw unknownTopic(name);
            }
            List<String> partitions;
            try {
                partitions = curator.getChildren().forPath(partitionsPath(name));
            } catch (KeeperException.NoNodeException deletedMeanwhile) {
                partitions = List.of();
            }
            for (int from = 0; from < partitions.size(); from += PARTITIONS_PER_TRANSACTION) {
                List<CuratorOp> ops = new ArrayList<>();
                for (String p : partitions.subList(from, Math.min(partitions.size(),
                        from + PARTITIONS_PER_TRANSACTION))) {
                    ops.add(curator.transactionOp().delete().forPath(partitionsPath(name) + "/" + p));
                }
                try {
                    curator.transaction().forOperations(ops);
                } catch (KeeperException.NoNodeException raced) {
                    // Another broker is deleting the topic too; what is left goes below.
                }
            }
            try {
                curator.delete().deletingChildrenIfNeeded().forPath(topicPath(name));
            } catch (KeeperException.NoNodeException e) {
                throw unknownTopic(name);
            }
            return null;
        });
    }

    /**
     * Writes a partition's new state if its node is still at {@code next.version()}; completes with the state and
     * its new version, or empty when someone changed it first (re-read it and decide again).
     */
    public Future<Optional<PartitionAssignment>> updatePartition(String topic, PartitionAssignment next) {
        return blocking(() -> {
            try {
                Stat stat = curator.setData().withVersion(next.version())
                        .forPath(partitionPath(topic, next.partition()), bytes(next.toJson()));
                return Optional.of(next.withVersion(stat.getVersion()));
            } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
                return Optional.<PartitionAssignment>empty();
            }
        });
    }

    /**
     * Stores moves to start (or to replace, a cancel included): each one's node is created, or overwritten when the
     * partition is already moving, in transactions of {@value #PARTITIONS_PER_TRANSACTION} moves, so a plan of up to
     * that many lands whole or not at all. Fails with {@code UNKNOWN_TOPIC_OR_PARTITION} when a partition does not
     * exist. The controller, watching the topics, takes them from there.
     */
    public Future<Void> writeReassignments(List<Reassignment> moves) {
        return blocking(() -> {
            for (int from = 0; from < moves.size(); from += PARTITIONS_PER_TRANSACTION) {
                List<CuratorOp> ops = new ArrayList<>();
                for (Reassignment move : moves.subList(from, Math.min(moves.size(),
                        from + PARTITIONS_PER_TRANSACTION))) {
                    if (curator.checkExists().forPath(partitionPath(move.topic(), move.partition())) == null) {
                        throw new MillraceException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + move.topic()
                                + " has no partition " + move.partition());
                    }
                    String parent = topicPath(move.topic()) + "/" + REASSIGNMENTS;
                    try {
                        curator.create().forPath(parent);
                    } catch (KeeperException.NodeExistsException moving) {
                        // Another move of the topic made it.
                    }
                    String path = reassignmentPath(move.topic(), move.partition());
                    byte[] data = bytes(move.toJson());
                    ops.add(curator.checkExists().forPath(path) == null
                            ? curator.transactionOp().create().forPath(path, data)
                            : curator.transactionOp().setData().forPath(path, data));
                }
                try {
                    curator.transaction().forOperations(ops);
                } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException raced) {
                    throw new MillraceException(ErrorCode.INVALID_REQUEST, "A move of the same partitions changed"
                            + " meanwhile, or its topic was deleted; look at the moves in progress and retry");
                }
            }
            return null;
        });
    }

    /** Deletes a finished move's node if it is still at {@code move.version()}; false when it changed or went. */
    public Future<Boolean> deleteReassignment(Reassignment move) {
        return blocking(() -> {
            try {
                curator.delete().withVersion(move.version()).forPath(reassignmentPath(move.topic(), move.partition()));
                return true;
            } catch (KeeperException.BadVersionException | KeeperException.NoNodeException changed) {
                return false;
            }
        });
    }

    /** The move of one partition in progress, as the cache holds it. */
    public Optional<Reassignment> cachedReassignment(String topic, int partition) {
        CuratorCache cache = topicCache;
        if (cache == null) {
            return Optional.empty();
        }
        return cache.get(reassignmentPath(topic, partition)).filter(d -> d.getData() != null && d.getData().length > 0)
                .map(d -> Reassignment.fromJson(topic, partition, json(d.getData()), d.getStat().getVersion()));
    }

    /** Every move in progress as the cache holds it, by topic then partition. */
    public List<Reassignment> cachedReassignments() {
        CuratorCache cache = topicCache;
        if (cache == null) {
            return List.of();
        }
        List<Reassignment> out = new ArrayList<>();
        cache.stream().filter(d -> d.getPath().startsWith(TOPICS + "/") && d.getData() != null
                        && d.getData().length > 0)
                .forEach(d -> {
                    // <topic>/reassignments/<p>: a topic may itself be named "reassignments", so match the shape
                    String[] parts = d.getPath().substring(TOPICS.length() + 1).split("/");
                    if (parts.length == 3 && parts[1].equals(REASSIGNMENTS)) {
                        out.add(Reassignment.fromJson(parts[0], Integer.parseInt(parts[2]), json(d.getData()),
                                d.getStat().getVersion()));
                    }
                });
        out.sort(java.util.Comparator.comparing(Reassignment::topic).thenComparingInt(Reassignment::partition));
        return out;
    }

    /** Every topic, read from ZooKeeper (not the cache). */
    public Future<List<TopicMetadata>> topics() {
        return blocking(() -> {
            List<TopicMetadata> out = new ArrayList<>();
            for (String name : curator.getChildren().forPath(TOPICS)) {
                try {
                    JsonObject topic = json(curator.getData().forPath(topicPath(name)));
                    Map<Integer, PartitionAssignment> states = new HashMap<>();
                    for (String p : curator.getChildren().forPath(partitionsPath(name))) {
                        Stat stat = new Stat();
                        JsonObject state = json(curator.getData().storingStatIn(stat)
                                .forPath(partitionPath(name, Integer.parseInt(p))));
                        states.put(Integer.parseInt(p), PartitionAssignment.fromJson(state, stat.getVersion()));
                    }
                    out.add(TopicMetadata.fromJson(topic, states));
                } catch (KeeperException.NoNodeException deletedMeanwhile) {
                    // Deleted (or still being created) between the listing and the read.
                }
            }
            return out;
        });
    }

    /**
     * Starts the cache of every topic and partition node, kept current by ZooKeeper watches, and calls
     * {@code onChange} (on a ZooKeeper thread, after the cache has the change) with the topic's name whenever a
     * topic or one of its partitions is created, changed or deleted, by any broker. Completes once the cache holds
     * what ZooKeeper held when it started.
     */
    public synchronized Future<Void> watchTopics(Consumer<String> onChange) {
        topicListeners.add(onChange);
        if (topicCache != null) {
            return topicCacheLoaded;
        }
        Promise<Void> initialized = Promise.promise();
        topicCacheLoaded = initialized.future();
        CuratorCache cache = CuratorCache.build(curator, TOPICS);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forAll((type, oldData, data) -> {
                    String path = data != null ? data.getPath() : oldData.getPath();
                    if (path.length() > TOPICS.length() + 1) {
                        String rest = path.substring(TOPICS.length() + 1);
                        int slash = rest.indexOf('/');
                        String topic = slash < 0 ? rest : rest.substring(0, slash);
                        topicListeners.forEach(listener -> listener.accept(topic));
                    }
                })
                .forInitialized(initialized::tryComplete)
                .build());
        topicCache = cache;
        cache.start();
        return topicCacheLoaded;
    }

    /** A topic as the cache holds it now; partitions whose state node is not there yet have no leader. */
    public Optional<TopicMetadata> cachedTopic(String name) {
        CuratorCache cache = topicCache;
        if (cache == null) {
            return Optional.empty();
        }
        Optional<ChildData> node = cache.get(topicPath(name));
        if (node.isEmpty() || node.get().getData() == null) {
            return Optional.empty();
        }
        JsonObject topic = json(node.get().getData());
        int count = TopicMetadata.partitionCount(topic);
        Map<Integer, PartitionAssignment> states = new HashMap<>();
        for (int p = 0; p < count; p++) {
            int partition = p;
            cache.get(partitionPath(name, p)).filter(d -> d.getData() != null && d.getData().length > 0)
                    .ifPresent(d -> states.put(partition, PartitionAssignment.fromJson(json(d.getData()),
                            d.getStat().getVersion())));
        }
        return Optional.of(TopicMetadata.fromJson(topic, states));
    }

    /** The names of every topic the cache holds. */
    public List<String> cachedTopicNames() {
        return cachedTopicNodes().map(node -> node.getPath().substring(TOPICS.length() + 1)).toList();
    }

    /**
     * The partitions of every topic the cache holds, each counted once however many replicas it has. A topic whose
     * creation is still landing counts in full: its topic node, written first, holds its partition count.
     */
    public int cachedPartitionCount() {
        return cachedTopicNodes().filter(node -> node.getData() != null && node.getData().length > 0)
                .mapToInt(node -> TopicMetadata.partitionCount(json(node.getData())))
                .sum();
    }

    /** The cached topic nodes (not their partition nodes); none before {@link #watchTopics} has started. */
    private Stream<ChildData> cachedTopicNodes() {
        CuratorCache cache = topicCache;
        if (cache == null) {
            return Stream.empty();
        }
        String prefix = TOPICS + "/";
        return cache.stream()
                .filter(node -> node.getPath().startsWith(prefix) && node.getPath().indexOf('/', prefix.length()) < 0);
    }

    /**
     * Starts the cache of live brokers and calls {@code onChange} (on a ZooKeeper thread) whenever a broker's
     * registration appears, changes or goes. Completes once the cache is loaded.
     */
    public synchronized Future<Void> watchLiveBrokers(Runnable onChange) {
        liveBrokerListeners.add(onChange);
        if (aliveCache != null) {
            if (aliveCacheLoaded.succeeded()) {
                onChange.run();
            }
            return aliveCacheLoaded;
        }
        Promise<Void> initialized = Promise.promise();
        aliveCacheLoaded = initialized.future();
        CuratorCache cache = CuratorCache.build(curator, BROKERS_ALIVE);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forAll((type, oldData, data) -> liveBrokerListeners.forEach(Runnable::run))
                .forInitialized(() -> {
                    initialized.tryComplete();
                    liveBrokerListeners.forEach(Runnable::run);
                })
                .build());
        aliveCache = cache;
        cache.start();
        return aliveCacheLoaded;
    }

    /** Live brokers as the cache holds them: broker id → the ZooKeeper session that registered it. */
    public Map<Integer, Long> cachedLiveBrokers() {
        CuratorCache cache = aliveCache;
        Map<Integer, Long> out = new HashMap<>();
        if (cache == null) {
            return out;
        }
        String prefix = BROKERS_ALIVE + "/";
        cache.stream().filter(d -> d.getPath().startsWith(prefix)).forEach(d -> out.put(
                Integer.parseInt(d.getPath().substring(prefix.length())), d.getStat().getEphemeralOwner()));
        return out;
    }

    /** Live brokers as the cache holds them, with their registrations. */
    public Map<Integer, LiveBroker> cachedLiveBrokerInfos() {
        CuratorCache cache = aliveCache;
        Map<Integer, LiveBroker> out = new HashMap<>();
        if (cache == null) {
            return out;
        }
        String prefix = BROKERS_ALIVE + "/";
        cache.stream().filter(d -> d.getPath().startsWith(prefix) && d.getData() != null && d.getData().length > 0)
                .forEach(d -> {
                    BrokerInfo info = BrokerInfo.fromJson(json(d.getData()));
                    out.put(info.id(), new LiveBroker(info, d.getStat().getEphemeralOwner()));
                });
        return out;
    }

    /** A live broker's registration and the ZooKeeper session that holds it. */
    public record LiveBroker(BrokerInfo info, long session) {
    }

    /** Calls {@code onChange} (on a ZooKeeper thread) with the controller's id, or -1, whenever it changes. */
    public void onControllerChange(IntConsumer onChange) {
        controllerListeners.add(onChange);
    }

    /** The controller as last seen, -1 when none. */
    public int cachedController() {
        return cachedController;
    }

    private void controllerChanged(int id) {
        cachedController = id;
        controllerListeners.forEach(l -> l.accept(id));
    }

    static String topicPath(String name) {
        return TOPICS + "/" + name;
    }

    static String partitionsPath(String name) {
        return TOPICS + "/" + name + "/partitions";
    }

    static final String REASSIGNMENTS = "reassignments";

    static String reassignmentPath(String name, int partition) {
        return TOPICS + "/" + name + "/" + REASSIGNMENTS + "/" + partition;
    }

    static String partitionPath(String name, int partition) {
        return partitionsPath(name) + "/" + partition;
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
                .forCreatesAndChanges((oldNode, node) -> controllerChanged(json(node.getData()).getInteger("brokerId")))
                .forDeletes(deleted -> {
                    controllerChanged(-1);
                    electController(broker.id())
                            .onSuccess(id -> LOG.info("Controller is now broker {}", id))
                            .onFailure(e -> LOG.warn("Controller election failed: {}", e.getMessage()));
                })
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
        if (aliveCache != null) {
            aliveCache.close();
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
