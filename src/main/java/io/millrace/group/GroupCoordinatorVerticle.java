package io.millrace.group;

import io.millrace.cluster.Controller;
import io.millrace.cluster.PartitionAssignment;
import io.millrace.cluster.ReplicaManager;
import io.millrace.cluster.TopicMetadata;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.partition.Acks;
import io.millrace.partition.LocalCodec;
import io.millrace.partition.PartitionAddress;
import io.millrace.partition.PartitionRequest;
import io.millrace.partition.PartitionResponse;
import io.millrace.record.CompressionType;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.RecordBatches;
import io.millrace.record.TimestampType;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hosts a {@link GroupCoordinator} on a Vert.x context: the broker's end of consumer groups.
 *
 * <ul>
 *   <li><b>Where groups live.</b> A group's committed offsets are records of partition
 *   {@link OffsetsTopic#partitionFor} of {@value OffsetsTopic#NAME}; the broker leading that partition coordinates
 *   the group. This verticle answers only for groups whose offsets partition this broker leads, and
 *   {@code NOT_COORDINATOR} for the others, so coordination moves with leadership once partitions have followers.</li>
 *   <li><b>Start-up.</b> Creates the offsets topic when it is missing, then reads every offsets partition this broker
 *   leads from its log start to its high watermark and replays the records ({@link GroupCoordinator#loadOffsets});
 *   only then does it answer group requests.</li>
 *   <li><b>Durability.</b> The {@link OffsetStore} appends one batch per commit to the group's offsets partition with
 *   {@code acks=all} over the event bus; the reply arrives on this context, so completions are on the owner
 *   thread.</li>
 *   <li><b>Time and topics.</b> Every {@code tick.ms} it calls {@link GroupCoordinator#tick()} and reports partition
 *   counts that changed since the last look at the {@link ReplicaManager}'s metadata (created, grown, deleted topics)
 *   through {@link GroupCoordinator#partitionsChanged}.</li>
 * </ul>
 *
 * <p>Threading: the coordinator is touched only on this verticle's context. The public methods may be called from
 * any thread; they hop onto the context, and their futures complete back on the caller's context (a new one for a
 * caller outside Vert.x).
 */
public final class GroupCoordinatorVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinatorVerticle.class);
    private static final long TICK_MS = 100;
    /** Bytes read per fetch while loading an offsets partition. */
    private static final int LOAD_FETCH_BYTES = 1024 * 1024;

    private final int brokerId;
    private final ReplicaManager replicas;
    private final Controller controller;
    private final int offsetsPartitions;
    private final int offsetsReplicationFactor;
    private final long requestTimeoutMs;
    private final Time time;
    private final GroupSettings settings;
    private final Supplier<String> memberIdSuffixes;
    private final Map<String, Integer> reportedCounts = new HashMap<>();
    private GroupCoordinator coordinator;
    private boolean loaded;

    /**
     * @param offsetsPartitions        partitions of the offsets topic when this broker creates it
     * @param offsetsReplicationFactor its replication factor when this broker creates it
     */
    public GroupCoordinatorVerticle(int brokerId, ReplicaManager replicas, Controller controller,
                                    int offsetsPartitions, int offsetsReplicationFactor, long requestTimeoutMs,
                                    Time time, GroupSettings settings) {
        this.brokerId = brokerId;
        this.replicas = replicas;
        this.controller = controller;
        this.offsetsPartitions = offsetsPartitions;
        this.offsetsReplicationFactor = offsetsReplicationFactor;
        this.requestTimeoutMs = requestTimeoutMs;
        this.time = time;
        this.settings = settings;
        this.memberIdSuffixes = () -> UUID.randomUUID().toString();
    }

    @Override
    public Future<?> start() {
        coordinator = new GroupCoordinator(time, this::append, memberIdSuffixes, settings);
        return ensureOffsetsTopic()
                .compose(topic -> loadLedPartitions(topic))
                .onSuccess(groups -> {
                    loaded = true;
                    reportPartitionCounts();
                    vertx.setPeriodic(TICK_MS, id -> onTick());
                    LOG.info("Group coordinator ready: {} offsets partitions led here, {} groups with offsets",
                            ledOffsetsPartitions().size(), groups);
                });
    }

    // -----------------------------------------------------------------------------------------------------------
    // The group API; any thread

    public Future<JoinResult> join(JoinRequest request) {
        return onContext(request.groupId(), done -> coordinator.join(request, result -> settle(result, done)));
    }

    public Future<Void> heartbeat(String groupId, String memberId, int generation) {
        return onContext(groupId, done -> settle(coordinator.heartbeat(groupId, memberId, generation), done));
    }

    public Future<Void> leave(String groupId, String memberId) {
        return onContext(groupId, done -> settle(coordinator.leave(groupId, memberId), done));
    }

    public Future<Void> commitOffsets(String groupId, String memberId, int generation,
                                      Map<TopicPartition, OffsetAndMetadata> offsets) {
        return onContext(groupId, done -> coordinator.commitOffsets(groupId, memberId, generation, offsets,
                result -> settle(result, done)));
    }

    /** Committed offsets of {@code partitions}, or of every partition when it is empty. */
    public Future<Map<TopicPartition, OffsetAndMetadata>> fetchOffsets(String groupId,
                                                                      Collection<TopicPartition> partitions) {
        return onContext(groupId, done -> done.complete(partitions.isEmpty() ? coordinator.fetchOffsets(groupId)
                : coordinator.fetchOffsets(groupId, partitions)));
    }

    /** The groups this broker coordinates. */
    public Future<List<GroupListing>> listGroups() {
        return onContext(null, done -> done.complete(coordinator.listGroups()));
    }

    public Future<GroupDescription> describeGroup(String groupId) {
        return onContext(groupId, done -> settle(coordinator.describeGroup(groupId), done));
    }

    public Future<Void> resetOffsets(String groupId, Map<TopicPartition, Long> offsets) {
        return onContext(groupId, done -> coordinator.resetOffsets(groupId, offsets, result -> settle(result, done)));
    }

    public Future<Void> deleteGroup(String groupId) {
        return onContext(groupId, done -> coordinator.deleteGroup(groupId, result -> settle(result, done)));
    }

    /** The partition of the offsets topic that holds {@code groupId}'s offsets. */
    public int offsetsPartitionFor(String groupId) {
        return OffsetsTopic.partitionFor(groupId, offsetsPartitionCount());
    }

    // -----------------------------------------------------------------------------------------------------------

    /**
     * Runs {@code action} on the context once the coordinator is loaded and, for a group, once this broker is sure it
     * coordinates it.
     */
    private <T> Future<T> onContext(String groupId, Consumer<Promise<T>> action) {
        // The answer hops back to the caller's context, as the broker API promises its callers.
        Context caller = vertx.getOrCreateContext();
        Promise<T> answer = Promise.promise();
        Promise<T> promise = Promise.promise();
        promise.future().onComplete(ar -> {
            if (caller == context) {
                answer.handle(ar);
            } else {
                caller.runOnContext(v -> answer.handle(ar));
            }
        });
        context.runOnContext(v -> {
            try {
                if (!loaded) {
                    promise.fail(new MillraceException(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
                            "The group coordinator is still loading offsets; retry shortly"));
                    return;
                }
                if (groupId != null && !groupId.isEmpty() && groupId.length() <= GroupCoordinator.MAX_GROUP_ID_CHARS) {
                    int partition = offsetsPartitionFor(groupId);
                    int leader = offsetsLeader(partition);
                    if (leader != brokerId) {
                        promise.fail(new MillraceException(ErrorCode.NOT_COORDINATOR, "Broker " + brokerId
                                + " does not coordinate group " + groupId + " (its offsets partition " + partition
                                + " is led by broker " + leader + ")"));
                        return;
                    }
                }
                action.accept(promise);
            } catch (RuntimeException e) {
                promise.tryFail(e);
            }
        });
        return answer.future();
    }

    private static <T> void settle(GroupResult<T> result, Promise<T> done) {
        if (result.succeeded()) {
            done.complete(result.value());
        } else {
            done.fail(result.toException());
        }
    }

    private void onTick() {
        try {
            reportPartitionCounts();
            coordinator.tick();
        } catch (RuntimeException e) {
            LOG.error("Group coordinator tick failed", e);
        }
    }

    /** Tells the coordinator about topics whose partition count differs from what it was last told. */
    private void reportPartitionCounts() {
        Map<String, TopicMetadata> now = replicas.topics();
        for (Map.Entry<String, TopicMetadata> e : now.entrySet()) {
            int count = e.getValue().partitionCount();
            Integer before = reportedCounts.put(e.getKey(), count);
            if (before == null || before != count) {
                coordinator.partitionsChanged(e.getKey(), count);
            }
        }
        for (String gone : new ArrayList<>(reportedCounts.keySet())) {
            if (!now.containsKey(gone)) {
                reportedCounts.remove(gone);
                coordinator.partitionsChanged(gone, 0);
            }
        }
    }

    private int offsetsPartitionCount() {
        return replicas.topic(OffsetsTopic.NAME).map(TopicMetadata::partitionCount).orElse(offsetsPartitions);
    }

    private int offsetsLeader(int partition) {
        return replicas.topic(OffsetsTopic.NAME)
                .filter(t -> partition < t.partitionCount())
                .map(t -> t.partition(partition).leader())
                .orElse(-1);
    }

    private List<Integer> ledOffsetsPartitions() {
        List<Integer> led = new ArrayList<>();
        replicas.topic(OffsetsTopic.NAME).ifPresent(t -> {
            for (PartitionAssignment p : t.partitions()) {
                if (p.leader() == brokerId) {
                    led.add(p.partition());
                }
            }
        });
        return led;
    }

    private Future<TopicMetadata> ensureOffsetsTopic() {
        if (replicas.topic(OffsetsTopic.NAME).isPresent()) {
            return Future.succeededFuture(replicas.topic(OffsetsTopic.NAME).get());
        }
        // Offsets are kept forever: the coordinator, not time-based retention, decides what may go.
        Map<String, String> config = Map.of("retention.ms", "-1", "retention.bytes", "-1");
        return controller.createTopic(OffsetsTopic.NAME, offsetsPartitions, offsetsReplicationFactor, config)
                .recover(e -> e instanceof MillraceException m && m.errorCode() == ErrorCode.TOPIC_ALREADY_EXISTS
                        ? Future.succeededFuture(replicas.topic(OffsetsTopic.NAME).orElseThrow())
                        : Future.failedFuture(e))
                .onSuccess(t -> LOG.info("Created {} with {} partitions", OffsetsTopic.NAME, t.partitionCount()));
    }

    /** Replays every offsets partition this broker leads; returns how many groups hold offsets afterwards. */
    private Future<Integer> loadLedPartitions(TopicMetadata topic) {
        List<OffsetRecord> records = new ArrayList<>();
        Future<Void> chain = Future.succeededFuture();
        for (int partition : ledOffsetsPartitions()) {
            TopicPartition tp = new TopicPartition(OffsetsTopic.NAME, partition);
            chain = chain.compose(v -> readFrom(tp, 0, records));
        }
        return chain.map(v -> coordinator.loadOffsets(records));
    }

    /** Reads {@code tp} from {@code offset} up to its high watermark into {@code into}. */
    private Future<Void> readFrom(TopicPartition tp, long offset, List<OffsetRecord> into) {
        return this.<PartitionResponse.Fetched>ask(tp, new PartitionRequest.Fetch(offset, LOAD_FETCH_BYTES, 0))
                .compose(fetched -> {
                    if (offset < fetched.logStartOffset()) {
                        return readFrom(tp, fetched.logStartOffset(), into);
                    }
                    if (fetched.records().isEmpty()) {
                        return Future.succeededFuture();
                    }
                    for (RecordBatch batch : RecordBatches.split(fetched.records().readFully())) {
                        for (Record record : batch.records()) {
                            if (record.offset() < offset || record.key() == null) {
                                continue;
                            }
                            OffsetRecord.decode(record.key(), record.value()).ifPresent(into::add);
                        }
                    }
                    long next = fetched.records().nextOffset();
                    return next >= fetched.highWatermark() ? Future.succeededFuture() : readFrom(tp, next, into);
                });
    }

    /** The {@link OffsetStore}: one batch per call to the group's offsets partition, acks=all. */
    private void append(List<OffsetRecord> records, Completion<Void> done) {
        TopicPartition tp = new TopicPartition(OffsetsTopic.NAME, offsetsPartitionFor(records.get(0).groupId()));
        long now = time.milliseconds();
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
        for (OffsetRecord record : records) {
            builder.append(now, record.encodeKey(), record.encodeValue());
        }
        this.<PartitionResponse.Produced>ask(tp, new PartitionRequest.Produce(builder.build(), Acks.ALL))
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        done.complete(GroupResult.done());
                    } else if (ar.cause() instanceof MillraceException m) {
                        done.complete(GroupResult.failed(m.errorCode(), m.getMessage()));
                    } else {
                        done.complete(GroupResult.failed(ErrorCode.UNKNOWN, String.valueOf(ar.cause())));
                    }
                });
    }

    private <T> Future<T> ask(TopicPartition tp, PartitionRequest request) {
        DeliveryOptions options = new DeliveryOptions().setCodecName(LocalCodec.NAME)
                .setSendTimeout(requestTimeoutMs);
        return vertx.eventBus().<T>request(PartitionAddress.of(tp), request, options)
                .map(message -> message.body())
                .recover(error -> {
                    if (error instanceof ReplyException reply) {
                        return Future.failedFuture(switch (reply.failureType()) {
                            case RECIPIENT_FAILURE -> new MillraceException(ErrorCode.forCode(reply.failureCode()),
                                    reply.getMessage());
                            case NO_HANDLERS -> new MillraceException(ErrorCode.NOT_COORDINATOR,
                                    "Offsets partition " + tp + " is not served here");
                            case TIMEOUT -> new MillraceException(ErrorCode.REQUEST_TIMED_OUT,
                                    "Offsets partition " + tp + " did not answer in time");
                            default -> new MillraceException(ErrorCode.UNKNOWN, reply.getMessage());
                        });
                    }
                    return Future.failedFuture(error);
                });
    }
}
