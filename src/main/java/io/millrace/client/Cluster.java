package io.millrace.client;

import io.millrace.client.MillraceClientException.ConnectionException;
import io.millrace.common.ErrorCode;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.MetadataRequest;
import io.millrace.protocol.MetadataResponse;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;

/**
 * The client's view of the cluster: one {@link BrokerConnection} per broker (bootstrap ones until metadata names the
 * brokers) and a cache of topic metadata, so that data requests go to each partition's leader.
 *
 * <h2>When metadata is refreshed</h2>
 * <pre>
 * answer or event                                          cache                                   retry
 * NOT_LEADER / FENCED_LEADER_EPOCH with a leader hint       the partition's leader becomes the hint at once
 *   naming another known broker, epoch not older, or a
 *   FENCED_LEADER_EPOCH naming the same broker, newer epoch
 * NOT_LEADER without a usable hint, FENCED_LEADER_EPOCH     the topic is dropped: the next lookup   after a back-off
 *   without one, UNKNOWN_TOPIC_OR_PARTITION, a lost or       asks a broker again
 *   refused connection
 * entry older than metadata.max.age.ms                     asked again on the next lookup
 * </pre>
 * Metadata is asked of a broker that answered last time (known brokers, then the bootstrap list, in turn); a broker
 * whose connection failed is skipped until it answers again, unless no other is left. Concurrent lookups of one
 * topic share one request.
 *
 * <p>Thread-safe.
 */
final class Cluster {

    private final ClientConfig config;
    private final Map<InetSocketAddress, BrokerConnection> connections = new ConcurrentHashMap<>();
    private final Map<Integer, InetSocketAddress> brokers = new ConcurrentHashMap<>();
    private final Map<String, Cached> topics = new ConcurrentHashMap<>();
    private final Map<String, Mono<MetadataResponse.TopicMetadata>> refreshing = new ConcurrentHashMap<>();
    private final AtomicInteger nextBroker = new AtomicInteger();
    private final Set<CompletableFuture<Void>> pending = ConcurrentHashMap.newKeySet();

    /** A topic's metadata and when it was fetched ({@link System#nanoTime()}). */
    private record Cached(MetadataResponse.TopicMetadata metadata, long fetchedNanos) {
    }

    Cluster(ClientConfig config) {
        this.config = config;
    }

    ClientConfig config() {
        return config;
    }

    /**
     * A broker for admin and metadata requests: in turn over the known brokers and the bootstrap list, skipping those
     * whose connection failed (or that are backing off) while another is left.
     */
    BrokerConnection anyBroker() {
        List<BrokerConnection> candidates = metadataCandidates();
        List<BrokerConnection> usable = candidates.stream().filter(c -> c.healthy() && c.dialable()).toList();
        if (usable.isEmpty()) {
            usable = candidates.stream().filter(BrokerConnection::dialable).toList();
        }
        if (usable.isEmpty()) {
            // Every broker is backing off: ask the one whose failure is oldest; it fails fast without dialling.
            usable = candidates;
        }
        return usable.get(Math.floorMod(nextBroker.getAndIncrement(), usable.size()));
    }

    private List<BrokerConnection> metadataCandidates() {
        Set<InetSocketAddress> addresses = new LinkedHashSet<>();
        brokers.values().stream().sorted(Comparator.comparing(InetSocketAddress::toString)).forEach(addresses::add);
        addresses.addAll(config.bootstrapAddresses());
        List<BrokerConnection> out = new ArrayList<>(addresses.size());
        addresses.forEach(a -> out.add(connection(a)));
        return out;
    }

    /** Moves on to another broker after a failure; {@link #anyBroker()} already skips failed ones. */
    void rotateBootstrap() {
        nextBroker.incrementAndGet();
    }

    BrokerConnection connection(InetSocketAddress address) {
        return connections.computeIfAbsent(address, a -> new BrokerConnection(a, config));
    }

    /** TCP connection attempts to {@code address} so far (for tests). */
    long connectAttempts(InetSocketAddress address) {
        BrokerConnection c = connections.get(address);
        return c == null ? 0 : c.connectAttempts();
    }

