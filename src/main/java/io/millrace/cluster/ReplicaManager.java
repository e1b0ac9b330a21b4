package io.millrace.cluster;

import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionSettings;
import io.millrace.partition.PartitionVerticle;
import io.millrace.storage.LogConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this broker's partition verticles in line with the topic metadata in ZooKeeper: deploys a verticle for every
 * partition this broker leads, undeploys those of deleted topics (and deletes their logs), and passes config changes
 * on. Also holds the broker's cached copy of all topic metadata, refreshed by a ZooKeeper watch, so that reads of
 * metadata never wait for ZooKeeper.
 *
 * <p>Every change runs on this verticle's context, one topic at a time in arrival order; {@link #topics()},
 * {@link #localPartition} and {@link #localPartitionsDown()} may be called from any thread.
 */
public final class ReplicaManager extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicaManager.class);

    private final int brokerId;
    private final Path logsDir;
    private final LogConfig logDefaults;
    private final PartitionSettings partitionSettings;
    private final Time time;
    private final Executor flushExecutor;
    private final MetadataStore store;

    private final Map<String, TopicMetadata> topics = new ConcurrentHashMap<>();
    private final Map<TopicPartition, LocalReplica> replicas = new ConcurrentHashMap<>();
    /** Serialises changes: each sync starts when the previous one finished. */
    private Future<Void> lastSync = Future.succeededFuture();

    public ReplicaManager(int brokerId, Path logsDir, LogConfig logDefaults, PartitionSettings partitionSettings,
                          Time time, Executor flushExecutor, MetadataStore store) {
        this.brokerId = brokerId;
        this.logsDir = logsDir;
        this.logDefaults = logDefaults;
        this.partitionSettings = partitionSettings;
        this.time = time;
        this.flushExecutor = flushExecutor;
        this.store = store;
    }

    @Override
    public Future<?> start() {
        store.watchTopics(name -> context.runOnContext(v -> refresh(name)));
        return store.topics().compose(all -> {
            List<Future<Void>> started = new ArrayList<>();
            for (TopicMetadata topic : all) {
                started.add(apply(topic));
            }
            return Future.all(started);
        });
    }

    /**
     * Nothing to do: the partition verticles were deployed from this verticle's context, so Vert.x undeploys them,
     * each closing its log cleanly, before this verticle stops.
     */
    @Override
    public Future<?> stop() {
        return Future.succeededFuture();
    }

    /** All topics as last seen in ZooKeeper (or written by this broker). */
    public Map<String, TopicMetadata> topics() {
        return Map.copyOf(topics);
    }

    public Optional<TopicMetadata> topic(String name) {
        return Optional.ofNullable(topics.get(name));
    }

    /** The verticle owning {@code tp} on this broker, once it is up. */
    public Optional<PartitionVerticle> localPartition(TopicPartition tp) {
        LocalReplica replica = replicas.get(tp);
        return replica == null || !replica.deployment.succeeded() ? Optional.empty() : Optional.of(replica.verticle);
    }

    /** Every local partition verticle that is up. */
    public List<PartitionVerticle> localPartitions() {
        return replicas.values().stream().filter(r -> r.deployment.succeeded()).map(r -> r.verticle).toList();
    }

    /** Partitions this broker should own whose verticle is not running (yet, or any more). */
    public List<TopicPartition> localPartitionsDown() {
        List<TopicPartition> down = new ArrayList<>();
        for (TopicMetadata topic : topics.values()) {
            for (PartitionAssignment p : topic.partitions()) {
                TopicPartition tp = topic.topicPartition(p.partition());
                if (p.leader() == brokerId && localPartition(tp).isEmpty()) {
                    down.add(tp);
                }
            }
        }
        return down;
    }

    /**
     * Applies metadata this broker just wrote, without waiting for the watch. Completes when every local partition
     * of the topic is up (or, for a deleted topic, gone).
     */
    public Future<Void> sync(TopicMetadata topic) {
        return onContext(() -> apply(topic));
    }

    public Future<Void> syncDeleted(String name) {
        return onContext(() -> applyDeleted(name));
    }

    private Future<Void> onContext(java.util.function.Supplier<Future<Void>> change) {
        io.vertx.core.Promise<Void> promise = io.vertx.core.Promise.promise();
        context.runOnContext(v -> change.get().onComplete(promise));
        return promise.future();
    }

    /**
     * Re-reads one topic after a ZooKeeper watch fired. The read itself waits its turn in the chain of changes, so
     * it always happens after every change applied before it: a refresh can never bring back a topic whose deletion
     * was applied first.
     */
    private void refresh(String name) {
        lastSync = lastSync.transform(ignored -> store.topics().compose(all -> {
            Optional<TopicMetadata> now = all.stream().filter(t -> t.name().equals(name)).findFirst();
            if (now.isPresent()) {
                return deployPartitions(now.get());
            }
            return topics.containsKey(name) ? undeployTopic(name) : Future.<Void>succeededFuture();
        }).recover(e -> {
            LOG.warn("Cannot refresh metadata of topic {}: {}", name, e.getMessage());
            return Future.succeededFuture();
        }));
    }

    private Future<Void> apply(TopicMetadata topic) {
        lastSync = lastSync.transform(ignored -> deployPartitions(topic));
        return lastSync;
    }

    private Future<Void> applyDeleted(String name) {
        lastSync = lastSync.transform(ignored -> undeployTopic(name));
        return lastSync;
    }

    private Future<Void> deployPartitions(TopicMetadata topic) {
        TopicMetadata previous = topics.put(topic.name(), topic);
        LogConfig config = logDefaults.with(topic.config());
        List<Future<?>> deployed = new ArrayList<>();
        for (PartitionAssignment p : topic.partitions()) {
            TopicPartition tp = topic.topicPartition(p.partition());
            LocalReplica existing = replicas.get(tp);
            if (existing != null) {
                if (previous != null && !previous.config().equals(topic.config())) {
                    existing.verticle.updateConfig(config);
                }
                deployed.add(existing.deployment);
                continue;
            }
            if (p.leader() != brokerId) {
                continue;
            }
            PartitionVerticle verticle = new PartitionVerticle(tp, logsDir.resolve(tp.toString()), config, brokerId,
                    p.leaderEpoch(), time, flushExecutor, partitionSettings);
            Future<String> deployment = vertx.deployVerticle(verticle, new DeploymentOptions());
            replicas.put(tp, new LocalReplica(verticle, deployment));
            deployment.onFailure(e -> {
                LOG.error("Cannot start partition {}", tp, e);
                replicas.remove(tp);
            });
            deployed.add(deployment);
        }
        return Future.all(deployed).mapEmpty();
    }

    private Future<Void> undeployTopic(String name) {
        topics.remove(name);
        Map<TopicPartition, LocalReplica> gone = new HashMap<>();
        replicas.forEach((tp, replica) -> {
            if (tp.topic().equals(name)) {
                gone.put(tp, replica);
            }
        });
        List<Future<?>> removed = new ArrayList<>();
        gone.forEach((tp, replica) -> {
            replicas.remove(tp);
            replica.verticle.deleteLogOnStop();
            removed.add(replica.deployment.compose(vertx::undeploy));
        });
        if (!gone.isEmpty()) {
            LOG.info("Deleted topic {}: removed {} local partitions", name, gone.size());
        }
        return Future.join(removed).mapEmpty();
    }

    private record LocalReplica(PartitionVerticle verticle, Future<String> deployment) {
    }
}
