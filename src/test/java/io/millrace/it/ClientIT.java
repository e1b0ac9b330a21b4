package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.ConsumerRecord;
import io.millrace.client.MillraceClient;
import io.millrace.client.MillraceClientException;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import io.millrace.client.RecordMetadata;
import io.millrace.client.Seek;
import io.millrace.common.TopicPartition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.nio.file.Path;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** The Java SDK against a real broker process, with a fault-injecting proxy where the network must misbehave. */
class ClientIT {

    static BrokerProcess broker;
    static MillraceClient client;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("client", Map.of());
        client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.tcpPort()).withClientId("it"));
    }

    @AfterAll
    static void stop() {
        client.close();
        broker.close();
    }

    @Test
    void adminCallsAndTypedErrors() {
        StepVerifier.create(client.admin().createTopic("sdk-admin", 3))
                .assertNext(t -> assertThat(t.partitions()).hasSize(3)).verifyComplete();
        StepVerifier.create(client.admin().createTopic("sdk-admin", 3))
                .expectError(MillraceClientException.TopicExistsException.class).verify();
        assertThat(client.admin().listTopics().block()).contains("sdk-admin");
        assertThat(client.admin().addPartitions("sdk-admin", 5).block().partitions()).hasSize(5);
        StepVerifier.create(client.admin().describeTopic("missing"))
                .expectError(MillraceClientException.UnknownTopicOrPartitionException.class).verify();
        client.admin().deleteTopic("sdk-admin").block();
        assertThat(client.admin().listTopics().block()).doesNotContain("sdk-admin");
    }

    @Test
    void keyedRecordsGoWhereKafkaPutsThemAndComeBackInOrder() {
        client.admin().createTopic("sdk-keys", 4).block();
        Producer producer = client.producer(ProducerConfig.defaults());
        List<ProducerRecord> records = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            records.add(ProducerRecord.of("sdk-keys", "key-" + (i % 13), "value-" + i));
        }
        List<RecordMetadata> acks = producer.send(Flux.fromIterable(records)).collectList().block();
        assertThat(acks).hasSize(400);
        for (int i = 0; i < 400; i++) {
            byte[] key = ("key-" + (i % 13)).getBytes(StandardCharsets.UTF_8);
            assertThat(acks.get(i).partition()).isEqualTo(Utils.toPositive(Utils.murmur2(key)) % 4);
        }
        List<TopicPartition> all = List.of(0, 1, 2, 3).stream().map(p -> new TopicPartition("sdk-keys", p)).toList();
        List<ConsumerRecord> read = client.consumer(ConsumerConfig.defaults()).assign(all, Seek.earliest()).receive()
                .take(400).collectList().block(Duration.ofSeconds(30));
        Map<String, List<String>> perKey = new HashMap<>();
        read.forEach(r -> perKey.computeIfAbsent(r.keyAsString(), k -> new ArrayList<>()).add(r.valueAsString()));
        for (int k = 0; k < 13; k++) {
            List<String> expected = new ArrayList<>();
            for (int i = k; i < 400; i += 13) {
                expected.add("value-" + i);
            }
            assertThat(perKey.get("key-" + k)).isEqualTo(expected);
        }
    }

    @Test
    void aFullBatchGoesAtOnceAndALaterBatchLingersItsOwnFullLinger() throws Exception {
        client.admin().createTopic("sdk-linger", 1).block();
        long linger = 600;
        Producer producer = client.producer(ProducerConfig.defaults().withLinger(Duration.ofMillis(linger))
                .withBatchSize(1024));
        // A record as large as batch.size fills its batch: it goes without lingering.
        long start = System.nanoTime();
        RecordMetadata full = producer.send(ProducerRecord.of("sdk-linger", null, "x".repeat(1100)))
                .block(Duration.ofSeconds(10));
        assertThat(full.offset()).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(linger));
        // The pause is the scenario, not a wait for something: the next batch opens while the first batch's linger
        // would still be running, and must wait its own full linger rather than what is left of the first one's.
        Thread.sleep(linger / 3);
        long opened = System.nanoTime();
        RecordMetadata lone = producer.send(ProducerRecord.of("sdk-linger", null, "lone"))
                .block(Duration.ofSeconds(10));
        assertThat(lone.offset()).isEqualTo(1);
        assertThat(Duration.ofNanos(System.nanoTime() - opened)).isGreaterThanOrEqualTo(Duration.ofMillis(linger));
        producer.close();
    }

    @Test
    void aSubscriberThatRequestsTenGetsTen() {
        client.admin().createTopic("sdk-demand", 1).block();
        Producer producer = client.producer(ProducerConfig.defaults());
        producer.send(Flux.range(0, 500).map(i -> ProducerRecord.of("sdk-demand", null, "v" + i))).blockLast();
        StepVerifier.create(client.consumer(ConsumerConfig.defaults())
                        .assign(new TopicPartition("sdk-demand", 0), Seek.earliest()).receive(), 0)
                .thenRequest(10)
                .expectNextCount(10)
                .expectNoEvent(Duration.ofMillis(500))
                .thenRequest(5)
                .assertNext(r -> assertThat(r.offset()).isEqualTo(10))
                .expectNextCount(4)
                .expectNoEvent(Duration.ofMillis(300))
                .thenCancel()
                .verify(Duration.ofSeconds(30));
    }

    @Test
    void retriesAfterALostAcknowledgementWriteNothingTwiceAndKeepOrder() throws Exception {
        client.admin().createTopic("sdk-retry", 1).block();
        try (FaultyProxy proxy = new FaultyProxy(broker.tcpPort());
             MillraceClient viaProxy = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + proxy.port())
                     .withReconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)))) {
            Producer producer = viaProxy.producer(ProducerConfig.defaults().withRetryBackoff(Duration.ofMillis(50))
                    .withLinger(Duration.ofMillis(2)).withBatchSize(2048));
            List<reactor.core.publisher.Mono<RecordMetadata>> sends = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                if (i % 400 == 200) {
                    proxy.dropNextProduceResponses(1);
                }
                sends.add(producer.send(ProducerRecord.of("sdk-retry", "k", "m-" + i)).cache());
                sends.get(i).subscribe(m -> { }, e -> { });
            }
            List<RecordMetadata> acks = Flux.concat(sends).collectList().block(Duration.ofSeconds(60));
            assertThat(proxy.drops()).isGreaterThanOrEqualTo(3);
            assertThat(acks).extracting(RecordMetadata::offset).doesNotHaveDuplicates();
        }
        List<String> stored = client.consumer(ConsumerConfig.defaults())
                .assign(new TopicPartition("sdk-retry", 0), Seek.earliest()).receive()
                .take(2000).map(ConsumerRecord::valueAsString).collectList().block(Duration.ofSeconds(30));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            expected.add("m-" + i);
        }
        assertThat(stored).isEqualTo(expected);
        assertThat(client.admin().describeTopic("sdk-retry").block().partitions().get(0).logEndOffset())
                .isEqualTo(2000);
    }

    @Test
    void aFullBufferMakesSendsFailAfterMaxBlock() throws Exception {
        client.admin().createTopic("sdk-buffer", 1).block();
        try (FaultyProxy proxy = new FaultyProxy(broker.tcpPort());
             MillraceClient viaProxy = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + proxy.port()))) {
            Producer producer = viaProxy.producer(ProducerConfig.defaults()
                    .withBufferMemory(1024 * 1024, Duration.ofMillis(500)).withMaxRequestSize(64 * 1024));
            producer.send(ProducerRecord.of("sdk-buffer", null, "warm-up")).block(Duration.ofSeconds(10));
            proxy.stall(true);
            byte[] value = new byte[10 * 1024];
            List<reactor.core.publisher.Mono<RecordMetadata>> accepted = new ArrayList<>();
            // 100 records of 10 KiB fit in the 1 MiB buffer; one more of 62 KiB does not.
            for (int i = 0; i < 100; i++) {
                accepted.add(producer.send(ProducerRecord.of("sdk-buffer", null, value)).cache());
                accepted.get(i).subscribe(m -> { }, e -> { });
            }
            StepVerifier.create(producer.send(ProducerRecord.of("sdk-buffer", null, new byte[62 * 1024])))
                    .expectError(MillraceClientException.BufferExhaustedException.class)
                    .verify(Duration.ofSeconds(10));
            proxy.stall(false);
            assertThat(Flux.concat(accepted).collectList().block(Duration.ofSeconds(60))).hasSize(100);
        }
    }

    @Test
    void closeDeliversRecordsStillWaitingForBufferSpace() {
        client.admin().createTopic("sdk-close", 1).block();
        Producer producer = client.producer(ProducerConfig.defaults()
                .withMaxRequestSize(64 * 1024).withBufferMemory(128 * 1024, Duration.ofSeconds(30)));
        byte[] value = new byte[10 * 1024];
        List<reactor.core.publisher.Mono<RecordMetadata>> sends = new ArrayList<>();
        // 200 records of 10 KiB against a 128 KiB buffer: most wait for space when close() is called.
        for (int i = 0; i < 200; i++) {
            value[0] = (byte) i;
            sends.add(producer.send(ProducerRecord.of("sdk-close", null, value.clone())).cache());
            sends.get(i).subscribe(m -> { }, e -> { });
        }
        producer.close();

        List<RecordMetadata> acknowledged = Flux.concat(sends).collectList().block(Duration.ofSeconds(5));
        assertThat(acknowledged).extracting(RecordMetadata::offset)
                .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 200).boxed().toList());
        assertThat(client.admin().describeTopic("sdk-close").block().partitions().get(0).highWatermark())
                .isEqualTo(200);
        StepVerifier.create(producer.send(ProducerRecord.of("sdk-close", null, "late")))
                .expectError(IllegalStateException.class).verify(Duration.ofSeconds(5));
    }

    @Test
    void consumersAndProducersCarryOnAfterABrokerRestart() {
        client.admin().createTopic("sdk-restart", 1).block();
        Producer producer = client.producer(ProducerConfig.defaults());
        producer.send(Flux.range(0, 50).map(i -> ProducerRecord.of("sdk-restart", null, "before-" + i))).blockLast();
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        reactor.core.Disposable reading = client.consumer(ConsumerConfig.defaults()
                        .withReconnect(100, Duration.ofMillis(200)))
                .assign(new TopicPartition("sdk-restart", 0), Seek.earliest()).receive()
                .subscribe(r -> seen.add(r.valueAsString()));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> seen.size() == 50);

        broker.stop();
        broker.restart();

        producer.send(Flux.range(0, 50).map(i -> ProducerRecord.of("sdk-restart", null, "after-" + i))).blockLast(
                Duration.ofSeconds(60));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() >= 100);
        reading.dispose();
        assertThat(seen).hasSize(100).doesNotHaveDuplicates();
        assertThat(seen.subList(50, 100)).allMatch(v -> v.startsWith("after-"));
    }

    @Test
    void outOfRangeSeekFailsTyped() {
        client.admin().createTopic("sdk-range", 1).block();
        StepVerifier.create(client.consumer(ConsumerConfig.defaults())
                        .assign(new TopicPartition("sdk-range", 0), Seek.offset(99)).receive())
                .expectError(MillraceClientException.OffsetOutOfRangeException.class)
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void theSdkJarHoldsNoServerClass() throws Exception {
        Path jar = Path.of(System.getProperty("millrace.home", ".")).resolve("target/millrace-client.jar");
        try (JarFile file = new JarFile(jar.toFile())) {
            List<String> classes = file.stream().map(e -> e.getName()).filter(n -> n.endsWith(".class")).toList();
            assertThat(classes).isNotEmpty();
            assertThat(classes).allMatch(n -> n.startsWith("io/millrace/client/") || n.startsWith("io/millrace/protocol/")
                    || n.startsWith("io/millrace/record/") || n.startsWith("io/millrace/common/"));
            assertThat(classes).anyMatch(n -> n.equals("io/millrace/client/MillraceClient.class"));
        }
    }

    @Test
    void blockingFacade() {
        client.admin().createTopic("sdk-sync", 1).block();
        RecordMetadata m = client.producer(ProducerConfig.defaults().withAcks(1))
                .sendSync(ProducerRecord.of("sdk-sync", "k", "v"));
        assertThat(m.offset()).isZero();
        assertThatThrownBy(() -> client.producer(ProducerConfig.defaults())
                .sendSync(ProducerRecord.of("sdk-missing", "k", "v")))
                .isInstanceOf(MillraceClientException.UnknownTopicOrPartitionException.class);
    }

    @Test
    void recordsForAnExplicitPartitionOfANewTopicArriveInOrderWithoutSequenceErrors() {
        // Found by the load tests: batches sent before the topic's metadata was cached each looked the leader up on
        // their own, and one whose lookup answered first overtook an earlier one (OUT_OF_ORDER_SEQUENCE).
        client.admin().createTopic("sdk-explicit", 1).block();
        Producer producer = client.producer(ProducerConfig.defaults());
        byte[] value = new byte[1024];
        List<RecordMetadata> acks = producer.send(Flux.range(0, 3000)
                        .map(i -> ProducerRecord.of("sdk-explicit", (byte[]) null, value).withPartition(0)))
                .collectList().block(Duration.ofSeconds(60));
        assertThat(acks).hasSize(3000);
        for (int i = 0; i < acks.size(); i++) {
            assertThat(acks.get(i).offset()).isEqualTo(i);
        }
    }
}
