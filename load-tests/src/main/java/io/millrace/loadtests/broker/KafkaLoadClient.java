package io.millrace.loadtests.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Apache Kafka's own Java client as a {@link LoadClient}: a producer per sender, a consumer thread per receiver. */
final class KafkaLoadClient implements LoadClient {

    private final String bootstrap;
    private final TopicSettings topics;

    KafkaLoadClient(String bootstrap) {
        this(bootstrap, TopicSettings.SINGLE);
    }

    /** {@code bootstrap}: "host:port[,host:port...]". */
    KafkaLoadClient(String bootstrap, TopicSettings topics) {
        this.bootstrap = bootstrap;
        this.topics = topics;
    }

    @Override
    public void createTopic(String topic, int partitions) throws Exception {
        NewTopic newTopic = new NewTopic(topic, partitions, (short) topics.replicationFactor());
        if (topics.minInsyncReplicas() > 0) {
            newTopic.configs(Map.of("min.insync.replicas", Integer.toString(topics.minInsyncReplicas())));
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(newTopic)).all().get(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public PartitionState describe(String topic, int partition) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            var p = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
                    .partitions().get(partition);
            return new PartitionState(p.leader() == null || p.leader().isEmpty() ? OptionalInt.empty()
                    : OptionalInt.of(p.leader().id()), p.isr().stream().map(n -> n.id()).toList());
        }
    }

    @Override
    public void deleteTopic(String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public Sender sender(ProducerSettings s) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, s.acksName());
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, s.batchSize());
        props.put(ProducerConfig.LINGER_MS_CONFIG, s.lingerMs());
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, s.bufferMemory());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, s.idempotent());
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "load-tests");
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
                new ByteArraySerializer());
        return new Sender() {
            @Override
            public void sendWithOffset(String topic, int partition, byte[] value, OffsetCallback callback) {
                producer.send(new ProducerRecord<>(topic, partition, null, value),
                        (m, e) -> callback.done(e == null ? m.offset() : -1, e));
            }

            @Override
            public void close() {
                producer.close(Duration.ofSeconds(30));
            }
        };
    }

    @Override
    public Receiver receive(String topic, int partitions, RecordSink sink) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "load-tests");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        List<TopicPartition> all = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            all.add(new TopicPartition(topic, p));
        }
        consumer.assign(all);
        consumer.seekToBeginning(all);
        Thread poller = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        sink.record(r.value());
                    }
                }
            } catch (WakeupException stopped) {
                // closed
            } finally {
                consumer.close(Duration.ofSeconds(5));
            }
        }, "kafka-consumer-" + topic);
        poller.setDaemon(true);
        poller.start();
        return () -> {
            consumer.wakeup();
            try {
                poller.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    @Override
    public void close() {
    }
}
