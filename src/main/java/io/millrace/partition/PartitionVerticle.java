package io.millrace.partition;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionRequest.Describe;
import io.millrace.partition.PartitionRequest.Fetch;
import io.millrace.partition.PartitionRequest.ListOffset;
import io.millrace.partition.PartitionRequest.Produce;
import io.millrace.partition.PartitionResponse.Fetched;
import io.millrace.partition.PartitionResponse.Produced;
import io.millrace.replication.ReplicaSet;
import io.millrace.record.RecordBatch;
import io.millrace.storage.LogAppendInfo;
import io.millrace.storage.LogAppendResult;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogSlice;
import io.millrace.storage.PartitionLog;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one owner of a partition's log on this broker. It appends produced batches, answers fetches (holding them
 * until data arrives or their wait runs out), resolves offsets, and keeps the partition's {@link ReplicaSet}, whose
 * high watermark bounds what readers see and when {@code acks=all} producers are answered.
 *
 * <p>Everything runs on this verticle's event-loop context, so the log needs no locks; only opening, closing and
 * fsync run on worker threads. Requests arrive on {@link PartitionAddress#of} as {@link PartitionRequest}s; failures
 * are answered with the {@link ErrorCode} number as the failure code.
 *
 * <p>Life cycle: {@code start} opens (and if needed recovers) the log on a worker and then listens;
 * {@code stop} stops listening, answers waiting fetches empty, and closes the log cleanly.
 */
public final class PartitionVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(PartitionVerticle.class);
    private static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(LocalCodec.NAME);

    private final TopicPartition tp;
    private final Path dir;
    private final int brokerId;
    private final int leaderEpoch;
    private final Time time;
    private final Executor flushExecutor;
    private final PartitionSettings settings;
    private volatile LogConfig config;

    private PartitionLog log;
    private ReplicaSet replicas;
    private MessageConsumer<PartitionRequest> consumer;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final List<PendingAck> pendingAcks = new ArrayList<>();
    private final List<QueuedProduce> queuedProduces = new ArrayList<>();
    private long retentionTimer = -1;
    private long flushTimer = -1;
    private volatile PartitionStats stats = PartitionStats.EMPTY;
    private volatile boolean deleteLogOnStop;

    public PartitionVerticle(TopicPartition tp, Path dir, LogConfig config, int brokerId, int leaderEpoch, Time time,
                             Executor flushExecutor, PartitionSettings settings) {
        this.tp = tp;
        this.dir = dir;
        this.config = config;
        this.brokerId = brokerId;
        this.leaderEpoch = leaderEpoch;
        this.time = time;
        this.flushExecutor = flushExecutor;
        this.settings = settings;
    }

    public TopicPartition topicPartition() {
        return tp;
    }

    /** A snapshot of the partition's offsets and size, safe to read from any thread. */
    public PartitionStats stats() {
        return stats;
    }

    @Override
    public Future<?> start() {
        return vertx.executeBlocking(() -> PartitionLog.open(dir, config, time, flushExecutor))
                .compose(opened -> {
                    log = opened;
                    // Alone in the replica set, the leader's log end is committed as soon as it is written.
                    replicas = new ReplicaSet(brokerId, leaderEpoch, log.logEndOffset(), log.logEndOffset());
                    refreshStats();
                    consumer = vertx.eventBus().localConsumer(PartitionAddress.of(tp), this::handle);
                    retentionTimer = vertx.setPeriodic(settings.retentionCheckMs(), id -> enforceRetention());
                    flushTimer = vertx.setPeriodic(settings.flushCheckMs(), id -> log.maybeFlush());
                    return consumer.completion();
                });
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(retentionTimer);
        vertx.cancelTimer(flushTimer);
        Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
        return unregistered.compose(v -> {
            for (Waiter waiter : waiters) {
                vertx.cancelTimer(waiter.timer);
                waiter.message.reply(emptyFetch(waiter.fetch.offset()), LOCAL);
            }
            waiters.clear();
            for (QueuedProduce q : queuedProduces) {
                q.message.fail(ErrorCode.NOT_LEADER.code(), "Partition " + tp + " is shutting down on this broker");
            }
            queuedProduces.clear();
            for (PendingAck ack : pendingAcks) {
                ack.message.fail(ErrorCode.NOT_LEADER.code(), "Partition " + tp + " is shutting down on this broker");
            }
            pendingAcks.clear();
            PartitionLog closing = log;
            boolean delete = deleteLogOnStop;
            return closing == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
                if (delete) {
                    closing.delete();
                } else {
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
            }
        });
    }

    private void handle(Message<PartitionRequest> message) {
        try {
            PartitionRequest request = message.body();
            if (request instanceof Produce produce) {
                produce(produce, message);
            } else if (request instanceof Fetch fetch) {
                fetch(fetch, message);
            } else if (request instanceof ListOffset listOffset) {
                message.reply(listOffset(listOffset.spec()), LOCAL);
            } else if (request instanceof Describe) {
                message.reply(status(), LOCAL);
            } else if (request instanceof PartitionRequest.Roll) {
                log.roll();
                message.reply(status(), LOCAL);
            } else if (request instanceof PartitionRequest.DeleteSegmentsBefore delete) {
                if (delete.offset() > replicas.highWatermark()) {
                    throw new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot delete records of " + tp
                            + " below " + delete.offset() + ": the high watermark is " + replicas.highWatermark());
                }
                if (log.deleteSegmentsBefore(delete.offset()) > 0) {
                    refreshStats();
                }
                message.reply(status(), LOCAL);
            }
        } catch (MillraceException e) {
            message.fail(e.errorCode().code(), e.getMessage());
        } catch (UncheckedIOException e) {
            LOG.error("Storage failure on {}", tp, e);
            message.fail(ErrorCode.STORAGE_ERROR.code(), "Storage failure on " + tp + ": " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("Unexpected failure on {}", tp, e);
            message.fail(ErrorCode.UNKNOWN.code(), "Unexpected failure on " + tp + ": " + e);
        }
    }

    /**
     * Queues a produce for this turn of the event loop. The first produce of a turn schedules {@link #appendQueued}
     * behind whatever else is already waiting on the loop, so under load every batch that arrived meanwhile goes to
     * the disk in one write (group commit); alone, a batch waits for nothing but its own turn.
     */
    private void produce(Produce produce, Message<PartitionRequest> message) {
        queuedProduces.add(new QueuedProduce(produce, message));
        if (queuedProduces.size() == 1) {
            context.runOnContext(v -> appendQueued());
        }
    }

    private void appendQueued() {
        if (queuedProduces.isEmpty()) {
            return;
        }
        List<QueuedProduce> group = new ArrayList<>(queuedProduces);
        queuedProduces.clear();
        List<RecordBatch> batches = new ArrayList<>(group.size());
        group.forEach(q -> batches.add(q.produce.batch()));
        List<LogAppendResult> results;
        try {
            results = log.appendAsLeader(batches, replicas.leaderEpoch());
        } catch (RuntimeException e) {
            LOG.error("Append failed on {}", tp, e);
            ErrorCode code = e instanceof MillraceException m ? m.errorCode() : ErrorCode.STORAGE_ERROR;
            group.forEach(q -> q.message.fail(code.code(), "Append failed on " + tp + ": " + e.getMessage()));
            refreshStats();
            return;
        }
        boolean committed = replicas.updateLeaderEnd(log.logEndOffset());
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
        if (committed) {
            wakeWaiters();
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
            log.flushAsync().whenComplete((flushed, error) -> context.runOnContext(v -> {
                for (PendingAck ack : acks) {
                    if (error != null) {
                        ack.message.fail(ErrorCode.STORAGE_ERROR.code(), "fsync failed on " + tp + ": "
                                + error.getMessage());
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
        if (!ack.needsCommit || replicas.highWatermark() >= ack.endOffset) {
            ack.message.reply(ack.produced, LOCAL);
        } else {
            pendingAcks.add(ack);
        }
    }

    private void fetch(Fetch fetch, Message<PartitionRequest> message) {
        if (fetch.offset() < 0) {
            throw new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Offset must not be negative, was "
                    + fetch.offset());
        }
        LogSlice slice = log.read(fetch.offset(), fetch.maxBytes(), replicas.highWatermark());
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
            if (waiters.remove(waiter)) {
                message.reply(emptyFetch(fetch.offset()), LOCAL);
            }
        });
        waiters.add(waiter);
    }

    /** Answers every waiting fetch that now has committed data, and every acks=all producer now committed. */
    private void wakeWaiters() {
        long hw = replicas.highWatermark();
        Iterator<Waiter> it = waiters.iterator();
        while (it.hasNext()) {
            Waiter waiter = it.next();
            if (waiter.fetch.offset() < hw) {
                it.remove();
                vertx.cancelTimer(waiter.timer);
                try {
                    waiter.message.reply(fetched(log.read(waiter.fetch.offset(), waiter.fetch.maxBytes(), hw)),
                            LOCAL);
                } catch (MillraceException e) {
                    waiter.message.fail(e.errorCode().code(), e.getMessage());
                }
            }
        }
        pendingAcks.removeIf(ack -> {
            if (hw >= ack.endOffset) {
                ack.message.reply(ack.produced, LOCAL);
                return true;
            }
            return false;
        });
    }

    private PartitionResponse.Offset listOffset(OffsetSpec spec) {
        if (spec instanceof OffsetSpec.Earliest) {
            return new PartitionResponse.Offset(log.logStartOffset(), -1);
        } else if (spec instanceof OffsetSpec.Latest) {
            return new PartitionResponse.Offset(replicas.highWatermark(), -1);
        } else if (spec instanceof OffsetSpec.AtOffset at) {
            if (at.offset() < log.logStartOffset() || at.offset() > replicas.highWatermark()) {
                throw new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Offset " + at.offset()
                        + " is outside " + tp + " [" + log.logStartOffset() + ", " + replicas.highWatermark() + "]");
            }
            return new PartitionResponse.Offset(at.offset(), -1);
        } else {
            long timestamp = ((OffsetSpec.AtTimestamp) spec).timestamp();
            return log.offsetForTimestamp(timestamp)
                    .filter(found -> found.offset() < replicas.highWatermark())
                    .map(found -> new PartitionResponse.Offset(found.offset(), found.timestamp()))
                    .orElseGet(() -> new PartitionResponse.Offset(replicas.highWatermark(), -1));
        }
    }

    private void enforceRetention() {
        try {
            if (log.enforceRetention() > 0) {
                refreshStats();
            }
        } catch (RuntimeException e) {
            LOG.error("Retention failed on {}", tp, e);
        }
    }

    private Fetched fetched(LogSlice slice) {
        return new Fetched(slice, replicas.highWatermark(), log.logStartOffset(), log.logEndOffset());
    }

    private Fetched emptyFetch(long offset) {
        return fetched(new LogSlice(null, null, 0, 0, offset, offset));
    }

    private PartitionResponse.Status status() {
        return new PartitionResponse.Status(tp, replicas.leaderId(), replicas.leaderEpoch(),
                replicas.inSyncReplicas(), log.logStartOffset(), log.logEndOffset(), replicas.highWatermark(),
                log.size());
    }

    private void refreshStats() {
        stats = new PartitionStats(log.logStartOffset(), log.logEndOffset(), replicas.highWatermark(), log.size());
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
}
