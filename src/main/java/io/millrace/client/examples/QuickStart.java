package io.millrace.client.examples;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.MillraceClient;
import io.millrace.client.MillraceClientException;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import io.millrace.client.Seek;
import io.millrace.common.TopicPartition;
import java.time.Duration;
import reactor.core.publisher.Flux;

/**
 * A runnable tour of the SDK: create a topic, produce ten keyed records, read them back from the start.
 *
 * <pre>
 * java -cp millrace-client.jar:&lt;reactor-netty-core and its dependencies&gt; \
 *     io.millrace.client.examples.QuickStart localhost:7070
 * </pre>
 */
public final class QuickStart {

    private QuickStart() {
    }

    public static void main(String[] args) {
        String bootstrap = args.length > 0 ? args[0] : "localhost:7070";
        String topic = args.length > 1 ? args[1] : "quickstart";
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap(bootstrap).withClientId("quickstart"))) {
            try {
                client.admin().createTopic(topic, 1).block();
            } catch (MillraceClientException.TopicExistsException alreadyThere) {
                System.out.println("topic " + topic + " exists; appending to it");
            }
            Producer producer = client.producer(ProducerConfig.defaults());
            producer.send(Flux.range(0, 10).map(i -> ProducerRecord.of(topic, "key-" + i, "hello " + i)))
                    .doOnNext(m -> System.out.println("sent to partition " + m.partition() + " offset " + m.offset()))
                    .blockLast(Duration.ofSeconds(30));
            client.consumer(ConsumerConfig.defaults())
                    .assign(new TopicPartition(topic, 0), Seek.earliest())
                    .receive()
                    .take(10)
                    .doOnNext(r -> System.out.println("read " + r.offset() + ": " + r.keyAsString() + " = "
                            + r.valueAsString()))
                    .blockLast(Duration.ofSeconds(30));
        }
    }
}