    /** Metadata of a topic, from the cache if fresh enough, else from the cluster. */
    Mono<MetadataResponse.TopicMetadata> topic(String name) {
        Cached cached = topics.get(name);
        if (cached != null && System.nanoTime() - cached.fetchedNanos() < config.metadataMaxAge().toNanos()) {
            return Mono.just(cached.metadata());
        }
        return refresh(name);
    }

    /** Asks a broker for a topic's metadata, replacing the cached copy; concurrent calls share one request. */
    Mono<MetadataResponse.TopicMetadata> refresh(String name) {
        return Mono.defer(() -> refreshing.computeIfAbsent(name, n -> {
            Mono<MetadataResponse.TopicMetadata> shared = ask(n)
                    .doFinally(signal -> refreshing.remove(n))
                    .cache(v -> Duration.ZERO, e -> Duration.ZERO, () -> Duration.ZERO);
            return shared;
        }));
    }

    /** One metadata request, moving on to the next broker when one cannot be reached (each known broker once). */
    private Mono<MetadataResponse.TopicMetadata> ask(String name) {
        int tries = Math.max(1, metadataCandidates().size());
        return Mono.defer(() -> anyBroker().<MetadataResponse>request(MetadataRequest.of(List.of(name))))
                .retryWhen(reactor.util.retry.Retry.max(tries - 1).filter(e -> e instanceof ConnectionException)
                        .onRetryExhaustedThrow((spec, signal) -> signal.failure()))
                .map(response -> {
                    response.brokers().forEach(b -> {
                        if (b.tcpPort() > 0) {
                            brokers.put(b.id(), InetSocketAddress.createUnresolved(b.host(), b.tcpPort()));
                        }
                    });
                    MetadataResponse.TopicMetadata topic = response.topics().stream()
                            .filter(t -> t.name().equals(name)).findFirst()
                            .orElseThrow(() -> new MillraceClientException.UnknownTopicOrPartitionException(
                                    "Topic " + name + " does not exist"));
                    if (topic.error().isPresent()) {
                        topics.remove(name);
                        throw MillraceClientException.from(topic.error().get());
                    }
                    topics.put(name, new Cached(topic, System.nanoTime()));
                    return topic;
                });
    }

    void invalidate(String topic) {
        topics.remove(topic);
    }

    /**
     * Where a partition's leader is, as this client's metadata has it.
     *
     * @param connection  the leader's connection
     * @param leaderEpoch the leader's epoch as the metadata (or the last hint) says, -1 when unknown: requests for
     *                    the partition carry it, so a deposed leader refuses them (FENCED_LEADER_EPOCH)
     */
    record Leader(BrokerConnection connection, int leaderEpoch) {
    }

    /** The connection to the leader of a partition. */
    Mono<BrokerConnection> leader(TopicPartition tp) {
        return leaderAndEpoch(tp).map(Leader::connection);
    }

    /** The leader of a partition and its epoch, to send with requests only the leader may serve. */
    Mono<Leader> leaderAndEpoch(TopicPartition tp) {
        return topic(tp.topic()).flatMap(t -> {
            if (tp.partition() >= t.partitions().size()) {
                invalidate(tp.topic());
                return Mono.error(new MillraceClientException.UnknownTopicOrPartitionException("Topic " + tp.topic()
                        + " has no partition " + tp.partition()));
            }
            MetadataResponse.PartitionMetadata p = t.partitions().get(tp.partition());
            Optional<InetSocketAddress> address = p.leader().isPresent()
                    ? Optional.ofNullable(brokers.get(p.leader().getAsInt())) : Optional.empty();
            if (address.isEmpty()) {
                invalidate(tp.topic());
                return Mono.error(new MillraceClientException(ErrorCode.NOT_LEADER, "Partition " + tp
                        + " has no reachable leader right now"));
            }
            return Mono.just(new Leader(connection(address.get()), Math.max(LeaderEpoch.UNKNOWN, p.leaderEpoch())));
        });
    }

