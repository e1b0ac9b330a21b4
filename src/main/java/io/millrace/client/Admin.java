package io.millrace.client;

import io.millrace.client.MillraceClientException.ConnectionException;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.AddPartitionsRequest;
import io.millrace.protocol.AddPartitionsResponse;
import io.millrace.protocol.AlterReassignmentsRequest;
import io.millrace.protocol.AlterReassignmentsResponse;
import io.millrace.protocol.CreateTopicRequest;
import io.millrace.protocol.CreateTopicResponse;
import io.millrace.protocol.DeleteTopicRequest;
import io.millrace.protocol.DescribeTopicRequest;
import io.millrace.protocol.DescribeTopicResponse;
import io.millrace.protocol.ListTopicsRequest;
import io.millrace.protocol.ListTopicsResponse;
import io.millrace.protocol.ListReassignmentsRequest;
import io.millrace.protocol.ListReassignmentsResponse;
import io.millrace.protocol.Message;
import io.millrace.protocol.Request;
import io.millrace.protocol.TopicDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Topic and cluster administration. Every call goes to any reachable broker and is retried on a lost connection (admin calls
 * are safe to repeat: a repeated create answers TOPIC_ALREADY_EXISTS). Thread-safe.
 */
public final class Admin {

    private final Cluster cluster;

    Admin(Cluster cluster) {
        this.cluster = cluster;
    }

    public Mono<TopicDescription> createTopic(String name, int partitions) {
        return createTopic(name, partitions, 1, Map.of());
    }

    public Mono<TopicDescription> createTopic(String name, int partitions, int replicationFactor,
                                              Map<String, String> config) {
        return this.<CreateTopicResponse>call(new CreateTopicRequest(name, partitions, replicationFactor, config))
                .map(CreateTopicResponse::topic)
                .doOnNext(t -> cluster.invalidate(name));
    }

    public Mono<TopicDescription> describeTopic(String name) {
        return this.<DescribeTopicResponse>call(new DescribeTopicRequest(name)).map(DescribeTopicResponse::topic);
    }

    public Mono<List<String>> listTopics() {
        return this.<ListTopicsResponse>call(new ListTopicsRequest()).map(ListTopicsResponse::names);
    }

    /** Grows a topic to {@code totalPartitions} partitions. */
    public Mono<TopicDescription> addPartitions(String name, int totalPartitions) {
        return this.<AddPartitionsResponse>call(new AddPartitionsRequest(name, totalPartitions))
                .map(AddPartitionsResponse::topic)
                .doOnNext(t -> cluster.invalidate(name));
    }

    public Mono<Void> deleteTopic(String name) {
        return call(new DeleteTopicRequest(name)).doOnSuccess(v -> cluster.invalidate(name)).then();
    }

    /**
     * Moves partitions to other brokers online (needs a broker of protocol version 5): each entry of {@code moves}
     * maps a partition to its new replicas, the first its preferred leader. The brokers add the new replicas, wait
     * until they are in sync, move leadership if needed and drop the old ones; producers and consumers keep working
     * meanwhile. Completes once the moves are stored, with those started (a partition already on its replicas is left
     * out); follow them with {@link #listReassignments()}. The whole plan is checked before any of it is stored.
     */
    public Mono<List<AlterReassignmentsResponse.Started>> reassignPartitions(
            Map<TopicPartition, List<Integer>> moves) {
        List<AlterReassignmentsRequest.Move> partitions = new ArrayList<>();
        moves.forEach((tp, replicas) -> partitions.add(new AlterReassignmentsRequest.Move(tp.topic(), tp.partition(),
                Optional.of(replicas))));
        return this.<AlterReassignmentsResponse>call(new AlterReassignmentsRequest(partitions))
                .map(AlterReassignmentsResponse::started)
                .doOnNext(started -> started.forEach(s -> cluster.invalidate(s.topic())));
    }

    /**
     * Cancels the moves of {@code partitions}: each goes back to its replicas before the move. Fails with
     * {@code NO_REASSIGNMENT_IN_PROGRESS} if one is not moving (and then cancels none). Completes with the number
     * cancelled.
     */
    public Mono<Integer> cancelReassignments(List<TopicPartition> partitions) {
        List<AlterReassignmentsRequest.Move> cancels = partitions.stream()
                .map(tp -> new AlterReassignmentsRequest.Move(tp.topic(), tp.partition(), Optional.empty())).toList();
        return this.<AlterReassignmentsResponse>call(new AlterReassignmentsRequest(cancels))
                .map(AlterReassignmentsResponse::cancelled);
    }

    /** The moves in progress, each with where it stands. */
    public Mono<List<ListReassignmentsResponse.Reassignment>> listReassignments() {
        return this.<ListReassignmentsResponse>call(new ListReassignmentsRequest())
                .map(ListReassignmentsResponse::reassignments);
    }

    private <R extends Message> Mono<R> call(Request request) {
        return Mono.defer(() -> cluster.anyBroker().<R>request(request))
                .doOnError(ConnectionException.class, e -> cluster.rotateBootstrap())
                .retryWhen(Retry.backoff(5, cluster.config().reconnectBackoff())
                        .maxBackoff(cluster.config().reconnectBackoffMax())
                        .filter(e -> e instanceof ConnectionException)
                        .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
    }
}
