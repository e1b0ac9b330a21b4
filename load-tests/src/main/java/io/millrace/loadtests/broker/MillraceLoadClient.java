package io.millrace.loadtests.broker;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.MillraceClient;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import io.millrace.client.Seek;
import io.millrace.common.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import reactor.core.Disposable;

/** The Millrace SDK as a {@link LoadClient}: one {@link MillraceClient} (one connection) shared by its producers. */
final class MillraceLoadClient implements LoadClient {

    private final MillraceClient client;
    private final TopicSettings topics;

    MillraceLoadClient(String bootstrap) {
        this(bootstrap, TopicSettings.SINGLE);
    }

    /** {@code bootstrap}: "host:port[,host:port...]". */
    MillraceLoadClient(String bootstrap, TopicSettings topics) {
        this.client = MillraceClient.create(ClientConfig.bootstrap(bootstrap).withClientId("load-tests"));
        this.topics = topics;
    }

    @Override
    public void createTopic(String topic, int partitions) {
        if (topics.equals(TopicSettings.SINGLE)) {
            client.admin().createTopic(topic, partitions).block(Duration.ofSeconds(30));
        } else {
            Map<String, String> config = topics.minInsyncReplicas() > 0
                    ? Map.of("min.insync.replicas", Integer.toString(topics.minInsyncReplicas())) : Map.of();
            client.admin().createTopic(topic, partitions, topics.replicationFactor(), config)
                    .block(Duration.ofSeconds(30));
        }
    }

    @Override
    public PartitionState describe(String topic, int partition) {
        var p = client.admin().describeTopic(topic).block(Duration.ofSeconds(30)).partitions().get(partition);
        return new PartitionState(p.leader(), p.isr());
    }

    @Override
    public void deleteTopic(String topic) {
        client.admin().deleteTopic(topic).block(Duration.ofSeconds(30));
    }

    @Override
    public Sender sender(ProducerSettings s) {
        Producer producer = client.producer(ProducerConfig.defaults().withAcks(s.acks()).withBatchSize(s.batchSize())
                .withLinger(Duration.ofMillis(s.lingerMs())).withBufferMemory(s.bufferMemory(), Duration.ofSeconds(60))
                .withIdempotence(s.idempotent()));
        return new Sender() {
            @Override
            public void sendWithOffset(String topic, int partition, byte[] value, OffsetCallback callback) {
                producer.send(ProducerRecord.of(topic, (byte[]) null, value).withPartition(partition))
                        .subscribe(m -> callback.done(m.offset(), null), e -> callback.done(-1, e));
            }

            @Override
            public void close() {
                producer.close();
            }
        };
    }

    @Override
    public Receiver receive(String topic, int partitions, RecordSink sink) {
        List<TopicPartition> all = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            all.add(new TopicPartition(topic, p));
        }
        Disposable subscription = client.consumer(ConsumerConfig.defaults()).assign(all, Seek.earliest()).receive()
                .subscribe(r -> sink.record(r.value()));
        return subscription::dispose;
    }

    /** Called once per record read, in offset order, on a client thread. */
    interface OffsetRecordSink {
        void record(long offset, byte[] value);
    }

    /** Reads {@code topic}'s {@code partition} from {@code offset} on, telling the sink each record's offset. */
    Receiver receiveFrom(String topic, int partition, long offset, OffsetRecordSink sink) {
        Disposable subscription = client.consumer(ConsumerConfig.defaults())
                .assign(List.of(new TopicPartition(topic, partition)), Seek.offset(offset)).receive()
                .subscribe(r -> sink.record(r.offset(), r.value()));
        return subscription::dispose;
    }

    @Override
    public void close() {
        client.close();
    }
}
