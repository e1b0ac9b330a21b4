package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, "Done when" 5: Apache Kafka's own clients ride through the loss of a leader. A kafka-clients producer
 * (acks=all, idempotent, bootstrapped with all three brokers' Kafka listeners) writes keyed records to a
 * replication-factor-3 topic (min.insync.replicas 2) while a consumer assigned to every partition reads them;
 * mid-stream the leader of the busiest partition is SIGKILLed. Every send must then be acknowledged (the producer
 * retries to the new leader, which deduplicates what the old one had already copied to it), the Kafka metadata must
 * name the new leaders and only live brokers, the live consumer must go on reading the moved partition past the
 * failover, and it and a fresh consumer from the beginning must read every acknowledged record exactly once, in
 * order, at the offset it was acknowledged with.
 */
class KafkaFailoverIT {

    private static final String TOPIC = "kafka-failover";
    private static final int PARTITIONS = 4;
    private static final int RECORDS = 20_000;
    private static final int KEYS = 97;
    /** Records sent and not yet answered; bounds the stream so that it is still going when the leader dies. */
    private static final int IN_FLIGHT = 2_000;
    /**
     * How long the producer keeps retrying a record (Kafka's {@code delivery.timeout.ms}): longer than finding a dead
     * broker and electing a new leader, and the bound on how long the producer may take after the failure.
     */
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration READ_DEADLINE = Duration.ofSeconds(60);

    static ClusterHarness cluster;
    static Replicas replicas;

    @BeforeAll
    static void start() {
        cluster = ClusterHarness.start(3);
        replicas = new Replicas(cluster);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void producerAndConsumerKeepGoingWhenTheLeaderIsKilledAndEveryAcknowledgedRecordIsRead() throws Exception {
        replicas.createTopic(TOPIC, PARTITIONS, 3, Map.of("min.insync.replicas", "2"));
        replicas.awaitFullyReplicated(TOPIC, Replicas.HEAL_DEADLINE);

        Oracle oracle = new Oracle();
        long started = System.nanoTime();
        try (SendingProducer producer = new SendingProducer(oracle);
             LiveConsumer live = new LiveConsumer()) {
            live.start();
            producer.start();

            await().alias("a third of the records acknowledged").atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> oracle.acknowledgedCount() >= RECORDS / 3 || !producer.failures.isEmpty());
            Map<TopicPartition, List<Oracle.Entry>> beforeKill = oracle.acknowledgedByPartition();
            Map.Entry<TopicPartition, List<Oracle.Entry>> busiest = beforeKill.entrySet().stream()
                    .max(Comparator.comparingInt(e -> e.getValue().size())).orElseThrow();
            int moved = busiest.getKey().partition();
            long lastOffsetBeforeKill = busiest.getValue().get(busiest.getValue().size() - 1).offset();
            int victim = replicas.leader(TOPIC, moved);
            int epoch = replicas.leaderEpoch(TOPIC, moved);
            int acknowledgedAtKill = oracle.acknowledgedCount();
            cluster.kill(victim);
            long killed = System.nanoTime();
            System.out.printf("%s: SIGKILL broker %d, leader of %s-%d (epoch %d), after %d acknowledged records%n",
                    getClass().getSimpleName(), victim, TOPIC, moved, epoch, acknowledgedAtKill);
            assertThat(acknowledgedAtKill).as("the leader dies mid-stream").isLessThan(RECORDS);
            List<Integer> survivors = cluster.ids().stream().filter(id -> id != victim).toList();

            // Kafka's metadata moves on: a live leader for every partition, the dead broker listed as offline only.
            try (Admin admin = admin(survivors); KafkaConsumer<String, String> metadata = consumer(survivors)) {
                await().alias("Kafka metadata names a live leader of every partition and only live brokers")
                        .atMost(cluster.failureDetectionDeadline().plusSeconds(20)).pollInterval(Duration.ofMillis(200))
                        .ignoreExceptions()
                        .untilAsserted(() -> {
                            assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).extracting(Node::id)
                                    .containsExactlyInAnyOrderElementsOf(survivors);
                            List<PartitionInfo> partitions = metadata.listTopics(Duration.ofSeconds(10)).get(TOPIC);
                            assertThat(partitions).hasSize(PARTITIONS).allSatisfy(p -> {
                                assertThat(p.leader()).as("leader of partition " + p.partition()).isNotNull();
                                assertThat(p.leader().id()).isIn(survivors);
                                assertThat(p.replicas()).extracting(Node::id).containsExactlyInAnyOrder(1, 2, 3);
                                assertThat(p.inSyncReplicas()).extracting(Node::id).doesNotContain(victim)
                                        .contains(p.leader().id());
                                assertThat(p.offlineReplicas()).extracting(Node::id).containsExactly(victim);
                            });
                        });
            }
            assertThat(replicas.leaderEpoch(TOPIC, moved)).as("leader epoch of the moved partition")
                    .isGreaterThan(epoch);
            System.out.printf("%s: Kafka metadata moved on %d ms after the kill%n", getClass().getSimpleName(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));

            // The producer finishes: every send answered, within the delivery timeout of the kill.
            producer.awaitAnswered(DELIVERY_TIMEOUT.plusSeconds(30));
            assertThat(producer.failures).as("sends that failed").isEmpty();
            assertThat(oracle.acknowledgedCount()).isEqualTo(RECORDS);
            System.out.printf("%s: %d records acknowledged in %d ms%n", getClass().getSimpleName(), RECORDS,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));

            // The live consumer went on reading the moved partition past the failover, and read every record once.
            TopicPartition movedPartition = new TopicPartition(TOPIC, moved);
            live.awaitEvery(oracle, "the live consumer reads every acknowledged record");
            assertThat(live.error.get()).as("the live consumer's poll failed").isNull();
            assertThat(live.snapshot().get(movedPartition)).as("what the live consumer read of " + movedPartition)
                    .anySatisfy(e -> assertThat(e.offset()).isGreaterThan(lastOffsetBeforeKill));
            System.out.println("live consumer through the failover: "
                    + oracle.assertEveryAcknowledgedRecordReadOnce(live.snapshot()));
        }

        // A fresh consumer from the beginning reads every acknowledged record exactly once, in order.
        try (LiveConsumer fresh = new LiveConsumer()) {
            fresh.start();
            fresh.awaitEvery(oracle, "a fresh consumer reads every acknowledged record");
            assertThat(fresh.error.get()).as("the fresh consumer's poll failed").isNull();
            System.out.println("fresh consumer after the failover: "
                    + oracle.assertEveryAcknowledgedRecordReadOnce(fresh.snapshot()));
        }
        System.out.printf("%s: done in %d ms%n", getClass().getSimpleName(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /** Every broker's Kafka listener, the bootstrap list a Kafka client is given. */
    private static String kafkaBootstrap(List<Integer> ids) {
        return ids.stream().map(id -> "127.0.0.1:" + cluster.broker(id).kafkaPort()).collect(Collectors.joining(","));
    }

    private static Admin admin(List<Integer> ids) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap(ids));
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        return Admin.create(props);
    }

    /**
     * A consumer without a group bootstrapped with brokers {@code ids}. {@code auto.offset.reset} is none, so that a
     * consumer told its position is out of range fails instead of skipping records.
     */
    private static KafkaConsumer<String, String> consumer(List<Integer> ids) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap(ids));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        props.put(ConsumerConfig.RETRY_BACKOFF_MS_CONFIG, "50");
        props.put(ConsumerConfig.RECONNECT_BACKOFF_MS_CONFIG, "50");
        props.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    /**
     * A kafka-clients producer sending {@link #RECORDS} keyed records with unique values on its own thread, at most
     * {@link #IN_FLIGHT} unanswered, logging each acknowledgement in the oracle and each failure in {@link #failures}.
     */
    private static final class SendingProducer implements AutoCloseable {

        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        private final Oracle oracle;
        private final KafkaProducer<String, String> producer;
        private final Semaphore permits = new Semaphore(IN_FLIGHT);
        private final Thread thread = new Thread(this::run, "kafka-failover-producer");

        SendingProducer(Oracle oracle) {
            this.oracle = oracle;
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap(cluster.ids()));
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
            props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(DELIVERY_TIMEOUT.toMillis()));
            props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "50");
            props.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, "50");
            props.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
            this.producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void run() {
            try {
                for (int i = 0; i < RECORDS; i++) {
                    permits.acquire();
                    String key = "key-" + i % KEYS;
                    String value = "value-" + i;
                    producer.send(new ProducerRecord<>(TOPIC, key, value), (metadata, failure) -> {
                        if (failure == null) {
                            oracle.acknowledged(metadata.topic(), metadata.partition(), metadata.offset(), key, value);
                        } else {
                            failures.add(value + ": " + failure);
                        }
                        permits.release();
                    });
                }
                permits.acquire(IN_FLIGHT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                failures.add("send threw " + e);
            }
        }

        /** Waits until every send is answered: acknowledged or failed. */
        void awaitAnswered(Duration atMost) throws InterruptedException {
            thread.join(atMost.toMillis());
            assertThat(thread.isAlive()).as("the producer still waits for answers after " + atMost
                    + "; failures: " + failures.stream().limit(20).toList()).isFalse();
        }

        @Override
        public void close() throws InterruptedException {
            thread.interrupt();
            thread.join(TimeUnit.SECONDS.toMillis(10));
            producer.close(Duration.ofSeconds(10));
        }
    }

    /**
     * A kafka-clients consumer assigned to every partition from the beginning, polling on its own thread and keeping
     * what it read per partition in the order it came.
     */
    private static final class LiveConsumer implements AutoCloseable {

        final AtomicReference<Throwable> error = new AtomicReference<>();
        private final Map<TopicPartition, List<Oracle.Entry>> reads = new HashMap<>();
        private final AtomicInteger count = new AtomicInteger();
        private final KafkaConsumer<String, String> consumer;
        private final Thread thread = new Thread(this::run, "kafka-failover-consumer");
        private volatile boolean running = true;

        LiveConsumer() {
            consumer = consumer(cluster.ids());
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void run() {
            List<org.apache.kafka.common.TopicPartition> all = IntStream.range(0, PARTITIONS)
                    .mapToObj(p -> new org.apache.kafka.common.TopicPartition(TOPIC, p)).toList();
            try {
                consumer.assign(all);
                consumer.seekToBeginning(all);
                while (running) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        synchronized (reads) {
                            reads.computeIfAbsent(new TopicPartition(r.topic(), r.partition()),
                                    tp -> new ArrayList<>()).add(new Oracle.Entry(r.topic(), r.partition(),
                                    r.offset(), r.key(), r.value()));
                        }
                        count.incrementAndGet();
                    }
                }
            } catch (WakeupException e) {
                // close() ends the poll
            } catch (RuntimeException e) {
                error.set(e);
            }
        }

        Map<TopicPartition, List<Oracle.Entry>> snapshot() {
            synchronized (reads) {
                Map<TopicPartition, List<Oracle.Entry>> copy = new HashMap<>();
                reads.forEach((tp, list) -> copy.put(tp, new ArrayList<>(list)));
                return copy;
            }
        }

        /** Waits until it has read as many records as were acknowledged, or its poll failed. */
        void awaitEvery(Oracle oracle, String what) {
            await().alias(what).atMost(READ_DEADLINE).pollInterval(Duration.ofMillis(100))
                    .until(() -> count.get() >= oracle.acknowledgedCount() || error.get() != null
                            || !thread.isAlive());
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            consumer.wakeup();
            thread.join(TimeUnit.SECONDS.toMillis(10));
            if (!thread.isAlive()) {
                consumer.close(Duration.ofSeconds(5));
            }
        }
    }
}
