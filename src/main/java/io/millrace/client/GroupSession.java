package io.millrace.client;

import io.millrace.client.MillraceClientException.ConnectionException;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.CommitOffsetsRequest;
import io.millrace.protocol.CommitOffsetsRequest.PartitionOffset;
import io.millrace.protocol.FetchOffsetsRequest;
import io.millrace.protocol.FetchOffsetsResponse;
import io.millrace.protocol.HeartbeatRequest;
import io.millrace.protocol.JoinGroupRequest;
import io.millrace.protocol.JoinGroupResponse;
import io.millrace.protocol.LeaveGroupRequest;
import io.millrace.protocol.Message;
import io.millrace.protocol.Request;
import io.millrace.protocol.TopicPartitions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One subscription of a group {@link Consumer}: membership of the group (join, heartbeat, rejoin on rebalance, leave
 * on cancel), one {@link PartitionReader} per assigned partition starting at the committed offset (or the reset
 * policy), and commits of acknowledged positions (periodically, on revocation, on demand, and before leaving).
 *
 * <h2>States</h2>
 * <pre>
 * from        event                                   does                                              to
 * JOINING     join answered                           revokes partitions it lost (commit first), starts  MEMBER
 *                                                     readers for new ones; rejoins at once if asked
 * JOINING     UNKNOWN_MEMBER_ID                       forgets its member id                              JOINING
 * JOINING     retriable error                         retries after a back-off                           JOINING
 * MEMBER      heartbeat REBALANCE_IN_PROGRESS         eager: revokes everything (commit first); joins    JOINING
 *                                                     cooperative: keeps reading, joins
 * MEMBER      heartbeat ILLEGAL_GENERATION or         drops every partition without committing (the      JOINING
 *             UNKNOWN_MEMBER_ID                       commit would be refused), joins
 * any         cancel                                  commits acknowledged positions, leaves             CLOSED
 * any         fatal error                             fails the stream                                   CLOSED
 * </pre>
 *
 * <p>Thread-safe: answers arrive on connection threads, timers on Reactor's parallel scheduler, acknowledgements on
 * the subscriber's thread; all take this object's monitor, and none blocks while holding it.
 */
final class GroupSession {

    /** The internal topic whose partition leaders coordinate groups. */
    static final String OFFSETS_TOPIC = "__consumer_offsets";

    private final Cluster cluster;
    private final ConsumerConfig config;
    private final GroupOptions options;
    private final String groupId;
    private final List<String> topics;
    private final Sinks.Many<Flux<GroupRecord>> streams = Sinks.many().unicast().onBackpressureBuffer();

    private String memberId = "";
    private int generation = -1;
    private boolean joining;
    /** An eager member is giving its partitions up before it rejoins. */
    private boolean revoking;
    private boolean closed;
    private int failedJoins;
    /** Partitions this member reads, with the signal that ends each one's reader. */
    private final Map<TopicPartition, Sinks.One<Boolean>> owned = new HashMap<>();
    /** Next offset to commit per owned partition: one past the last acknowledged record. */
    private final Map<TopicPartition, Long> acknowledged = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private Disposable heartbeats;
    private Disposable autoCommits;

    GroupSession(Cluster cluster, ConsumerConfig config, GroupOptions options, String groupId, List<String> topics) {
        this.cluster = cluster;
        this.config = config;
        this.options = options;
        this.groupId = groupId;
        this.topics = List.copyOf(topics);
    }

    /** The records of the partitions assigned to this member, as long as the subscription lasts. */
    Flux<GroupRecord> records() {
        return streams.asFlux()
                .flatMap(stream -> stream, Integer.MAX_VALUE, config.maxCreditsPerRequest())
                .doOnSubscribe(s -> start())
                .doFinally(signal -> close());
    }

    /** Apache Kafka's rule, as the broker applies it: {@code abs(hashCode) % n}, with MIN_VALUE mapped to 0. */
    static int offsetsPartitionFor(String groupId, int partitions) {
        int hash = groupId.hashCode();
        return (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % partitions;
    }

    // ------------------------------------------------------------------------------------------------ lifecycle

    private void start() {
        heartbeats = Flux.interval(options.heartbeatInterval()).subscribe(t -> heartbeat());
        if (options.autoCommit()) {
            autoCommits = Flux.interval(options.autoCommitInterval())
                    .subscribe(t -> commitAcknowledged(null).onErrorResume(e -> Mono.empty()).subscribe());
        }
        join();
    }

    private void close() {
        Set<TopicPartition> mine;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            mine = new TreeSet<>(ORDER);
            mine.addAll(owned.keySet());
        }
        dispose(heartbeats);
        dispose(autoCommits);
        if (!mine.isEmpty()) {
            safely(() -> options.onRevoked().accept(mine));
        }
        String member;
        synchronized (this) {
            member = memberId;
        }
        if (member.isEmpty()) {
            return;
        }
        cluster.beforeClose(commitAcknowledged(mine)
                .onErrorResume(e -> Mono.empty())
                .then(call(new LeaveGroupRequest(groupId, member), Duration.ZERO))
                .timeout(cluster.config().requestTimeout())
                .then());
    }

