package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.millrace.client.ClientConfig;
import io.millrace.client.MillraceClient;
import io.millrace.client.Seek;
import io.millrace.common.ErrorCode;
import io.millrace.protocol.FetchResponse;
import io.millrace.protocol.SubscribeRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DeleteRecordsResponse;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Apache Kafka's own clients (kafka-clients 4.x: producer, consumer, admin client) against a Millrace broker process's
 * Kafka listener: topics administered, records produced idempotently with acks=all with every codec (none, gzip,
 * snappy, lz4, zstd) and read back by offset and by timestamp, the same records seen over REST, the WebSocket and the
 * SDK with the same keys, values, headers and offsets (and REST's and the SDK's records seen by Kafka), a consumer
 * group rebalancing with committed offsets that survive a restart, records deleted with DeleteRecords for every
 * reader, OffsetForLeaderEpoch answered across a leader change, and bad input on the Kafka port closing only its
 * connection.
 */
class KafkaClientIT {

    /** Small, so that the oversized-frame test can exceed it without sending megabytes. */
    private static final int MAX_REQUEST_BYTES = 1024 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(30);

    static BrokerProcess broker;
    static Rest rest;
    static String bootstrap;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("kafka-client", Map.of("socket.request.max.bytes",
                Integer.toString(MAX_REQUEST_BYTES)));
        rest = new Rest(broker.baseUrl());
        bootstrap = "127.0.0.1:" + broker.kafkaPort();
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void adminClientCreatesDescribesGrowsAndDeletesTopics() throws Exception {
        try (Admin admin = admin()) {
            DescribeClusterResult cluster = admin.describeCluster();
            Collection<Node> nodes = cluster.nodes().get(30, TimeUnit.SECONDS);
            assertThat(nodes).singleElement().satisfies(node -> {
                assertThat(node.host()).isEqualTo("127.0.0.1");
                assertThat(node.port()).isEqualTo(broker.kafkaPort());
            });
            assertThat(cluster.controller().get().id()).isEqualTo(nodes.iterator().next().id());

            admin.createTopics(List.of(new NewTopic("admin-topic", 3, (short) 1)
                    .configs(Map.of("retention.ms", "3600000")))).all().get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("admin-topic", 1, (short) 1))).all()
                    .get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(TopicExistsException.class);
            assertThat(admin.listTopics().names().get()).contains("admin-topic");

