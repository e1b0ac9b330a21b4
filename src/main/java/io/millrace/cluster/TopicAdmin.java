package io.millrace.cluster;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogLimits;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Topic administration: validates requests, assigns partitions to brokers, and writes the result to ZooKeeper,
 * where every broker's {@link ReplicaManager} picks it up.
 *
 * <p>Assignment spreads leaders round-robin over the live brokers, starting from a rotating position, and places
 * each partition's followers on the next brokers in order, as Apache Kafka's default assignment does. Creating a
 * topic is atomic in ZooKeeper, so two brokers racing to create the same name cannot both succeed.
 *
 * <p>{@code max.partitions} caps the partitions of all topics together, each partition counted once whatever its
 * replication factor. It is checked against this broker's cached view of the topics before anything is written, so
 * a refused request leaves no trace; creates racing on different brokers may together pass it by one request's
 * partitions. Internal topics ({@link #createInternalTopic}) count towards the total but are created regardless: a
 * cluster at its cap must still be able to create {@code __consumer_offsets}, or no consumer group would work.
 * Thread-safe.
 */
public final class TopicAdmin {

    private final MetadataStore store;
    private final ReplicaManager replicaManager;
    private final LogConfig logDefaults;
    private final LogLimits logLimits;
    private final int defaultMinInSyncReplicas;
    private final int maxPartitions;

    /**
     * @param logLimits                what a topic's config may ask of this broker; more is refused at creation
     * @param defaultMinInSyncReplicas the broker's {@code min.insync.replicas}; 0 means "by replication factor": 2
     *                                 for topics of three or more replicas, else 1 (what Kafka's users set)
     * @param maxPartitions            the broker's {@code max.partitions}: most partitions of all topics together
     */
    public TopicAdmin(MetadataStore store, ReplicaManager replicaManager, LogConfig logDefaults, LogLimits logLimits,
                      int defaultMinInSyncReplicas, int maxPartitions) {
        if (maxPartitions < 1) {
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "Config key max.partitions must be at least 1, was "
                    + maxPartitions);
        }
        this.store = store;
        this.replicaManager = replicaManager;
        this.logDefaults = logDefaults;
        this.logLimits = logLimits;
        this.defaultMinInSyncReplicas = defaultMinInSyncReplicas;
        this.maxPartitions = maxPartitions;
    }

    /** The {@code min.insync.replicas} a topic of {@code replicationFactor} replicas gets when it sets none. */
    int defaultMinInSyncReplicas(int replicationFactor) {
        if (defaultMinInSyncReplicas > 0) {
            return Math.min(defaultMinInSyncReplicas, replicationFactor);
        }
        return replicationFactor >= 3 ? 2 : 1;
    }

    /** Creates a topic, within {@code max.partitions}: over it fails with {@code TOO_MANY_PARTITIONS}. */
    public Future<TopicMetadata> createTopic(String name, int partitions, int replicationFactor,
                                             Map<String, String> config) {
        return create(name, partitions, replicationFactor, config, true);
    }

    /** Creates a topic the broker itself needs, such as {@code __consumer_offsets}, even over {@code max.partitions}. */
    public Future<TopicMetadata> createInternalTopic(String name, int partitions, int replicationFactor,
                                                     Map<String, String> config) {
        return create(name, partitions, replicationFactor, config, false);
    }

    private Future<TopicMetadata> create(String name, int partitions, int replicationFactor,
                                         Map<String, String> config, boolean capped) {
        try {
            TopicMetadata.validateName(name);
            if (partitions < 1 || partitions > 100_000) {
                throw new MillraceException(ErrorCode.INVALID_REQUEST, "partitions must be between 1 and 100000, was "
                        + partitions);
            }
            if (replicationFactor < 1) {
                throw new MillraceException(ErrorCode.INVALID_REPLICATION_FACTOR,
                        "replicationFactor must be at least 1, was " + replicationFactor);
            }
            for (String key : config.keySet()) {
                if (!LogConfig.KEYS.contains(key) && !TopicMetadata.CLUSTER_KEYS.contains(key)) {
                    throw new MillraceException(ErrorCode.INVALID_CONFIG, "Unknown topic config key '" + key
                            + "'; known keys: " + LogConfig.KEYS + " and " + TopicMetadata.CLUSTER_KEYS);
                }
            }
            logLimits.check(logDefaults.with(config));
            config = withMinInSyncReplicas(config, replicationFactor);
            if (capped) {
                checkPartitionCap(partitions, "Creating topic " + name);
            }
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        }
        Map<String, String> topicConfig = config;
        return store.liveBrokerIds().compose(live -> {
            if (replicationFactor > live.size()) {
                return Future.failedFuture(new MillraceException(ErrorCode.INVALID_REPLICATION_FACTOR,
                        "Replication factor " + replicationFactor + " is larger than the " + live.size()
                                + " live broker(s) " + live));
            }
            TopicMetadata topic = new TopicMetadata(name, replicationFactor, topicConfig,
                    assign(live, 0, partitions, replicationFactor, Math.abs(name.hashCode())));
            TopicMetadata created = topic.created(0);
            return store.createTopic(topic).compose(v -> replicaManager.sync(created)).map(created);
        });
    }

    public Future<TopicMetadata> addPartitions(String name, int totalPartitions) {
        return Future.succeededFuture(store.cachedTopic(name)).compose(found -> {
            TopicMetadata topic = found.orElseThrow(() -> new MillraceException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                    "Topic " + name + " does not exist"));
            if (totalPartitions <= topic.partitionCount()) {
                return Future.failedFuture(new MillraceException(ErrorCode.INVALID_REQUEST, "Topic " + name
                        + " already has " + topic.partitionCount() + " partitions; the new count must be larger"
                        + " (partitions are never removed)"));
            }
            if (totalPartitions > 100_000) {
                return Future.failedFuture(new MillraceException(ErrorCode.INVALID_REQUEST,
                        "partitions must be at most 100000"));
            }
            checkPartitionCap(totalPartitions - topic.partitionCount(), "Adding "
                    + (totalPartitions - topic.partitionCount()) + " partitions to topic " + name);
            return store.liveBrokerIds().compose(live -> {
                if (topic.replicationFactor() > live.size()) {
                    return Future.failedFuture(new MillraceException(ErrorCode.INVALID_REPLICATION_FACTOR,
                            "Topic " + name + " needs " + topic.replicationFactor() + " replicas but only "
                                    + live.size() + " broker(s) are live"));
                }
                List<PartitionAssignment> partitions = new ArrayList<>(topic.partitions());
                partitions.addAll(assign(live, topic.partitionCount(), totalPartitions - topic.partitionCount(),
                        topic.replicationFactor(), Math.abs(name.hashCode())));
                TopicMetadata grown = new TopicMetadata(name, topic.replicationFactor(), topic.config(), partitions);
                TopicMetadata created = grown.created(topic.partitionCount());
                return store.addPartitions(grown, topic.partitionCount()).compose(v -> replicaManager.sync(created))
                        .map(created);
            });
        });
    }

    /** How many brokers are alive now. */
    public Future<Integer> liveBrokerCount() {
        return store.liveBrokerIds().map(List::size);
    }

    public Future<Void> deleteTopic(String name) {
        return store.deleteTopic(name).compose(v -> replicaManager.syncDeleted(name));
    }

    /** Throws {@code TOO_MANY_PARTITIONS} when {@code adding} more partitions would pass {@code max.partitions}. */
    private void checkPartitionCap(int adding, String what) {
        int existing = store.cachedPartitionCount();
        if ((long) existing + adding > maxPartitions) {
            throw new MillraceException(ErrorCode.TOO_MANY_PARTITIONS, what + " would bring the cluster to "
                    + ((long) existing + adding) + " partitions, over max.partitions=" + maxPartitions + " (it has "
                    + existing + " now, counted once each, not per replica); delete topics, or raise max.partitions"
                    + " together with the brokers' heap (-Xmx, MILLRACE_HEAP_OPTS): each partition takes about 8 KiB"
                    + " of it");
        }
    }

    /** Checks a topic's {@code min.insync.replicas}, or adds the default when it has none. */
    private Map<String, String> withMinInSyncReplicas(Map<String, String> config, int replicationFactor) {
        String value = config.get(TopicMetadata.MIN_INSYNC_REPLICAS);
        if (value == null) {
            Map<String, String> withDefault = new java.util.LinkedHashMap<>(config);
            withDefault.put(TopicMetadata.MIN_INSYNC_REPLICAS,
                    Integer.toString(defaultMinInSyncReplicas(replicationFactor)));
            return withDefault;
        }
        int minIsr;
        try {
            minIsr = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            minIsr = 0;
        }
        if (minIsr < 1 || minIsr > replicationFactor) {
            throw new MillraceException(ErrorCode.INVALID_CONFIG, TopicMetadata.MIN_INSYNC_REPLICAS + " must be"
                    + " between 1 and the replication factor " + replicationFactor + ", was '" + value + "'");
        }
        return config;
    }

    /**
     * Assigns partitions {@code first .. first+count-1}: leaders round-robin, followers on the following brokers.
     * The in-sync set starts as the leader alone: a follower joins it once it has fetched up to the leader's log end,
     * so no replica is ever shown in sync before it holds the data.
     */
    static List<PartitionAssignment> assign(List<Integer> brokers, int first, int count, int replicationFactor,
                                            int seed) {
        List<Integer> sorted = brokers.stream().sorted().toList();
        List<PartitionAssignment> out = new ArrayList<>();
        int n = sorted.size();
        for (int i = 0; i < count; i++) {
            int partition = first + i;
            int start = Math.floorMod(seed + partition, n);
            List<Integer> replicas = new ArrayList<>();
            for (int r = 0; r < replicationFactor; r++) {
                replicas.add(sorted.get((start + r) % n));
            }
            out.add(new PartitionAssignment(partition, replicas, replicas.get(0), 0, List.of(replicas.get(0))));
        }
        return out;
    }
}
