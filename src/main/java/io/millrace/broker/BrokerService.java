package io.millrace.broker;

import io.millrace.common.Acks;
import io.millrace.common.OffsetSpec;
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
import io.millrace.partition.LocalCodec;
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
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.buffer.BufferInternal;
import io.netty.buffer.Unpooled;
import io.vertx.core.Promise;
import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import io.millrace.common.LeaderEpoch;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import io.vertx.core.json.JsonObject;
import java.util.function.IntFunction;
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
    /**
     * Names withdrawable fetches. The broker id in the high bits keeps them unique at a partition's leader, where
     * fetches forwarded from other brokers wait beside this broker's own.
     */
    private final AtomicLong nextFetchId;
    private final BrokerMetrics metrics;
    /** Forwarded requests awaiting an answer, by the broker they went to. */
    private final Map<Integer, Set<InFlight>> inFlightByBroker = new ConcurrentHashMap<>();
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
        this.nextFetchId = new AtomicLong((long) brokerId << 40);
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
        if (controllerId < 0) {
            return Future.failedFuture(new MillraceException(ErrorCode.NOT_LEADER, "No controller is elected yet;"
                    + " retry in a moment"));
        }
        return this.<Forwarded.Elected>forward(controllerId, new Forwarded.ElectPreferredLeaders(),
                settings.requestTimeoutMs()).map(Forwarded.Elected::partitions);
    }

    /** A forwarded election, answered only while this broker is the controller (it may have moved on the way). */
    Future<Integer> electPreferredLeadersHere() {
        ClusterController controller = clusterController;
        if (controller == null || !controller.isActive()) {
            return Future.failedFuture(new MillraceException(ErrorCode.NOT_LEADER, "Broker " + brokerId
                    + " is no longer the controller; retry"));
        }
        return controller.electPreferredLeaders();
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
            int records = batch.recordCount();
            int bytes = batch.sizeInBytes();
            long start = System.nanoTime();
            // A retry after NOT_LEADER could write the batch twice (a leader that lost leadership with it appended
            // but not committed answers so), unless the batch is idempotent: the leader then drops the repeat.
            boolean repeatable = batch.producerId() != RecordBatch.NO_PRODUCER_ID;
            return onLeader(tp, currentLeaderEpoch, repeatable, leader -> leader == brokerId
                    ? produceHere(tp, batch, acks, currentLeaderEpoch)
                    : forwardProduce(leader, tp, batch, acks, currentLeaderEpoch))
                    .map(result -> {
                        metrics.recordsIn(tp.topic(), records, bytes);
                        if (acks != Acks.NONE) {
                            metrics.requestLatency("produce", System.nanoTime() - start);
                        }
                        return result;
                    });
        });
    }

    /** Appends to the partition led here; NOT_LEADER if this broker does not lead it. */
    Future<ProduceResult> produceHere(TopicPartition tp, RecordBatch batch, Acks acks, int currentLeaderEpoch) {
        try {
            requireLeaderHere(topic(tp.topic()), tp);
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        }
        PartitionRequest.Produce request = new PartitionRequest.Produce(batch, acks, currentLeaderEpoch);
        if (acks == Acks.NONE) {
            vertx.eventBus().send(PartitionAddress.of(tp), request,
                    PartitionAddress.delivery(settings.requestTimeoutMs()));
            return Future.succeededFuture(new ProduceResult(tp, -1, -1, OptionalLong.empty(), -1));
        }
        return this.<PartitionResponse.Produced>ask(tp, request, settings.requestTimeoutMs())
                .map(p -> new ProduceResult(tp, p.baseOffset(), p.lastOffset(), p.logAppendTime(),
                        p.logStartOffset()));
    }

    private Future<ProduceResult> forwardProduce(int leader, TopicPartition tp, RecordBatch batch, Acks acks,
                                                 int currentLeaderEpoch) {
        Forwarded.Produce request = new Forwarded.Produce(tp, BufferInternal.buffer(Unpooled.wrappedBuffer(
                batch.buffer())), acks, currentLeaderEpoch);
        if (acks == Acks.NONE) {
            vertx.eventBus().send(ForwardingEndpoint.address(leader), request, forwardOptions(settings
                    .requestTimeoutMs()));
            return Future.succeededFuture(new ProduceResult(tp, -1, -1, OptionalLong.empty(), -1));
        }
        return this.<Forwarded.Produced>forward(leader, request, settings.requestTimeoutMs())
                .map(p -> new ProduceResult(tp, p.baseOffset(), p.lastOffset(),
                        p.logAppendTime() == Forwarded.Produced.NO_LOG_APPEND_TIME ? OptionalLong.empty()
                                : OptionalLong.of(p.logAppendTime()), p.logStartOffset()));
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
        return routedFetch(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch, countOut,
                PartitionRequest.Fetch.UNNAMED, false, leader -> { });
    }

    /**
     * A fetch for a subscription, which may withdraw it when it no longer wants the answer (see
     * {@link PendingFetch}): at the partition when it is led here, else at the broker the fetch was forwarded to.
     * A partition of which this broker holds an in-sync replica is read here, up to the high watermark the replica
     * has heard from its leader ({@code subscription.read.local.replica}): the broker's subscribers then cost its
     * leader nothing, and a record waiting for its subscription's linger is not also waiting for a round trip.
     */
    PendingFetch withdrawableFetch(TopicPartition tp, long offset, int maxBytes, long maxWaitMs,
                                   int currentLeaderEpoch) {
        long fetchId = nextFetchId.incrementAndGet();
        int[] askedBroker = {-1};
        Future<FetchResult> result = routedFetch(tp, offset, maxBytes, maxWaitMs, currentLeaderEpoch, false, fetchId,
                settings.subscriptionsReadLocalReplica(), asked -> askedBroker[0] = asked);
        return new PendingFetch(result, () -> {
            if (result.isComplete() || askedBroker[0] < 0) {
                return;
            }
            if (askedBroker[0] == brokerId) {
                cancelFetchHere(tp, fetchId);
            } else {
                vertx.eventBus().send(ForwardingEndpoint.address(askedBroker[0]), new Forwarded.CancelFetch(tp,
                        fetchId), forwardOptions(settings.requestTimeoutMs()));
            }
        });
    }

    /**
     * {@code asking} learns which broker each attempt goes to (a withdrawal must go there). With
     * {@code localReplica}, an in-sync replica here answers when it can; what it cannot (an offset past its log end,
     * a role it just lost) goes on to the leader.
     */
    private Future<FetchResult> routedFetch(TopicPartition tp, long offset, int maxBytes, long maxWaitMs,
                                            int currentLeaderEpoch, boolean countOut, long fetchId,
                                            boolean localReplica, IntConsumer asking) {
        long wait = Math.max(0, Math.min(maxWaitMs, settings.maxFetchWaitMs()));
        return onLeader(tp, currentLeaderEpoch, true, leader -> {
            if (leader == brokerId) {
                asking.accept(leader);
                return fetchHere(tp, offset, maxBytes, wait, currentLeaderEpoch, fetchId);
            }
            Supplier<Future<FetchResult>> atLeader = () -> {
                asking.accept(leader);
                return this.<Forwarded.Fetched>forward(leader, new Forwarded.Fetch(tp, offset, maxBytes, wait,
                        currentLeaderEpoch, fetchId), wait + FETCH_TIMEOUT_SLACK_MS)
                        .map(f -> new FetchResult(tp, FetchedRecords.of(f.records(), f.firstOffset(),
                                f.nextOffset()), f.highWatermark(), f.logStartOffset(), f.logEndOffset()));
            };
            if (!localReplica || !inSyncReplicaHere(tp)) {
                return atLeader.get();
            }
            asking.accept(brokerId);
            return askFetch(tp, new PartitionRequest.Fetch(offset, maxBytes, wait, currentLeaderEpoch, fetchId, true))
                    .recover(notHere -> atLeader.get());
        }).map(result -> {
            if (countOut && !result.records().isEmpty()) {
                metrics.recordsOut(tp.topic(), result.nextOffset() - Math.max(offset, result.records().firstOffset()),
                        result.records().sizeInBytes());
            }
            return result;
        });
    }

    /** Reads from the partition led here, waiting up to {@code maxWaitMs} for records; NOT_LEADER if not led here. */
    Future<FetchResult> fetchHere(TopicPartition tp, long offset, int maxBytes, long maxWaitMs, int currentLeaderEpoch,
                                  long fetchId) {
        try {
            requireLeaderHere(topic(tp.topic()), tp);
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        }
        long wait = Math.max(0, Math.min(maxWaitMs, settings.maxFetchWaitMs()));
        return askFetch(tp, new PartitionRequest.Fetch(offset, maxBytes, wait, currentLeaderEpoch, fetchId));
    }

    private Future<FetchResult> askFetch(TopicPartition tp, PartitionRequest.Fetch request) {
        return this.<PartitionResponse.Fetched>ask(tp, request, request.maxWaitMs() + FETCH_TIMEOUT_SLACK_MS)
                .map(f -> new FetchResult(tp, new SegmentRegion(f.records()), f.highWatermark(), f.logStartOffset(),
                        f.logEndOffset()));
    }

    /** Whether this broker's metadata counts its own replica of {@code tp} in sync, and that replica is open here. */
    private boolean inSyncReplicaHere(TopicPartition tp) {
        TopicMetadata topic = replicas.topic(tp.topic()).orElse(null);
        return topic != null && tp.partition() < topic.partitionCount()
                && topic.partition(tp.partition()).isr().contains(brokerId) && replicas.localPartition(tp).isPresent();
    }

    /** Answers the waiting fetch {@code fetchId} of the partition here at once, if it still waits. */
    void cancelFetchHere(TopicPartition tp, long fetchId) {
        vertx.eventBus().send(PartitionAddress.of(tp), new PartitionRequest.CancelFetch(fetchId),
                PartitionAddress.delivery(settings.requestTimeoutMs()));
    }

    @Override
    public Future<ResolvedOffset> listOffset(TopicPartition tp, OffsetSpec spec, int currentLeaderEpoch) {
        return onLeader(tp, currentLeaderEpoch, true, leader -> leader == brokerId
                ? listOffsetHere(tp, spec, currentLeaderEpoch)
                : this.<Forwarded.Position>forward(leader, new Forwarded.ListOffset(tp, spec, currentLeaderEpoch),
                        settings.requestTimeoutMs()).map(p -> new ResolvedOffset(p.offset(), p.timestampOrEpoch())));
    }

    Future<ResolvedOffset> listOffsetHere(TopicPartition tp, OffsetSpec spec, int currentLeaderEpoch) {
        return this.<PartitionResponse.Offset>askLeader(tp, new PartitionRequest.ListOffset(spec, currentLeaderEpoch))
                .map(o -> new ResolvedOffset(o.offset(), o.timestamp()));
    }

    @Override
    public Future<Long> deleteRecords(TopicPartition tp, long offset) {
        return onLeader(tp, LeaderEpoch.UNKNOWN, true, leader -> leader == brokerId ? deleteRecordsHere(tp, offset)
                : this.<Forwarded.Position>forward(leader, new Forwarded.DeleteRecords(tp, offset),
                        settings.requestTimeoutMs()).map(Forwarded.Position::offset));
    }

    Future<Long> deleteRecordsHere(TopicPartition tp, long offset) {
        return this.<PartitionResponse.Status>askLeader(tp, new PartitionRequest.DeleteRecords(offset))
                .map(PartitionResponse.Status::logStartOffset);
    }

    @Override
    public Future<EpochEndOffset> endOffsetForEpoch(TopicPartition tp, int leaderEpoch, int currentLeaderEpoch) {
        return onLeader(tp, currentLeaderEpoch, true, leader -> leader == brokerId
                ? endOffsetForEpochHere(tp, leaderEpoch, currentLeaderEpoch)
                : this.<Forwarded.Position>forward(leader, new Forwarded.EndOffsetForEpoch(tp, leaderEpoch,
                        currentLeaderEpoch), settings.requestTimeoutMs())
                        .map(p -> new EpochEndOffset((int) p.timestampOrEpoch(), p.offset())));
    }

    Future<EpochEndOffset> endOffsetForEpochHere(TopicPartition tp, int leaderEpoch, int currentLeaderEpoch) {
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

    /**
     * Runs {@code call} with the id of the broker that leads {@code tp} by this broker's metadata: this one, or
     * another that the call forwards to. A client that named no leader epoch does not know leaders, so the leader
     * is followed for it: when the answer is that leadership moved (NOT_LEADER, FENCED_LEADER_EPOCH) or the leader
     * cannot be reached, the call is made again, after a pause that grows, wherever the metadata then points, until
     * the request timeout. {@code repeatable} says whether that is safe after the request may have reached the
     * partition (a produce that is not idempotent is repeated only when it cannot have).
     */
    private <T> Future<T> onLeader(TopicPartition tp, int currentLeaderEpoch, boolean repeatable,
                                   IntFunction<Future<T>> call) {
        long deadline = System.nanoTime() + settings.requestTimeoutMs() * 1_000_000L;
        return attempt(tp, currentLeaderEpoch, repeatable, call, deadline, 0);
    }

    private <T> Future<T> attempt(TopicPartition tp, int currentLeaderEpoch, boolean repeatable,
                                  IntFunction<Future<T>> call, long deadline, int attempt) {
        int leader;
        try {
            leader = leaderOf(tp);
        } catch (MillraceException e) {
            return retryLater(tp, currentLeaderEpoch, repeatable, call, deadline, attempt, e);
        }
        return call.apply(leader).recover(error -> {
            boolean unreached = error instanceof MillraceException m && m.getCause() instanceof ReplyException reply
                    && reply.failureType() == ReplyFailure.NO_HANDLERS;
            boolean moved = error instanceof MillraceException m && (m.errorCode() == ErrorCode.NOT_LEADER
                    || m.errorCode() == ErrorCode.FENCED_LEADER_EPOCH);
            if (unreached || moved && repeatable) {
                return retryLater(tp, currentLeaderEpoch, repeatable, call, deadline, attempt, error);
            }
            return Future.failedFuture(error);
        });
    }

    private <T> Future<T> retryLater(TopicPartition tp, int currentLeaderEpoch, boolean repeatable,
                                     IntFunction<Future<T>> call, long deadline, int attempt, Throwable error) {
        long pauseMs = Math.min(1_000, 25L << Math.min(attempt, 6));
        boolean followsLeader = currentLeaderEpoch == LeaderEpoch.UNKNOWN && !shuttingDown
                && error instanceof MillraceException m && m.errorCode() != ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        if (!followsLeader || System.nanoTime() + pauseMs * 1_000_000L - deadline > 0) {
            return Future.failedFuture(error);
        }
        Promise<T> later = Promise.promise();
        vertx.setTimer(pauseMs, id -> attempt(tp, currentLeaderEpoch, repeatable, call, deadline, attempt + 1)
                .onComplete(later));
        return later.future();
    }

    /**
     * The broker leading {@code tp} by this broker's metadata; NOT_LEADER when it has none now or this broker is
     * shutting down. Also refuses a partition the topic does not have.
     */
    private int leaderOf(TopicPartition tp) {
        TopicMetadata topic = topic(tp.topic());
        if (shuttingDown) {
            throw new MillraceException(ErrorCode.NOT_LEADER, "Broker " + brokerId + " is shutting down; " + tp
                    + " is served by its leader: connect to another broker and retry");
        }
        PartitionAssignment p = topic.partition(tp.partition());
        if (!p.hasLeader()) {
            throw new MillraceException(ErrorCode.NOT_LEADER, tp + " has no leader now (no in-sync replica is alive)");
        }
        return p.leader();
    }

    /**
     * Sends {@code request} to broker {@code broker}'s {@link ForwardingEndpoint}. The answer completes on the
     * caller's context. If that broker is found dead meanwhile, the request fails at once rather than at its
     * timeout (the event bus would hold it for the dead broker until then): a produce with REQUEST_TIMED_OUT, since
     * it may or may not have been written, anything else as unreachable (NOT_LEADER, or NOT_COORDINATOR for a group
     * call), which the caller may retry elsewhere.
     */
    private <T> Future<T> forward(int broker, Forwarded request, long timeoutMs) {
        ClusterController controller = clusterController;
        if (controller != null && !controller.liveBrokers().contains(broker)) {
            // Not sent, so safe to retry anywhere: reported as the event bus reports an address nobody serves.
            return Future.failedFuture(new MillraceException(ErrorCode.NOT_LEADER, "Broker " + broker
                    + " is not alive; retry once its partitions and groups have moved",
                    new ReplyException(ReplyFailure.NO_HANDLERS, "broker " + broker + " is not alive")));
        }
        ContextInternal context = (ContextInternal) vertx.getOrCreateContext();
        Promise<T> answer = context.promise();
        InFlight inFlight = new InFlight(context, answer, request instanceof Forwarded.Produce);
        Set<InFlight> toBroker = inFlightByBroker.computeIfAbsent(broker, b -> ConcurrentHashMap.newKeySet());
        toBroker.add(inFlight);
        vertx.eventBus().<T>request(ForwardingEndpoint.address(broker), request, forwardOptions(timeoutMs))
                .map(message -> message.body())
                .recover(BrokerService::asMillraceError)
                .onComplete(done -> {
                    toBroker.remove(inFlight);
                    if (done.succeeded()) {
                        answer.tryComplete(done.result());
                    } else {
                        answer.tryFail(done.cause());
                    }
                });
        return answer.future();
    }

    /** A forwarded request awaiting its answer. */
    private record InFlight(Context context, Promise<?> answer, boolean produce) {
    }

    /** Fails what waits on brokers that are no longer alive (see {@link #forward}). */
    public void brokersChanged() {
        ClusterController controller = clusterController;
        if (controller == null) {
            return;
        }
        Set<Integer> live = controller.liveBrokers();
        inFlightByBroker.forEach((broker, waiting) -> {
            if (live.contains(broker) || waiting.isEmpty()) {
                return;
            }
            for (InFlight inFlight : List.copyOf(waiting)) {
                waiting.remove(inFlight);
                String message = "Broker " + broker + " failed while this request was in flight";
                MillraceException failure = inFlight.produce()
                        ? new MillraceException(ErrorCode.REQUEST_TIMED_OUT, message + ": the records may or may not"
                                + " have been written; retry (an idempotent producer's retry is not written twice)")
                        : new MillraceException(ErrorCode.NOT_LEADER, message + "; retry at the new leader or"
                                + " coordinator", new ReplyException(ReplyFailure.NO_HANDLERS, message));
                inFlight.context().runOnContext(v -> inFlight.answer().tryFail(failure));
            }
        });
    }

    private static DeliveryOptions forwardOptions(long timeoutMs) {
        return new DeliveryOptions().setCodecName(ForwardingCodec.NAME).setSendTimeout(timeoutMs);
    }

    @Override
    public Subscription subscribe(TopicPartition tp, long startOffset, int maxBytesPerFetch, int currentLeaderEpoch,
                                  long lingerMs, Subscription.Handler handler) {
        return new PartitionSubscription(this, metrics, tp, startOffset, maxBytesPerFetch, settings.maxFetchWaitMs(),
                currentLeaderEpoch, lingerMs, handler);
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
            // A join is answered when the rebalance completes, which may wait for every member to rejoin.
            return atCoordinator(request.groupId(), () -> groups().join(request), "join",
                    GroupMessages.joinRequest(request), request.rebalanceTimeoutMs() + settings.requestTimeoutMs(),
                    GroupMessages::joinResult);
        });
    }

    @Override
    public Future<Void> heartbeat(String groupId, String memberId, int generation) {
        return atCoordinator(groupId, () -> groups().heartbeat(groupId, memberId, generation), "heartbeat",
                new JsonObject().put("memberId", memberId).put("generation", generation), settings.requestTimeoutMs(),
                answer -> null);
    }

    @Override
    public Future<Void> leaveGroup(String groupId, String memberId) {
        return atCoordinator(groupId, () -> groups().leave(groupId, memberId), "leave",
                new JsonObject().put("memberId", memberId), settings.requestTimeoutMs(), answer -> null);
    }

    @Override
    public Future<Void> commitOffsets(String groupId, String memberId, int generation,
                                      Map<TopicPartition, OffsetAndMetadata> offsets) {
        return guarded(() -> {
            validateGroupAndTopics(groupId, offsets.keySet());
            return atCoordinator(groupId, () -> groups().commitOffsets(groupId, memberId, generation, offsets),
                    "commitOffsets", new JsonObject().put("memberId", memberId).put("generation", generation)
                            .put("offsets", GroupMessages.offsets(offsets)), settings.requestTimeoutMs(),
                    answer -> null);
        });
    }

    @Override
    public Future<Map<TopicPartition, OffsetAndMetadata>> fetchOffsets(String groupId,
                                                                      Collection<TopicPartition> partitions) {
        return guarded(() -> {
            validateGroupAndTopics(groupId, partitions);
            return atCoordinator(groupId, () -> groups().fetchOffsets(groupId, partitions), "fetchOffsets",
                    new JsonObject().put("partitions", GroupMessages.partitions(partitions)),
                    settings.requestTimeoutMs(), answer -> GroupMessages.offsets(answer.getJsonArray("offsets")));
        });
    }

    /**
     * Every group of the cluster: those coordinated here and those of every other live broker. A broker that cannot
     * be reached is left out (its groups are moving to another coordinator, which lists them once they have).
     */
    @Override
    public Future<List<GroupListing>> listGroups() {
        return listGroupsCoordinatedHere().compose(local -> brokers().compose(all -> {
            List<Future<List<GroupListing>>> others = new ArrayList<>();
            for (BrokerDescription other : all) {
                if (other.alive() && other.id() != brokerId) {
                    others.add(this.<Forwarded.GroupAnswer>forward(other.id(), new Forwarded.GroupCall("",
                                    "listGroups", new JsonObject(), settings.requestTimeoutMs()),
                            settings.requestTimeoutMs())
                            .map(answer -> GroupMessages.listings(answer.body().getJsonArray("groups")))
                            .recover(e -> unreachable(e) ? Future.succeededFuture(List.of()) : Future.failedFuture(e)));
                }
            }
            return Future.all(others).map(done -> {
                Map<String, GroupListing> byId = new java.util.TreeMap<>();
                local.forEach(g -> byId.put(g.groupId(), g));
                others.forEach(f -> f.result().forEach(g -> byId.putIfAbsent(g.groupId(), g)));
                return List.copyOf(byId.values());
            });
        }));
    }

    @Override
    public Future<List<GroupListing>> listGroupsCoordinatedHere() {
        return guarded(() -> groups().listGroups());
    }

    @Override
    public Future<GroupDetails> describeGroup(String groupId) {
        return guarded(() -> {
            GroupCoordinator.validateGroupId(groupId);
            return atCoordinator(groupId, () -> groups().describeGroup(groupId), "describeGroup", new JsonObject(),
                    settings.requestTimeoutMs(), GroupMessages::description);
        }).map(description -> new GroupDetails(description,
                description.lag(this::highWatermark)));
    }

    /** The high watermark of a partition led here, for lag; unknown for a partition led elsewhere. */
    private OptionalLong highWatermark(TopicPartition tp) {
        return replicas.localPartition(tp).map(p -> OptionalLong.of(p.stats().highWatermark()))
                .orElse(OptionalLong.empty());
    }

    @Override
    public Future<Void> resetOffsets(String groupId, Map<TopicPartition, Long> offsets) {
        return guarded(() -> {
            validateGroupAndTopics(groupId, offsets.keySet());
            return atCoordinator(groupId, () -> groups().resetOffsets(groupId, offsets), "resetOffsets",
                    new JsonObject().put("offsets", GroupMessages.positions(offsets)), settings.requestTimeoutMs(),
                    answer -> null);
        });
    }

    @Override
    public Future<Void> deleteGroup(String groupId) {
        return guarded(() -> {
            GroupCoordinator.validateGroupId(groupId);
            return atCoordinator(groupId, () -> groups().deleteGroup(groupId), "deleteGroup", new JsonObject(),
                    settings.requestTimeoutMs(), answer -> null);
        });
    }

    /**
     * Runs a group call at the broker coordinating {@code groupId} by this broker's metadata (the leader of the
     * group's offsets partition): {@code here} when that is this broker, or when it is not known (the local
     * coordinator then answers NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS, both retriable); else forwarded as
     * {@code operation} with {@code arguments}, the answer read back with {@code answer}. A coordinator that cannot be
     * reached answers NOT_COORDINATOR, so that members retry once the group has moved.
     */
    private <T> Future<T> atCoordinator(String groupId, Supplier<Future<T>> here, String operation,
                                        JsonObject arguments, long timeoutMs, Function<JsonObject, T> answer) {
        return guarded(() -> {
            int coordinator = coordinatorOf(groupId);
            if (coordinator == brokerId) {
                return here.get();
            }
            return this.<Forwarded.GroupAnswer>forward(coordinator, new Forwarded.GroupCall(groupId, operation,
                            arguments, timeoutMs), timeoutMs)
                    .map(a -> answer.apply(a.body()))
                    .recover(e -> Future.failedFuture(unreachable(e) ? new MillraceException(ErrorCode.NOT_COORDINATOR,
                            "Broker " + coordinator + ", which coordinates group " + groupId + ", cannot be reached;"
                                    + " retry once the group has moved", e) : e));
        });
    }

    private int coordinatorOf(String groupId) {
        return replicas.topic(OffsetsTopic.NAME).filter(t -> t.partitionCount() > 0)
                .map(t -> t.partition(OffsetsTopic.partitionFor(groupId, t.partitionCount())))
                .filter(PartitionAssignment::hasLeader).map(PartitionAssignment::leader).orElse(brokerId);
    }

    /** Whether a forwarded request failed because its broker could not be reached (gone, or not answering). */
    private static boolean unreachable(Throwable error) {
        return error instanceof MillraceException m && (m.errorCode() == ErrorCode.REQUEST_TIMED_OUT
                || m.getCause() instanceof ReplyException reply && reply.failureType() == ReplyFailure.NO_HANDLERS);
    }

    /** A forwarded group call, served by the coordinator here. */
    Future<JsonObject> groupCallHere(Forwarded.GroupCall call) {
        JsonObject a = call.arguments();
        String groupId = call.groupId();
        JsonObject none = new JsonObject();
        return guarded(() -> switch (call.operation()) {
            case "join" -> groups().join(GroupMessages.joinRequest(a)).map(GroupMessages::joinResult);
            case "heartbeat" -> groups().heartbeat(groupId, a.getString("memberId"), a.getInteger("generation"))
                    .map(none);
            case "leave" -> groups().leave(groupId, a.getString("memberId")).map(none);
            case "commitOffsets" -> groups().commitOffsets(groupId, a.getString("memberId"),
                    a.getInteger("generation"), GroupMessages.offsets(a.getJsonArray("offsets"))).map(none);
            case "fetchOffsets" -> groups().fetchOffsets(groupId, GroupMessages.partitions(a.getJsonArray(
                    "partitions"))).map(o -> new JsonObject().put("offsets", GroupMessages.offsets(o)));
            case "listGroups" -> groups().listGroups()
                    .map(l -> new JsonObject().put("groups", GroupMessages.listings(l)));
            case "describeGroup" -> groups().describeGroup(groupId).map(GroupMessages::description);
            case "resetOffsets" -> groups().resetOffsets(groupId, GroupMessages.positions(a.getJsonArray("offsets")))
                    .map(none);
            case "deleteGroup" -> groups().deleteGroup(groupId).map(none);
            default -> Future.failedFuture(new MillraceException(ErrorCode.INVALID_REQUEST,
                    "Unknown group operation " + call.operation()));
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

    /**
     * How many partition replicas this broker holds now, how many of them it leads, and how many of those have fewer
     * in-sync replicas than replicas; read from the partitions' published figures, without asking them.
     */
    public LocalPartitionCounts localPartitionCounts() {
        int held = 0;
        int leaders = 0;
        int underReplicated = 0;
        for (PartitionVerticle p : replicas.localPartitions()) {
            if (OffsetsTopic.NAME.equals(p.topicPartition().topic())) {
                continue; // internal, as in the topic listings and leader counts the dashboard shows
            }
            PartitionStats stats = p.stats();
            held++;
            leaders += stats.leader() ? 1 : 0;
            underReplicated += stats.underReplicated() ? 1 : 0;
        }
        return new LocalPartitionCounts(held, leaders, underReplicated);
    }

    /**
     * Fails with NOT_LEADER, naming the leader, when the metadata says another broker leads {@code tp}: the local path
     * (a forwarded request, or one routed here by {@link #onLeader}) never forwards again. The partition verticle
     * checks again, so a stale view only costs a round trip. Also refuses a partition the topic does not have.
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
                        "The partition is not (yet) served by its leader's broker, or that broker is gone; retry"
                                + " shortly", reply));
                case TIMEOUT -> Future.failedFuture(new MillraceException(ErrorCode.REQUEST_TIMED_OUT,
                        "The partition did not answer in time"));
                default -> Future.failedFuture(new MillraceException(ErrorCode.UNKNOWN, reply.getMessage()));
            };
        }
        return Future.failedFuture(error);
    }
}