    private void fail(Throwable error) {
        synchronized (this) {
            if (closed) {
                return;
            }
            streams.tryEmitError(error);
        }
    }

    // ------------------------------------------------------------------------------------------------ membership

    private void join() {
        JoinGroupRequest request;
        synchronized (this) {
            if (closed || joining) {
                return;
            }
            joining = true;
            request = new JoinGroupRequest(groupId, memberId, cluster.config().clientId(),
                    (int) options.sessionTimeout().toMillis(), (int) options.rebalanceTimeout().toMillis(),
                    options.strategy(), topics);
        }
        Duration wait = options.rebalanceTimeout().plus(cluster.config().requestTimeout());
        this.<JoinGroupResponse>call(request, wait).subscribe(this::joined, this::joinFailed);
    }

    private void joined(JoinGroupResponse response) {
        Set<TopicPartition> assignment = flatten(response.assignment());
        Set<TopicPartition> lost = new TreeSet<>(ORDER);
        Set<TopicPartition> gained = new TreeSet<>(ORDER);
        synchronized (this) {
            joining = false;
            failedJoins = 0;
            if (closed) {
                memberId = response.memberId();
                return;
            }
            memberId = response.memberId();
            generation = response.generation();
            owned.keySet().stream().filter(tp -> !assignment.contains(tp)).forEach(lost::add);
            assignment.stream().filter(tp -> !owned.containsKey(tp)).forEach(gained::add);
        }
        revoke(lost, true)
                .then(Mono.fromRunnable(() -> {
                    if (response.mustRejoin()) {
                        join();
                    }
                }))
                .then(startReaders(gained))
                .subscribe(v -> { }, this::fail);
    }

    private void joinFailed(Throwable error) {
        ErrorCode code = code(error);
        int attempt;
        synchronized (this) {
            joining = false;
            if (closed) {
                return;
            }
            if (code == ErrorCode.UNKNOWN_MEMBER_ID) {
                memberId = "";
            }
            attempt = ++failedJoins;
        }
        boolean again = code == ErrorCode.UNKNOWN_MEMBER_ID || code == ErrorCode.REBALANCE_IN_PROGRESS
                || code == ErrorCode.ILLEGAL_GENERATION || retriable(error);
        if (again) {
            // Retriable refusals (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, a lost connection, ...) never end
            // the membership: the coordinator is looked up again (call() dropped the stale metadata) after a
            // back-off that doubles up to reconnectBackoffMax.
            Mono.delay(cluster.backoff(attempt)).subscribe(t -> join());
        } else {
            fail(error);
        }
    }

    private void heartbeat() {
        String member;
        int gen;
        synchronized (this) {
            if (closed || joining || revoking || memberId.isEmpty()) {
                return;
            }
            member = memberId;
            gen = generation;
        }
        this.call(new HeartbeatRequest(groupId, member, gen), Duration.ZERO)
                .subscribe(ok -> { }, error -> {
                    if (!isCurrent(member, gen)) {
                        // Answered for a membership this member has since left (it joined again while the heartbeat
                        // was out): acting on it would throw away the new one. The next heartbeat speaks for it.
                        return;
                    }
                    ErrorCode code = code(error);
                    if (code == ErrorCode.REBALANCE_IN_PROGRESS) {
                        rebalance();
                    } else if (code == ErrorCode.ILLEGAL_GENERATION || code == ErrorCode.UNKNOWN_MEMBER_ID) {
                        synchronized (this) {
                            if (code == ErrorCode.UNKNOWN_MEMBER_ID) {
                                memberId = "";
                            }
                            generation = -1;
                        }
                        revoke(ownedNow(), false).subscribe(v -> { }, e -> { }, this::join);
                    }
                    // other failures (a lost connection, a coordinator moving) are retried by the next heartbeat
                });
    }