    /**
     * Takes in a failure of a request for partition {@code tp} sent to {@code failedOn} (null when it never left),
     * updating the metadata cache as the class comment says.
     *
     * @return true if the leader changed to a hinted broker, so the request may be retried at once; false if the
     *         caller should back off before retrying (or give up, for errors that are not retriable)
     */
    boolean onPartitionError(TopicPartition tp, Throwable error, BrokerConnection failedOn) {
        if (error instanceof ConnectionException) {
            invalidate(tp.topic());
            return false;
        }
        if (!(error instanceof MillraceException m)) {
            return false;
        }
        ErrorCode code = m.errorCode();
        if (code == ErrorCode.NOT_LEADER || code == ErrorCode.FENCED_LEADER_EPOCH) {
            Optional<ApiError.LeaderHint> hint = error instanceof MillraceClientException c ? c.leaderHint()
                    : Optional.empty();
            if (hint.isPresent() && useHint(tp, code, hint.get(), failedOn)) {
                return true;
            }
            invalidate(tp.topic());
            return false;
        }
        if (code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
            invalidate(tp.topic());
        }
        return false;
    }

    /**
     * Points the cached partition at the hinted leader, if it is another broker this client knows; or, for a
     * FENCED_LEADER_EPOCH from the broker that still leads, at its newer epoch (leadership went away and came back).
     */
    private boolean useHint(TopicPartition tp, ErrorCode code, ApiError.LeaderHint hint, BrokerConnection failedOn) {
        InetSocketAddress address = brokers.get(hint.leaderId());
        if (address == null) {
            return false; // an unknown broker: the hint is no better than our cache
        }
        boolean sameBroker = failedOn != null && address.equals(failedOn.address());
        if (sameBroker && !(code == ErrorCode.FENCED_LEADER_EPOCH && hint.leaderEpoch() >= 0)) {
            return false; // the broker that just refused: only a newer epoch of its own is news
        }
        boolean[] applied = {false};
        topics.computeIfPresent(tp.topic(), (name, cached) -> {
            List<MetadataResponse.PartitionMetadata> partitions = cached.metadata().partitions();
            if (tp.partition() >= partitions.size()) {
                return cached;
            }
            MetadataResponse.PartitionMetadata old = partitions.get(tp.partition());
            if (hint.leaderEpoch() >= 0 && hint.leaderEpoch() < old.leaderEpoch()) {
                return cached; // an older view than ours
            }
            if (sameBroker && hint.leaderEpoch() <= old.leaderEpoch()) {
                return cached; // fenced, yet the broker names no newer epoch than ours: ask for metadata instead
            }
            // A leader named without its epoch gets requests without one: our cached epoch is the old leader's, which
            // the new leader would fence.
            List<MetadataResponse.PartitionMetadata> updated = new ArrayList<>(partitions);
            updated.set(tp.partition(), new MetadataResponse.PartitionMetadata(old.partition(),
                    OptionalInt.of(hint.leaderId()), hint.leaderEpoch(), old.replicas(), old.isr()));
            applied[0] = true;
            return new Cached(new MetadataResponse.TopicMetadata(name, Optional.empty(), updated),
                    cached.fetchedNanos());
        });
        return applied[0];
    }

    /** Partition count of a topic if its metadata is cached, without asking the cluster. */
    OptionalInt cachedPartitionCount(String topic) {
        Cached cached = topics.get(topic);
        return cached == null ? OptionalInt.empty() : OptionalInt.of(cached.metadata().partitions().size());
    }

    /** Partition count of a topic. */
    Mono<Integer> partitionCount(String topic) {
        return topic(topic).map(t -> t.partitions().size());
    }

    /** Back-off before retry number {@code attempt} (from 1): doubling from the configured start, capped. */
    Duration backoff(int attempt) {
        long base = Math.max(1, config.reconnectBackoff().toMillis());
        long capped = Math.min(Math.max(base, config.reconnectBackoffMax().toMillis()),
                base << Math.min(Math.max(attempt - 1, 0), 16));
        return Duration.ofMillis(Math.max(1, capped));
    }

    /**
     * Runs {@code work} that must finish before the connections close, such as a group member's last commit and its
     * leave; {@link #pendingWork()} waits for it.
     */
    void beforeClose(Mono<Void> work) {
        CompletableFuture<Void> done = work.onErrorResume(e -> Mono.empty()).toFuture();
        pending.add(done);
        done.whenComplete((v, e) -> pending.remove(done));
    }

    /** Completes when every {@link #beforeClose} work has. */
    Mono<Void> pendingWork() {
        return Mono.fromFuture(CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)));
    }

    void close() {
        connections.values().forEach(BrokerConnection::close);
    }
}
