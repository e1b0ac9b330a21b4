package io.millrace.client;

import reactor.core.publisher.Mono;

/**
 * The entry point of the Java SDK: one client per application, shared by its producers, consumers and admin calls.
 * It learns the cluster from its bootstrap brokers, keeps one connection per broker, and reconnects with back-off.
 *
 * <pre>{@code
 * try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("localhost:7070"))) {
 *     client.admin().createTopic("orders", 3).block();
 *     Producer producer = client.producer(ProducerConfig.defaults());
 *     producer.send(ProducerRecord.of("orders", "customer-1", "hello")).block();
 *     client.consumer(ConsumerConfig.defaults())
 *           .assign(new TopicPartition("orders", 0), Seek.earliest())
 *           .receive()
 *           .take(1)
 *           .doOnNext(r -> System.out.println(r.valueAsString()))
 *           .blockLast();
 * }
 * }</pre>
 *
 * Thread-safe. Nothing connects until first used.
 */
public abstract class MillraceClient implements AutoCloseable {

    MillraceClient() {
    }

    public static MillraceClient create(ClientConfig config) {
        return new DefaultMillraceClient(config);
    }

    public abstract ClientConfig config();

    /** Topic administration. */
    public abstract Admin admin();

    /** A new producer with its own batches and buffer; close it (or the client) to send what it holds. */
    public abstract Producer producer(ProducerConfig config);

    /** A consumer description; nothing happens until {@link Consumer#receive()} is subscribed to. */
    public abstract Consumer consumer(ConsumerConfig config);

    /** Flushes producers and closes every connection. */
    public abstract Mono<Void> closeGracefully();

    /** Closes, waiting at most the request timeout for producers to deliver what they hold. */
    @Override
    public void close() {
        try {
            closeGracefully().block(config().requestTimeout());
        } catch (IllegalStateException timedOut) {
            // Records that could not be delivered in time have failed their senders; the connections are closed.
        }
    }
}
