package io.millrace.client;

import io.millrace.client.MillraceClientException.BufferExhaustedException;
import io.millrace.client.MillraceClientException.RecordTooLargeException;
import io.millrace.common.ErrorCode;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.InitProducerIdRequest;
import io.millrace.protocol.InitProducerIdResponse;
import io.millrace.protocol.ProduceRequest;
import io.millrace.protocol.ProduceResponse;
import io.millrace.record.Partitioner;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Sends records in batches: per partition, records collect into a batch until it reaches {@code batchSize} bytes or
 * its first record has waited {@code linger}; up to {@code maxInFlight} batches per partition travel at once.
 *
 * <p>Idempotent by default: the producer gets an id from the broker and stamps each batch with it and a sequence
 * number per partition, so a batch retried after a lost acknowledgement is recognised by the partition and answered
 * with its original offsets instead of being written twice. Retries keep the order within a partition: when a batch
 * fails, the partition waits for its other batches in flight, then resends the failed ones in sequence order, one
 * at a time, before pipelining again.
 *
 * <p>Memory is bounded by {@code bufferMemory}: when it is full, {@code send} waits (without blocking a thread) for
 * space, and fails with {@link BufferExhaustedException} after {@code maxBlock}.
 *
 * <p>Thread-safe: the state is guarded by one lock, and {@code send} appends the record to its batch on the calling
 * thread, as Kafka's producer does, so a record costs no hand-over between threads; acknowledgements are handled on
 * the connection's event loop. Callers' sinks are completed after the lock is released, so code reacting to a result
 * never runs inside the producer. A single-threaded scheduler of the producer's own runs its timers (linger, retry
 * back-off, the buffer-wait deadline).
 */
public final class Producer implements AutoCloseable {

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final Cluster cluster;
    private final ProducerConfig config;
    private final Scheduler timers;
    private final ReentrantLock lock = new ReentrantLock();
    /** Completions of callers' sinks, collected under the lock and run once it is released. */
    private List<Runnable> completions = new ArrayList<>();
    /** The deadline check of the oldest record waiting for buffer space; null when none is scheduled. */
    private Disposable memoryDeadline;
    private final Map<TopicPartition, PartitionQueue> partitions = new HashMap<>();
    private final Map<String, Integer> stickyPartitions = new HashMap<>();
    private final ArrayDeque<Waiting> waitingForMemory = new ArrayDeque<>();
    private final Map<String, List<Waiting>> awaitingMetadata = new HashMap<>();
    private long bufferedBytes;
    private long producerId = -1;
    private short producerEpoch;
    private boolean fetchingProducerId;
    private boolean closed;
    private volatile Mono<Void> closing;

    Producer(Cluster cluster, ProducerConfig config) {
        this.cluster = cluster;
        this.config = config;
        this.timers = Schedulers.newSingle("millrace-producer-" + INSTANCES.incrementAndGet(), true);
    }

    public ProducerConfig config() {
        return config;
    }

    /** Sends one record; completes when the broker acknowledged it as {@code acks} asks (at once with acks=0). */
    public Mono<RecordMetadata> send(ProducerRecord record) {
        return Mono.create(sink -> locked(() -> accept(new Waiting(record, sink, System.nanoTime()))));
    }

    /** Sends a stream of records; results come back in the order of the records. */
    public Flux<RecordMetadata> send(Publisher<ProducerRecord> records) {
        return Flux.from(records).flatMapSequential(this::send, 4096, 1);
    }

    /** Blocking facade: sends and waits for the acknowledgement. */
    public RecordMetadata sendSync(ProducerRecord record) {
        return send(record).block();
    }

    /** Sends every record handed over so far without waiting for linger; completes when all are acknowledged. */
    public Mono<Void> flush() {
        return Mono.defer(() -> {
            List<Mono<Void>> pending = new ArrayList<>();
            locked(() -> flushNow(pending));
            return Mono.when(pending);
        });
    }

