package io.millrace.broker;

import io.millrace.storage.StorageHealth;
import io.millrace.cluster.ClusterController;
import io.millrace.cluster.TopicAdmin;
import io.millrace.cluster.MetadataStore;
import io.millrace.cluster.PartitionAssignment;
import io.millrace.cluster.ReplicaManager;
import io.millrace.cluster.TopicMetadata;
import io.millrace.common.EpochEndOffset;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.group.vertx.GroupCoordinatorVerticle;
import io.millrace.group.GroupCoordinator;
import io.millrace.group.GroupListing;
import io.millrace.group.JoinRequest;
import io.millrace.group.JoinResult;
import io.millrace.group.OffsetAndMetadata;
import io.millrace.group.OffsetsTopic;
import io.millrace.partition.Acks;
import io.millrace.partition.LocalCodec;
import io.millrace.partition.OffsetSpec;
import io.millrace.partition.PartitionAddress;
import io.millrace.partition.PartitionRequest;
import io.millrace.partition.PartitionResponse;
import io.millrace.partition.PartitionStats;
import io.millrace.partition.PartitionVerticle;
import io.millrace.record.CompressionType;
import io.millrace.record.Partitioner;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.OptionalLong;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The broker API over this broker's cluster view: admin goes through the {@link TopicAdmin}, data calls go to the
 * partition verticle over the event bus with the {@link LocalCodec}, so same-node calls pass objects by reference.
 * Thread-safe; results complete on the caller's context.
 */
public final class BrokerService implements Broker {

    /** Extra time beyond a fetch's own wait before the event bus gives up on the partition. */
    private static final long FETCH_TIMEOUT_SLACK_MS = 5_000;

    private final Vertx vertx;
    private final int brokerId;
    private final MetadataStore store;
    private final ReplicaManager replicas;
    private final TopicAdmin topicAdmin;
    private final BrokerSettings settings;
    private final Time time;
    private final AtomicInteger stickyPartition = new AtomicInteger();
    /** Names withdrawable fetches; unique on this broker, which is the only sender to its partition verticles. */
    private final AtomicLong nextFetchId = new AtomicLong(PartitionRequest.Fetch.UNNAMED);
    private final BrokerMetrics metrics;
    /** Producer ids reserved in ZooKeeper and not yet handed out: [nextProducerId, producerIdLimit). */
    private long nextProducerId;
    private long producerIdLimit;
    private static final int PRODUCER_ID_BLOCK = 1000;
    /** Set once at start-up; null until then. */
    private volatile ClusterController clusterController;
    /** Set once at start-up, before front-ends start; null until then (group calls then fail). */
    private volatile GroupCoordinatorVerticle groups;
    /** Set when the broker begins to shut down: data requests are refused from then on. */
    private volatile boolean shuttingDown;
    private final Reassignments reassignments;

    public BrokerService(Vertx vertx, int brokerId, MetadataStore store, ReplicaManager replicas,
                         TopicAdmin topicAdmin, BrokerSettings settings, Time time, BrokerMetrics metrics) {
        this.metrics = metrics;
        this.vertx = vertx;
        this.brokerId = brokerId;
        this.store = store;
        this.replicas = replicas;
        this.topicAdmin = topicAdmin;
        this.settings = settings;
        this.time = time;
        this.reassignments = new ReassignmentService(store);
    }

    @Override
    public Reassignments reassignments() {
        return reassignments;
    }

    @Override
    public int brokerId() {
        return brokerId;
    }

    @Override
    public Future<TopicDescription> createTopic(NewTopic topic) {
        return topicAdmin.createTopic(topic.name(), topic.partitions().orElse(settings.defaultPartitions()),
                topic.replicationFactor().orElse(settings.defaultReplicationFactor()), topic.config())
                .map(this::describe);
    }

    @Override
    public Future<List<String>> listTopics() {
        // Internal topics are left out, as Kafka's admin client lists them only when asked; describe finds them.
        return Future.succeededFuture(replicas.topics().keySet().stream().filter(name -> !isInternal(name)).sorted()
                .toList());
    }

    private static boolean isInternal(String topic) {
        return OffsetsTopic.NAME.equals(topic);
    }

