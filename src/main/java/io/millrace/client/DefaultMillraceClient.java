package io.millrace.client;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The {@link MillraceClient} implementation: one {@link Cluster} shared by everything the client creates. */
final class DefaultMillraceClient extends MillraceClient {

    private final ClientConfig config;
    private final Cluster cluster;
    private final Admin admin;
    private final List<Producer> producers = new CopyOnWriteArrayList<>();

    DefaultMillraceClient(ClientConfig config) {
        this.config = config;
        this.cluster = new Cluster(config);
        this.admin = new Admin(cluster);
    }

    @Override
    public ClientConfig config() {
        return config;
    }

    @Override
    public Admin admin() {
        return admin;
    }

    @Override
    public Producer producer(ProducerConfig producerConfig) {
        Producer producer = new Producer(cluster, producerConfig);
        producers.add(producer);
        return producer;
    }

    @Override
    public Consumer consumer(ConsumerConfig consumerConfig) {
        return new Consumer(cluster, consumerConfig, Map.of());
    }

    @Override
    public Mono<Void> closeGracefully() {
        return Flux.fromIterable(producers).flatMap(p -> p.closeGracefully().onErrorResume(e -> Mono.empty()))
                .then()
                // group members that were just cancelled commit and leave before the connections go
                .then(Mono.defer(cluster::pendingWork))
                .timeout(config.requestTimeout(), Mono.empty())
                .doFinally(s -> cluster.close());
    }
}
