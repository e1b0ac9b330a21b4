package io.millrace.client;

import io.millrace.client.MillraceClientException.ConnectionException;
import io.millrace.common.ErrorCode;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.MetadataRequest;
import io.millrace.protocol.MetadataResponse;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;

/**
 * The client's view of the cluster: connections per broker (bootstrap ones until metadata names the brokers) and a
 * cache of topic metadata, refreshed when an answer says it is stale (unknown topic, not leader). Thread-safe.
 */
final class Cluster {

    private final ClientConfig config;
    private final Map<InetSocketAddress, BrokerConnection> connections = new ConcurrentHashMap<>();
    private final Map<Integer, InetSocketAddress> brokers = new ConcurrentHashMap<>();
    private final Map<String, MetadataResponse.TopicMetadata> topics = new ConcurrentHashMap<>();
    private final AtomicInteger nextBootstrap = new AtomicInteger();
    private final java.util.Set<java.util.concurrent.CompletableFuture<Void>> pending =
            ConcurrentHashMap.newKeySet();

    Cluster(ClientConfig config) {
        this.config = config;
    }

    ClientConfig config() {
        return config;
    }

    /** Any broker (for admin and metadata): the bootstrap brokers in turn, then the known ones. */
    BrokerConnection anyBroker() {
        List<InetSocketAddress> bootstrap = config.bootstrapAddresses();
        InetSocketAddress address = bootstrap.get(Math.floorMod(nextBootstrap.get(), bootstrap.size()));
        return connection(address);
    }

    /** Moves to the next bootstrap broker after a connection failure. */
    void rotateBootstrap() {
        nextBootstrap.incrementAndGet();
    }

    BrokerConnection connection(InetSocketAddress address) {
        return connections.computeIfAbsent(address, a -> new BrokerConnection(a, config));
    }

    /** Metadata of a topic, from the cache or the cluster. */
    Mono<MetadataResponse.TopicMetadata> topic(String name) {
        MetadataResponse.TopicMetadata cached = topics.get(name);
        return cached != null ? Mono.just(cached) : refresh(name);
    }

    /** Asks a broker for a topic's metadata, replacing the cached copy. */
    Mono<MetadataResponse.TopicMetadata> refresh(String name) {
        return Mono.defer(() -> anyBroker().<MetadataResponse>request(MetadataRequest.of(List.of(name))))
                .doOnError(ConnectionException.class, e -> rotateBootstrap())
                .map(response -> {
                    response.brokers().forEach(b -> brokers.put(b.id(),
                            InetSocketAddress.createUnresolved(b.host(), b.tcpPort())));
                    MetadataResponse.TopicMetadata topic = response.topics().stream()
                            .filter(t -> t.name().equals(name)).findFirst()
                            .orElseThrow(() -> new MillraceClientException.UnknownTopicOrPartitionException(
                                    "Topic " + name + " does not exist"));
                    if (topic.error().isPresent()) {
                        topics.remove(name);
                        throw MillraceClientException.from(topic.error().get());
                    }
                    topics.put(name, topic);
                    return topic;
                });
    }

    void invalidate(String topic) {
        topics.remove(topic);
    }

    /** The connection to the leader of a partition. */
    Mono<BrokerConnection> leader(TopicPartition tp) {
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
            return Mono.just(connection(address.get()));
        });
    }

    /** Partition count of a topic if its metadata is cached, without asking the cluster. */
    java.util.OptionalInt cachedPartitionCount(String topic) {
        MetadataResponse.TopicMetadata cached = topics.get(topic);
        return cached == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(cached.partitions().size());
    }

    /** Partition count of a topic. */
    Mono<Integer> partitionCount(String topic) {
        return topic(topic).map(t -> t.partitions().size());
    }

    /** Back-off between retries: doubling from the configured start, capped. */
    Duration backoff(int attempt) {
        long base = config.reconnectBackoff().toMillis();
        long capped = Math.min(config.reconnectBackoffMax().toMillis(), base << Math.min(attempt, 16));
        return Duration.ofMillis(Math.max(1, capped));
    }

    /**
     * Runs {@code work} that must finish before the connections close, such as a group member's last commit and its
     * leave; {@link #pendingWork()} waits for it.
     */
    void beforeClose(Mono<Void> work) {
        java.util.concurrent.CompletableFuture<Void> done = work.onErrorResume(e -> Mono.empty()).toFuture();
        pending.add(done);
        done.whenComplete((v, e) -> pending.remove(done));
    }

    /** Completes when every {@link #beforeClose} work has. */
    Mono<Void> pendingWork() {
        return Mono.fromFuture(java.util.concurrent.CompletableFuture.allOf(
                pending.toArray(java.util.concurrent.CompletableFuture[]::new)));
    }

    void close() {
        connections.values().forEach(BrokerConnection::close);
    }
}
