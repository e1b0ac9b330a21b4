package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.protocol.AddPartitionsRequest;
import io.millrace.protocol.AddPartitionsResponse;
import io.millrace.protocol.CreateTopicRequest;
import io.millrace.protocol.CreateTopicResponse;
import io.millrace.protocol.CreditRequest;
import io.millrace.protocol.DeleteTopicRequest;
import io.millrace.protocol.DeleteTopicResponse;
import io.millrace.protocol.DescribeTopicRequest;
import io.millrace.protocol.DescribeTopicResponse;
import io.millrace.protocol.FetchRequest;
import io.millrace.protocol.FetchResponse;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.HandshakeResponse;
import io.millrace.protocol.InitProducerIdRequest;
import io.millrace.protocol.InitProducerIdResponse;
import io.millrace.protocol.ListOffsetsRequest;
import io.millrace.protocol.ListOffsetsResponse;
import io.millrace.protocol.ListTopicsRequest;
import io.millrace.protocol.ListTopicsResponse;
import io.millrace.protocol.MetadataRequest;
import io.millrace.protocol.MetadataResponse;
import io.millrace.protocol.ProduceRequest;
import io.millrace.protocol.ProduceResponse;
import io.millrace.protocol.Push;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import io.millrace.protocol.UnsubscribeRequest;
import io.millrace.protocol.UnsubscribeResponse;
import io.millrace.record.CompressionType;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The native TCP gateway of one real broker process, driven over plain sockets by {@link TcpClient}, and checked
 * against the WebSocket gateway: what one front-end writes the other reads, in Kafka's partitions and in order.
 */
class TcpGatewayIT {

    private static final int MAX_IN_FLIGHT = 4;
    private static final Duration WAIT = Duration.ofSeconds(20);