    @Override
    public Future<TopicDescription> describeTopic(String name) {
        try {
            return Future.succeededFuture(describe(topic(name)));
        } catch (MillraceException e) {
            GroupCoordinatorVerticle coordinator = groups;
            if (OffsetsTopic.NAME.equals(name) && coordinator != null) {
                // A client looking for a group coordinator: the offsets topic is created on first use.
                coordinator.ensureOffsetsTopic();
            }
            return Future.failedFuture(e);
        }
    }

    @Override
    public Future<TopicDescription> addPartitions(String name, int totalPartitions) {
        return guarded(() -> {
            TopicMetadata.validateName(name);
            return topicAdmin.addPartitions(name, totalPartitions).map(this::describe);
        });
    }

    @Override
    public Future<Void> deleteTopic(String name) {
        return guarded(() -> {
            // The name becomes a ZooKeeper path: "../x" must never get that far.
            TopicMetadata.validateName(name);
            return topicAdmin.deleteTopic(name);
        });
    }

    @Override
    public Future<List<BrokerDescription>> brokers() {
        ClusterController controller = clusterController;
        return store.brokers().compose(all -> store.controller().map(controllerId -> all.stream()
                .map(b -> new BrokerDescription(b.info().id(), b.info().host(), b.info().httpPort(),
                        b.info().tcpPort(), b.alive() && (controller == null || controller.liveBrokers()
                        .contains(b.info().id())), controllerId.orElse(-1) == b.info().id(),
                        b.info().kafkaHost(), b.info().kafkaPort()))
                .toList()));
    }

    @Override
    public Future<Integer> electPreferredLeaders() {
        ClusterController controller = clusterController;
        if (controller == null) {
            return Future.failedFuture(new MillraceException(ErrorCode.BROKER_OVERLOADED, "The broker is starting"));
        }
        if (controller.isActive()) {
            return controller.electPreferredLeaders();
        }
        int controllerId = store.cachedController();
        return Future.failedFuture(new MillraceException(ErrorCode.NOT_LEADER, "Broker " + brokerId
                + " is not the controller" + (controllerId >= 0 ? "; broker " + controllerId + " is: ask it" : "")));
    }

    /**
     * Refuses produce, fetch and offset lookups from now on with NOT_LEADER saying that this broker is shutting down,
     * so that clients move to the partition's next leader instead of starting what the stopping partitions cannot
     * finish. Called first at shutdown.
     */
    public void beginShutdown() {
        shuttingDown = true;
    }

    /** Wires the controller's duties in; called once at start-up. */
    public void clusterController(ClusterController controller) {
        this.clusterController = controller;
    }

    @Override
    public Future<ProduceResult> produce(TopicPartition tp, RecordBatch batch, Acks acks, int currentLeaderEpoch) {
        return topicForProduce(tp.topic()).compose(topic -> {
            requireLeaderHere(topic, tp);
            int records = batch.recordCount();
            int bytes = batch.sizeInBytes();
            PartitionRequest.Produce request = new PartitionRequest.Produce(batch, acks, currentLeaderEpoch);
            if (acks == Acks.NONE) {
                vertx.eventBus().send(PartitionAddress.of(tp), request,
                        PartitionAddress.delivery(settings.requestTimeoutMs()));
                metrics.recordsIn(tp.topic(), records, bytes);
                return Future.succeededFuture(new ProduceResult(tp, -1, -1, java.util.OptionalLong.empty(), -1));
            }
            long start = System.nanoTime();
            return this.<PartitionResponse.Produced>ask(tp, request, settings.requestTimeoutMs())
                    .map(p -> {
                        metrics.recordsIn(tp.topic(), records, bytes);
                        metrics.requestLatency("produce", System.nanoTime() - start);
                        return new ProduceResult(tp, p.baseOffset(), p.lastOffset(), p.logAppendTime(),
                                p.logStartOffset());
                    });
        });
    }

