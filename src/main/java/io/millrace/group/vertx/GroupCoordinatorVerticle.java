package io.millrace.group.vertx;

import io.millrace.common.Acks;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.group.Completion;
import io.millrace.group.GroupCoordinator;
import io.millrace.group.GroupDescription;
import io.millrace.group.GroupListing;
import io.millrace.group.GroupResult;
import io.millrace.group.GroupSettings;
import io.millrace.group.JoinRequest;
import io.millrace.group.JoinResult;
import io.millrace.group.OffsetAndMetadata;
import io.millrace.group.OffsetRecord;
import io.millrace.group.OffsetStore;
import io.millrace.group.OffsetsTopic;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
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
 *   <li><b>Leadership moves.</b> On every tick, and before it answers for a group, the host compares who leads each
 *   offsets partition it has loaded (leader and leader epoch) with what it was when the load began. When leadership
 *   moved away (or moved away and back, which the epoch shows), it {@linkplain GroupCoordinator#unloadGroups
 *   unloads} that partition's groups: their members, cached offsets and waiting requests go, the waiting ones
 *   answered {@code NOT_COORDINATOR}, and listGroups/describeGroup here stop showing them. When this broker leads the
 *   partition again, it replays it from scratch like any newly led partition: no former member lingers to hold up
 *   the next rebalance, and no stale offset survives. A load that leadership overtakes is thrown away and retried;
 *   a snapshot is taken only of a partition that is loaded here.</li>
 *   <li><b>Durability.</b> The {@link OffsetStore} appends one batch per commit to the group's offsets partition with
 *   {@code acks=all} over the event bus; the reply arrives on this context, so completions are on the owner
 *   thread.</li>
 *   <li><b>Time and topics.</b> Every {@code tickMs} it calls {@link GroupCoordinator#tick()} and reports partition
 *   counts that changed since the last look at the cluster's metadata ({@link OffsetsTopicView}: created, grown,
 *   deleted topics) through {@link GroupCoordinator#partitionsChanged}.</li>
 *   <li><b>Snapshots: the offsets topic does not grow forever.</b> When an offsets partition led here grows past
 *   {@code snapshotBytes}, the host (1) rolls it, so the log continues in a fresh segment; (2) once no append to it
 *   is in flight, writes a snapshot in that same turn of the event loop: the live committed offsets of its groups,
 *   {@link OffsetsTopic#compact compacted}, as ordinary records; (3) once the snapshot is durable at offset S,
 *   deletes the whole segments below S. Every commit made before step 2 is in the snapshot (nothing was in flight,
 *   so the cache held it) and every later one is appended after it, so a replay of what is left loads exactly the
 *   state the cache holds. Tombstones of deleted groups simply vanish, as the snapshot no longer mentions them. The
 *   next snapshot waits until the partition is twice its size after this one, so a large live set does not
 *   snapshot in a loop.</li>
 * </ul>
 *
 * <p>Threading: the coordinator is touched only on this verticle's context. The public methods may be called from
 * any thread; they hop onto the context, and their futures complete back on the caller's context (a new one for a
 * caller outside Vert.x).
 */
public final class GroupCoordinatorVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCoordinatorVerticle.class);
    /** Bytes read per fetch while loading an offsets partition. */
    private static final int LOAD_FETCH_BYTES = 1024 * 1024;
    /** Records per batch of a snapshot. */
    private static final int SNAPSHOT_BATCH_RECORDS = 1000;

    /**
     * The host's settings.
     *
     * @param offsetsPartitions        partitions of the offsets topic when this broker creates it
     * @param offsetsReplicationFactor its replication factor when this broker creates it
     * @param requestTimeoutMs         longest wait for an offsets partition to answer
     * @param snapshotBytes            an offsets partition larger than this is snapshotted and its older segments
     *                                 deleted
     * @param tickMs                   how often the coordinator's clock is advanced
     */
    public record Settings(int offsetsPartitions, int offsetsReplicationFactor, long requestTimeoutMs,
                           long snapshotBytes, long tickMs) {
    }

    /** Who leads an offsets partition, and in which epoch ({@code -1}: none, or unknown). */
    private record Leadership(int leader, int epoch) {
    }

    private final int brokerId;
    private final OffsetsTopicView cluster;
    private final Settings settings;
    private final Time time;
    private final GroupSettings groupSettings;
    private final Supplier<String> memberIdSuffixes = () -> UUID.randomUUID().toString();
    private final Map<String, Integer> reportedCounts = new HashMap<>();
    /** Appends sent to each offsets partition and not yet answered. */
    private final Map<Integer, Integer> appendsInFlight = new HashMap<>();
    private final Set<Integer> snapshotting = new HashSet<>();
    /** Per offsets partition, the size under which no new snapshot starts (twice the size after the last one). */
    private final Map<Integer, Long> nextSnapshotAt = new HashMap<>();
    private GroupCoordinator coordinator;
    private int offsetsPartitionCount;
    private boolean loaded;
    /** The creation and first load of the offsets topic while it runs (or once it succeeded). */
    private Future<Integer> loading;
    /**
     * Offsets partitions led here whose records the coordinator has replayed, with the leadership they were loaded
     * under: when it differs from the current one, the partition's groups are unloaded.
     */
    private final Map<Integer, Leadership> loadedPartitions = new HashMap<>();
    private final Set<Integer> loadingPartitions = new HashSet<>();

    public GroupCoordinatorVerticle(int brokerId, OffsetsTopicView cluster, Settings settings, Time time,
                                    GroupSettings groupSettings) {
        this.brokerId = brokerId;
        this.cluster = cluster;
        this.settings = settings;
        this.time = time;
        this.groupSettings = groupSettings;
    }

    /**
     * Loads the offsets partitions led here when the offsets topic exists. When it does not (a new cluster), it is
     * created on the first group request instead, as Kafka does, so that it gets its replication factor from the
     * brokers alive by then rather than from whichever broker started first.
     */
    @Override
    public Future<?> start() {
        coordinator = new GroupCoordinator(time, this::append, memberIdSuffixes, groupSettings);
        if (!cluster.partitionCounts().containsKey(OffsetsTopic.NAME)) {
            return Future.succeededFuture();
        }
        return createAndLoad();
    }

    /** Creates the offsets topic if needed and loads what is led here; at most once at a time. */
    private Future<Integer> createAndLoad() {
        if (loading != null) {
            return loading;
        }
        loading = cluster.ensureOffsetsTopic(settings.offsetsPartitions(), settings.offsetsReplicationFactor())
                .compose(count -> {
                    offsetsPartitionCount = count;
                    return loadLedPartitions();
                })
                .onSuccess(groups -> {
                    loaded = true;
                    reportPartitionCounts();
                    vertx.setPeriodic(settings.tickMs(), id -> onTick());
                    LOG.info("Group coordinator ready: offsets partitions {} of {} led here, {} groups with offsets",
                            ledOffsetsPartitions(), OffsetsTopic.NAME, groups);
                })
                .onFailure(e -> {
                    LOG.warn("Cannot create or load {} (the next group request retries): {}", OffsetsTopic.NAME,
                            e.toString());
                    loading = null;
                });
        Future<Integer> started = loading;
        if (started.failed()) {
            loading = null;
        }
        return started;
    }

    /** Makes sure the offsets topic exists (any thread): what a client's first look for a coordinator does. */
    public void ensureOffsetsTopic() {
        context.runOnContext(v -> {
            if (!loaded) {
                createAndLoad();
            }
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
        return onContext(null, done -> {
            // leadership may have moved since the last tick: do not list groups coordinated elsewhere now
            unloadPartitionsLedElsewhere();
            done.complete(coordinator.listGroups());
        });
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
        return OffsetsTopic.partitionFor(groupId, offsetsPartitionCount);
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
        context.runOnContext(v -> whenLoaded(groupId, action, promise, true));
        return answer.future();
    }

    /**
     * Runs {@code action} once the coordinator has loaded. Before the offsets topic exists, the first group request
     * creates it and waits for that (a moment), rather than failing the very first request of a new cluster.
     */
    private <T> void whenLoaded(String groupId, Consumer<Promise<T>> action, Promise<T> promise, boolean mayWait) {
        try {
            if (!loaded && groupId == null && loading == null
                    && !cluster.partitionCounts().containsKey(OffsetsTopic.NAME)) {
                // No offsets topic yet, so no group yet: listing needs neither it nor its creation.
                action.accept(promise);
                return;
            }
            if (!loaded && mayWait) {
                createAndLoad().onComplete(ar -> context.runOnContext(x ->
                        whenLoaded(groupId, action, promise, false)));
                return;
            }
            if (!loaded) {
                promise.fail(new MillraceException(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
                        "The group coordinator is still loading offsets; retry shortly"));
                return;
            }
            runLoaded(groupId, action, promise);
        } catch (RuntimeException e) {
            promise.tryFail(e);
        }
    }

    /** Runs {@code action} if this broker coordinates {@code groupId} (or for no group at all). */
    private <T> void runLoaded(String groupId, Consumer<Promise<T>> action, Promise<T> promise) {
        if (groupId != null && !groupId.isEmpty() && groupId.length() <= GroupCoordinator.MAX_GROUP_ID_CHARS) {
            int partition = offsetsPartitionFor(groupId);
            unloadIfLeadershipChanged(partition);
            int leader = offsetsLeader(partition);
            if (leader != brokerId) {
                promise.fail(new MillraceException(ErrorCode.NOT_COORDINATOR, "Broker " + brokerId
                        + " does not coordinate group " + groupId + " (its offsets partition " + partition
                        + " is led by broker " + leader + ")"));
                return;
            }
            if (!loadedPartitions.containsKey(partition)) {
                promise.fail(new MillraceException(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, "Broker "
                        + brokerId + " is loading the offsets of group " + groupId + "; retry shortly"));
                return;
            }
        }
        action.accept(promise);
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
            followLeadership();
            coordinator.tick();
            maybeSnapshot();
        } catch (RuntimeException e) {
            LOG.error("Group coordinator tick failed", e);
        }
    }

    /** Tells the coordinator about topics whose partition count differs from what it was last told. */
    private void reportPartitionCounts() {
        Map<String, Integer> now = cluster.partitionCounts();
        for (Map.Entry<String, Integer> e : now.entrySet()) {
            int count = e.getValue();
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

    private int offsetsLeader(int partition) {
        return cluster.leader(new TopicPartition(OffsetsTopic.NAME, partition)).orElse(-1);
    }

    private Leadership leadership(int partition) {
        TopicPartition tp = new TopicPartition(OffsetsTopic.NAME, partition);
        return new Leadership(cluster.leader(tp).orElse(-1), cluster.leaderEpoch(tp).orElse(-1));
    }

    private List<Integer> ledOffsetsPartitions() {
        List<Integer> led = new ArrayList<>();
        for (int p = 0; p < offsetsPartitionCount; p++) {
            if (offsetsLeader(p) == brokerId) {
                led.add(p);
            }
        }
        return led;
    }

    /** Replays every offsets partition this broker leads; returns how many groups hold offsets afterwards. */
    private Future<Integer> loadLedPartitions() {
        Map<Integer, Leadership> led = new TreeMap<>();
        ledOffsetsPartitions().forEach(partition -> led.put(partition, leadership(partition)));
        return load(led).map(groups -> {
            loadedPartitions.putAll(led);
            return groups;
        });
    }

    /**
     * Replays {@code partitions} of the offsets topic, in order, into the coordinator, provided that each is still
     * led here under the leadership it had when the load began; otherwise nothing is loaded (the caller retries).
     */
    private Future<Integer> load(Map<Integer, Leadership> partitions) {
        List<OffsetRecord> records = new ArrayList<>();
        Future<Void> chain = Future.succeededFuture();
        for (int partition : partitions.keySet()) {
            TopicPartition tp = new TopicPartition(OffsetsTopic.NAME, partition);
            chain = chain.compose(v -> this.<PartitionResponse.Status>ask(tp, new PartitionRequest.Describe()))
                    .compose(status -> {
                        // A new leader's high watermark lags until its followers fetch again; commits acknowledged
                        // by the previous leader lie below its epoch's start offset, so wait until those are visible.
                        if (status.highWatermark() < status.leaderEpochStartOffset()) {
                            return Future.failedFuture(new MillraceException(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
                                    tp + " is not fully committed on its new leader yet (high watermark "
                                            + status.highWatermark() + " < " + status.leaderEpochStartOffset() + ")"));
                        }
                        return readFrom(tp, status.logStartOffset(), records);
                    });
        }
        return chain.compose(v -> {
            for (Map.Entry<Integer, Leadership> e : partitions.entrySet()) {
                if (!e.getValue().equals(leadership(e.getKey()))) {
                    // Leadership moved while reading: what was read may miss the new leaders' commits.
                    return Future.failedFuture(new MillraceException(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
                            "Leadership of " + OffsetsTopic.NAME + "-" + e.getKey() + " changed during its load ("
                                    + e.getValue() + ", now " + leadership(e.getKey()) + ")"));
                }
            }
            return Future.succeededFuture(coordinator.loadOffsets(records));
        });
    }

    /**
     * Follows leadership of the offsets partitions: unloads the groups of partitions whose leadership changed since
     * they were loaded, and loads those this broker has come to lead (again); until one is loaded its groups are
     * answered COORDINATOR_LOAD_IN_PROGRESS, and those of a partition led elsewhere NOT_COORDINATOR.
     */
    private void followLeadership() {
        unloadPartitionsLedElsewhere();
        for (int partition : ledOffsetsPartitions()) {
            if (!loadedPartitions.containsKey(partition) && loadingPartitions.add(partition)) {
                Leadership loadingUnder = leadership(partition);
                load(Map.of(partition, loadingUnder)).onComplete(ar -> {
                    loadingPartitions.remove(partition);
                    if (ar.succeeded()) {
                        loadedPartitions.put(partition, loadingUnder);
                        LOG.info("Now coordinating the groups of {}-{} (leader epoch {})", OffsetsTopic.NAME,
                                partition, loadingUnder.epoch());
                    } else {
                        LOG.warn("Cannot load {}-{} (will retry): {}", OffsetsTopic.NAME, partition,
                                ar.cause().toString());
                    }
                });
            }
        }
    }

    private void unloadPartitionsLedElsewhere() {
        for (int partition : new ArrayList<>(loadedPartitions.keySet())) {
            unloadIfLeadershipChanged(partition);
        }
    }

    /** Unloads the groups of a loaded offsets partition whose leadership is no longer the one it was loaded under. */
    private void unloadIfLeadershipChanged(int partition) {
        Leadership loadedUnder = loadedPartitions.get(partition);
        if (loadedUnder == null) {
            return;
        }
        Leadership now = leadership(partition);
        if (loadedUnder.equals(now)) {
            return;
        }
        loadedPartitions.remove(partition);
        Set<String> unloaded = coordinator.unloadGroups(groupId -> offsetsPartitionFor(groupId) == partition);
        LOG.info("Leadership of {}-{} changed ({} -> {}): unloaded its {} groups", OffsetsTopic.NAME, partition,
                loadedUnder, now, unloaded.size());
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
        int partition = offsetsPartitionFor(records.get(0).groupId());
        TopicPartition tp = new TopicPartition(OffsetsTopic.NAME, partition);
        appendsInFlight.merge(partition, 1, Integer::sum);
        produce(tp, records)
                .onComplete(ar -> {
                    appendsInFlight.merge(partition, -1, Integer::sum);
                    if (ar.succeeded()) {
                        done.complete(GroupResult.done());
                    } else if (ar.cause() instanceof MillraceException m) {
                        done.complete(GroupResult.failed(m.errorCode(), m.getMessage()));
                    } else {
                        done.complete(GroupResult.failed(ErrorCode.UNKNOWN, String.valueOf(ar.cause())));
                    }
                });
    }

    private Future<PartitionResponse.Produced> produce(TopicPartition tp, List<OffsetRecord> records) {
        long now = time.milliseconds();
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
        for (OffsetRecord record : records) {
            builder.append(now, record.encodeKey(), record.encodeValue());
        }
        return ask(tp, new PartitionRequest.Produce(builder.build(), Acks.ALL));
    }

    // -----------------------------------------------------------------------------------------------------------
    // Snapshots

    /**
     * Snapshots loaded partitions only: the snapshot is written from the coordinator's cache, so one of a partition
     * not loaded here would be empty and the delete after it would drop every commit.
     */
    private void maybeSnapshot() {
        for (Map.Entry<Integer, Leadership> loaded : new TreeMap<>(loadedPartitions).entrySet()) {
            int partition = loaded.getKey();
            Leadership loadedUnder = loaded.getValue();
            TopicPartition tp = new TopicPartition(OffsetsTopic.NAME, partition);
            long size = cluster.sizeBytes(tp).orElse(0);
            long threshold = Math.max(settings.snapshotBytes(), nextSnapshotAt.getOrDefault(partition, 0L));
            if (size > threshold && snapshotting.add(partition)) {
                LOG.info("{} holds {} bytes (over {}): snapshotting its committed offsets", tp, size, threshold);
                this.<PartitionResponse.Status>ask(tp, new PartitionRequest.Roll())
                        .compose(rolled -> writeSnapshot(partition, loadedUnder, 0))
                        .compose(snapshotAt -> this.<PartitionResponse.Status>ask(tp,
                                new PartitionRequest.DeleteSegmentsBefore(snapshotAt)))
                        .onComplete(ar -> {
                            snapshotting.remove(partition);
                            if (ar.succeeded()) {
                                nextSnapshotAt.put(partition, 2 * ar.result().sizeBytes());
                                LOG.info("{} snapshotted: log starts at {} now, {} bytes", tp,
                                        ar.result().logStartOffset(), ar.result().sizeBytes());
                            } else {
                                LOG.warn("Snapshot of {} failed (will retry): {}", tp, ar.cause().toString());
                            }
                        });
            }
        }
    }

    /**
     * Writes the live offsets of the groups of {@code partition} once no append to it is in flight, all in this
     * turn of the event loop; completes with the offset where the snapshot starts.
     */
    private Future<Long> writeSnapshot(int partition, Leadership loadedUnder, int attempt) {
        if (!loadedUnder.equals(loadedPartitions.get(partition))) {
            return Future.failedFuture(new MillraceException(ErrorCode.NOT_COORDINATOR, "The groups of "
                    + OffsetsTopic.NAME + "-" + partition + " were unloaded (leadership moved)"));
        }
        if (appendsInFlight.getOrDefault(partition, 0) > 0) {
            if (attempt > 1000) {
                return Future.failedFuture(new MillraceException(ErrorCode.REQUEST_TIMED_OUT,
                        "Appends to the offsets partition never paused for a snapshot"));
            }
            Promise<Long> later = Promise.promise();
            vertx.setTimer(10, id -> writeSnapshot(partition, loadedUnder, attempt + 1).onComplete(later));
            return later.future();
        }
        List<OffsetRecord> live = new ArrayList<>();
        for (GroupListing listing : coordinator.listGroups()) {
            if (offsetsPartitionFor(listing.groupId()) != partition) {
                continue;
            }
            GroupResult<GroupDescription> described = coordinator.describeGroup(listing.groupId());
            if (described.succeeded()) {
                described.value().offsets().forEach((tp, committed) ->
                        live.add(OffsetRecord.commit(listing.groupId(), tp, committed)));
            }
        }
        List<OffsetRecord> snapshot = OffsetsTopic.compact(live);
        TopicPartition tp = new TopicPartition(OffsetsTopic.NAME, partition);
        if (snapshot.isEmpty()) {
            // nothing is live: everything written so far is redundant
            return this.<PartitionResponse.Status>ask(tp, new PartitionRequest.Describe())
                    .map(PartitionResponse.Status::highWatermark);
        }
        List<Future<PartitionResponse.Produced>> batches = new ArrayList<>();
        for (int from = 0; from < snapshot.size(); from += SNAPSHOT_BATCH_RECORDS) {
            batches.add(produce(tp, snapshot.subList(from, Math.min(snapshot.size(), from + SNAPSHOT_BATCH_RECORDS))));
        }
        return Future.all(batches).map(all -> batches.get(0).result().baseOffset());
    }

    private <T> Future<T> ask(TopicPartition tp, PartitionRequest request) {
        DeliveryOptions options = PartitionAddress.delivery(settings.requestTimeoutMs());
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