            TopicDescription described = admin.describeTopics(List.of("admin-topic")).allTopicNames().get()
                    .get("admin-topic");
            assertThat(described.partitions()).hasSize(3)
                    .allSatisfy(p -> assertThat(p.leader().port()).isEqualTo(broker.kafkaPort()));

            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "admin-topic");
            Config config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
            assertThat(config.get("retention.ms").value()).isEqualTo("3600000");

            admin.createPartitions(Map.of("admin-topic", NewPartitions.increaseTo(5))).all()
                    .get(30, TimeUnit.SECONDS);
            assertThat(rest.get("/api/topics/admin-topic").json().getJsonArray("partitions")).hasSize(5);

            admin.deleteTopics(List.of("admin-topic")).all().get(30, TimeUnit.SECONDS);
            await().atMost(WAIT).untilAsserted(() ->
                    assertThat(admin.listTopics().names().get()).doesNotContain("admin-topic"));
        }
    }

    /**
     * Every codec Kafka's producer offers: the log validates the batches, stores and serves them as they came, and the
     * consumer decodes them itself.
     */
    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void idempotentProducerWithAcksAllIsReadBackByTheConsumer(String compression) throws Exception {
        String topic = "compressed-" + compression;
        rest.createTopic(topic, 3);
        List<RecordMetadata> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG,
                compression, ProducerConfig.LINGER_MS_CONFIG, "10"))) {
            // Sent without waiting, so that batches hold many records and compression has something to work on.
            List<java.util.concurrent.Future<RecordMetadata>> pending = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                ProducerRecord<String, String> record = new ProducerRecord<>(topic, "key-" + (i % 30), "value-" + i);
                record.headers().add(new RecordHeader("n", Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
                pending.add(producer.send(record));
            }
            for (java.util.concurrent.Future<RecordMetadata> f : pending) {
                sent.add(f.get(30, TimeUnit.SECONDS));
            }
        }
        List<ConsumerRecord<String, String>> read = readAll(topic, 3, 300);
        assertThat(read).hasSize(300);
        for (ConsumerRecord<String, String> record : read) {
            int i = Integer.parseInt(record.value().substring("value-".length()));
            assertThat(record.key()).isEqualTo("key-" + (i % 30));
            assertThat(new String(record.headers().lastHeader("n").value(), StandardCharsets.UTF_8))
                    .isEqualTo(Integer.toString(i));
            assertThat(record.partition()).isEqualTo(sent.get(i).partition());
            assertThat(record.offset()).isEqualTo(sent.get(i).offset());
        }
    }

    /** With auto.create.topics.enable, a Kafka producer's Metadata request creates its topic, as on Kafka. */
    @Test
    void metadataCreatesTopicsWhenTheBrokerAutoCreates() throws Exception {
        try (BrokerProcess autoCreating = BrokerProcess.start("kafka-auto-create",
                Map.of("auto.create.topics.enable", "true", "num.partitions", "2"))) {
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + autoCreating.kafkaPort());
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                    new StringSerializer())) {
                assertThat(producer.send(new ProducerRecord<>("made-by-metadata", "k", "v")).get(30, TimeUnit.SECONDS)
                        .offset()).isZero();
            }
            assertThat(new Rest(autoCreating.baseUrl()).get("/api/topics/made-by-metadata").json()
                    .getJsonArray("partitions")).hasSize(2);
        }
        // The shared broker does not auto-create: a consumer's Metadata (which allows creation) creates nothing.
        try (KafkaConsumer<String, String> consumer = consumer(); Admin admin = admin()) {
            assertThat(consumer.partitionsFor("never-created")).isEmpty();
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).doesNotContain("never-created");
        }
    }

    /**
     * Fetch answers of a megabyte (the consumer's max.partition.fetch.bytes) go out from the segment file in several
     * sendfile chunks; every byte arrives in order.
     */
    @Test
    void largeFetchesArriveWhole() throws Exception {
        String topic = "large";
        rest.createTopic(topic, 1);
        String filler = "x".repeat(8 * 1024);
        try (KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.BATCH_SIZE_CONFIG, "262144",
                ProducerConfig.LINGER_MS_CONFIG, "20"))) {
            List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, 0, "k" + i, i + ":" + filler)));
            }
            for (java.util.concurrent.Future<RecordMetadata> f : sent) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
        List<ConsumerRecord<String, String>> read = readAll(topic, 1, 400);
        assertThat(read).hasSize(400);
        for (int i = 0; i < 400; i++) {
            assertThat(read.get(i).offset()).isEqualTo(i);
            assertThat(read.get(i).value()).isEqualTo(i + ":" + filler);
        }
    }

    @Test
    void consumerSeeksByTimestamp() throws Exception {
        String topic = "by-time";
        rest.createTopic(topic, 1);
        long base = System.currentTimeMillis() - 60_000;
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, 0, base + i * 1000L, "k", "at-" + i)).get(30,
                        TimeUnit.SECONDS);
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = consumer()) {
            Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(Map.of(tp, base + 2500));
            assertThat(found.get(tp).offset()).isEqualTo(3);
            assertThat(found.get(tp).timestamp()).isEqualTo(base + 3000);
            assertThat(consumer.offsetsForTimes(Map.of(tp, base + 10_000)).get(tp)).isNull();
            assertThat(consumer.beginningOffsets(List.of(tp))).containsEntry(tp, 0L);
            assertThat(consumer.endOffsets(List.of(tp))).containsEntry(tp, 5L);

            consumer.assign(List.of(tp));
            consumer.seek(tp, found.get(tp).offset());
            List<ConsumerRecord<String, String>> read = new ArrayList<>();
            await().atMost(WAIT).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
                return read.size() >= 2;
            });
            assertThat(read).extracting(ConsumerRecord::value).containsExactly("at-3", "at-4");
            assertThat(read.get(0).timestamp()).isEqualTo(base + 3000);
        }
    }

    @Test
    void recordsCrossBetweenKafkaClientsAndRest() throws Exception {
        String topic = "crossing";
        rest.createTopic(topic, 1);
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            ProducerRecord<String, String> record = new ProducerRecord<>(topic, 0, "from-kafka", "kafka-value");
            record.headers().add(new RecordHeader("origin", "kafka".getBytes(StandardCharsets.UTF_8)));
            assertThat(producer.send(record).get(30, TimeUnit.SECONDS).offset()).isZero();
        }
        JsonObject produced = rest.post("/api/topics/" + topic + "/records", new JsonObject().put("acks", "all")
                .put("records", new JsonArray().add(new JsonObject().put("partition", 0).put("key", "from-rest")
                        .put("value", "rest-value").put("headers", new JsonObject().put("origin", "rest"))))).json();
        assertThat(produced.getJsonArray("offsets").getJsonObject(0).getLong("offset")).isEqualTo(1L);

        JsonArray overRest = rest.get("/api/topics/" + topic + "/partitions/0/records?offset=earliest").json()
                .getJsonArray("records");
        assertThat(overRest).hasSize(2);
        JsonObject first = overRest.getJsonObject(0);
        assertThat(first.getLong("offset")).isZero();
        assertThat(first.getString("key")).isEqualTo("from-kafka");
        assertThat(first.getString("value")).isEqualTo("kafka-value");
        assertThat(first.getJsonArray("headers").getJsonObject(0).getString("key")).isEqualTo("origin");
        assertThat(first.getJsonArray("headers").getJsonObject(0).getString("value")).isEqualTo("kafka");

        List<ConsumerRecord<String, String>> overKafka = readAll(topic, 1, 2);
        assertThat(rest.get("/metrics").body()).contains("operation=\"kafka.produce\"")
                .contains("operation=\"kafka.fetch\"").contains("frontend=\"kafka\"");
        assertThat(overKafka.get(1).offset()).isEqualTo(1);
        assertThat(overKafka.get(1).key()).isEqualTo("from-rest");
        assertThat(overKafka.get(1).value()).isEqualTo("rest-value");
        assertThat(new String(overKafka.get(1).headers().lastHeader("origin").value(), StandardCharsets.UTF_8))
                .isEqualTo("rest");
    }

    /**
     * Batches a Kafka producer compressed are read by the SDK, over the WebSocket and over REST with the keys, values,
     * headers and offsets Kafka's own consumer sees; and the SDK's producer, compressing with the same codec, writes
     * batches a Kafka consumer reads.
     */
    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void compressedRecordsCrossBetweenKafkaClientsTheSdkAndTheWebSocket(String compression) throws Exception {
        String topic = "crossing-sdk-" + compression;
        int count = 20;
        rest.createTopic(topic, 1);
        try (KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG,
                compression, ProducerConfig.LINGER_MS_CONFIG, "20"))) {
            List<java.util.concurrent.Future<RecordMetadata>> pending = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ProducerRecord<String, String> record = new ProducerRecord<>(topic, 0, "k" + i,
                        "v" + i + " " + "compressible ".repeat(i));
                record.headers().add(new RecordHeader("i", Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
                pending.add(producer.send(record));
            }
            for (java.util.concurrent.Future<RecordMetadata> f : pending) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
        List<ConsumerRecord<String, String>> byKafka = readAll(topic, 1, count);
        assertThat(byKafka).extracting(ConsumerRecord::offset).containsExactlyElementsOf(
                java.util.stream.LongStream.range(0, count).boxed().toList());

        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.tcpPort()))) {
            List<io.millrace.client.ConsumerRecord> bySdk = client.consumer(io.millrace.client.ConsumerConfig.defaults())
                    .assign(new io.millrace.common.TopicPartition(topic, 0), Seek.earliest())
                    .receive().take(count).collectList().block(WAIT);
            assertThat(bySdk).hasSize(count);
            for (int i = 0; i < count; i++) {
                ConsumerRecord<String, String> expected = byKafka.get(i);
                io.millrace.client.ConsumerRecord record = bySdk.get(i);
                assertThat(record.offset()).isEqualTo(expected.offset());
                assertThat(record.timestamp()).isEqualTo(expected.timestamp());
                assertThat(record.keyAsString()).isEqualTo(expected.key());
                assertThat(record.valueAsString()).isEqualTo(expected.value());
                assertThat(record.headers()).singleElement().satisfies(h -> {
                    assertThat(h.key()).isEqualTo("i");
                    assertThat(h.value()).isEqualTo(expected.headers().lastHeader("i").value());
                });
            }
            client.producer(io.millrace.client.ProducerConfig.defaults()
                            .withCompression(io.millrace.record.CompressionType.valueOf(compression.toUpperCase())))
                    .send(io.millrace.client.ProducerRecord.of(topic, "from-sdk", "sdk-value")).block(WAIT);
        }

        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            ws.call(new JsonObject().put("op", "subscribe").put("topic", topic).put("from", "earliest")
                    .put("credits", count));
            List<JsonObject> byWebSocket = new ArrayList<>();
            while (byWebSocket.size() < count) {
                JsonObject push = ws.await(m -> "records".equals(m.getString("op")), WAIT);
                push.getJsonArray("records").forEach(r -> byWebSocket.add((JsonObject) r));
            }
            assertSameRecords(byWebSocket, byKafka);
        }
        JsonArray byRest = rest.get("/api/topics/" + topic + "/partitions/0/records?offset=earliest&maxRecords="
                + count).json().getJsonArray("records");
        assertSameRecords(byRest.stream().map(JsonObject.class::cast).toList(), byKafka);

        ConsumerRecord<String, String> fromSdk = readAll(topic, 1, count + 1).get(count);
        assertThat(fromSdk.offset()).isEqualTo(count);
        assertThat(fromSdk.key()).isEqualTo("from-sdk");
        assertThat(fromSdk.value()).isEqualTo("sdk-value");
    }

    /** JSON records (WebSocket, REST) against what Kafka's consumer read: offsets, keys, values and headers. */
    private static void assertSameRecords(List<JsonObject> json, List<ConsumerRecord<String, String>> byKafka) {
        assertThat(json).hasSize(byKafka.size());
        for (int i = 0; i < byKafka.size(); i++) {
            ConsumerRecord<String, String> expected = byKafka.get(i);
            JsonObject record = json.get(i);
            assertThat(record.getLong("offset")).isEqualTo(expected.offset());
            assertThat(record.getLong("timestamp")).isEqualTo(expected.timestamp());
            assertThat(record.getString("key")).isEqualTo(expected.key());
            assertThat(record.getString("value")).isEqualTo(expected.value());
            assertThat(record.getJsonArray("headers")).hasSize(1);
            assertThat(record.getJsonArray("headers").getJsonObject(0).getString("key")).isEqualTo("i");
            assertThat(record.getJsonArray("headers").getJsonObject(0).getString("value"))
                    .isEqualTo(new String(expected.headers().lastHeader("i").value(), StandardCharsets.UTF_8));
        }
    }

    /** Kafka groups are Millrace's groups: a Kafka consumer and a browser on the WebSocket split the partitions. */
    @Test
    void aKafkaConsumerAndABrowserShareAGroup() {
        String topic = "shared";
        String group = "kafka-and-browser";
        rest.createTopic(topic, 4);
        try (WsClient ws = WsClient.connect(broker.webSocketUri());
             KafkaConsumer<String, String> kafka = consumer(group)) {
            JsonObject joined = ws.call(new JsonObject().put("op", "joinGroup").put("group", group)
                    .put("topics", new JsonArray().add(topic)).put("strategy", "range")
                    .put("sessionTimeoutMs", 10_000).put("rebalanceTimeoutMs", 10_000));
            assertThat(joined.getString("op")).isEqualTo("result");
            kafka.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                kafka.poll(Duration.ofMillis(100));
                return kafka.assignment().size() == 2;
            });
            JsonObject assigned = ws.await(m -> "assigned".equals(m.getString("op"))
                    && m.getJsonArray("partitions").size() == 2, WAIT);
            java.util.Set<Integer> browser = new java.util.HashSet<>();
            assigned.getJsonArray("partitions").forEach(p -> browser.add(((JsonObject) p).getInteger("partition")));
            java.util.Set<Integer> all = new java.util.HashSet<>(browser);
            kafka.assignment().forEach(tp -> all.add(tp.partition()));
            assertThat(kafka.assignment()).noneMatch(tp -> browser.contains(tp.partition()));
            assertThat(all).containsExactlyInAnyOrder(0, 1, 2, 3);
        }
    }

    /**
     * Three Kafka consumers in one group share a topic's partitions; when one leaves, the other two take them all.
     * Their commits are what the admin client lists, and survive a broker restart.
     */
    @Test
    void consumerGroupRebalancesAndKeepsCommittedOffsets() throws Exception {
        String topic = "grouped";
        String group = "kafka-group";
        rest.createTopic(topic, 6);
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            for (int i = 0; i < 60; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        List<KafkaConsumer<String, String>> members = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                KafkaConsumer<String, String> member = consumer(group);
                member.subscribe(List.of(topic));
                members.add(member);
            }
            awaitAssignmentCovers(members, 6);
            assertThat(members).allSatisfy(m -> assertThat(m.assignment()).hasSize(2));

            members.remove(2).close();
            awaitAssignmentCovers(members, 6);
            // Read to the end of every partition, those taken over from the member that left included.
            await().atMost(WAIT).until(() -> {
                boolean atEnd = true;
                for (KafkaConsumer<String, String> m : members) {
                    m.poll(Duration.ofMillis(100));
                    for (TopicPartition tp : m.assignment()) {
                        atEnd &= m.position(tp) == m.endOffsets(List.of(tp)).get(tp);
                    }
                }
                return atEnd;
            });
            for (KafkaConsumer<String, String> member : members) {
                member.commitSync();
            }
            try (Admin admin = admin()) {
                assertThat(committedTotal(admin, group)).isEqualTo(60);
                assertThat(admin.listGroups().all().get(30, TimeUnit.SECONDS))
                        .anySatisfy(g -> assertThat(g.groupId()).isEqualTo(group));
                assertThat(admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group)
                        .members()).hasSize(2);
            }
        } finally {
            members.forEach(KafkaConsumer::close);
        }

        broker.stop();
        broker.restart();
        try (Admin admin = admin()) {
            await().atMost(WAIT).untilAsserted(() -> assertThat(committedTotal(admin, group)).isEqualTo(60));
        }
        try (KafkaConsumer<String, String> again = consumer(group)) {
            again.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> more = new ArrayList<>();
            await().atMost(WAIT).until(() -> {
                again.poll(Duration.ofMillis(200)).forEach(more::add);
                return again.assignment().size() == 6;
            });
            for (org.apache.kafka.common.TopicPartition tp : again.assignment()) {
                assertThat(again.position(tp)).isEqualTo(again.endOffsets(List.of(tp)).get(tp));
            }
            assertThat(more).as("everything was committed, so nothing is read again").isEmpty();
        }
    }

    /** Polls every member until their assignments are disjoint and cover all {@code partitions}. */
    private static void awaitAssignmentCovers(List<KafkaConsumer<String, String>> members, int partitions) {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            members.forEach(m -> m.poll(Duration.ofMillis(100)));
            java.util.Set<TopicPartition> union = new java.util.HashSet<>();
            int total = 0;
            for (KafkaConsumer<String, String> m : members) {
                union.addAll(m.assignment());
                total += m.assignment().size();
            }
            return union.size() == partitions && total == partitions
                    && members.stream().noneMatch(m -> m.assignment().isEmpty());
        });
    }

    private static long committedTotal(Admin admin, String group) throws Exception {
        return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                .values().stream().mapToLong(org.apache.kafka.clients.consumer.OffsetAndMetadata::offset).sum();
    }

    /**
     * Admin.deleteRecords moves the partition's log start, mid-batch too: the low watermark it answers, where a
     * consumer without committed offsets starts, ListOffsets earliest, and the native REST and TCP reads all agree,
     * also after a restart. Deleting beyond the high watermark and on an unknown partition fail as in Kafka.
     */
    @Test
    void deleteRecordsMovesTheLogStartForEveryReaderAndSurvivesARestart() throws Exception {
        String topic = "trimmed";
        rest.createTopic(topic, 1);
        JsonArray first = new JsonArray();
        for (int i = 0; i < 6; i++) {
            first.add(new JsonObject().put("partition", 0).put("key", "k").put("value", "v" + i));
        }
        assertThat(rest.post("/api/topics/" + topic + "/records", new JsonObject().put("acks", "all")
                .put("records", first)).status()).isEqualTo(200);
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            for (int i = 6; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k", "v" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin()) {
            assertThat(lowWatermark(admin, tp, 4)).isEqualTo(4);
            assertThat(lowWatermark(admin, tp, 2)).as("a start below the current one changes nothing").isEqualTo(4);
            assertThatThrownBy(() -> lowWatermark(admin, tp, 11)).hasCauseInstanceOf(OffsetOutOfRangeException.class);
        }
        DeleteRecordsResponseData.DeleteRecordsPartitionResult unknown = ((DeleteRecordsResponse) kafkaCall(
                broker.kafkaPort(), new DeleteRecordsRequest.Builder(new DeleteRecordsRequestData().setTimeoutMs(30_000)
                        .setTopics(List.of(new DeleteRecordsRequestData.DeleteRecordsTopic().setName("no-such-topic")
                                .setPartitions(List.of(new DeleteRecordsRequestData.DeleteRecordsPartition()
                                        .setPartitionIndex(0).setOffset(1)))))).build(ApiKeys.DELETE_RECORDS
                        .latestVersion()))).data().topics().find("no-such-topic").partitions().find(0);
        assertThat(Errors.forCode(unknown.errorCode())).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        assertEveryReaderStartsAt(topic, 4, "trimmed-before-restart");

        broker.stop();
        broker.restart();
        assertEveryReaderStartsAt(topic, 4, "trimmed-after-restart");
    }

    private static long lowWatermark(Admin admin, TopicPartition tp, long beforeOffset) throws Exception {
        return admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(beforeOffset))).lowWatermarks().get(tp)
                .get(30, TimeUnit.SECONDS).lowWatermark();
    }

    /** Records "v&lt;offset&gt;" from {@code start} on, and nothing below it, whichever way they are read. */
    private static void assertEveryReaderStartsAt(String topic, long start, String group) {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = consumer(group)) {
            assertThat(consumer.beginningOffsets(List.of(tp))).containsEntry(tp, start);
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> read = new ArrayList<>();
            await().atMost(WAIT).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
                return !read.isEmpty();
            });
            assertThat(read.get(0).offset()).isEqualTo(start);
            assertThat(read.get(0).value()).isEqualTo("v" + start);
        }
        String records = "/api/topics/" + topic + "/partitions/0/records";
        assertThat(rest.get(records + "?offset=" + (start - 1)).errorCode()).isEqualTo("OFFSET_OUT_OF_RANGE");
        JsonObject earliest = rest.get(records + "?offset=earliest").json().getJsonArray("records").getJsonObject(0);
        assertThat(earliest.getLong("offset")).isEqualTo(start);
        assertThat(earliest.getString("value")).isEqualTo("v" + start);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            assertThat(client.ok(TcpGatewayIT.fetch(topic, 0, start - 1, 0), FetchResponse.class).partitions().get(0)
                    .error()).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE));
            assertThat(client.error(new SubscribeRequest(topic, 0, SubscribeRequest.StartPosition.offset(start - 1),
                    10, 4096))).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
        }
    }

    /**
     * OffsetForLeaderEpoch, sent with kafka-clients' own request classes as a consumer sends it after a leader change,
     * to a partition that had two leaders: the new leader answers where each epoch ended and fences requests that
     * name an older leader epoch; the old leader, back as a follower, refuses.
     */
    @Test
    void offsetForLeaderEpochTellsWhereEachEpochEnded() throws Exception {
        try (ClusterHarness cluster = ClusterHarness.start(2)) {
            Replicas replicas = new Replicas(cluster);
            String topic = "epochs";
            replicas.createTopic(topic, 1, 2, Map.of("min.insync.replicas", "1"));
            replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
            int first = replicas.leader(topic, 0);
            int firstEpoch = replicas.leaderEpoch(topic, 0);
            int second = cluster.ids().stream().filter(id -> id != first).findFirst().orElseThrow();
            produceOverRest(replicas.rest(first), topic, 3);

            cluster.stop(first);
            await().atMost(cluster.failureDetectionDeadline().plusSeconds(10)).until(() -> replicas
                    .describe(second, topic).map(d -> Replicas.partitionOf(d, 0))
                    .filter(p -> p.getInteger("leader", -1) == second).isPresent());
            int secondEpoch = replicas.leaderEpoch(topic, 0);
            assertThat(secondEpoch).isGreaterThan(firstEpoch);
            produceOverRest(replicas.rest(second), topic, 2);

            int port = cluster.broker(second).kafkaPort();
            assertEpochEnd(epochEnd(port, topic, secondEpoch, secondEpoch), secondEpoch, 5);
            assertEpochEnd(epochEnd(port, topic, firstEpoch, secondEpoch), firstEpoch, 3);
            assertEpochEnd(epochEnd(port, topic, firstEpoch, -1), firstEpoch, 3);
            assertEpochEnd(epochEnd(port, topic, secondEpoch + 5, -1), -1, -1);
            assertEpochEnd(epochEnd(port, topic, -1, -1), -1, -1);
            assertThat(errorOf(epochEnd(port, topic, secondEpoch, firstEpoch))).isEqualTo(Errors.FENCED_LEADER_EPOCH);
            assertThat(errorOf(epochEnd(port, topic, secondEpoch, secondEpoch + 1)))
                    .isEqualTo(Errors.NOT_LEADER_OR_FOLLOWER);
            assertThat(errorOf(epochEnd(port, "no-such-topic", secondEpoch, -1)))
                    .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);

            cluster.restart(first);
            replicas.awaitFullyReplicated(topic, Replicas.HEAL_DEADLINE);
            int leader = replicas.leader(topic, 0);
            int follower = leader == first ? second : first;
            // a leader in a later epoch still knows where the earlier two ended; a follower forwards to it
            int leaderPort = cluster.broker(leader).kafkaPort();
            assertEpochEnd(epochEnd(cluster.broker(follower).kafkaPort(), topic, secondEpoch, -1), secondEpoch, 5);
            assertEpochEnd(epochEnd(leaderPort, topic, firstEpoch, -1), firstEpoch, 3);
            assertEpochEnd(epochEnd(leaderPort, topic, secondEpoch, -1), secondEpoch, 5);
        }
    }

    private static void produceOverRest(Rest to, String topic, int count) {
        JsonArray records = new JsonArray();
        for (int i = 0; i < count; i++) {
            records.add(new JsonObject().put("partition", 0).put("value", "r" + i));
        }
        Rest.Response produced = to.post("/api/topics/" + topic + "/records", new JsonObject().put("acks", "all")
                .put("records", records));
        assertThat(produced.status()).as(produced.body()).isEqualTo(200);
    }

    /** OffsetForLeaderEpoch in the version Kafka 4 consumers send, for partition 0 of {@code topic}. */
    private static OffsetForLeaderEpochResponseData.EpochEndOffset epochEnd(int port, String topic, int leaderEpoch,
                                                                              int currentLeaderEpoch)
            throws IOException {
        OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection topics =
                new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection();
        topics.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(topic).setPartitions(
                List.of(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                        .setLeaderEpoch(leaderEpoch).setCurrentLeaderEpoch(currentLeaderEpoch))));
        OffsetsForLeaderEpochResponse response = (OffsetsForLeaderEpochResponse) kafkaCall(port,
                OffsetsForLeaderEpochRequest.Builder.forConsumer(topics).build((short) 4));
        return response.data().topics().find(topic).partitions().get(0);
    }

    private static void assertEpochEnd(OffsetForLeaderEpochResponseData.EpochEndOffset answer, int epoch,
                                       long endOffset) {
        assertThat(errorOf(answer)).isEqualTo(Errors.NONE);
        assertThat(answer.leaderEpoch()).as("epoch").isEqualTo(epoch);
        assertThat(answer.endOffset()).as("end offset").isEqualTo(endOffset);
    }

    private static Errors errorOf(OffsetForLeaderEpochResponseData.EpochEndOffset answer) {
        return Errors.forCode(answer.errorCode());
    }

    @Test
    void badInputClosesOnlyItsConnection() throws Exception {
        // Garbage: a size field of 0x47455420 ("GET "), far over socket.request.max.bytes.
        assertClosedAfter("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        // A frame announcing one byte more than socket.request.max.bytes: refused before its body is read.
        assertClosedAfter(frameHeader(MAX_REQUEST_BYTES + 1, (short) 18, (short) 3));
        // A size too small to hold a request header.
        assertClosedAfter(new byte[] {0, 0, 0, 2, 0, 0});
        // An API key Kafka does not define, and one Millrace does not answer (transactions: AddPartitionsToTxn).
        assertClosedAfter(frame((short) 999, (short) 0));
        assertClosedAfter(frame((short) 24, (short) 3));
        // Produce in version 13 (topic ids), above what ApiVersions announces.
        assertClosedAfter(frame((short) 0, (short) 13));

        assertThat(broker.healthStatus()).isEqualTo(200);
        rest.createTopic("after-bad-input", 1);
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            assertThat(producer.send(new ProducerRecord<>("after-bad-input", "k", "v")).get(30, TimeUnit.SECONDS)
                    .offset()).isZero();
        }
        assertThat(readAll("after-bad-input", 1, 1)).extracting(ConsumerRecord::value).containsExactly("v");
    }

    // ---------------------------------------------------------------- helpers

    /** Sends one request built with kafka-clients' own classes on a new connection to {@code port}; its answer. */
    private static AbstractResponse kafkaCall(int port, AbstractRequest request) throws IOException {
        RequestHeader header = new RequestHeader(request.apiKey(), request.version(), "kafka-client-it", 1);
        ByteBuffer frame = request.serializeWithHeader(header);
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(bytes.length);
            out.write(bytes);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] answer = new byte[in.readInt()];
            in.readFully(answer);
            return AbstractResponse.parseResponse(ByteBuffer.wrap(answer), header);
        }
    }

    /** Sends {@code bytes} on a new connection to the Kafka port and asserts the broker closes it, answering nothing. */
    private static void assertClosedAfter(byte[] bytes) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", broker.kafkaPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            assertThat(in.read()).as("the broker closes the connection without an answer").isEqualTo(-1);
        }
    }

    /** A size field of {@code size} followed by the start of a request header. */
    private static byte[] frameHeader(int size, short apiKey, short version) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(size);
        out.writeShort(apiKey);
        out.writeShort(version);
        out.writeInt(7);
        return bytes.toByteArray();
    }

    /** A complete frame with a v1 request header (client id "bad") and an empty body. */
    private static byte[] frame(short apiKey, short version) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(2 + 2 + 4 + 2 + 3);
        out.writeShort(apiKey);
        out.writeShort(version);
        out.writeInt(7);
        out.writeShort(3);
        out.write("bad".getBytes(StandardCharsets.US_ASCII));
        return bytes.toByteArray();
    }

    private static List<ConsumerRecord<String, String>> readAll(String topic, int partitions, int expected) {
        List<TopicPartition> all = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            all.add(new TopicPartition(topic, p));
        }
        List<ConsumerRecord<String, String>> read = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer()) {
            consumer.assign(all);
            consumer.seekToBeginning(all);
            await().atMost(WAIT).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
                return read.size() >= expected;
            });
        }
        read.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(), b.partition())
                : Long.compare(a.offset(), b.offset()));
        return read;
    }

    private static KafkaProducer<String, String> producer(Map<String, String> extra) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        props.putAll(extra);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer() {
        return consumer(null);
    }

    private static KafkaConsumer<String, String> consumer(String group) {
        Properties props = new Properties();
        if (group != null) {
            props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        }
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    private static Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return Admin.create(props);
    }
}
