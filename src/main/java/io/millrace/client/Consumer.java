package io.millrace.client;

import io.millrace.common.TopicPartition;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * A consumer: either low-level, reading chosen partitions from chosen positions ({@link #assign}, {@link #seek}), or
 * a member of a consumer group ({@link #subscribe}), reading the partitions the broker assigns it from the group's
 * committed offsets. Immutable and lazy: {@code assign}, {@code seek} and {@code subscribe} return changed copies, and
 * nothing is read (nor any group joined) until {@link #receive()} or {@link #receiveAcknowledgeable()} is subscribed
 * to; each subscription to a group consumer is one member, and cancelling it commits and leaves the group.
 *
 * <p>Flow control reaches the broker: the subscriber's demand becomes credits on the wire, so a slow subscriber
 * slows the broker's sending, never the reverse. The broker may send at most one batch beyond the demand; those
 * records wait in the stream's buffer until requested.
 */
public final class Consumer {

    private final Cluster cluster;
    private final ConsumerConfig config;
    private final Map<TopicPartition, Seek> assignment;
    private final Optional<Subscription> group;

    /** A group subscription: the topics, the group, and how to take part in it. */
    private record Subscription(List<String> topics, String groupId, GroupOptions options) {
    }

    Consumer(Cluster cluster, ConsumerConfig config, Map<TopicPartition, Seek> assignment) {
        this(cluster, config, assignment, Optional.empty());
    }

    private Consumer(Cluster cluster, ConsumerConfig config, Map<TopicPartition, Seek> assignment,
                     Optional<Subscription> group) {
        this.cluster = cluster;
        this.config = config;
        this.assignment = Map.copyOf(assignment);
        this.group = group;
    }

    /**
     * Reads {@code topics} as a member of consumer group {@code groupId}, with {@link GroupOptions#defaults()}:
     * the broker assigns partitions, each starting at the group's committed offset. Replaces any assignment.
     */
    public Consumer subscribe(Collection<String> topics, String groupId) {
        return subscribe(topics, groupId, GroupOptions.defaults());
    }

    /** As {@link #subscribe(Collection, String)}, with the given group options. */
    public Consumer subscribe(Collection<String> topics, String groupId, GroupOptions options) {
        if (topics.isEmpty()) {
            throw new IllegalArgumentException("Subscribe to at least one topic");
        }
        if (groupId == null || groupId.isEmpty()) {
            throw new IllegalArgumentException("A group id is required");
        }
        return new Consumer(cluster, config, Map.of(), Optional.of(new Subscription(List.copyOf(topics), groupId,
                java.util.Objects.requireNonNull(options, "options"))));
    }

    /**
     * The records of a group subscription with their acknowledgers: acknowledge a record once processed (it is then
     * part of the next commit), or commit it at once. Without auto-commit this is how a member commits. Each
     * subscription is one member of the group; cancelling it commits what was acknowledged and leaves the group.
     */
    public Flux<GroupRecord> receiveAcknowledgeable() {
        if (group.isEmpty()) {
            return Flux.error(new IllegalStateException("Not subscribed to a group: use subscribe(topics, groupId)"));
        }
        Subscription s = group.get();
        return Flux.defer(() -> new GroupSession(cluster, config, s.options(), s.groupId(), s.topics()).records());
    }

    /** Adds partitions, each read from {@code from}. */
    public Consumer assign(Collection<TopicPartition> partitions, Seek from) {
        if (group.isPresent()) {
            throw new IllegalStateException("Subscribed to group " + group.get().groupId()
                    + "; a consumer either subscribes or assigns");
        }
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
     * The records of every assigned partition (or, after {@link #subscribe}, of the partitions the group assigns this
     * member, acknowledged as delivered when auto-commit is on), in offset order per partition. Each subscription opens one
     * broker subscription per partition; cancelling closes them. A lost connection is resumed from the next offset,
     * so no record is skipped or repeated by a reconnection.
     */
    public Flux<ConsumerRecord> receive() {
        if (group.isPresent()) {
            boolean auto = group.get().options().autoCommit();
            return receiveAcknowledgeable().map(r -> {
                if (auto) {
                    r.acknowledge();
                }
                return r.record();
            });
        }
        if (assignment.isEmpty()) {
            return Flux.error(new IllegalStateException("No partitions assigned"));
        }
        List<Flux<ConsumerRecord>> streams = assignment.entrySet().stream()
                .map(e -> Flux.<ConsumerRecord>create(sink -> new PartitionReader(cluster, config, e.getKey(),
                        e.getValue(), sink).start(), FluxSink.OverflowStrategy.BUFFER))
                .toList();
        return streams.size() == 1 ? streams.get(0) : Flux.merge(Flux.fromIterable(streams), streams.size(),
                config.maxCreditsPerRequest());
    }
}