    /** The group is rebalancing: an eager member gives everything up first, a cooperative one keeps reading. */
    private void rebalance() {
        synchronized (this) {
            if (joining || closed || revoking) {
                return;
            }
            revoking = !"cooperative-sticky".equalsIgnoreCase(options.strategy());
        }
        if (!revoking) {
            join();
            return;
        }
        revoke(ownedNow(), true).doFinally(signal -> {
            synchronized (this) {
                revoking = false;
            }
            join();
        }).subscribe(v -> { }, e -> { });
    }

    // ------------------------------------------------------------------------------------------------ partitions

    private synchronized Set<TopicPartition> ownedNow() {
        Set<TopicPartition> all = new TreeSet<>(ORDER);
        all.addAll(owned.keySet());
        return all;
    }

    /** Stops reading {@code partitions}: tells the listener, commits their acknowledged positions if asked. */
    private Mono<Void> revoke(Set<TopicPartition> partitions, boolean commit) {
        if (partitions.isEmpty()) {
            return Mono.empty();
        }
        List<Sinks.One<Boolean>> stops = new ArrayList<>();
        synchronized (this) {
            // No longer owned from here on, not once the commit is done: a join answered meanwhile must see these
            // partitions as ones to start reading again if it assigns them, not as ones still being read.
            partitions.forEach(tp -> {
                Sinks.One<Boolean> stop = owned.remove(tp);
                if (stop != null) {
                    stops.add(stop);
                }
            });
        }
        // Outside the monitor: the signal stops the reader at once, on this thread, and takes the reader's monitor;
        // holding ours across it is how a delivery acknowledging into this session once deadlocked against it.
        stops.forEach(stop -> stop.tryEmitValue(true));
        safely(() -> options.onRevoked().accept(partitions));
        Mono<Void> commits = commit ? commitAcknowledged(partitions).onErrorResume(e -> Mono.empty()) : Mono.empty();
        return commits.then(Mono.fromRunnable(() -> {
            synchronized (this) {
                partitions.stream().filter(tp -> !owned.containsKey(tp)).forEach(tp -> {
                    acknowledged.remove(tp);
                    committed.remove(tp);
                });
            }
        }));
    }