    @Override
    public Future<List<RecordMetadata>> produceRecords(String topicName, List<NewRecord> records, Acks acks) {
        if (records.isEmpty()) {
            return Future.failedFuture(new MillraceException(ErrorCode.INVALID_REQUEST, "No records to produce"));
        }
        return topicForProduce(topicName).compose(topic -> {
            int partitions = topic.partitionCount();
            int sticky = Math.floorMod(stickyPartition.getAndIncrement(), partitions);
            long now = time.milliseconds();
            Map<Integer, RecordBatchBuilder> builders = new LinkedHashMap<>();
            Map<Integer, List<Integer>> indexes = new LinkedHashMap<>();
            int[] partitionOf = new int[records.size()];
            for (int i = 0; i < records.size(); i++) {
                NewRecord record = records.get(i);
                int partition = choosePartition(record, partitions, sticky, topicName);
                partitionOf[i] = partition;
                builders.computeIfAbsent(partition,
                        p -> new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0))
                        .append(record.timestamp().orElse(now), record.key(), record.value(), record.headers());
                indexes.computeIfAbsent(partition, p -> new ArrayList<>()).add(i);
            }
            Map<Integer, Future<ProduceResult>> results = new LinkedHashMap<>();
            builders.forEach((partition, builder) -> results.put(partition,
                    produce(new TopicPartition(topicName, partition), builder.build(), acks)));
            return Future.all(new ArrayList<>(results.values())).map(all -> {
                RecordMetadata[] out = new RecordMetadata[records.size()];
                results.forEach((partition, future) -> {
                    ProduceResult result = future.result();
                    List<Integer> positions = indexes.get(partition);
                    for (int k = 0; k < positions.size(); k++) {
                        int i = positions.get(k);
                        long offset = result.baseOffset() < 0 ? -1 : result.baseOffset() + k;
                        long timestamp = result.logAppendTime().orElse(records.get(i).timestamp().orElse(now));
                        out[i] = new RecordMetadata(topicName, partitionOf[i], offset, timestamp);
                    }
                });
                return List.of(out);
            });
        });
    }

    private static int choosePartition(NewRecord record, int partitions, int sticky, String topic) {
        OptionalInt explicit = record.partition();
        if (explicit.isPresent()) {
            int p = explicit.getAsInt();
            if (p < 0 || p >= partitions) {
                throw new MillraceException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + topic
                        + " has no partition " + p + " (it has " + partitions + ")");
            }
            return p;
        }
        return record.key() == null ? sticky : Partitioner.partitionForKey(record.key(), partitions);
    }

    @Override
    public Future<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, long maxWaitMs,
                                     int currentLeaderEpoch) {
        return fetch(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch, true);
    }

    /** A fetch; {@code countOut} is false for subscriptions, which count what their subscriber actually took. */
    Future<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch,
                              boolean countOut) {
        return fetch(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch, countOut, PartitionRequest.Fetch.UNNAMED);
    }

    /**
     * A fetch for a subscription, which may withdraw it when it no longer wants the answer (see
     * {@link PendingFetch}).
     */
    PendingFetch withdrawableFetch(TopicPartition tp, long offset, int maxBytes, long maxWaitMs,
                                   int currentLeaderEpoch) {
        long fetchId = nextFetchId.incrementAndGet();
        Future<FetchResult> result = fetch(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch, false, fetchId);
        return new PendingFetch(result, () -> {
            if (!result.isComplete()) {
                vertx.eventBus().send(PartitionAddress.of(tp), new PartitionRequest.CancelFetch(fetchId),
                        PartitionAddress.delivery(settings.requestTimeoutMs()));
            }
        });
    }

    private Future<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, long maxWaitMs,
                                      int currentLeaderEpoch, boolean countOut, long fetchId) {
        try {
            requireLeaderHere(topic(tp.topic()), tp);
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        }
        long wait = Math.max(0, Math.min(maxWaitMs, settings.maxFetchWaitMs()));
        PartitionRequest.Fetch request = new PartitionRequest.Fetch(offset, maxBytes, wait, currentLeaderEpoch,
                fetchId);
        return this.<PartitionResponse.Fetched>ask(tp, request, wait + FETCH_TIMEOUT_SLACK_MS)
                .map(f -> {
                    if (countOut && !f.records().isEmpty()) {
                        metrics.recordsOut(tp.topic(), f.records().nextOffset() - Math.max(offset,
                                f.records().firstOffset()), f.records().sizeInBytes());
                    }
                    return new FetchResult(tp, f.records(), f.highWatermark(), f.logStartOffset(), f.logEndOffset());
                });
    }

    @Override
    public Future<ResolvedOffset> listOffset(TopicPartition tp, OffsetSpec spec, int currentLeaderEpoch) {
        return this.<PartitionResponse.Offset>askLeader(tp, new PartitionRequest.ListOffset(spec, currentLeaderEpoch))
                .map(o -> new ResolvedOffset(o.offset(), o.timestamp()));
    }

    @Override
    public Future<Long> deleteRecords(TopicPartition tp, long offset) {
        return this.<PartitionResponse.Status>askLeader(tp, new PartitionRequest.DeleteRecords(offset))
                .map(PartitionResponse.Status::logStartOffset);
    }

    @Override
    public Future<EpochEndOffset> endOffsetForEpoch(TopicPartition tp, int leaderEpoch, int currentLeaderEpoch) {
        return askLeader(tp, new PartitionRequest.EndOffsetForEpoch(leaderEpoch, currentLeaderEpoch));
    }

    /** Asks the partition, which this broker must lead as far as its metadata knows, within the request timeout. */
    private <T> Future<T> askLeader(TopicPartition tp, PartitionRequest request) {
        try {
            requireLeaderHere(topic(tp.topic()), tp);
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        }
        return ask(tp, request, settings.requestTimeoutMs());
    }

    @Override
    public Subscription subscribe(TopicPartition tp, long startOffset, int maxBytesPerFetch, int currentLeaderEpoch,
                                  Subscription.Handler handler) {
        return new PartitionSubscription(this, metrics, tp, startOffset, maxBytesPerFetch, settings.maxFetchWaitMs(),
                currentLeaderEpoch, handler);
    }

    @Override
    public synchronized Future<ProducerIdentity> initProducerId() {
        if (nextProducerId < producerIdLimit) {
            return Future.succeededFuture(new ProducerIdentity(nextProducerId++, (short) 0));
        }
        return store.allocateProducerIds(PRODUCER_ID_BLOCK).compose(first -> {
            synchronized (this) {
                if (nextProducerId >= producerIdLimit) {
                    nextProducerId = first;
                    producerIdLimit = first + PRODUCER_ID_BLOCK;
                }
                return Future.succeededFuture(new ProducerIdentity(nextProducerId++, (short) 0));
            }
        });
    }

    /** Wires the group coordinator in; called once at start-up, after it has loaded and before front-ends start. */
    public void groupCoordinator(GroupCoordinatorVerticle coordinator) {
        this.groups = coordinator;
    }

    private GroupCoordinatorVerticle groups() {
        GroupCoordinatorVerticle g = groups;
        if (g == null) {
            throw new MillraceException(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, "The group coordinator is starting");
        }
        return g;
    }

    private static <T> Future<T> guarded(java.util.function.Supplier<Future<T>> call) {
        try {
            return call.get();
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        }
    }

    @Override
    public Future<JoinResult> joinGroup(JoinRequest request) {
        return guarded(() -> {
            GroupCoordinator.validateGroupId(request.groupId());
            request.topics().forEach(TopicMetadata::validateName);
            return groups().join(request);
        });
    }

    @Override
    public Future<Void> heartbeat(String groupId, String memberId, int generation) {
        return guarded(() -> groups().heartbeat(groupId, memberId, generation));
    }

    @Override
    public Future<Void> leaveGroup(String groupId, String memberId) {
        return guarded(() -> groups().leave(groupId, memberId));
    }

    @Override
    public Future<Void> commitOffsets(String groupId, String memberId, int generation,
                                      Map<TopicPartition, OffsetAndMetadata> offsets) {
        return guarded(() -> {
            validateGroupAndTopics(groupId, offsets.keySet());
            return groups().commitOffsets(groupId, memberId, generation, offsets);
        });
    }

    @Override
    public Future<Map<TopicPartition, OffsetAndMetadata>> fetchOffsets(String groupId,
                                                                      Collection<TopicPartition> partitions) {
        return guarded(() -> {
            validateGroupAndTopics(groupId, partitions);
            return groups().fetchOffsets(groupId, partitions);
        });
    }

    @Override
    public Future<List<GroupListing>> listGroups() {
        return guarded(() -> groups().listGroups());
    }

    @Override
    public Future<GroupDetails> describeGroup(String groupId) {
        return guarded(() -> {
            GroupCoordinator.validateGroupId(groupId);
            return groups().describeGroup(groupId);
        }).map(description -> new GroupDetails(description,
                description.lag(this::highWatermark)));
    }

    /** The high watermark of a partition led here (today: every partition), for lag. */
    private OptionalLong highWatermark(TopicPartition tp) {
        return replicas.localPartition(tp).map(p -> OptionalLong.of(p.stats().highWatermark()))
                .orElse(OptionalLong.empty());
    }

    @Override
    public Future<Void> resetOffsets(String groupId, Map<TopicPartition, Long> offsets) {
        return guarded(() -> {
            validateGroupAndTopics(groupId, offsets.keySet());
            return groups().resetOffsets(groupId, offsets);
        });
    }

    @Override
    public Future<Void> deleteGroup(String groupId) {
        return guarded(() -> {
            GroupCoordinator.validateGroupId(groupId);
            return groups().deleteGroup(groupId);
        });
    }

    /**
     * Refuses a bad group id or topic name (INVALID_GROUP_ID, INVALID_TOPIC) before the request is routed: committed
     * offsets are kept by topic name, and a name no topic can have would only be stored to be ignored.
     */
    private static void validateGroupAndTopics(String groupId, Collection<TopicPartition> partitions) {
        GroupCoordinator.validateGroupId(groupId);
        partitions.stream().map(TopicPartition::topic).distinct().forEach(TopicMetadata::validateName);
    }

    @Override
    public Health health() {
        List<String> down = new ArrayList<>(replicas.localPartitionsDown().stream().map(TopicPartition::toString)
                .toList());
        if (groups == null) {
            down.add("group coordinator (starting)");
        }
        List<String> local = new ArrayList<>(replicas.localPartitions().stream()
                .map(p -> p.topicPartition().toString()).toList());
        StorageHealth storage = replicas.storage();
        Optional<StorageHealth.Problem> problem = storage.problem();
        if (problem.isPresent()) {
            local.addAll(replicas.localPartitionsDown().stream().map(TopicPartition::toString).toList());
        }
        Health.Storage storageState = new Health.Storage(problem.map(p -> p.kind().label()).orElse("ok"),
                storage.dir().toString(), problem.map(StorageHealth.Problem::reason),
                problem.isPresent() ? local : List.of());
        return new Health(store.isConnected(), replicas.localPartitions().size(), down,
                replicas.localPartitionsOpening().stream().map(TopicPartition::toString).toList(), storageState);
    }

    public BrokerMetrics metrics() {
        return metrics;
    }

    /** Offsets and sizes of the partitions on this broker, for metrics. */
    public Map<TopicPartition, PartitionStats> localPartitionStats() {
        Map<TopicPartition, PartitionStats> out = new LinkedHashMap<>();
        for (PartitionVerticle p : replicas.localPartitions()) {
            out.put(p.topicPartition(), p.stats());
        }
        return out;
    }

    /** Whether the metadata shows another broker leading {@code tp} now. */
    boolean ledElsewhere(TopicPartition tp) {
        return replicas.topic(tp.topic()).filter(t -> tp.partition() < t.partitionCount())
                .map(t -> t.partition(tp.partition()))
                .map(p -> p.hasLeader() && p.leader() != brokerId).orElse(false);
    }

    /**
     * Fails with NOT_LEADER, naming the leader, when the metadata says another broker leads {@code tp} (forwarding to
     * it is the next step of the cluster work); the partition verticle checks again, so a stale view only costs a
     * round trip. Also refuses a partition the topic does not have.
     */
    private void requireLeaderHere(TopicMetadata topic, TopicPartition tp) {
        if (shuttingDown) {
            throw new MillraceException(ErrorCode.NOT_LEADER, "Broker " + brokerId + " is shutting down; " + tp
                    + " moves to another replica, if it has one in sync: refresh metadata and retry");
        }
        PartitionAssignment p = topic.partition(tp.partition());
        if (p.leader() == brokerId) {
            return;
        }
        throw new MillraceException(ErrorCode.NOT_LEADER, "Broker " + brokerId + " does not lead " + tp
                + (p.hasLeader() ? "; broker " + p.leader() + " does (leader epoch " + p.leaderEpoch() + ")"
                : "; it has no leader now (no in-sync replica is alive)"));
    }

    /**
     * The topic, else UNKNOWN_TOPIC_OR_PARTITION, or INVALID_TOPIC for a name no topic can have. Only a miss pays for
     * checking the name: a known topic was checked when it was created.
     */
    private TopicMetadata topic(String name) {
        return replicas.topic(name).orElseThrow(() -> {
            TopicMetadata.validateName(name);
            return new MillraceException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + name + " does not exist");
        });
    }

    private Future<TopicMetadata> topicForProduce(String name) {
        if (OffsetsTopic.NAME.equals(name)) {
            return Future.failedFuture(new MillraceException(ErrorCode.INVALID_TOPIC, "Topic " + name
                    + " is internal: only the group coordinator writes it (commit offsets instead)"));
        }
        Optional<TopicMetadata> known = replicas.topic(name);
        if (known.isPresent()) {
            return Future.succeededFuture(known.get());
        }
        try {
            TopicMetadata.validateName(name);
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        }
        if (!settings.autoCreateTopics()) {
            return Future.failedFuture(new MillraceException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + name
                    + " does not exist (auto.create.topics.enable is false)"));
        }
        return topicAdmin.createTopic(name, settings.defaultPartitions(), settings.defaultReplicationFactor(),
                        Map.of())
                .recover(e -> e instanceof MillraceException m && m.errorCode() == ErrorCode.TOPIC_ALREADY_EXISTS
                        ? Future.succeededFuture(topic(name)) : Future.failedFuture(e));
    }

    private TopicDescription describe(TopicMetadata topic) {
        List<PartitionDescription> partitions = new ArrayList<>();
        for (PartitionAssignment p : topic.partitions()) {
            TopicPartition tp = topic.topicPartition(p.partition());
            PartitionStats stats = replicas.localPartition(tp).map(PartitionVerticle::stats).orElse(null);
            partitions.add(new PartitionDescription(p.partition(), p.leader(), p.leaderEpoch(), p.replicas(),
                    p.isr(), stats == null ? -1 : stats.logStartOffset(), stats == null ? -1 : stats.logEndOffset(),
                    stats == null ? -1 : stats.highWatermark(), stats == null ? -1 : stats.sizeBytes()));
        }
        return new TopicDescription(topic.name(), topic.replicationFactor(), topic.config(), partitions);
    }

    private <T> Future<T> ask(TopicPartition tp, PartitionRequest request, long timeoutMs) {
        return vertx.eventBus().<T>request(PartitionAddress.of(tp), request, PartitionAddress.delivery(timeoutMs))
                .map(message -> message.body())
                .recover(BrokerService::asMillraceError);
    }

    private static <T> Future<T> asMillraceError(Throwable error) {
        if (error instanceof ReplyException reply) {
            return switch (reply.failureType()) {
                case RECIPIENT_FAILURE -> Future.failedFuture(new MillraceException(
                        ErrorCode.forCode(reply.failureCode()), reply.getMessage()));
                case NO_HANDLERS -> Future.failedFuture(new MillraceException(ErrorCode.NOT_LEADER,
                        "The partition is not (yet) served by this broker; retry shortly"));
                case TIMEOUT -> Future.failedFuture(new MillraceException(ErrorCode.REQUEST_TIMED_OUT,
                        "The partition did not answer in time"));
                default -> Future.failedFuture(new MillraceException(ErrorCode.UNKNOWN, reply.getMessage()));
            };
        }
        return Future.failedFuture(error);
    }
}