    /** Refuses further sends, flushes, then stops. Calling it again returns the same completion. */
    public synchronized Mono<Void> closeGracefully() {
        if (closing == null) {
            // Refuse new records first, then deliver (or fail) every record accepted, including those still waiting
            // for buffer space or metadata; the timers stay until then because retries and linger need them.
            closing = Mono.fromRunnable(() -> locked(() -> closed = true))
                    .then(deliverEverything())
                    .then(Mono.<Void>fromRunnable(timers::dispose))
                    .cache();
        }
        return closing;
    }

    /** Flushes until no record is left: records waiting for space or metadata become batches as earlier ones end. */
    private Mono<Void> deliverEverything() {
        return flush().then(Mono.defer(() -> {
            boolean[] idle = new boolean[1];
            locked(() -> idle[0] = holdsNoRecord());
            return idle[0] ? Mono.<Void>empty()
                    : Mono.delay(Duration.ofMillis(10)).then(deliverEverything());
        }));
    }

    /** Closes, waiting at most the delivery timeout for records still in flight. */
    @Override
    public void close() {
        closeGracefully().block(config.deliveryTimeout());
    }

    /**
     * Runs {@code action} holding the lock, then, once the outermost holder releases it, the completions it queued.
     */
    private void locked(Runnable action) {
        lock.lock();
        List<Runnable> due = List.of();
        try {
            action.run();
        } finally {
            if (lock.getHoldCount() == 1 && !completions.isEmpty()) {
                due = completions;
                completions = new ArrayList<>();
            }
            lock.unlock();
        }
        for (Runnable completion : due) {
            completion.run();
        }
    }

    /** Schedules {@code action} on the producer's timer thread, to run holding the lock. */
    private Disposable later(Runnable action, long delayMillis) {
        return timers.schedule(() -> locked(action), delayMillis, TimeUnit.MILLISECONDS);
    }

    private void succeed(MonoSink<RecordMetadata> sink, RecordMetadata metadata) {
        completions.add(() -> sink.success(metadata));
    }

    private void fail(MonoSink<RecordMetadata> sink, Throwable error) {
        completions.add(() -> sink.error(error));
    }

    // ---- everything below runs holding the lock ----

    private void accept(Waiting w) {
        if (closed) {
            fail(w.sink, new IllegalStateException("The producer is closed"));
            return;
        }
        int size = w.record.estimatedSize();
        if (size + RecordBatch.HEADER_SIZE > config.maxRequestSize()) {
            fail(w.sink, new RecordTooLargeException("A record of about " + size + " bytes exceeds maxRequestSize="
                    + config.maxRequestSize()));
            return;
        }
        if (!waitingForMemory.isEmpty() || bufferedBytes + size > config.bufferMemory()) {
            waitingForMemory.addLast(w);
            scheduleMemoryDeadline();
            return;
        }
        bufferedBytes += size;
        route(w, size);
    }

    /** One timer at a time, for the oldest waiting record: records wait in arrival order, so it expires first. */
    private void scheduleMemoryDeadline() {
        if (memoryDeadline != null || waitingForMemory.isEmpty()) {
            return;
        }
        long waitedNanos = System.nanoTime() - waitingForMemory.peekFirst().enqueuedNanos;
        long delayMillis = Math.max(0, TimeUnit.NANOSECONDS.toMillis(config.maxBlock().toNanos() - waitedNanos)) + 1;
        memoryDeadline = later(this::expireWaiting, delayMillis);
    }

    private void expireWaiting() {
        memoryDeadline = null;
        long now = System.nanoTime();
        while (!waitingForMemory.isEmpty()
                && now - waitingForMemory.peekFirst().enqueuedNanos >= config.maxBlock().toNanos()) {
            fail(waitingForMemory.pollFirst().sink, new BufferExhaustedException("The producer buffer ("
                    + config.bufferMemory() + " bytes) stayed full for " + config.maxBlock().toMillis() + " ms"));
        }
        scheduleMemoryDeadline();
    }

    private void release(long bytes) {
        bufferedBytes -= bytes;
        while (!waitingForMemory.isEmpty()) {
            Waiting next = waitingForMemory.peekFirst();
            int size = next.record.estimatedSize();
            if (bufferedBytes + size > config.bufferMemory()) {
                return;
            }
            waitingForMemory.pollFirst();
            bufferedBytes += size;
            route(next, size);
        }
    }