    /**
     * Looks up committed offsets of {@code partitions} and starts a reader for each, unless the membership moved on
     * meanwhile (a later join starts its own) or the partition is read already (a rejoin of the same generation
     * started it first): two readers of one partition would read it twice, and only one of them could be stopped.
     */
    private Mono<Void> startReaders(Set<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return Mono.empty();
        }
        int joinedGeneration;
        synchronized (this) {
            joinedGeneration = generation;
        }
        Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
        partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition()));
        List<TopicPartitions> wanted = new ArrayList<>();
        byTopic.forEach((t, ps) -> wanted.add(new TopicPartitions(t, ps)));
        return this.<FetchOffsetsResponse>call(new FetchOffsetsRequest(groupId, wanted), Duration.ZERO)
                .retryWhen(reactor.util.retry.Retry.backoff(Long.MAX_VALUE, config.reconnectBackoff())
                        .maxBackoff(cluster.config().reconnectBackoffMax())
                        .filter(e -> retriable(e) && !isClosed()))
                .flatMap(found -> {
                    Map<TopicPartition, Long> offsets = new HashMap<>();
                    found.offsets().forEach(o -> offsets.put(new TopicPartition(o.topic(), o.partition()),
                            o.offset()));
                    for (TopicPartition tp : partitions) {
                        Long at = offsets.get(tp);
                        if (at == null && options.resetPolicy() == GroupOptions.ResetPolicy.NONE) {
                            return Mono.error(new MillraceClientException(ErrorCode.OFFSET_OUT_OF_RANGE, "Group "
                                    + groupId + " has no committed offset for " + tp + " and the reset policy is "
                                    + "none"));
                        }
                    }
                    Set<TopicPartition> started = new TreeSet<>(ORDER);
                    synchronized (this) {
                        if (closed || generation != joinedGeneration) {
                            return Mono.empty();
                        }
                        for (TopicPartition tp : partitions) {
                            if (owned.containsKey(tp)) {
                                continue;
                            }
                            started.add(tp);
                            Long at = offsets.get(tp);
                            Seek from = at != null ? Seek.offset(at)
                                    : options.resetPolicy() == GroupOptions.ResetPolicy.LATEST ? Seek.latest()
                                    : Seek.earliest();
                            if (at != null) {
                                committed.put(tp, at);
                            }
                            startReader(tp, from);
                        }
                    }
                    if (!started.isEmpty()) {
                        safely(() -> options.onAssigned().accept(started));
                    }
                    return Mono.<Void>empty();
                });
    }

    /** Called with the monitor held. */
    private void startReader(TopicPartition tp, Seek from) {
        Sinks.One<Boolean> stop = Sinks.one();
        owned.put(tp, stop);
        Flux<GroupRecord> stream = Flux.<ConsumerRecord>create(sink -> new PartitionReader(cluster, config, tp, from,
                        sink).start(), FluxSink.OverflowStrategy.BUFFER)
                .takeUntilOther(stop.asMono())
                .map(record -> new Received(tp, record));
        streams.tryEmitNext(stream);
    }

    // ------------------------------------------------------------------------------------------------ commits

    private synchronized void acknowledge(TopicPartition tp, long nextOffset) {
        if (owned.containsKey(tp)) {
            acknowledged.merge(tp, nextOffset, Math::max);
        }
    }

    /** Commits acknowledged positions that moved, of {@code only} (or of every owned partition when null). */
    private Mono<Void> commitAcknowledged(Set<TopicPartition> only) {
        List<PartitionOffset> offsets = new ArrayList<>();
        String member;
        int gen;
        synchronized (this) {
            acknowledged.forEach((tp, offset) -> {
                if ((only == null || only.contains(tp)) && offset > committed.getOrDefault(tp, -1L)) {
                    offsets.add(new PartitionOffset(tp.topic(), tp.partition(), offset, ""));
                }
            });
            member = memberId;
            gen = generation;
        }
        if (offsets.isEmpty() || member.isEmpty()) {
            return Mono.empty();
        }
        return this.call(new CommitOffsetsRequest(groupId, member, gen, offsets), Duration.ZERO)
                .doOnSuccess(ok -> {
                    synchronized (this) {
                        offsets.forEach(o -> committed.merge(new TopicPartition(o.topic(), o.partition()),
                                o.offset(), Math::max));
                    }
                })
                .then();
    }

    // ------------------------------------------------------------------------------------------------ plumbing

    /** Sends a request to the group's coordinator; {@code timeout} zero means the client's request timeout. */
    private <R extends Message> Mono<R> call(Request request, Duration timeout) {
        Duration wait = timeout.isZero() ? cluster.config().requestTimeout() : timeout;
        return cluster.partitionCount(OFFSETS_TOPIC)
                .flatMap(n -> cluster.leader(new TopicPartition(OFFSETS_TOPIC, offsetsPartitionFor(groupId, n))))
                .flatMap(conn -> conn.<R>request(request, wait))
                .doOnError(e -> {
                    ErrorCode code = code(e);
                    if (code == ErrorCode.NOT_COORDINATOR || code == ErrorCode.NOT_LEADER
                            || code == ErrorCode.FENCED_LEADER_EPOCH || code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                            || e instanceof ConnectionException) {
                        cluster.invalidate(OFFSETS_TOPIC);
                    }
                });
    }

    private synchronized boolean isCurrent(String member, int gen) {
        return member.equals(memberId) && gen == generation;
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    private static ErrorCode code(Throwable error) {
        return error instanceof MillraceException m ? m.errorCode() : ErrorCode.UNKNOWN;
    }

    private static boolean retriable(Throwable error) {
        return error instanceof ConnectionException
                || (error instanceof MillraceException m && m.errorCode().retriable());
    }

    private static Set<TopicPartition> flatten(List<TopicPartitions> all) {
        Set<TopicPartition> out = new TreeSet<>(ORDER);
        all.forEach(t -> t.partitions().forEach(p -> out.add(new TopicPartition(t.topic(), p))));
        return out;
    }

    private static final java.util.Comparator<TopicPartition> ORDER =
            java.util.Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private static void dispose(Disposable d) {
        if (d != null) {
            d.dispose();
        }
    }

    private static void safely(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            // a listener's failure must not break the membership
        }
    }

    /** A delivered record and its acknowledger. */
    private final class Received implements GroupRecord {

        private final TopicPartition tp;
        private final ConsumerRecord record;

        Received(TopicPartition tp, ConsumerRecord record) {
            this.tp = tp;
            this.record = record;
        }

        @Override
        public ConsumerRecord record() {
            return record;
        }

        @Override
        public void acknowledge() {
            GroupSession.this.acknowledge(tp, record.offset() + 1);
        }

        @Override
        public Mono<Void> commit() {
            return Mono.defer(() -> {
                acknowledge();
                return commitAcknowledged(Set.of(tp));
            });
        }

        @Override
        public String toString() {
            return record.toString();
        }
    }
}
