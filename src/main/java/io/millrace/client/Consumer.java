package io.millrace.client;

import io.millrace.common.TopicPartition;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * A low-level consumer: reads chosen partitions from chosen positions. Immutable and lazy: {@code assign} and
 * {@code seek} return changed copies, and nothing is read until {@link #receive()} is subscribed to.
 *
 * <p>Flow control reaches the broker: the subscriber's demand becomes credits on the wire, so a slow subscriber
 * slows the broker's sending, never the reverse. The broker may send at most one batch beyond the demand; those
 * records wait in the stream's buffer until requested.
 */
public final class Consumer {

    private final Cluster cluster;
    private final ConsumerConfig config;
    private final Map<TopicPartition, Seek> assignment;

    Consumer(Cluster cluster, ConsumerConfig config, Map<TopicPartition, Seek> assignment) {
        this.cluster = cluster;
        this.config = config;
        this.assignment = Map.copyOf(assignment);
    }

    /** Adds partitions, each read from {@code from}. */
    public Consumer assign(Collection<TopicPartition> partitions, Seek from) {
        Map<TopicPartition, Seek> next = new LinkedHashMap<>(assignment);
        partitions.forEach(tp -> next.put(tp, from));
        return new Consumer(cluster, config, next);
    }

    public Consumer assign(TopicPartition partition, Seek from) {
        return assign(List.of(partition), from);
    }

    /** Changes where an assigned partition starts. */
    public Consumer seek(TopicPartition partition, Seek from) {
        if (!assignment.containsKey(partition)) {
            throw new IllegalArgumentException(partition + " is not assigned");
        }
        return assign(partition, from);
    }

    public Map<TopicPartition, Seek> assignment() {
        return assignment;
    }

    /**
     * The records of every assigned partition, in offset order per partition. Each subscription opens one
     * broker subscription per partition; cancelling closes them. A lost connection is resumed from the next offset,
     * so no record is skipped or repeated by a reconnection.
     */
    public Flux<ConsumerRecord> receive() {
        if (assignment.isEmpty()) {
            return Flux.error(new IllegalStateException("No partitions assigned"));
        }
        List<Flux<ConsumerRecord>> streams = assignment.entrySet().stream()
                .map(e -> Flux.<ConsumerRecord>create(sink -> new PartitionReader(cluster, config, e.getKey(),
                        e.getValue(), sink).start(), FluxSink.OverflowStrategy.BUFFER))
                .toList();
        return streams.size() == 1 ? streams.get(0) : Flux.merge(Flux.fromIterable(streams), streams.size(), 32);
    }
}