    /**
     * Finds the record's partition, then appends it there. Records of a topic whose metadata is not cached yet wait
     * in arrival order for one lookup, so that records never overtake each other on the way to their batch. Records
     * with an explicit partition wait too: otherwise each of their batches would look the leader up on its own, and a
     * batch whose lookup answered first could reach the broker before an earlier one (refused as out of sequence).
     */
    private void route(Waiting w, int size) {
        ProducerRecord r = w.record;
        List<Waiting> waiting = awaitingMetadata.get(r.topic());
        if (waiting != null) {
            waiting.add(w);
            return;
        }
        java.util.OptionalInt count = cluster.cachedPartitionCount(r.topic());
        if (count.isPresent()) {
            appendToChosenPartition(w, size, count.getAsInt());
            return;
        }
        List<Waiting> first = new ArrayList<>();
        first.add(w);
        awaitingMetadata.put(r.topic(), first);
        // A broker that cannot be reached right now (restarting, or backing off after failed connections) is waited
        // for, up to maxBlock as Kafka's producer waits for metadata; other refusals fail the records at once.
        Mono.defer(() -> cluster.partitionCount(r.topic()))
                .retryWhen(reactor.util.retry.Retry.backoff(Long.MAX_VALUE, config.retryBackoff())
                        .maxBackoff(config.retryBackoffCap())
                        .filter(e -> e instanceof MillraceClientException.ConnectionException))
                .timeout(config.maxBlock(), Mono.error(() -> new MillraceClientException.ConnectionException(
                        "No broker answered for the metadata of " + r.topic() + " within maxBlock="
                                + config.maxBlock().toMillis() + " ms", null)))
                .subscribe(partitions -> locked(() -> {
            for (Waiting next : awaitingMetadata.remove(r.topic())) {
                appendToChosenPartition(next, next.record.estimatedSize(), partitions);
            }
        }), error -> locked(() -> {
            for (Waiting next : awaitingMetadata.remove(r.topic())) {
                release(next.record.estimatedSize());
                fail(next.sink, error);
            }
        }));
    }

    private void appendToChosenPartition(Waiting w, int size, int partitions) {
        ProducerRecord r = w.record;
        int partition = r.partition().isPresent() ? r.partition().getAsInt()
                : r.key() != null ? Partitioner.partitionForKey(r.key(), partitions)
                : stickyPartitions.computeIfAbsent(r.topic(), t -> ThreadLocalRandom.current().nextInt(partitions))
                % partitions;
        append(new TopicPartition(r.topic(), partition), w, size);
    }

    private void append(TopicPartition tp, Waiting w, int size) {
        PartitionQueue q = partitions.computeIfAbsent(tp, PartitionQueue::new);
        if (q.open != null && q.open.bytes + size > config.batchSize()) {
            q.closeOpen();
        }
        if (q.open == null) {
            q.open = new OpenBatch();
            q.armLinger(config.linger().toNanos());
        }
        ProducerRecord r = w.record;
        q.open.builder.append(r.timestamp().orElse(System.currentTimeMillis()), r.key(), r.value(), r.headers());
        q.open.sinks.add(w.sink);
        q.open.bytes += size;
        if (q.open.bytes >= config.batchSize()) {
            q.closeOpen();
        }
    }

