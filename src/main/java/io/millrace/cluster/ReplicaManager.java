package io.millrace.cluster;

import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionSettings;
import io.millrace.partition.ReplicaAssignment;
import io.millrace.partition.PartitionVerticle;
import io.millrace.partition.RetentionSweep;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogLimits;
import io.millrace.storage.StorageHealth;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this broker's partition verticles in line with the metadata in ZooKeeper: deploys a verticle for every
 * partition this broker holds a replica of, tells each verticle its partition's state whenever it changes (leader,
 * epoch, in-sync set: the verticle leads or follows accordingly), undeploys those of deleted topics (and deletes
 * their logs), and passes config changes on. Also holds the broker's cached copy of all topic metadata, kept
 * current by ZooKeeper watches, so that reads of metadata never wait for ZooKeeper. Leaders record in-sync set
 * changes through it ({@link IsrWriter}).
 *
 * <p>A partition whose log cannot be opened (its data directory full or read-only, a file it cannot read) is not left
 * down until a restart: the open is retried with a doubling back-off, from {@code partition.open.retry.backoff.ms}
 * up to {@code partition.open.retry.backoff.max.ms}, for as long as this broker should hold it. Meanwhile it counts
 * as down ({@link #localPartitionsDown()}), and the change that asked for it (a topic creation, start-up) completes
 * without waiting for it.
 *
 * <p>Retention runs from here too: one {@link RetentionSweep} asks every local partition in turn every
 * {@code log.retention.check.interval.ms}, rather than each partition keeping a timer of its own.
 *
 * <p>Every change runs on this verticle's context, one topic at a time in arrival order; {@link #topics()},
 * {@link #localPartition} and {@link #localPartitionsDown()} may be called from any thread.
 */
public final class ReplicaManager extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicaManager.class);

    private final int brokerId;
    private final Path logsDir;
    private final LogConfig logDefaults;
    private final LogLimits logLimits;
    private final PartitionSettings partitionSettings;
    private final Time time;
    private final Executor flushExecutor;
    private final MetadataStore store;
    private final StorageHealth storage;
    private final long openRetryBackoffMs;
    private final long openRetryBackoffMaxMs;

    private final Map<String, TopicMetadata> topics = new ConcurrentHashMap<>();
    private final Map<TopicPartition, LocalReplica> replicas = new ConcurrentHashMap<>();
    /** Local replicas whose log failed to open and has not opened since: down, unlike those opening the first time. */
    private final Set<TopicPartition> failedOpens = ConcurrentHashMap.newKeySet();
    private volatile ReplicationMetrics metrics;
    /** Serialises changes: each sync starts when the previous one finished. */
    private Future<Void> lastSync = Future.succeededFuture();
    /**
     * Topics with a refresh waiting in the chain that has not read the cache yet. Creating or deleting a topic of N
     * partitions fires N watch events; each refresh reads all N partitions, so one refresh per event would cost N².
     * A waiting refresh reads the cache when it runs, so it covers every event that arrives before then.
     */
    private final Set<String> refreshesWaiting = new HashSet<>();
    /** Written on this verticle's context only; volatile for {@link #topicsReread()}. */
    private volatile long topicsReread;
    /** Set once the broker stops: metadata that arrives after it opens no partition and changes none. */
    private volatile boolean stopping;
    /** Created at start, on this verticle's context. */
    private RetentionSweep retention;

    /**
     * @param logLimits             what a topic's config may ask of this broker: a topic stored asking for more
     *                              (created before the bound, or on a broker with a larger one) gets the bound, with a
     *                              warning
     * @param storage               the state of the data directory holding {@code logsDir}
     * @param openRetryBackoffMs    first pause before opening a partition that failed to open again
     * @param openRetryBackoffMaxMs longest pause between attempts (the pause doubles up to it)
     */
    public ReplicaManager(int brokerId, Path logsDir, LogConfig logDefaults, LogLimits logLimits,
                          PartitionSettings partitionSettings, Time time, Executor flushExecutor,
                          MetadataStore store, StorageHealth storage, long openRetryBackoffMs,
                          long openRetryBackoffMaxMs) {
        this.brokerId = brokerId;
        this.logsDir = logsDir;
        this.logDefaults = logDefaults;
        this.logLimits = logLimits;
        this.partitionSettings = partitionSettings;
        this.time = time;
        this.flushExecutor = flushExecutor;
        this.store = store;
        this.storage = storage;
        this.openRetryBackoffMs = openRetryBackoffMs;
        this.openRetryBackoffMaxMs = openRetryBackoffMaxMs;
    }

    /** The state of the data directory this broker's partitions live in. */
    public StorageHealth storage() {
        return storage;
    }

    /**
     * Deploys the replicas the metadata holds now. The cache's first load completes on a ZooKeeper thread, so the
     * deployment hops onto this verticle's context first: every change to {@code replicas} happens there.
     */
    @Override
    public Future<?> start() {
        io.vertx.core.Promise<Void> started = io.vertx.core.Promise.promise();
        store.watchTopics(name -> context.runOnContext(v -> refresh(name))).onComplete(loaded ->
                context.runOnContext(v -> {
                    if (loaded.failed()) {
                        started.fail(loaded.cause());
                        return;
                    }
                    List<Future<Void>> deployed = new ArrayList<>();
                    for (String name : store.cachedTopicNames()) {
                        store.cachedTopic(name).ifPresent(topic -> deployed.add(apply(topic)));
                    }
                    retention = new RetentionSweep(vertx, partitionSettings.retentionCheckMs(), this::localPartitions);
                    retention.start();
                    Future.all(deployed).<Void>mapEmpty().onComplete(started);
                }));
        return started.future();
    }

    /**
     * The broker is stopping: from now on no partition verticle is opened (a new topic, a replica moved here, a
     * failed open tried again) and no running one is handed a new assignment, so nothing starts, or changes, between
     * the partitions' stop and the process's exit. Any thread; the broker calls it before it undeploys anything.
     */
    public void beginStop() {
        stopping = true;
    }

    /**
     * Stops the retention sweep. The partition verticles were deployed from this verticle's context, so Vert.x
     * undeploys them, each closing its log cleanly, before this verticle stops.
     */
    @Override
    public Future<?> stop() {
        if (retention != null) {
            retention.stop();
        }
        return Future.succeededFuture();
    }

    /**
     * How many times a watch event made this broker re-read the metadata of a topic that exists, each a read of all
     * its partitions (any thread).
     */
    long topicsReread() {
        return topicsReread;
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
        return replica == null || replica.deployment.failed() ? Optional.empty() : Optional.of(replica.verticle);
    }

    /** Every local partition verticle that is up. */
    public List<PartitionVerticle> localPartitions() {
        return replicas.values().stream().filter(r -> r.deployment.succeeded()).map(r -> r.verticle).toList();
    }

    /**
     * Partitions this broker holds a replica of whose log failed to open and that have not opened since: waiting for
     * their next attempt, or in it.
     */
    public List<TopicPartition> localPartitionsDown() {
        return localPartitionsWhere(failedOpens::contains);
    }

    /**
     * Partitions whose verticle is being opened for the first time now: a topic just created, a replica just moved
     * here. Not down: a broker opening a new partition still serves all the others.
     */
    public List<TopicPartition> localPartitionsOpening() {
        return localPartitionsWhere(tp -> !failedOpens.contains(tp) && localPartition(tp).isEmpty());
    }

    private List<TopicPartition> localPartitionsWhere(Predicate<TopicPartition> state) {
        List<TopicPartition> matching = new ArrayList<>();
        for (TopicMetadata topic : topics.values()) {
            for (PartitionAssignment p : topic.partitions()) {
                TopicPartition tp = topic.topicPartition(p.partition());
                if (p.replicas().contains(brokerId) && state.test(tp)) {
                    matching.add(tp);
                }
            }
        }
        return matching;
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
        if (!refreshesWaiting.add(name)) {
            return;
        }
        lastSync = lastSync.transform(ignored -> {
            refreshesWaiting.remove(name);
            Optional<TopicMetadata> now = store.cachedTopic(name);
            if (now.isPresent()) {
                topicsReread++;
                return deployPartitions(now.get());
            }
            return topics.containsKey(name) ? undeployTopic(name) : Future.<Void>succeededFuture();
        }).recover(e -> {
            LOG.warn("Cannot apply the metadata of topic {}: {}", name, e.getMessage());
            return Future.succeededFuture();
        });
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
        if (stopping) {
            LOG.debug("Broker {} is stopping; ignoring new metadata of topic {}", brokerId, topic.name());
            return Future.succeededFuture();
        }
        TopicMetadata previous = topics.get(topic.name());
        LogConfig asked = logDefaults.with(topic.config());
        LogConfig config = logLimits.clamp(asked);
        if (!config.equals(asked) && (previous == null || !previous.config().equals(topic.config()))) {
            LOG.warn("Topic {} asks for {}={}, more than this broker can carry ({}); its partitions here use {}",
                    topic.name(), LogConfig.MAX_MESSAGE_BYTES, asked.maxMessageBytes(), logLimits.reason(),
                    config.maxMessageBytes());
        }
        List<Future<?>> deployed = new ArrayList<>();
        for (PartitionAssignment p : topic.partitions()) {
            TopicPartition tp = topic.topicPartition(p.partition());
            LocalReplica existing = replicas.get(tp);
            if (existing != null) {
                if (previous != null && !previous.config().equals(topic.config())) {
                    existing.verticle.updateConfig(config);
                }
                if (!p.replicas().isEmpty() && !p.replicas().contains(brokerId)) {
                    deployed.add(removeReplica(tp, existing));
                    continue;
                }
                if (p.version() >= 0 && !handedOver(previous, topic, p)) {
                    existing.verticle.applyAssignment(toReplicaAssignment(topic, p));
                }
                deployed.add(existing.deployment);
                continue;
            }
            if (!p.replicas().contains(brokerId)) {
                continue;
            }
            deployed.add(openReplica(topic, p, config, openRetryBackoffMs));
        }
        // Published once every local replica of it has an entry: /health, on another thread, reads the topic's
        // partitions and would count those still to come in this loop as down.
        topics.put(topic.name(), topic);
        return Future.all(deployed).mapEmpty();
    }

    /**
     * Deploys the verticle of a local replica. Completes when it is up, or when it failed and a new attempt is
     * scheduled in {@code retryDelayMs}: one partition that cannot open must not fail the change that asked for it.
     */
    private Future<Void> openReplica(TopicMetadata topic, PartitionAssignment p, LogConfig config, long retryDelayMs) {
        TopicPartition tp = topic.topicPartition(p.partition());
        PartitionVerticle verticle = new PartitionVerticle(tp, logsDir.resolve(tp.toString()), config, brokerId,
                toReplicaAssignment(topic, p), time, flushExecutor, partitionSettings, this::writeIsr, storage);
        Future<String> deployment = vertx.deployVerticle(verticle, new DeploymentOptions());
        LocalReplica replica = new LocalReplica(verticle, deployment);
        replicas.put(tp, replica);
        return deployment.<Void>mapEmpty().onSuccess(v -> failedOpens.remove(tp)).recover(e -> {
            failedOpens.add(tp);
            replicas.remove(tp, replica);
            storage.recordFailure(e);
            LOG.error("Cannot open partition {}; trying again in {} ms", tp, retryDelayMs, e);
            vertx.setTimer(retryDelayMs, id -> reopen(tp, Math.min(retryDelayMs * 2, openRetryBackoffMaxMs)));
            return Future.succeededFuture();
        });
    }

    /** Opens a replica that failed to open, if this broker still holds it and nothing opened it meanwhile. */
    private void reopen(TopicPartition tp, long nextRetryDelayMs) {
        lastSync = lastSync.transform(ignored -> {
            TopicMetadata topic = topics.get(tp.topic());
            if (stopping) {
                return Future.succeededFuture();
            }
            if (topic == null || tp.partition() >= topic.partitionCount()
                    || !topic.partition(tp.partition()).replicas().contains(brokerId)) {
                failedOpens.remove(tp);
                return Future.succeededFuture();
            }
            if (replicas.containsKey(tp)) {
                return Future.succeededFuture();
            }
            return openReplica(topic, topic.partition(tp.partition()), logDefaults.with(topic.config()),
                    nextRetryDelayMs);
        });
    }

    /** A replica this broker no longer holds (the partition moved away): stop it and delete its log. */
    private Future<Void> removeReplica(TopicPartition tp, LocalReplica replica) {
        replicas.remove(tp);
        failedOpens.remove(tp);
        replica.verticle.deleteLogOnStop();
        LOG.info("Partition {} no longer has a replica on broker {}; deleting it here", tp, brokerId);
        return replica.deployment.compose(vertx::undeploy);
    }

    /**
     * Whether the verticle already has {@code p}: the previous metadata applied held the same state and config. A
     * refresh of a topic of many partitions, after a change to a few, then posts work to those few verticles only.
     */
    private static boolean handedOver(TopicMetadata previous, TopicMetadata topic, PartitionAssignment p) {
        return previous != null && previous.config().equals(topic.config())
                && p.partition() < previous.partitionCount() && previous.partition(p.partition()).equals(p);
    }

    /** The verticle's view of {@code p}; {@code adding} while a reassignment in progress adds this broker. */
    private ReplicaAssignment toReplicaAssignment(TopicMetadata topic, PartitionAssignment p) {
        // Without a metadata store (a partition hosted by a test, not a broker) nothing is being reassigned.
        boolean adding = store != null && store.cachedReassignment(topic.name(), p.partition())
                .filter(move -> move.adding().contains(brokerId)).isPresent();
        return new ReplicaAssignment(p.leader(), p.leaderEpoch(), p.replicas(), p.isr(), p.version(),
                topic.minInSyncReplicas(), adding);
    }

    /** Stores a leader's new in-sync set, if the partition's state is still the one the leader saw. */
    private Future<Optional<ReplicaAssignment>> writeIsr(TopicPartition tp, ReplicaAssignment next) {
        PartitionAssignment stored = new PartitionAssignment(tp.partition(), next.replicas(), next.leader(),
                next.leaderEpoch(), next.isr(), next.version());
        int before = topic(tp.topic()).filter(t -> tp.partition() < t.partitionCount())
                .map(t -> t.partition(tp.partition()).isr().size()).orElse(next.isr().size());
        return store.updatePartition(tp.topic(), stored).map(written -> {
            written.ifPresent(p -> {
                ReplicationMetrics m = metrics;
                if (m != null) {
                    m.isrChanged(before, p.isr().size());
                }
            });
            return written.map(p -> new ReplicaAssignment(p.leader(), p.leaderEpoch(), p.replicas(), p.isr(),
                    p.version(), next.minInSyncReplicas()));
        });
    }

    /** Partitions of any topic that have no leader now (as this broker's metadata shows). */
    public long offlinePartitionCount() {
        return topics.values().stream().flatMap(t -> t.partitions().stream())
                .filter(p -> p.version() >= 0 && !p.hasLeader()).count();
    }

    /** Where in-sync set changes are counted; set once at start-up. */
    public void metrics(ReplicationMetrics metrics) {
        this.metrics = metrics;
    }

    private Future<Void> undeployTopic(String name) {
        topics.remove(name);
        failedOpens.removeIf(tp -> tp.topic().equals(name));
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
