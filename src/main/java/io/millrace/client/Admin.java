package io.millrace.client;

import io.millrace.client.MillraceClientException.ConnectionException;
import io.millrace.protocol.AddPartitionsRequest;
import io.millrace.protocol.AddPartitionsResponse;
import io.millrace.protocol.CreateTopicRequest;
import io.millrace.protocol.CreateTopicResponse;
import io.millrace.protocol.DeleteTopicRequest;
import io.millrace.protocol.DescribeTopicRequest;
import io.millrace.protocol.DescribeTopicResponse;
import io.millrace.protocol.ListTopicsRequest;
import io.millrace.protocol.ListTopicsResponse;
import io.millrace.protocol.Message;
import io.millrace.protocol.Request;
import io.millrace.protocol.TopicDescription;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Topic administration. Every call goes to any reachable broker and is retried on a lost connection (admin calls
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

    private <R extends Message> Mono<R> call(Request request) {
        return Mono.defer(() -> cluster.anyBroker().<R>request(request))
                .doOnError(ConnectionException.class, e -> cluster.rotateBootstrap())
                .retryWhen(Retry.backoff(5, cluster.config().reconnectBackoff())
                        .maxBackoff(cluster.config().reconnectBackoffMax())
                        .filter(e -> e instanceof ConnectionException)
                        .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
    }
}