    private boolean holdsNoRecord() {
        if (!waitingForMemory.isEmpty() || !awaitingMetadata.isEmpty()) {
            return false;
        }
        for (PartitionQueue q : partitions.values()) {
            if (q.open != null || !q.queued.isEmpty() || !q.inFlight.isEmpty() || !q.failed.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private void flushNow(List<Mono<Void>> pending) {
        for (PartitionQueue q : partitions.values()) {
            if (q.open != null) {
                q.closeOpen();
            }
            q.queued.forEach(b -> pending.add(b.done.asMono()));
            q.inFlight.forEach(b -> pending.add(b.done.asMono()));
            q.failed.forEach(b -> pending.add(b.done.asMono()));
        }
    }

    /** The producer id for new batches; fetched once (and again after a batch failed for good). */
    private boolean ensureProducerId() {
        if (!config.idempotence() || producerId >= 0) {
            return true;
        }
        if (!fetchingProducerId) {
            fetchingProducerId = true;
            Mono.defer(() -> cluster.anyBroker().<InitProducerIdResponse>request(new InitProducerIdRequest()))
                    .retryWhen(reactor.util.retry.Retry.backoff(Long.MAX_VALUE, config.retryBackoff())
                            .maxBackoff(config.retryBackoffCap())
                            .filter(e -> e instanceof MillraceClientException m && m.retriable()))
                    .subscribe(r -> locked(() -> {
                        fetchingProducerId = false;
                        producerId = r.producerId();
                        producerEpoch = r.producerEpoch();
                        partitions.values().forEach(PartitionQueue::resequenceQueued);
                        partitions.values().forEach(PartitionQueue::drain);
                    }), error -> locked(() -> {
                        fetchingProducerId = false;
                        partitions.values().forEach(q -> q.failAll(error));
                    }));
        }
        return false;
    }

    /** A record waiting to be placed (for buffer space or metadata). */
    private record Waiting(ProducerRecord record, MonoSink<RecordMetadata> sink, long enqueuedNanos) {
    }

    /** Records collecting into a batch. */
    private final class OpenBatch {
        final RecordBatchBuilder builder = new RecordBatchBuilder(config.compression(), TimestampType.CREATE_TIME, 0,
                config.batchSize());
        final List<MonoSink<RecordMetadata>> sinks = new ArrayList<>();
        final long openedNanos = System.nanoTime();
        int bytes;
    }

    /** A closed batch: its bytes, the sinks of its records, and its retry state. */
    private final class ClosedBatch {
        final TopicPartition tp;
        final RecordBatch batch;
        final List<MonoSink<RecordMetadata>> sinks;
        final long reservedBytes;
        final long deadlineNanos;
        final Sinks.Empty<Void> done = Sinks.empty();
        int baseSequence = -1;
        int attempts;

        ClosedBatch(TopicPartition tp, RecordBatch batch, List<MonoSink<RecordMetadata>> sinks, long reservedBytes) {
            this.tp = tp;
            this.batch = batch;
            this.sinks = sinks;
            this.reservedBytes = reservedBytes;
            this.deadlineNanos = System.nanoTime() + config.deliveryTimeout().toNanos();
        }
    }

    /** One partition's batches: collecting, queued, in flight, and failed ones awaiting a retry. */
    private final class PartitionQueue {
        final TopicPartition tp;
        OpenBatch open;
        final ArrayDeque<ClosedBatch> queued = new ArrayDeque<>();
        final List<ClosedBatch> inFlight = new ArrayList<>();
        final List<ClosedBatch> failed = new ArrayList<>();
        /** Batches resent after a failure still to be acknowledged; while positive, one batch travels at a time. */
        int retriesOutstanding;
        boolean backingOff;
        /** Retry rounds in a row without a success: the back-off doubles with each. */
        int failedRounds;
        /** A failure of the current round needs a back-off (not only hinted leader changes, retried at once). */
        boolean roundNeedsBackoff;
        Disposable lingerTimer;
        int nextSequence;

        PartitionQueue(TopicPartition tp) {
            this.tp = tp;
        }

        /**
         * One linger timer per partition, not one per batch: under load batches fill long before they linger, and
         * scheduling and cancelling a timer for each woke the timer thread thousands of times a second. When the
         * timer fires it closes the open batch if that batch has lingered long enough, else waits for the rest.
         */
        void armLinger(long delayNanos) {
            if (lingerTimer != null) {
                return;
            }
            lingerTimer = later(() -> {
                lingerTimer = null;
                if (open != null) {
                    long left = config.linger().toNanos() - (System.nanoTime() - open.openedNanos);
                    if (left <= 0) {
                        closeOpen();
                    } else {
                        armLinger(left);
                    }
                }
            }, TimeUnit.NANOSECONDS.toMillis(delayNanos + 999_999));
        }

        void closeOpen() {
            OpenBatch b = open;
            open = null;
            if (b.sinks.isEmpty()) {
                return;
            }
            stickyPartitions.remove(tp.topic());
            queued.addLast(new ClosedBatch(tp, b.builder.build(), b.sinks, b.bytes));
            drain();
        }

        /** Stamps producer id and sequences on queued batches that have none yet (or had an old producer id). */
        void resequenceQueued() {
            nextSequence = 0;
            for (ClosedBatch b : queued) {
                b.baseSequence = -1;
            }
        }

        void drain() {
            if (!ensureProducerId()) {
                return;
            }
            int limit = retriesOutstanding > 0 ? 1 : config.maxInFlight();
            while (!queued.isEmpty() && inFlight.size() < limit && !backingOff && failed.isEmpty()) {
                ClosedBatch b = queued.pollFirst();
                if (config.idempotence() && (b.baseSequence < 0 || b.batch.producerId() != producerId)) {
                    b.baseSequence = nextSequence;
                    b.batch.setProducerState(producerId, producerEpoch, nextSequence);
                    nextSequence = (int) (((long) nextSequence + b.batch.recordCount()) % ((long) Integer.MAX_VALUE + 1));
                }
                inFlight.add(b);
                send(b);
            }
        }

        /**
         * Sends a batch to the partition's leader with the leader epoch the metadata has for it, so that a deposed
         * leader refuses it (FENCED_LEADER_EPOCH) instead of writing it; the retry then goes to the new leader.
         */
        void send(ClosedBatch b) {
            b.attempts++;
            BrokerConnection[] target = new BrokerConnection[1];
            Mono<Cluster.Leader> leader = cluster.leaderAndEpoch(tp).doOnNext(l -> target[0] = l.connection());
            if (config.acks() == 0) {
                leader.flatMap(l -> l.connection().send(request(b, l.leaderEpoch()))).subscribe(v -> { },
                        e -> locked(() -> onFailure(b, e, target[0])), () -> locked(() -> onSuccess(b, -1)));
                return;
            }
            leader.flatMap(l -> l.connection().<ProduceResponse>request(request(b, l.leaderEpoch())))
                    .subscribe(response -> locked(() -> {
                        ProduceResponse.PartitionResult result = response.partitions().get(0);
                        if (result.error().isPresent()) {
                            onFailure(b, MillraceClientException.from(result.error().get()), target[0]);
                        } else {
                            onSuccess(b, result.baseOffset());
                        }
                    }), e -> locked(() -> onFailure(b, e, target[0])));
        }

        ProduceRequest request(ClosedBatch b, int leaderEpoch) {
            return new ProduceRequest(ProduceRequest.Acks.forCode(config.acks()),
                    (int) config.deliveryTimeout().toMillis(), tp.topic(),
                    List.of(new ProduceRequest.PartitionData(tp.partition(), leaderEpoch, b.batch.buffer())));
        }

        void onSuccess(ClosedBatch b, long baseOffset) {
            inFlight.remove(b);
            failedRounds = 0;
            if (retriesOutstanding > 0) {
                retriesOutstanding--;
            }
            long timestamp = b.batch.maxTimestamp();
            for (int i = 0; i < b.sinks.size(); i++) {
                succeed(b.sinks.get(i), new RecordMetadata(tp.topic(), tp.partition(),
                        baseOffset < 0 ? -1 : baseOffset + i, timestamp));
            }
            finish(b);
            completeEarlierFailedAsWritten(b);
            retryFailedOnceIdle();
        }

        /**
         * The partition took {@code b}, so it holds every earlier sequence of the same producer id: it accepts a
         * producer's batches only in sequence order. A failed batch before {@code b} was therefore written although
         * its answer was an error (an acks=all produce that timed out, or was refused as the leader moved, after the
         * append), and resending it would be refused as out of sequence once more than the broker's few remembered
         * batches have passed. It succeeds now, with its offsets unknown (-1), as Kafka's producer reports a
         * duplicate.
         */
        void completeEarlierFailedAsWritten(ClosedBatch b) {
            for (java.util.Iterator<ClosedBatch> it = failed.iterator(); it.hasNext(); ) {
                ClosedBatch earlier = it.next();
                if (earlier.batch.producerId() == b.batch.producerId() && earlier.baseSequence >= 0
                        && earlier.baseSequence < b.baseSequence) {
                    it.remove();
                    if (retriesOutstanding > 0) {
                        retriesOutstanding--;
                    }
                    earlier.sinks.forEach(sink -> succeed(sink, new RecordMetadata(tp.topic(), tp.partition(), -1,
                            earlier.batch.maxTimestamp())));
                    finish(earlier);
                }
            }
        }

        /**
         * A batch failed. Retriable failures (NOT_LEADER, NOT_ENOUGH_REPLICAS, a lost connection, ... until the
         * delivery timeout) wait until every other batch in flight is back, then all failed ones are resent in
         * sequence order, one at a time, with the same producer id and sequence numbers: the partition writes each
         * once, in order, whichever leader gets it. The resend goes at once when the broker named the new leader,
         * else after a back-off that doubles with each round and a metadata refresh.
         */
        void onFailure(ClosedBatch b, Throwable error, BrokerConnection sentTo) {
            inFlight.remove(b);
            boolean retriable = (error instanceof MillraceClientException m && (m.retriable()
                    || (m.errorCode() == ErrorCode.OUT_OF_ORDER_SEQUENCE && anEarlierBatchIsUnacknowledged(b))))
                    && System.nanoTime() < b.deadlineNanos;
            boolean leaderHinted = cluster.onPartitionError(tp, error, sentTo);
            if (retriable) {
                failed.add(b);
                roundNeedsBackoff |= !leaderHinted;
            } else {
                b.sinks.forEach(s -> fail(s, error));
                finish(b);
                if (config.idempotence() && b.baseSequence >= 0) {
                    // The broker never wrote it, so later sequences would leave a gap: start over with a new id.
                    producerId = -1;
                }
            }
            retryFailedOnceIdle();
        }

        /**
         * Whether a batch of this partition sent before {@code b} has failed or is still in flight: the partition may
         * then have refused {@code b} as out of sequence only because {@code b} reached it first (its answer came
         * back before the earlier one's, or the earlier one waited for a metadata lookup that {@code b} did not
         * need), so {@code b} is resent after it, as Kafka's producer does.
         */
        boolean anEarlierBatchIsUnacknowledged(ClosedBatch b) {
            if (!failed.isEmpty()) {
                return true;
            }
            for (ClosedBatch other : inFlight) {
                if (other.batch.producerId() == b.batch.producerId() && other.baseSequence < b.baseSequence) {
                    return true;
                }
            }
            return false;
        }

        /**
         * Called whenever a batch has left {@code inFlight}, by success or failure: once none is left in flight, the
         * failed ones go back to the head of the queue in sequence order and are resent after the round's back-off;
         * until then, or when nothing failed, the queue drains as usual. A success can be the last to come back, as
         * when a stopping broker refuses a later batch while an earlier one it had already taken still completes:
         * waiting only for failures would then leave the failed batch, and every batch queued behind it, unsent.
         */
        void retryFailedOnceIdle() {
            if (inFlight.isEmpty() && !failed.isEmpty()) {
                failed.sort(Comparator.comparingInt(x -> x.baseSequence));
                for (int i = failed.size() - 1; i >= 0; i--) {
                    queued.addFirst(failed.get(i));
                }
                retriesOutstanding = failed.size();
                failed.clear();
                backingOff = true;
                failedRounds++;
                // Only a first hinted round goes at once: brokers with stale views could bounce a hint between them.
                long delay = roundNeedsBackoff || failedRounds > 1 ? retryDelayMillis(failedRounds) : 0;
                roundNeedsBackoff = false;
                later(() -> {
                    backingOff = false;
                    drain();
                }, delay);
            } else {
                drain();
            }
        }

        /** {@code retryBackoff}, doubling per round, capped by {@code retryBackoffMax}. */
        long retryDelayMillis(int round) {
            long base = Math.max(1, config.retryBackoff().toMillis());
            long max = config.retryBackoffCap().toMillis();
            return Math.min(max, base << Math.min(round - 1, 20));
        }

        void finish(ClosedBatch b) {
            release(b.reservedBytes);
            b.done.tryEmitEmpty();
        }

        void failAll(Throwable error) {
            for (ClosedBatch b : new ArrayList<>(queued)) {
                b.sinks.forEach(s -> fail(s, error));
                finish(b);
            }
            queued.clear();
        }
    }
}
