package io.millrace.partition;

import io.millrace.common.Acks;
import io.millrace.common.EpochEndOffset;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.OffsetSpec;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionRequest.CancelFetch;
import io.millrace.partition.PartitionRequest.Describe;
import io.millrace.partition.PartitionRequest.Fetch;
import io.millrace.partition.PartitionRequest.ListOffset;
import io.millrace.partition.PartitionRequest.Produce;
import io.millrace.partition.PartitionRequest.ReplicaFetch;
import io.millrace.partition.PartitionResponse.Fetched;
import io.millrace.partition.PartitionResponse.Produced;
import io.millrace.partition.PartitionResponse.ReplicaData;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import io.millrace.replication.Divergence;
import io.millrace.replication.LeaderState;
import io.millrace.storage.LogAppendInfo;
import io.millrace.storage.LogAppendResult;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogSlice;
import io.millrace.storage.PartitionLog;
import io.millrace.storage.StorageHealth;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one owner of a partition's log on this broker, as leader or as follower.
 *
 * <ul>
 *   <li><b>Leader.</b> Appends produced batches, answers fetches (holding them until data arrives or their wait
 *   runs out), resolves offsets, and serves its followers' {@link ReplicaFetch}es. Its {@link LeaderState} tracks
 *   how far each follower has copied; the high watermark, the end of what every in-sync replica holds, bounds what
 *   consumers see and when {@code acks=all} producers are answered. It shrinks and grows the in-sync set through
 *   the {@link IsrWriter} (a conditional update in ZooKeeper).</li>
 *   <li><b>Follower.</b> Copies the leader's log with one {@link ReplicaFetch} in flight at a time, long-polling at
 *   the leader when caught up (an idle follower costs one waiting request, answered as soon as there are records or
 *   a newer high watermark). Each fetch names the epoch of the follower's last record; when the leader answers that
 *   the logs diverge there, the follower truncates its divergent tail first ({@link Divergence}). While in sync it
 *   answers the fetches that allow it ({@link Fetch#anyInSync}) up to the high watermark it last heard, waking them
 *   as that moves; other client requests get {@code NOT_LEADER}.</li>
 *   <li><b>Role changes</b> come from the cluster's metadata through {@link #applyAssignment}: a larger leader epoch
 *   makes this replica leader or follower; the same epoch may carry a new in-sync set. A smaller epoch is stale and
 *   ignored. Every answer to a follower or a fetch started under an older role is dropped ({@code roleGeneration}).
 *   </li>
 * </ul>
 *
 * <p>Everything runs on this verticle's event-loop context, so the log needs no locks; only opening, closing, fsync
 * and checkpoints run on worker threads. Requests arrive on {@link PartitionAddress#of} as
 * {@link PartitionRequest}s; failures are answered with the {@link ErrorCode} number as the failure code.
 */
public final class PartitionVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionVerticle.class);
    private static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(LocalCodec.NAME);
    private static final DeliveryOptions TO_FOLLOWER = new DeliveryOptions().setCodecName(ReplicationCodec.NAME);
    /** Extra time beyond a replica fetch's own wait before the follower gives up on the answer. */
    private static final long REPLICA_FETCH_SLACK_MS = 5_000;

    private final TopicPartition tp;
    private final Path dir;
    private final int brokerId;
    private final Time time;
    private final Executor flushExecutor;
    private final PartitionSettings settings;
    private final IsrWriter isrWriter;
    private final StorageHealth storage;
    private volatile LogConfig config;

    private PartitionLog log;
    private MessageConsumer<PartitionRequest> consumer;
    /** The cluster's latest word on this partition; null until the first one is applied. */
    private ReplicaAssignment assignment;
    /** Non-null while this replica leads. */
    private LeaderState leader;
    /** The high watermark a follower last heard from its leader (and, at start, the checkpointed one). */
    private long followerHighWatermark;
    /** Bumped at every role or epoch change: answers to requests sent under an older role are dropped. */
    private long roleGeneration;
    /**
     * The role generation whose replica fetch is in flight, -1 when none. A fetch sent to a leader that then died is
     * never answered (the event bus only times it out), so a new role does not wait for it: it fetches from its new
     * leader at once and the old answer is dropped when it comes.
     */
    private long fetchGenerationInFlight = -1;
    private long followerRetryTimer = -1;
    private long isrCheckTimer = -1;
    private long checkpointedHighWatermark = -1;
    private boolean checkpointInFlight;

    /** Fetches waiting for data, oldest first; at most {@code partition.max.fetch.waiters}. */
    private final Set<Waiter> waiters = new LinkedHashSet<>();
    /** The waiting fetches that can be withdrawn ({@link CancelFetch}), by their fetch id. */
    private final Map<Long, Waiter> waitersById = new HashMap<>();
    private final List<ReplicaWaiter> replicaWaiters = new ArrayList<>();
    private final List<PendingAck> pendingAcks = new ArrayList<>();
    private final List<QueuedProduce> queuedProduces = new ArrayList<>();
    /** The one-shot flush and checkpoint check, armed only while there is something to flush or checkpoint. */
    private long flushCheckTimer = -1;
    private boolean stopped;
    private volatile PartitionStats stats = PartitionStats.EMPTY;
    private volatile boolean deleteLogOnStop;

    /**
     * @param initial   the partition's state when the verticle starts; later states come through
     *                  {@link #applyAssignment}
     * @param isrWriter where a leader records in-sync set changes
     * @param storage   the state of the data directory holding {@code dir}: produces are refused while it is full or
     *                  read-only, and storage failures are reported to it
     */
    public PartitionVerticle(TopicPartition tp, Path dir, LogConfig config, int brokerId, ReplicaAssignment initial,
                             Time time, Executor flushExecutor, PartitionSettings settings, IsrWriter isrWriter,
                             StorageHealth storage) {
        this.tp = tp;
        this.dir = dir;
        this.config = config;
        this.brokerId = brokerId;
        this.latestAssignment = initial;
        this.time = time;
        this.flushExecutor = flushExecutor;
        this.settings = settings;
        this.isrWriter = isrWriter;
        this.storage = storage;
    }

    /** A partition this broker leads alone, in {@code leaderEpoch} (single-broker set-ups and tests). */
    public PartitionVerticle(TopicPartition tp, Path dir, LogConfig config, int brokerId, int leaderEpoch, Time time,
                             Executor flushExecutor, PartitionSettings settings) {
        this(tp, dir, config, brokerId, new ReplicaAssignment(brokerId, leaderEpoch, List.of(brokerId),
                List.of(brokerId), -1, 1), time, flushExecutor, settings, (p, next) -> Future.succeededFuture(
                Optional.empty()), new StorageHealth(dir, 0));
    }

    /** The newest state handed over by {@link #applyAssignment}, from any thread, also before the verticle runs. */
    private volatile ReplicaAssignment latestAssignment;

    public TopicPartition topicPartition() {
        return tp;
    }

    /** A snapshot of the partition's offsets and size, safe to read from any thread. */
    public PartitionStats stats() {
        return stats;
    }

    @Override
    public Future<?> start() {
        return vertx.executeBlocking(() -> PartitionLog.open(dir, config, time, flushExecutor, settings.openFiles()))
                .compose(opened -> {
                    log = opened;
                    followerHighWatermark = Math.min(log.checkpointedHighWatermark(), log.logEndOffset());
                    checkpointedHighWatermark = followerHighWatermark;
                    apply(latestAssignment);
                    consumer = vertx.eventBus().localConsumer(PartitionAddress.of(tp), this::handle);
                    armChecks();
                    return consumer.completion();
                });
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        vertx.cancelTimer(flushCheckTimer);
        flushCheckTimer = -1;
        roleGeneration++;
        stopFollowing();
        stopLeading();
        Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
        return unregistered.compose(v -> {
            for (Waiter waiter : takeAllWaiters()) {
                waiter.message.reply(emptyFetch(waiter.fetch.offset()), LOCAL);
            }
            failLeaderWork("Partition " + tp + " is shutting down on this broker");
            PartitionLog closing = log;
            boolean delete = deleteLogOnStop;
            long highWatermark = closing == null ? 0 : highWatermark();
            return closing == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
                if (delete) {
                    closing.delete();
                } else {
                    closing.checkpointHighWatermark(highWatermark);
                    closing.close();
                }
                return null;
            });
        });
    }

    /** Makes {@code stop} delete the partition's log instead of closing it: the topic is being deleted. */
    public void deleteLogOnStop() {
        this.deleteLogOnStop = true;
    }

    /** Applies a topic config change (retention, flush, roll policies) from the next operation on. */
    public void updateConfig(LogConfig newConfig) {
        this.config = newConfig;
        context.runOnContext(v -> {
            if (log != null) {
                log.updateConfig(newConfig);
                armChecks();
            }
        });
    }

    /** Applies the cluster's latest state of this partition (any thread). */
    public void applyAssignment(ReplicaAssignment next) {
        latestAssignment = next;
        io.vertx.core.Context running = context;
        if (running != null) {
            running.runOnContext(v -> {
                if (log != null) {
                    apply(latestAssignment);
                }
            });
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Roles

    private void apply(ReplicaAssignment next) {
        ReplicaAssignment current = assignment;
        if (current != null && (next.leaderEpoch() < current.leaderEpoch()
                || next.leaderEpoch() == current.leaderEpoch() && next.version() < current.version())) {
            return;
        }
        boolean newEpoch = current == null || next.leaderEpoch() > current.leaderEpoch()
                || next.leader() != current.leader();
        assignment = next;
        if (newEpoch) {
            roleGeneration++;
            if (next.leader() == brokerId) {
                becomeLeader(next);
            } else {
                becomeFollower(next);
            }
        } else if (leader != null) {
            // A reassignment changes the replicas within an epoch: the leader starts serving the added ones (and
            // stops tracking the dropped ones) without a leader change that clients would have to follow.
            boolean moved = next.replicas().equals(leader.replicas())
                    ? leader.applyIsr(new HashSet<>(next.isr()), time.milliseconds())
                    : leader.applyReplicas(next.replicas(), new HashSet<>(next.isr()), time.milliseconds());
            if (moved) {
                onHighWatermarkMoved();
            }
            settlePendingAcks();
        }
        refreshStats();
    }

    private void becomeLeader(ReplicaAssignment next) {
        stopFollowing();
        long previousHighWatermark = highWatermark();
        log.assignEpochStartOffset(next.leaderEpoch(), log.logEndOffset());
        leader = new LeaderState(brokerId, next.leaderEpoch(), next.replicas(), new HashSet<>(next.isr()),
                log.logEndOffset(), previousHighWatermark, settings.replicaLagTimeMaxMs(), time.milliseconds());
        LOG.info("{}: leader in epoch {} from offset {} (high watermark {}, in sync {})", tp, next.leaderEpoch(),
                log.logEndOffset(), leader.highWatermark(), next.isr());
        onHighWatermarkMoved();
    }

    private void becomeFollower(ReplicaAssignment next) {
        boolean wasLeader = leader != null;
        if (wasLeader) {
            followerHighWatermark = leader.highWatermark();
        }
        stopLeading();
        failLeaderWork("Broker " + brokerId + " no longer leads " + tp + " (leader is now broker " + next.leader()
                + " in epoch " + next.leaderEpoch() + ")");
        stopFollowing();
        if (next.leader() >= 0) {
            LOG.info("{}: following broker {} in epoch {} from offset {}", tp, next.leader(), next.leaderEpoch(),
                    log.logEndOffset());
            fetchFromLeader();
        } else {
            LOG.warn("{}: no leader in epoch {} (no in-sync replica is alive)", tp, next.leaderEpoch());
        }
    }

    private void stopLeading() {
        leader = null;
        if (isrCheckTimer >= 0) {
            vertx.cancelTimer(isrCheckTimer);
            isrCheckTimer = -1;
        }
    }

    private void stopFollowing() {
        if (followerRetryTimer >= 0) {
            vertx.cancelTimer(followerRetryTimer);
            followerRetryTimer = -1;
        }
    }

    /** Answers everything only a leader could finish: queued and unacknowledged produces, waiting readers. */
    private void failLeaderWork(String reason) {
        for (QueuedProduce q : queuedProduces) {
            if (q.produce.acks() != Acks.NONE) {
                q.message.fail(ErrorCode.NOT_LEADER.code(), reason);
            }
        }
        queuedProduces.clear();
        for (PendingAck ack : pendingAcks) {
            ack.message.fail(ErrorCode.NOT_LEADER.code(), reason);
        }
        pendingAcks.clear();
        for (Waiter waiter : takeAllWaiters()) {
            waiter.message.fail(ErrorCode.NOT_LEADER.code(), reason);
        }
        for (ReplicaWaiter waiter : replicaWaiters) {
            vertx.cancelTimer(waiter.timer);
            waiter.message.fail(ErrorCode.NOT_LEADER.code(), reason);
        }
        replicaWaiters.clear();
    }


    private long highWatermark() {
        return leader != null ? leader.highWatermark() : followerHighWatermark;
    }

    private int leaderEpoch() {
        return assignment == null ? -1 : assignment.leaderEpoch();
    }

    private LeaderState requireLeader() {
        if (leader == null) {
            int current = assignment == null ? -1 : assignment.leader();
            throw new MillraceException(ErrorCode.NOT_LEADER, "Broker " + brokerId + " does not lead " + tp
                    + (current >= 0 ? "; broker " + current + " does (epoch " + leaderEpoch() + ")"
                    : "; it has no leader now (no in-sync replica is alive)"));
        }
        return leader;
    }

    /**
     * {@link #requireLeader()} for a client request that names the epoch it believes the leader has (Kafka's
     * currentLeaderEpoch check, done before leadership as Kafka does): an older epoch is fenced, a newer one is news
     * this replica has not had yet; {@link LeaderEpoch#UNKNOWN} is not checked.
     */
    private LeaderState requireLeader(int requestedEpoch) {
        checkRequestedEpoch(requestedEpoch);
        return requireLeader();
    }

    /**
     * For a read that an in-sync follower may answer ({@link Fetch#anyInSync}): the leader, or a follower that the
     * cluster counts in sync in the epoch the request names (checked as a leader checks it).
     */
    private void requireInSyncReplica(int requestedEpoch) {
        checkRequestedEpoch(requestedEpoch);
        if (leader == null && (assignment == null || !assignment.isr().contains(brokerId))) {
            throw new MillraceException(ErrorCode.NOT_LEADER, "Broker " + brokerId + " is not in sync for " + tp
                    + "; ask its leader");
        }
    }

    private void checkRequestedEpoch(int requestedEpoch) {
        int current = leaderEpoch();
        if (requestedEpoch != LeaderEpoch.UNKNOWN && requestedEpoch < current) {
            throw new MillraceException(ErrorCode.FENCED_LEADER_EPOCH, "The request for " + tp + " names leader epoch "
                    + requestedEpoch + " but broker " + brokerId + " knows epoch " + current + "; refresh metadata");
        }
        if (requestedEpoch != LeaderEpoch.UNKNOWN && requestedEpoch > current) {
            throw new MillraceException(ErrorCode.NOT_LEADER, "The request for " + tp + " names leader epoch "
                    + requestedEpoch + " but broker " + brokerId + " has only learned epoch " + current
                    + " so far; retry");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Requests

    /**
     * Serves a follower's fetch that reached this broker over the clustered event bus ({@link ReplicaEndpoint}): on
     * this partition's own event loop, answering the follower directly. An acks=all produce waits for two of these
     * round trips, so each thread hand-off saved here is saved twice per commit.
     */
    public void serveReplicaFetch(ReplicaFetch fetch, Message<?> fromFollower) {
        Context running = context;
        if (running == null) {
            fromFollower.fail(ErrorCode.NOT_LEADER.code(), "Partition " + tp + " is not open on broker " + brokerId
                    + " yet");
            return;
        }
        running.runOnContext(v -> answering(fromFollower, () -> replicaFetch(fetch, fromFollower)));
    }

    private void handle(Message<PartitionRequest> message) {
        answering(message, () -> dispatch(message));
    }

    /** Runs {@code work}, answering {@code message} with the error code of whatever it throws. */
    private void answering(Message<?> message, Runnable work) {
        try {
            work.run();
        } catch (MillraceException e) {
            message.fail(e.errorCode().code(), e.getMessage());
        } catch (UncheckedIOException | InternalError e) {
            LOG.error("Storage failure on {}", tp, e);
            storage.recordFailure(e);
            message.fail(ErrorCode.STORAGE_ERROR.code(), "Storage failure on " + tp + ": " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("Unexpected failure on {}", tp, e);
            message.fail(ErrorCode.UNKNOWN.code(), "Unexpected failure on " + tp + ": " + e);
        }
    }

    private void dispatch(Message<PartitionRequest> message) {
        PartitionRequest request = message.body();
        if (request instanceof Produce produce) {
            requireLeader(produce.currentLeaderEpoch());
            produce(produce, message);
        } else if (request instanceof Fetch fetch) {
            if (fetch.anyInSync()) {
                requireInSyncReplica(fetch.currentLeaderEpoch());
            } else {
                requireLeader(fetch.currentLeaderEpoch());
            }
            fetch(fetch, message);
        } else if (request instanceof CancelFetch cancel) {
            withdraw(cancel.fetchId());
        } else if (request instanceof ReplicaFetch replicaFetch) {
            replicaFetch(replicaFetch, message);
        } else if (request instanceof ListOffset listOffset) {
            requireLeader(listOffset.currentLeaderEpoch());
            message.reply(listOffset(listOffset.spec()), LOCAL);
        } else if (request instanceof Describe) {
            message.reply(status(), LOCAL);
        } else if (request instanceof PartitionRequest.Roll) {
            requireLeader();
            log.roll();
            message.reply(status(), LOCAL);
        } else if (request instanceof PartitionRequest.DeleteSegmentsBefore delete) {
            long hw = requireLeader().highWatermark();
            if (delete.offset() > hw) {
                throw new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot delete records of " + tp
                        + " below " + delete.offset() + ": the high watermark is " + hw);
            }
            if (log.deleteSegmentsBefore(delete.offset()) > 0) {
                refreshStats();
            }
            message.reply(status(), LOCAL);
        } else if (request instanceof PartitionRequest.DeleteRecords delete) {
            deleteRecords(delete.offset());
            message.reply(status(), LOCAL);
        } else if (request instanceof PartitionRequest.EndOffsetForEpoch lookup) {
            requireLeader(lookup.currentLeaderEpoch());
            message.reply(endOffsetForEpoch(lookup.leaderEpoch()), LOCAL);
        }
    }

    /**
     * Queues a produce for this turn of the event loop. The first produce of a turn schedules {@link #appendQueued}
     * behind whatever else is already waiting on the loop, so under load every batch that arrived meanwhile goes to
     * the disk in one write (group commit); alone, a batch waits for nothing but its own turn. An {@code acks=all}
     * produce is refused before it is written when fewer replicas are in sync than {@code min.insync.replicas}.
     */
    private void produce(Produce produce, Message<PartitionRequest> message) {
        if (produce.acks() == Acks.ALL && leader.isr().size() < assignment.minInSyncReplicas()) {
            throw notEnoughReplicas();
        }
        Optional<StorageHealth.Problem> problem = storage.problem();
        if (problem.isPresent()) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, tp + " refuses writes: its data directory "
                    + storage.dir() + " is " + problem.get().kind().label() + " (" + problem.get().reason()
                    + "); writes resume by themselves once it is writable again, retry later");
        }
        queuedProduces.add(new QueuedProduce(produce, message));
        if (queuedProduces.size() == 1) {
            context.runOnContext(v -> appendQueued());
        }
    }

    private MillraceException notEnoughReplicas() {
        return new MillraceException(ErrorCode.NOT_ENOUGH_REPLICAS, tp + " has " + leader.isr().size()
                + " in-sync replica(s) " + leader.isr() + " but min.insync.replicas is "
                + assignment.minInSyncReplicas() + "; acks=all cannot be satisfied until replicas catch up");
    }

    private void appendQueued() {
        if (queuedProduces.isEmpty() || leader == null) {
            return;
        }
        List<QueuedProduce> group = new ArrayList<>(queuedProduces);
        queuedProduces.clear();
        List<RecordBatch> batches = new ArrayList<>(group.size());
        group.forEach(q -> batches.add(q.produce.batch()));
        List<LogAppendResult> results;
        try {
            results = log.appendAsLeader(batches, leader.leaderEpoch());
        } catch (RuntimeException | InternalError e) {
            LOG.error("Append failed on {}", tp, e);
            ErrorCode code = storageErrorCode(e);
            if (code == ErrorCode.STORAGE_ERROR) {
                storage.recordFailure(e);
            }
            group.forEach(q -> q.message.fail(code.code(), "Append failed on " + tp + ": " + e.getMessage()));
            refreshStats();
            return;
        }
        boolean committed = leader.updateLeaderEnd(log.logEndOffset(), time.milliseconds());
        refreshStats();
        List<PendingAck> acks = new ArrayList<>(group.size());
        for (int i = 0; i < group.size(); i++) {
            QueuedProduce q = group.get(i);
            LogAppendResult result = results.get(i);
            if (result.error().isPresent()) {
                if (q.produce.acks() != Acks.NONE) {
                    q.message.fail(result.error().get().errorCode().code(), result.error().get().getMessage());
                }
                continue;
            }
            LogAppendInfo info = result.info().orElseThrow();
            Produced produced = new Produced(info.firstOffset(), info.lastOffset(), info.logAppendTime(),
                    log.logStartOffset());
            switch (q.produce.acks()) {
                case NONE -> {
                    // The sender did not wait for an answer.
                }
                case LEADER -> acks.add(new PendingAck(info.lastOffset() + 1, false, q.message, produced));
                case ALL -> acks.add(new PendingAck(info.lastOffset() + 1, true, q.message, produced));
            }
        }
        whenDurable(acks);
        wakeReplicaWaiters();
        if (committed) {
            onHighWatermarkMoved();
        }
    }

    /**
     * Answers producers once their batches are as safe as promised: written by the leader (acks=1) or below the high
     * watermark (acks=all), and, when the log is configured to flush every record, fsynced — with one fsync for the
     * whole group.
     */
    private void whenDurable(List<PendingAck> acks) {
        if (acks.isEmpty()) {
            return;
        }
        long groupEnd = acks.stream().mapToLong(PendingAck::endOffset).max().orElse(0);
        if (config.flushMessages() == 1 && log.flushedOffset() < groupEnd) {
            long generation = roleGeneration;
            log.flushAsync().whenComplete((flushed, error) -> context.runOnContext(v -> {
                if (error != null) {
                    storage.recordFailure(error);
                }
                for (PendingAck ack : acks) {
                    if (error != null) {
                        ack.message.fail(ErrorCode.STORAGE_ERROR.code(), "fsync failed on " + tp + ": "
                                + error.getMessage());
                    } else if (generation != roleGeneration && ack.needsCommit) {
                        ack.message.fail(ErrorCode.NOT_LEADER.code(), "Broker " + brokerId + " no longer leads "
                                + tp);
                    } else {
                        settleAck(ack);
                    }
                }
            }));
        } else {
            acks.forEach(this::settleAck);
        }
    }

    private void settleAck(PendingAck ack) {
        if (!ack.needsCommit) {
            ack.message.reply(ack.produced, LOCAL);
        } else if (leader == null) {
            ack.message.fail(ErrorCode.NOT_LEADER.code(), "Broker " + brokerId + " no longer leads " + tp);
        } else if (!settleCommitted(ack)) {
            pendingAcks.add(ack);
        }
    }

    /**
     * Answers an acks=all producer whose batch the high watermark has passed: success while the in-sync set meets
     * {@code min.insync.replicas}, else NOT_ENOUGH_REPLICAS (the batch is in the log, written by fewer replicas than
     * promised; an idempotent producer's retry is deduplicated). Returns whether it answered.
     */
    private boolean settleCommitted(PendingAck ack) {
        if (leader.highWatermark() < ack.endOffset) {
            return false;
        }
        // The high watermark passed it on every member of the maximal in-sync set (pending changes included).
        if (leader.maximalIsr().size() >= assignment.minInSyncReplicas()) {
            ack.message.reply(ack.produced, LOCAL);
        } else {
            ack.message.fail(ErrorCode.NOT_ENOUGH_REPLICAS.code(), notEnoughReplicas().getMessage());
        }
        return true;
    }

    private void settlePendingAcks() {
        if (leader != null) {
            pendingAcks.removeIf(this::settleCommitted);
        }
    }

    private void fetch(Fetch fetch, Message<PartitionRequest> message) {
        if (fetch.offset() < 0) {
            throw new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Offset must not be negative, was "
                    + fetch.offset());
        }
        LogSlice slice = log.read(fetch.offset(), fetch.maxBytes(), highWatermark());
        if (!slice.isEmpty() || fetch.maxWaitMs() <= 0) {
            message.reply(fetched(slice), LOCAL);
            return;
        }
        if (waiters.size() >= settings.maxFetchWaiters()) {
            throw new MillraceException(ErrorCode.BROKER_OVERLOADED, "Too many fetches waiting on " + tp
                    + " (partition.max.fetch.waiters=" + settings.maxFetchWaiters() + ")");
        }
        long wait = Math.min(fetch.maxWaitMs(), settings.maxFetchWaitMs());
        Waiter waiter = new Waiter(fetch, message);
        waiter.timer = vertx.setTimer(wait, id -> {
            if (removeWaiter(waiter)) {
                message.reply(emptyFetch(fetch.offset()), LOCAL);
            }
        });
        waiters.add(waiter);
        if (fetch.fetchId() != Fetch.UNNAMED) {
            waitersById.put(fetch.fetchId(), waiter);
        }
    }

    /** Answers the waiting fetch named {@code fetchId} with no records at once, if it is still waiting. */
    private void withdraw(long fetchId) {
        Waiter waiter = waitersById.get(fetchId);
        if (waiter != null && removeWaiter(waiter)) {
            vertx.cancelTimer(waiter.timer);
            waiter.message.reply(emptyFetch(waiter.fetch.offset()), LOCAL);
        }
    }

    /** Forgets a waiting fetch; false when it was no longer waiting. The caller answers it. */
    private boolean removeWaiter(Waiter waiter) {
        if (!waiters.remove(waiter)) {
            return false;
        }
        waitersById.remove(waiter.fetch.fetchId(), waiter);
        return true;
    }

    /** Forgets every waiting fetch and stops their timers; the caller answers them. */
    private List<Waiter> takeAllWaiters() {
        List<Waiter> taken = new ArrayList<>(waiters);
        waiters.clear();
        waitersById.clear();
        taken.forEach(waiter -> vertx.cancelTimer(waiter.timer));
        return taken;
    }

    /**
     * Answers every waiting fetch that now has committed data; as leader also every acks=all producer now committed
     * and every follower whose fetch waits with an older high watermark.
     */
    private void onHighWatermarkMoved() {
        long hw = highWatermark();
        Iterator<Waiter> it = waiters.iterator();
        while (it.hasNext()) {
            Waiter waiter = it.next();
            if (waiter.fetch.offset() < hw) {
                it.remove();
                waitersById.remove(waiter.fetch.fetchId(), waiter);
                vertx.cancelTimer(waiter.timer);
                try {
                    waiter.message.reply(fetched(log.read(waiter.fetch.offset(), waiter.fetch.maxBytes(), hw)),
                            LOCAL);
                } catch (RuntimeException | InternalError e) {
                    waiter.message.fail(storageErrorCode(e).code(), "Cannot read " + tp + ": " + e.getMessage());
                }
            }
        }
        if (leader != null) {
            settlePendingAcks();
            answerReplicaWaiters(waiter -> waiter.fetch.highWatermark() < hw);
        }
        refreshStats();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Leader side of replication

    private void replicaFetch(ReplicaFetch fetch, Message<?> message) {
        LeaderState state = requireLeader();
        if (fetch.leaderEpoch() < state.leaderEpoch()) {
            throw new MillraceException(ErrorCode.FENCED_LEADER_EPOCH, "Broker " + fetch.replicaId()
                    + " fetched " + tp + " in leader epoch " + fetch.leaderEpoch() + " but the epoch is now "
                    + state.leaderEpoch());
        }
        if (fetch.leaderEpoch() > state.leaderEpoch()) {
            throw new MillraceException(ErrorCode.NOT_LEADER, "Broker " + brokerId + " leads " + tp + " in epoch "
                    + state.leaderEpoch() + " but the follower knows epoch " + fetch.leaderEpoch());
        }
        if (!state.replicas().contains(fetch.replicaId())) {
            throw new MillraceException(ErrorCode.INVALID_REQUEST, "Broker " + fetch.replicaId()
                    + " is not a replica of " + tp + " (replicas " + state.replicas() + ")");
        }
        Divergence.FetchCheck check = Divergence.check(log::endOffsetForEpoch, fetch.lastFetchedEpoch(),
                fetch.fetchOffset(), log.logStartOffset(), log.logEndOffset());
        if (check instanceof Divergence.FetchCheck.Diverging diverging) {
            message.reply(replicaData(Buffer.buffer(), Optional.of(diverging.leaderEnd())), TO_FOLLOWER);
            return;
        }
        if (check instanceof Divergence.FetchCheck.OutOfRange) {
            // The follower sees its offset below our log start and starts over there.
            message.reply(replicaData(Buffer.buffer(), Optional.empty()), TO_FOLLOWER);
            return;
        }
        LeaderState.FollowerFetch update = state.onFollowerFetch(fetch.replicaId(), fetch.fetchOffset(),
                time.milliseconds());
        update.isrToPropose().ifPresent(this::proposeIsr);
        if (update.highWatermarkMoved()) {
            onHighWatermarkMoved();
        }
        LogSlice slice = log.read(fetch.fetchOffset(), fetch.maxBytes(), log.logEndOffset());
        if (!slice.isEmpty() || fetch.maxWaitMs() <= 0 || fetch.highWatermark() < state.highWatermark()) {
            message.reply(replicaData(bytesOf(slice), Optional.empty()), TO_FOLLOWER);
            return;
        }
        ReplicaWaiter waiter = new ReplicaWaiter(fetch, message);
        waiter.timer = vertx.setTimer(fetch.maxWaitMs(), id -> {
            if (replicaWaiters.remove(waiter)) {
                message.reply(replicaData(Buffer.buffer(), Optional.empty()), TO_FOLLOWER);
            }
        });
        replicaWaiters.add(waiter);
    }

    /** Sends the records just appended to every follower waiting at the log end. */
    private void wakeReplicaWaiters() {
        answerReplicaWaiters(waiter -> true);
    }

    /** Answers the followers' waiting fetches that {@code due} picks with what the log has for them now. */
    private void answerReplicaWaiters(Predicate<ReplicaWaiter> due) {
        if (replicaWaiters.isEmpty()) {
            return;
        }
        List<ReplicaWaiter> woken = new ArrayList<>();
        replicaWaiters.removeIf(waiter -> due.test(waiter) && woken.add(waiter));
        for (ReplicaWaiter waiter : woken) {
            vertx.cancelTimer(waiter.timer);
            try {
                LogSlice slice = log.read(waiter.fetch.fetchOffset(), waiter.fetch.maxBytes(), log.logEndOffset());
                waiter.message.reply(replicaData(bytesOf(slice), Optional.empty()), TO_FOLLOWER);
            } catch (RuntimeException | InternalError e) {
                waiter.message.fail(storageErrorCode(e).code(), "Cannot read " + tp + ": " + e.getMessage());
            }
        }
    }

    private ReplicaData replicaData(Buffer records, Optional<EpochEndOffset> diverging) {
        return new ReplicaData(leaderEpoch(), highWatermark(), log.logStartOffset(), log.logEndOffset(), records,
                diverging);
    }

    private static Buffer bytesOf(LogSlice slice) {
        // readFully allocates exactly the slice's size, so its array is the bytes.
        return slice.isEmpty() ? Buffer.buffer() : Buffer.buffer(slice.readFully().array());
    }

    /** Drops in-sync replicas that have not caught up within {@code replica.lag.time.max.ms}. */
    private void checkIsr() {
        if (leader != null && !leader.isrUpdatePending()) {
            leader.maybeShrinkIsr(time.milliseconds()).ifPresent(this::proposeIsr);
        }
    }

    /**
     * Arms the one-shot timers of the periodic checks that have something to do, and only those, so an idle
     * partition holds no timer and costs no CPU however many the broker has:
     * <ul>
     *   <li>the flush check ({@code log.flush.check.interval.ms}) while records wait for {@code flush.ms} or a running
     *   flush, or the high watermark is not checkpointed yet;</li>
     *   <li>the in-sync check (every half {@code replica.lag.time.max.ms}, Kafka's schedule) while this broker leads
     *   and an in-sync follower is behind its log end: a follower at the log end cannot be dropped
     *   ({@link LeaderState#maybeShrinkIsr}), so nothing can change before the next append or in-sync set change,
     *   which call this again.</li>
     * </ul>
     * Each timer re-arms itself after its check while the condition holds. Called after every change of the log,
     * the high watermark, the role or the in-sync set ({@link #refreshStats}), and after a config change.
     */
    private void armChecks() {
        if (stopped || log == null) {
            return;
        }
        if (flushCheckTimer < 0 && (log.flushPending() || highWatermark() != checkpointedHighWatermark)) {
            flushCheckTimer = vertx.setTimer(settings.flushCheckMs(), id -> {
                flushCheckTimer = -1;
                log.maybeFlush();
                checkpointHighWatermark();
                armChecks();
            });
        }
        if (isrCheckTimer < 0 && leader != null && leader.inSyncFollowerBehind()) {
            isrCheckTimer = vertx.setTimer(Math.max(100, settings.replicaLagTimeMaxMs() / 2), id -> {
                isrCheckTimer = -1;
                checkIsr();
                armChecks();
            });
        }
    }

    /**
     * Writes a new in-sync set to the cluster's metadata; it takes effect here once stored. A failed conditional
     * update means the partition's state changed meanwhile: the new state arrives through {@link #applyAssignment}
     * and decides (this broker may no longer lead).
     */
    private void proposeIsr(Set<Integer> proposed) {
        if (leader == null || leader.isrUpdatePending()) {
            return;
        }
        LeaderState proposer = leader;
        proposer.proposeIsr(proposed);
        List<Integer> ordered = assignment.replicas().stream().filter(proposed::contains).toList();
        ReplicaAssignment next = assignment.withIsr(ordered);
        LOG.info("{}: in-sync replicas {} -> {} (epoch {})", tp, assignment.isr(), ordered, next.leaderEpoch());
        isrWriter.write(tp, next).onComplete(ar -> context.runOnContext(v -> {
            if (leader != proposer) {
                return;
            }
            if (ar.succeeded() && ar.result().isPresent()) {
                apply(ar.result().get());
            } else {
                proposer.abortIsrProposal();
                if (ar.failed()) {
                    LOG.warn("{}: cannot store the in-sync set {}: {}", tp, ordered, ar.cause().getMessage());
                }
            }
        }));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Follower side of replication

    private void fetchFromLeader() {
        ReplicaAssignment following = assignment;
        if (leader != null || following == null || following.leader() < 0 || following.leader() == brokerId
                || fetchGenerationInFlight == roleGeneration || followerRetryTimer >= 0) {
            return;
        }
        ReplicationThrottle throttle = settings.throttle();
        boolean throttled = throttle.limited() && following.adding() && !following.isr().contains(brokerId);
        long throttleDelayMs = throttled ? throttle.delayMs() : 0;
        if (throttleDelayMs > 0) {
            followerRetryTimer = vertx.setTimer(throttleDelayMs, id -> {
                followerRetryTimer = -1;
                fetchFromLeader();
            });
            return;
        }
        long generation = roleGeneration;
        fetchGenerationInFlight = generation;
        int maxBytes = throttled ? throttle.fetchBytes(settings.replicaFetchMaxBytes()) : settings.replicaFetchMaxBytes();
        ReplicaFetch request = new ReplicaFetch(tp, brokerId, following.leaderEpoch(), log.logEndOffset(),
                log.latestEpoch(), maxBytes, settings.replicaFetchWaitMaxMs(), followerHighWatermark);
        DeliveryOptions options = new DeliveryOptions().setCodecName(ReplicationCodec.NAME)
                .setSendTimeout(settings.replicaFetchWaitMaxMs() + REPLICA_FETCH_SLACK_MS);
        vertx.eventBus().<ReplicaData>request(ReplicaEndpoint.address(following.leader()), request, options)
                .onComplete(ar -> {
                    if (fetchGenerationInFlight == generation) {
                        fetchGenerationInFlight = -1;
                    }
                    if (generation != roleGeneration || log == null) {
                        return; // sent under an older role, which started its own fetch (or leads now)
                    }
                    if (throttled && ar.succeeded()) {
                        throttle.record(ar.result().body().records().length());
                    }
                    boolean again;
                    try {
                        again = ar.succeeded() ? onReplicaData(request, ar.result().body())
                                : onReplicaFetchFailed(ar.cause());
                    } catch (RuntimeException | InternalError e) {
                        LOG.error("{}: cannot apply what leader {} sent", tp, following.leader(), e);
                        again = false;
                    }
                    if (again) {
                        fetchFromLeader();
                    } else {
                        retryFetchLater();
                    }
                });
    }

    /** Applies a leader's answer; returns whether to fetch again at once. */
    private boolean onReplicaData(ReplicaFetch request, ReplicaData data) {
        if (data.leaderEpoch() != leaderEpoch()) {
            return false;
        }
        if (data.divergingEpoch().isPresent()) {
            Divergence.Truncation truncation = Divergence.truncation(log::endOffsetForEpoch,
                    data.divergingEpoch().get(), log.logEndOffset());
            long before = log.logEndOffset();
            log.truncateTo(truncation.offset());
            followerHighWatermark = Math.min(followerHighWatermark, log.logEndOffset());
            LOG.info("{}: truncated the divergent tail {}..{} (leader's epoch {} ends at {})", tp,
                    truncation.offset(), before, data.divergingEpoch().get().epoch(),
                    data.divergingEpoch().get().endOffset());
            refreshStats();
            return true;
        }
        if (request.fetchOffset() < data.logStartOffset()) {
            LOG.info("{}: offset {} is below the leader's log start {}; starting over there", tp,
                    request.fetchOffset(), data.logStartOffset());
            log.truncateFullyAndStartAt(data.logStartOffset());
            followerHighWatermark = Math.min(followerHighWatermark, log.logEndOffset());
            refreshStats();
            return true;
        }
        if (data.records().length() > 0) {
            if (request.fetchOffset() != log.logEndOffset()) {
                return true;
            }
            List<RecordBatch> batches = RecordBatches.split(java.nio.ByteBuffer.wrap(data.records().getBytes()));
            log.appendAsFollower(batches);
        }
        // The leader's start moves by retention and by DeleteRecords; a follower follows it as far as it has copied.
        log.advanceLogStartOffset(Math.min(data.logStartOffset(), log.logEndOffset()));
        long hw = Math.min(data.highWatermark(), log.logEndOffset());
        if (hw > followerHighWatermark) {
            followerHighWatermark = hw;
            onHighWatermarkMoved();
        } else {
            refreshStats();
        }
        return true;
    }

    /** A failed fetch: back off, unless the leader says our epoch is behind (then wait for the new state). */
    private boolean onReplicaFetchFailed(Throwable cause) {
        if (cause instanceof ReplyException reply && reply.failureType()
                == io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE) {
            LOG.debug("{}: fetch from leader failed: {}", tp, reply.getMessage());
        } else {
            LOG.debug("{}: fetch from leader failed: {}", tp, String.valueOf(cause));
        }
        return false;
    }

    private void retryFetchLater() {
        if (followerRetryTimer >= 0) {
            return;
        }
        followerRetryTimer = vertx.setTimer(settings.replicaFetchBackoffMs(), id -> {
            followerRetryTimer = -1;
            fetchFromLeader();
        });
    }

    // ---------------------------------------------------------------------------------------------------------

    private void checkpointHighWatermark() {
        long hw = highWatermark();
        if (checkpointInFlight || hw == checkpointedHighWatermark || log == null) {
            return;
        }
        checkpointInFlight = true;
        PartitionLog target = log;
        vertx.executeBlocking(() -> {
            target.checkpointHighWatermark(hw);
            return null;
        }, false).onComplete(ar -> {
            checkpointInFlight = false;
            if (ar.succeeded()) {
                checkpointedHighWatermark = hw;
            } else {
                LOG.warn("{}: cannot checkpoint the high watermark: {}", tp, ar.cause().toString());
            }
        });
    }

    /**
     * Moves the log start offset as a leader (followers follow it from the leader's fetch answers). Bounded by the
     * high watermark, so no replica loses a record it still has to copy.
     */
    private void deleteRecords(long offset) {
        long hw = requireLeader().highWatermark();
        long target = offset == PartitionRequest.DeleteRecords.HIGH_WATERMARK ? hw : offset;
        if (target < 0 || target > hw) {
            throw new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot delete the records of " + tp
                    + " below " + offset + ": it is outside [0, " + hw + "] (the high watermark)");
        }
        if (log.advanceLogStartOffset(target)) {
            LOG.info("{}: log start offset moved to {} on request", tp, log.logStartOffset());
            refreshStats();
        }
    }

    /**
     * The leader's answer to a client asking where {@code epoch} ended: from the leader epoch cache, up to the log
     * end for the latest epoch. An epoch above every epoch this log knows is undefined, as in Kafka: the cache would
     * call it the latest one, which is right for a follower comparing logs but would tell a client that an epoch no
     * leader has had yet ended at the log end.
     */
    private EpochEndOffset endOffsetForEpoch(int epoch) {
        return epoch > log.latestEpoch() ? EpochEndOffset.UNDEFINED : log.endOffsetForEpoch(epoch);
    }

    private PartitionResponse.Offset listOffset(OffsetSpec spec) {
        long highWatermark = leader.highWatermark();
        if (spec instanceof OffsetSpec.Earliest) {
            return new PartitionResponse.Offset(log.logStartOffset(), -1);
        } else if (spec instanceof OffsetSpec.Latest) {
            return new PartitionResponse.Offset(highWatermark, -1);
        } else if (spec instanceof OffsetSpec.AtOffset at) {
            // Up to the log end, not the high watermark (as Kafka): a new leader's high watermark can lag behind
            // what the previous leader had committed, and a reader resuming there just waits for it to catch up.
            if (at.offset() < log.logStartOffset() || at.offset() > log.logEndOffset()) {
                throw new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Offset " + at.offset()
                        + " is outside " + tp + " [" + log.logStartOffset() + ", " + log.logEndOffset() + "]");
            }
            return new PartitionResponse.Offset(at.offset(), -1);
        } else {
            long timestamp = ((OffsetSpec.AtTimestamp) spec).timestamp();
            return log.offsetForTimestamp(timestamp)
                    .filter(found -> found.offset() < highWatermark)
                    .map(found -> new PartitionResponse.Offset(found.offset(), found.timestamp()))
                    .orElseGet(() -> new PartitionResponse.Offset(highWatermark, -1));
        }
    }

    /**
     * Applies retention by time and size, and forgets expired producers, on this verticle's context; completes when
     * that is done (nothing is done while the log is not open or the verticle is stopping). Any thread, once the
     * verticle is deployed: the broker's {@link RetentionSweep} calls it for every partition in turn.
     */
    public Future<Void> applyRetention() {
        Promise<Void> applied = Promise.promise();
        context.runOnContext(v -> {
            if (log != null && !stopped) {
                enforceRetention();
            }
            applied.complete();
        });
        return applied.future();
    }

    /** Retention never deletes what a replica may still need: only records below the high watermark go. */
    private void enforceRetention() {
        try {
            if (log.enforceRetention(highWatermark()) > 0) {
                refreshStats();
            }
        } catch (RuntimeException | InternalError e) {
            LOG.error("Retention failed on {}", tp, e);
        }
    }

    /**
     * What a client is told when the log failed: the log's own code for a refused request, else STORAGE_ERROR
     * (retriable). {@link InternalError} is how the JVM reports a fault on a memory-mapped file that no lower layer
     * caught (it can surface after the access that caused it, in compiled code).
     */
    private static ErrorCode storageErrorCode(Throwable e) {
        return e instanceof MillraceException m ? m.errorCode() : ErrorCode.STORAGE_ERROR;
    }

    private Fetched fetched(LogSlice slice) {
        return new Fetched(slice, highWatermark(), log.logStartOffset(), log.logEndOffset());
    }

    private Fetched emptyFetch(long offset) {
        return fetched(LogSlice.empty(offset));
    }

    private PartitionResponse.Status status() {
        ReplicaAssignment current = assignment;
        Set<Integer> inSync = leader != null ? leader.isr() : current == null ? Set.of() : Set.copyOf(current.isr());
        return new PartitionResponse.Status(tp, current == null ? -1 : current.leader(), leaderEpoch(), inSync,
                log.logStartOffset(), log.logEndOffset(), highWatermark(), log.size(),
                leader != null ? leader.epochStartOffset() : -1);
    }

    private void refreshStats() {
        ReplicaAssignment current = assignment;
        stats = new PartitionStats(log.logStartOffset(), log.logEndOffset(), highWatermark(), log.size(),
                leader != null, leaderEpoch(), leader != null ? leader.isr().size() : 0,
                current == null ? 0 : current.replicas().size(), maxFollowerLag());
        armChecks();
    }

    private long maxFollowerLag() {
        if (leader == null) {
            return 0;
        }
        long lag = 0;
        for (int replica : leader.replicas()) {
            if (replica != brokerId) {
                long end = leader.followerEnd(replica);
                lag = Math.max(lag, log.logEndOffset() - Math.max(0, end));
            }
        }
        return lag;
    }

    /** A fetch waiting for data. */
    private static final class Waiter {
        final Fetch fetch;
        final Message<PartitionRequest> message;
        long timer;

        Waiter(Fetch fetch, Message<PartitionRequest> message) {
            this.fetch = fetch;
            this.message = message;
        }
    }

    private record QueuedProduce(Produce produce, Message<PartitionRequest> message) {
    }

    private record PendingAck(long endOffset, boolean needsCommit, Message<PartitionRequest> message,
                              Produced produced) {
    }

    /** A follower's fetch waiting at the log end for new records. */
    private static final class ReplicaWaiter {
        final ReplicaFetch fetch;
        final Message<?> message;
        long timer;

        ReplicaWaiter(ReplicaFetch fetch, Message<?> message) {
            this.fetch = fetch;
            this.message = message;
        }
    }
}