    static BrokerProcess broker;
    static Rest rest;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("tcp", Map.of("tcp.max.inflight.requests", Integer.toString(MAX_IN_FLIGHT)));
        rest = new Rest(broker.baseUrl());
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void handshakeTellsTheLimitsAndMetadataTheBroker() {
        rest.createTopic("tcp-meta", 2);
        try (TcpClient client = TcpClient.open(broker.tcpPort())) {
            HandshakeResponse hello = client.handshake("metadata-test");
            assertThat(hello.version()).isEqualTo(FrameCodec.MAX_VERSION);
            assertThat(hello.brokerId()).isZero();
            assertThat(hello.maxFrameBytes()).isEqualTo(8 * 1024 * 1024);
            assertThat(hello.maxInFlightRequests()).isEqualTo(MAX_IN_FLIGHT);

            MetadataResponse all = client.ok(MetadataRequest.allTopics(), MetadataResponse.class);
            assertThat(all.brokers()).singleElement().satisfies(b -> {
                assertThat(b.id()).isZero();
                assertThat(b.tcpPort()).isEqualTo(broker.tcpPort());
                assertThat(b.httpPort()).isEqualTo(broker.httpPort());
            });
            assertThat(all.controllerId()).hasValue(0);
            assertThat(all.topics()).anySatisfy(t -> assertThat(t.name()).isEqualTo("tcp-meta"));

            MetadataResponse some = client.ok(MetadataRequest.of(List.of("tcp-meta", "tcp-nope")),
                    MetadataResponse.class);
            assertThat(some.topics()).hasSize(2);
            assertThat(some.topics().get(0).partitions()).hasSize(2)
                    .allSatisfy(p -> assertThat(p.leader()).hasValue(0));
            assertThat(some.topics().get(1).error()).hasValueSatisfying(
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));

            String metrics = rest.get("/metrics").body();
            assertThat(metrics).containsPattern("millrace_connections\\{frontend=\"tcp\",?} [1-9]");
            assertThat(metrics).contains("operation=\"tcp.metadata\"");
        }
    }

    @Test
    void producedOverWebSocketIsFetchedAndPushedOverTcpInKafkasPartitionsAndInOrder() {
        int partitions = 4;
        rest.createTopic("ws-to-tcp", partitions);
        Map<String, List<String>> sentPerKey = new HashMap<>();
        try (WsClient producer = WsClient.connect(broker.webSocketUri())) {
            for (int round = 0; round < 5; round++) {
                JsonArray records = new JsonArray();
                for (int k = 0; k < 20; k++) {
                    String key = "customer-" + k;
                    records.add(new JsonObject().put("key", key).put("value", key + "#" + round));
                    sentPerKey.computeIfAbsent(key, x -> new ArrayList<>()).add(key + "#" + round);
                }
                JsonObject ack = producer.call(new JsonObject().put("op", "produce").put("topic", "ws-to-tcp")
                        .put("acks", "all").put("records", records));
                assertThat(ack.getString("op")).isEqualTo("result");
            }
        }
        try (TcpClient consumer = TcpClient.connect(broker.tcpPort())) {
            // FETCH every partition in one request until each is read to its high watermark.
            Map<String, List<String>> fetchedPerKey = new HashMap<>();
            long[] next = new long[partitions];
            long[] highWatermark = new long[partitions];
            Arrays.fill(highWatermark, -1);
            while (IntStream.range(0, partitions).anyMatch(p -> next[p] < highWatermark[p] || highWatermark[p] < 0)) {
                List<FetchRequest.PartitionFetch> wanted = IntStream.range(0, partitions)
                        .mapToObj(p -> new FetchRequest.PartitionFetch(p, next[p], 64 * 1024)).toList();
                FetchResponse response = consumer.ok(new FetchRequest(0, 1, 1024 * 1024, "ws-to-tcp", wanted),
                        FetchResponse.class);
                for (FetchResponse.PartitionData data : response.partitions()) {
                    int p = data.partition();
                    assertThat(data.error()).isEmpty();
                    highWatermark[p] = data.highWatermark();
                    for (Record r : records(data.recordBatches())) {
                        assertThat(r.offset()).isLessThan(data.highWatermark());
                        if (r.offset() < next[p]) {
                            continue;
                        }
                        assertThat(r.offset()).isEqualTo(next[p]);
                        next[p] = r.offset() + 1;
                        String key = text(r.key());
                        assertThat(p).as("partition of %s", key).isEqualTo(kafkaPartition(key, partitions));
                        fetchedPerKey.computeIfAbsent(key, x -> new ArrayList<>()).add(text(r.value()));
                    }
                }
            }
            assertThat(fetchedPerKey).isEqualTo(sentPerKey);

            // The same through one SUBSCRIBE per partition.
            Map<String, List<String>> pushedPerKey = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                int sid = consumer.send(new SubscribeRequest("ws-to-tcp", p, SubscribeRequest.StartPosition.earliest(),
                        1000, 4096));
                assertThat(consumer.awaitResponse(sid, WAIT).as(SubscribeResponse.class).startOffset()).isZero();
                long expected = 0;
                while (expected < highWatermark[p]) {
                    Push push = consumer.awaitPush(sid, WAIT);
                    assertThat(push.error()).isEmpty();
                    for (Record r : records(push.recordBatches())) {
                        assertThat(r.offset()).isEqualTo(expected++).isLessThan(push.highWatermark());
                        pushedPerKey.computeIfAbsent(text(r.key()), x -> new ArrayList<>()).add(text(r.value()));
                    }
                }
                consumer.ok(new UnsubscribeRequest(sid), UnsubscribeResponse.class);
            }
            assertThat(pushedPerKey).isEqualTo(sentPerKey);
        }
    }

    @Test
    void producedOverTcpIsReadOverWebSocketInKafkasPartitionsAndInOrder() {
        int partitions = 3;
        rest.createTopic("tcp-to-ws", partitions);
        Map<String, List<String>> sentPerKey = new LinkedHashMap<>();
        long[] nextOffset = new long[partitions];
        try (TcpClient producer = TcpClient.connect(broker.tcpPort())) {
            for (int round = 0; round < 6; round++) {
                // Each partition gets two batches in one entry, which the gateway appends in order.
                Map<Integer, List<ByteBuffer>> batches = new LinkedHashMap<>();
                for (int half = 0; half < 2; half++) {
                    Map<Integer, RecordBatchBuilder> builders = new LinkedHashMap<>();
                    for (int k = 0; k < 10; k++) {
                        String key = "device-" + k;
                        String value = key + "#" + round + "." + half;
                        sentPerKey.computeIfAbsent(key, x -> new ArrayList<>()).add(value);
                        builders.computeIfAbsent(kafkaPartition(key, partitions), p -> builder())
                                .append(System.currentTimeMillis(), bytes(key), bytes(value));
                    }
                    builders.forEach((p, b) -> batches.computeIfAbsent(p, x -> new ArrayList<>()).add(b.build()
                            .buffer()));
                }
                List<ProduceRequest.PartitionData> data = new ArrayList<>();
                Map<Integer, Integer> counts = new HashMap<>();
                batches.forEach((p, list) -> {
                    data.add(new ProduceRequest.PartitionData(p, concat(list)));
                    counts.put(p, list.stream().mapToInt(b -> RecordBatch.wrap(b).recordCount()).sum());
                });
                ProduceResponse ack = producer.ok(new ProduceRequest(ProduceRequest.Acks.ALL, 10_000, "tcp-to-ws",
                        data), ProduceResponse.class);
                assertThat(ack.partitions()).hasSameSizeAs(data);
                for (ProduceResponse.PartitionResult r : ack.partitions()) {
                    assertThat(r.error()).isEmpty();
                    assertThat(r.baseOffset()).isEqualTo(nextOffset[r.partition()]);
                    nextOffset[r.partition()] += counts.get(r.partition());
                }
            }
        }
        int total = sentPerKey.values().stream().mapToInt(List::size).sum();
        try (WsClient consumer = WsClient.connect(broker.webSocketUri())) {
            JsonObject sub = consumer.call(new JsonObject().put("op", "subscribe").put("topic", "tcp-to-ws")
                    .put("from", "earliest").put("credits", 10_000));
            assertThat(sub.getString("op")).isEqualTo("result");
            Map<String, List<String>> seenPerKey = new HashMap<>();
            Map<Integer, Long> lastOffset = new HashMap<>();
            int seen = 0;
            while (seen < total) {
                JsonObject push = consumer.await(m -> "records".equals(m.getString("op")), WAIT);
                for (Object o : push.getJsonArray("records")) {
                    JsonObject r = (JsonObject) o;
                    int p = r.getInteger("partition");
                    assertThat(r.getLong("offset")).isGreaterThan(lastOffset.getOrDefault(p, -1L));
                    lastOffset.put(p, r.getLong("offset"));
                    assertThat(p).isEqualTo(kafkaPartition(r.getString("key"), partitions));
                    seenPerKey.computeIfAbsent(r.getString("key"), x -> new ArrayList<>()).add(r.getString("value"));
                    seen++;
                }
            }
            assertThat(seenPerKey).isEqualTo(sentPerKey);
        }
    }

    @Test
    void aLongPollFetchWakesAsSoonAsDataArrivesAndAnswersOverlapOnOneConnection() throws Exception {
        rest.createTopic("long-poll", 1);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            // Nothing to read: the fetch waits its time out and answers empty.
            long started = System.nanoTime();
            FetchResponse empty = client.ok(fetch("long-poll", 0, 0, 400), FetchResponse.class);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(350),
                    Duration.ofSeconds(10));
            assertThat(empty.partitions().get(0).batches().remaining()).isZero();
            assertThat(empty.partitions().get(0).highWatermark()).isZero();

            int fetchId = client.send(fetch("long-poll", 0, 0, 15_000));
            Thread.sleep(300);
            long produced = System.nanoTime();
            // On the same connection: the PRODUCE is answered while the FETCH before it still waits.
            ProduceResponse ack = client.ok(produce("long-poll", 0, ProduceRequest.Acks.ALL, batch("wake")),
                    ProduceResponse.class);
            assertThat(ack.partitions().get(0).error()).isEmpty();
            FetchResponse woken = client.awaitResponse(fetchId, WAIT).as(FetchResponse.class);
            Duration latency = Duration.ofNanos(System.nanoTime() - produced);
            System.out.printf("long-poll FETCH answered %d ms after the produce%n", latency.toMillis());
            assertThat(latency).isLessThan(Duration.ofSeconds(3));
            assertThat(values(woken.partitions().get(0).recordBatches())).containsExactly("wake");
            assertThat(woken.partitions().get(0).highWatermark()).isEqualTo(1);
        }
    }

    @Test
    void aLongPollOverSeveralPartitionsWakesWhenAnyOfThemGetsData() throws Exception {
        rest.createTopic("long-poll-many", 3);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            FetchRequest all = new FetchRequest(15_000, 1, 1024 * 1024, "long-poll-many", List.of(
                    new FetchRequest.PartitionFetch(0, 0, 1024 * 1024),
                    new FetchRequest.PartitionFetch(1, 0, 1024 * 1024),
                    new FetchRequest.PartitionFetch(2, 0, 1024 * 1024)));
            int fetchId = client.send(all);
            Thread.sleep(300);
            long produced = System.nanoTime();
            client.ok(produce("long-poll-many", 2, ProduceRequest.Acks.ALL, batch("third")), ProduceResponse.class);
            FetchResponse woken = client.awaitResponse(fetchId, WAIT).as(FetchResponse.class);
            assertThat(Duration.ofNanos(System.nanoTime() - produced)).isLessThan(Duration.ofSeconds(3));
            assertThat(woken.partitions()).extracting(FetchResponse.PartitionData::partition).containsExactly(0, 1, 2);
            assertThat(woken.partitions().get(0).batches().remaining()).isZero();
            assertThat(woken.partitions().get(0).highWatermark()).isZero();
            assertThat(woken.partitions().get(1).batches().remaining()).isZero();
            assertThat(values(woken.partitions().get(2).recordBatches())).containsExactly("third");

            // Data already there is answered at once, and maxBytes leaves out partitions that do not fit.
            client.ok(produce("long-poll-many", 0, ProduceRequest.Acks.ALL, batch("first")), ProduceResponse.class);
            int oneBatch = batch("first").remaining();
            FetchResponse limited = client.ok(new FetchRequest(15_000, 1, oneBatch, "long-poll-many",
                    all.partitions()), FetchResponse.class);
            assertThat(values(limited.partitions().get(0).recordBatches())).containsExactly("first");
            assertThat(limited.partitions().get(2).batches().remaining()).isZero();
            assertThat(limited.partitions().get(2).error()).isEmpty();
            assertThat(limited.partitions().get(2).highWatermark()).isEqualTo(1);
        }
    }

    @Test
    void fetchedRecordsAreAlwaysBelowTheHighWatermarkWhileProducersWrite() throws Exception {
        rest.createTopic("racing", 1);
        int batches = 200;
        Thread writer = new Thread(() -> {
            try (TcpClient producer = TcpClient.connect(broker.tcpPort())) {
                for (int i = 0; i < batches; i++) {
                    producer.ok(produce("racing", 0, ProduceRequest.Acks.LEADER, batch("v" + i, "w" + i)),
                            ProduceResponse.class);
                }
            }
        });
        writer.start();
        try (TcpClient consumer = TcpClient.connect(broker.tcpPort())) {
            long next = 0;
            List<String> seen = new ArrayList<>();
            while (next < 2L * batches) {
                FetchResponse.PartitionData data = consumer.ok(fetch("racing", 0, next, 2_000), FetchResponse.class)
                        .partitions().get(0);
                for (Record r : records(data.recordBatches())) {
                    assertThat(r.offset()).isLessThan(data.highWatermark());
                    if (r.offset() >= next) {
                        seen.add(text(r.value()));
                        next = r.offset() + 1;
                    }
                }
            }
            assertThat(seen).hasSize(2 * batches).startsWith("v0", "w0", "v1").endsWith("w" + (batches - 1));
        }
        writer.join(30_000);
    }

    @Test
    void largeSlicesStayInOrderWhileAClientStopsReadingAndArriveWhenItReadsAgain() throws Exception {
        rest.createTopic("tcp-large", 2);
        int batches = 24;
        int recordsPerBatch = 4;
        String filler = "x".repeat(100 * 1024);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            for (int i = 0; i < batches; i++) {
                String[] values = new String[recordsPerBatch];
                for (int j = 0; j < recordsPerBatch; j++) {
                    values[j] = (i * recordsPerBatch + j) + ":" + filler;
                }
                client.ok(produce("tcp-large", i % 2, ProduceRequest.Acks.LEADER, batch(values)),
                        ProduceResponse.class);
            }
            int perPartition = batches / 2 * recordsPerBatch;

            client.pauseReading();
            // Slices of several MiB go out as file regions in pieces; pushes, fetch answers and small answers pile up
            // behind a client that does not read, interleaved, and must come out whole and in order.
            int[] subscriptions = new int[2];
            for (int p = 0; p < 2; p++) {
                subscriptions[p] = client.send(new SubscribeRequest("tcp-large", p,
                        SubscribeRequest.StartPosition.earliest(), 1_000_000, 3 * 1024 * 1024));
            }
            List<Integer> fetches = new ArrayList<>();
            List<Integer> lists = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fetches.add(client.send(new FetchRequest(0, 1, 8 * 1024 * 1024, "tcp-large", List.of(
                        new FetchRequest.PartitionFetch(0, 0, 4 * 1024 * 1024),
                        new FetchRequest.PartitionFetch(1, 0, 4 * 1024 * 1024)))));
                lists.add(client.send(new ListTopicsRequest()));
            }
            Thread.sleep(1000);
            client.resumeReading();

            for (int id : lists) {
                assertThat(client.awaitResponse(id, WAIT).as(ListTopicsResponse.class).names()).contains("tcp-large");
            }
            for (int id : fetches) {
                FetchResponse response = client.awaitResponse(id, WAIT).as(FetchResponse.class);
                long bytes = 0;
                for (FetchResponse.PartitionData data : response.partitions()) {
                    List<Record> records = records(data.recordBatches());
                    bytes += data.batches().remaining();
                    for (int i = 0; i < records.size(); i++) {
                        assertThat(records.get(i).offset()).isEqualTo(i);
                    }
                }
                assertThat(bytes).isGreaterThan(4L * 1024 * 1024).isLessThanOrEqualTo(8L * 1024 * 1024 + 512 * 1024);
            }
            for (int p = 0; p < 2; p++) {
                assertThat(client.awaitResponse(subscriptions[p], WAIT).as(SubscribeResponse.class).startOffset())
                        .isZero();
                long expected = 0;
                while (expected < perPartition) {
                    for (Record r : records(client.awaitPush(subscriptions[p], WAIT).recordBatches())) {
                        assertThat(r.offset()).isEqualTo(expected++);
                        assertThat(text(r.value())).endsWith(filler);
                    }
                }
            }
        }
    }

    @Test
    void aSubscriptionStopsWhenItsCreditsRunOutAndCreditResumesIt() throws Exception {
        rest.createTopic("tcp-credits", 1);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            for (int i = 0; i < 10; i++) {
                client.ok(produce("tcp-credits", 0, ProduceRequest.Acks.LEADER,
                        batch("r" + (3 * i), "r" + (3 * i + 1), "r" + (3 * i + 2))), ProduceResponse.class);
            }
            int sid = client.send(new SubscribeRequest("tcp-credits", 0, SubscribeRequest.StartPosition.earliest(), 5,
                    1024 * 1024));
            assertThat(client.awaitResponse(sid, WAIT).as(SubscribeResponse.class).startOffset()).isZero();
            // Batches of 3 against 5 credits: A (5 -> 2), B (2 -> -1), then nothing.
            List<String> got = collectQuietly(client, sid);
            assertThat(got).containsExactly("r0", "r1", "r2", "r3", "r4", "r5");

            client.send(new CreditRequest(sid, 4)); // -1 + 4 = 3: C (3 -> 0), then nothing
            assertThat(collectQuietly(client, sid)).containsExactly("r6", "r7", "r8");

            client.send(new CreditRequest(sid, 1000));
            List<String> rest = new ArrayList<>();
            while (rest.size() < 21) {
                rest.addAll(values(client.awaitPush(sid, WAIT).recordBatches()));
            }
            assertThat(rest).first().isEqualTo("r9");
            assertThat(rest).last().isEqualTo("r29");

            client.ok(produce("tcp-credits", 0, ProduceRequest.Acks.ALL, batch("live")), ProduceResponse.class);
            assertThat(values(client.awaitPush(sid, WAIT).recordBatches())).containsExactly("live");

            client.ok(new UnsubscribeRequest(sid), UnsubscribeResponse.class);
            client.ok(produce("tcp-credits", 0, ProduceRequest.Acks.ALL, batch("after")), ProduceResponse.class);
            Thread.sleep(500);
            assertThat(client.pending()).noneMatch(TcpClient.Received::isPush);
            // Credit for a closed subscription is ignored, and unsubscribing again succeeds.
            client.send(new CreditRequest(sid, 10));
            client.ok(new UnsubscribeRequest(sid), UnsubscribeResponse.class);
        }
    }

    @Test
    void listOffsetsFindsTheEarliestTheLatestAndByTimestamp() {
        rest.createTopic("tcp-times", 1);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            client.ok(produce("tcp-times", 0, ProduceRequest.Acks.ALL, batchAt(1000, "old")), ProduceResponse.class);
            client.ok(produce("tcp-times", 0, ProduceRequest.Acks.ALL, batchAt(5000, "new")), ProduceResponse.class);
            ListOffsetsResponse found = client.ok(new ListOffsetsRequest("tcp-times", List.of(
                    new ListOffsetsRequest.PartitionQuery(0, ListOffsetsRequest.EARLIEST_TIMESTAMP),
                    new ListOffsetsRequest.PartitionQuery(0, ListOffsetsRequest.LATEST_TIMESTAMP),
                    new ListOffsetsRequest.PartitionQuery(0, 3000),
                    new ListOffsetsRequest.PartitionQuery(0, 9000),
                    new ListOffsetsRequest.PartitionQuery(7, ListOffsetsRequest.LATEST_TIMESTAMP))),
                    ListOffsetsResponse.class);
            List<ListOffsetsResponse.PartitionOffset> p = found.partitions();
            assertThat(p.get(0).offset()).hasValue(0);
            assertThat(p.get(0).timestamp()).isEmpty();
            assertThat(p.get(1).offset()).hasValue(2);
            assertThat(p.get(2).offset()).hasValue(1);
            assertThat(p.get(2).timestamp()).hasValue(5000);
            assertThat(p.get(3).offset()).isEmpty();
            assertThat(p.get(3).timestamp()).isEmpty();
            assertThat(p.get(4).error()).hasValueSatisfying(
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));

            int sid = client.send(new SubscribeRequest("tcp-times", 0, SubscribeRequest.StartPosition.timestamp(3000),
                    10, 4096));
            assertThat(client.awaitResponse(sid, WAIT).as(SubscribeResponse.class).startOffset()).isEqualTo(1);
            Push push = client.awaitPush(sid, WAIT);
            List<Record> records = records(push.recordBatches());
            assertThat(records.stream().filter(r -> r.offset() >= 1).map(r -> text(r.value()))).containsExactly("new");
        }
    }

    @Test
    void adminOperationsAndTheirErrors() {
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            CreateTopicResponse created = client.ok(new CreateTopicRequest("tcp-admin", 2, 1,
                    Map.of("retention.ms", "3600000")), CreateTopicResponse.class);
            assertThat(created.topic().partitions()).hasSize(2).allSatisfy(p -> {
                assertThat(p.leader()).hasValue(0);
                assertThat(p.highWatermark()).isZero();
            });
            assertThat(created.topic().config()).containsEntry("retention.ms", "3600000");
            assertThat(client.error(new CreateTopicRequest("tcp-admin", 1, 1, Map.of())))
                    .isEqualTo(ErrorCode.TOPIC_ALREADY_EXISTS);
            assertThat(client.error(new CreateTopicRequest("bad name!", 1, 1, Map.of())))
                    .isEqualTo(ErrorCode.INVALID_TOPIC);
            assertThat(client.error(new CreateTopicRequest("tcp-rf", 1, 3, Map.of())))
                    .isEqualTo(ErrorCode.INVALID_REPLICATION_FACTOR);
            assertThat(client.error(new CreateTopicRequest("tcp-cfg", 1, 1, Map.of("no.such.key", "1"))))
                    .isEqualTo(ErrorCode.INVALID_CONFIG);
            assertThat(client.ok(new ListTopicsRequest(), ListTopicsResponse.class).names()).contains("tcp-admin");
            assertThat(client.ok(new DescribeTopicRequest("tcp-admin"), DescribeTopicResponse.class).topic()
                    .replicationFactor()).isEqualTo(1);

            assertThat(client.ok(new AddPartitionsRequest("tcp-admin", 5), AddPartitionsResponse.class).topic()
                    .partitions()).hasSize(5);
            assertThat(client.error(new AddPartitionsRequest("tcp-admin", 3))).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(client.error(new AddPartitionsRequest("tcp-nope", 3)))
                    .isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

            client.ok(new DeleteTopicRequest("tcp-admin"), DeleteTopicResponse.class);
            assertThat(client.error(new DescribeTopicRequest("tcp-admin")))
                    .isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            assertThat(client.error(new DeleteTopicRequest("tcp-admin")))
                    .isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            assertThat(client.ok(new ListTopicsRequest(), ListTopicsResponse.class).names())
                    .doesNotContain("tcp-admin");
        }
    }

    @Test
    void failingRequestsGetTheirErrorCodeAndTheConnectionStaysOpen() {
        rest.createTopic("tcp-errors", 2);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            assertThat(partitionError(client.ok(produce("tcp-nope", 0, ProduceRequest.Acks.ALL, batch("x")),
                    ProduceResponse.class))).isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            assertThat(partitionError(client.ok(produce("tcp-errors", 9, ProduceRequest.Acks.ALL, batch("x")),
                    ProduceResponse.class))).isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            assertThat(client.ok(fetch("tcp-nope", 0, 0, 0), FetchResponse.class).partitions().get(0).error())
                    .hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
            assertThat(client.ok(fetch("tcp-errors", 0, 1_000_000, 0), FetchResponse.class).partitions().get(0)
                    .error()).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE));
            assertThat(client.error(new SubscribeRequest("tcp-errors", 0, SubscribeRequest.StartPosition
                    .offset(1_000_000), 10, 4096))).isEqualTo(ErrorCode.OFFSET_OUT_OF_RANGE);
            assertThat(client.error(new SubscribeRequest("tcp-errors", 5, SubscribeRequest.StartPosition.earliest(),
                    10, 4096))).isEqualTo(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

            ByteBuffer corrupt = batch("precious", "cargo");
            corrupt.put(corrupt.limit() - 3, (byte) (corrupt.get(corrupt.limit() - 3) ^ 0x40));
            assertThat(partitionError(client.ok(produce("tcp-errors", 0, ProduceRequest.Acks.ALL, corrupt),
                    ProduceResponse.class))).isEqualTo(ErrorCode.CORRUPT_RECORD);
            // Two batches, the second corrupt: neither is appended.
            ByteBuffer second = batch("second");
            second.put(second.limit() - 1, (byte) (second.get(second.limit() - 1) ^ 1));
            assertThat(partitionError(client.ok(produce("tcp-errors", 1, ProduceRequest.Acks.ALL,
                    concat(List.of(batch("first"), second))), ProduceResponse.class)))
                    .isEqualTo(ErrorCode.CORRUPT_RECORD);
            assertThat(partitionError(client.ok(produce("tcp-errors", 0, ProduceRequest.Acks.ALL,
                    ByteBuffer.wrap("not a record batch at all, just text".getBytes(StandardCharsets.UTF_8))),
                    ProduceResponse.class))).isEqualTo(ErrorCode.CORRUPT_RECORD);

            ListOffsetsResponse ends = client.ok(new ListOffsetsRequest("tcp-errors", List.of(
                    new ListOffsetsRequest.PartitionQuery(0, ListOffsetsRequest.LATEST_TIMESTAMP),
                    new ListOffsetsRequest.PartitionQuery(1, ListOffsetsRequest.LATEST_TIMESTAMP))),
                    ListOffsetsResponse.class);
            assertThat(ends.partitions()).allSatisfy(p -> assertThat(p.offset()).hasValue(0));
            assertThat(client.ok(new ListTopicsRequest(), ListTopicsResponse.class).names()).contains("tcp-errors");
            assertThat(client.closed()).isNotDone();
        }
    }

    @Test
    void anIdempotentProducerRetryIsWrittenOnce() {
        rest.createTopic("tcp-idempotent", 1);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            InitProducerIdResponse id = client.ok(new InitProducerIdRequest(), InitProducerIdResponse.class);
            InitProducerIdResponse other = client.ok(new InitProducerIdRequest(), InitProducerIdResponse.class);
            assertThat(id.producerId()).isNotNegative().isNotEqualTo(other.producerId());

            ByteBuffer first = builder().producer(id.producerId(), id.producerEpoch(), 0)
                    .append(System.currentTimeMillis(), null, bytes("once")).build().buffer();
            ProduceResponse written = client.ok(produce("tcp-idempotent", 0, ProduceRequest.Acks.ALL,
                    first.duplicate()), ProduceResponse.class);
            // The same batch again, as a producer retries after a lost answer: the original offsets, no new record.
            ProduceResponse retried = client.ok(produce("tcp-idempotent", 0, ProduceRequest.Acks.ALL,
                    first.duplicate()), ProduceResponse.class);
            assertThat(retried.partitions().get(0).error()).isEmpty();
            assertThat(retried.partitions().get(0).baseOffset()).isEqualTo(written.partitions().get(0).baseOffset());

            ByteBuffer gap = builder().producer(id.producerId(), id.producerEpoch(), 5)
                    .append(System.currentTimeMillis(), null, bytes("skipped ahead")).build().buffer();
            assertThat(partitionError(client.ok(produce("tcp-idempotent", 0, ProduceRequest.Acks.ALL, gap),
                    ProduceResponse.class))).isEqualTo(ErrorCode.OUT_OF_ORDER_SEQUENCE);
            assertThat(values(client.ok(fetch("tcp-idempotent", 0, 0, 0), FetchResponse.class).partitions().get(0)
                    .recordBatches())).containsExactly("once");
        }
    }

    @Test
    void acksZeroIsNotAnswered() {
        rest.createTopic("tcp-fire", 1);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            client.send(produce("tcp-fire", 0, ProduceRequest.Acks.NONE, batch("forget")));
            int listId = client.send(new ListTopicsRequest());
            TcpClient.Received first = client.await(r -> true, WAIT);
            assertThat(first.correlationId()).isEqualTo(listId);
            FetchResponse data = client.ok(fetch("tcp-fire", 0, 0, 5_000), FetchResponse.class);
            assertThat(values(data.partitions().get(0).recordBatches())).containsExactly("forget");
        }
    }

    @Test
    void requestsPipelinedBeyondTheInFlightLimitAreAllAnswered() {
        rest.createTopic("tcp-pipeline", 1);
        try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
            long started = System.nanoTime();
            List<Integer> polls = new ArrayList<>();
            for (int i = 0; i < MAX_IN_FLIGHT; i++) {
                polls.add(client.send(fetch("tcp-pipeline", 0, 0, 1_500)));
            }
            List<Integer> quick = new ArrayList<>();
            for (int i = 0; i < 10 * MAX_IN_FLIGHT; i++) {
                quick.add(client.send(i % 2 == 0 ? new ListTopicsRequest() : MetadataRequest.allTopics()));
            }
            for (int id : quick) {
                TcpClient.Received answer = client.awaitResponse(id, WAIT);
                assertThat(answer.error()).isEmpty();
            }
            // The broker stopped reading while the long polls filled every slot, so the quick requests waited.
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(Duration.ofMillis(1_200));
            for (int id : polls) {
                assertThat(client.awaitResponse(id, WAIT).as(FetchResponse.class).partitions().get(0).error())
                        .isEmpty();
            }
            assertThat(client.pending()).isEmpty();
        }
    }

    // ---------------------------------------------------------------- helpers

    static int kafkaPartition(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(bytes(key))) % partitions;
    }

    static RecordBatchBuilder builder() {
        return new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
    }

    /** One batch of unkeyed records with the given values. */
    static ByteBuffer batch(String... values) {
        return batchAt(System.currentTimeMillis(), values);
    }

    static ByteBuffer batchAt(long timestamp, String... values) {
        RecordBatchBuilder b = builder();
        for (String v : values) {
            b.append(timestamp, null, bytes(v));
        }
        return b.build().buffer();
    }

    static ByteBuffer concat(List<ByteBuffer> buffers) {
        ByteBuffer out = ByteBuffer.allocate(buffers.stream().mapToInt(ByteBuffer::remaining).sum());
        buffers.forEach(b -> out.put(b.duplicate()));
        return out.flip();
    }

    static ProduceRequest produce(String topic, int partition, ProduceRequest.Acks acks, ByteBuffer batches) {
        return new ProduceRequest(acks, 10_000, topic, List.of(new ProduceRequest.PartitionData(partition, batches)));
    }

    static FetchRequest fetch(String topic, int partition, long offset, int maxWaitMs) {
        return new FetchRequest(maxWaitMs, 1, 1024 * 1024, topic,
                List.of(new FetchRequest.PartitionFetch(partition, offset, 1024 * 1024)));
    }

    static ErrorCode partitionError(ProduceResponse response) {
        return response.partitions().get(0).error().map(e -> e.code()).orElse(null);
    }

    static List<Record> records(List<RecordBatch> batches) {
        List<Record> out = new ArrayList<>();
        for (RecordBatch b : batches) {
            b.ensureValid();
            out.addAll(b.records());
        }
        return out;
    }

    static List<String> values(List<RecordBatch> batches) {
        return records(batches).stream().map(r -> text(r.value())).toList();
    }

    /** The values pushed to a subscription until none has come for 700 ms. */
    static List<String> collectQuietly(TcpClient client, int subscriptionId) {
        List<String> values = new ArrayList<>();
        while (true) {
            try {
                values.addAll(values(client.awaitPush(subscriptionId, Duration.ofMillis(700)).recordBatches()));
            } catch (AssertionError quiet) {
                return values;
            }
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
