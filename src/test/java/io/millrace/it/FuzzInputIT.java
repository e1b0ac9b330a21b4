package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.common.Mutation;
import io.millrace.protocol.FetchRequest;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.ListTopicsRequest;
import io.millrace.protocol.MetadataRequest;
import io.millrace.protocol.ProduceRequest;
import io.millrace.protocol.Request;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A few hundred damaged inputs per front-end, over real sockets to a broker process, as the decoder fuzz tests
 * ({@code *FuzzTest}) damage them: each is answered with an error code or closes only its own connection, and
 * afterwards the broker is healthy and a normal produce and consume work. Seeded, so a failure repeats.
 */
class FuzzInputIT {

    private static final int INPUTS = 300;
    private static final Duration WAIT = Duration.ofSeconds(10);

    static BrokerProcess broker;
    static Rest rest;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("fuzz-input", Map.of("tcp.max.frame.bytes", "65536",
                "ws.max.frame.bytes", "65536"));
        rest = new Rest(broker.baseUrl());
        rest.createTopic("fuzzed", 2);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void tcpFramesDamagedAfterAHandshake() {
        List<byte[]> samples = List.of(
                wire(2, MetadataRequest.allTopics()),
                wire(3, new ListTopicsRequest()),
                wire(4, new ProduceRequest(ProduceRequest.Acks.ALL, 5000, "fuzzed",
                        List.of(new ProduceRequest.PartitionData(0, TcpGatewayIT.batch("fuzz"))))),
                wire(5, new FetchRequest(0, 1, 1024, "fuzzed", List.of(new FetchRequest.PartitionFetch(0, 0, 1024)))));
        Random random = new Random(Long.parseLong(Mutation.SEED));
        for (int i = 0; i < INPUTS; i++) {
            byte[] damaged = Mutation.apply(samples.get(i % samples.size()), mutations(random));
            try (TcpClient client = TcpClient.connect(broker.tcpPort())) {
                client.sendRaw(damaged);
                client.shutdownOutput();
                // Answered or not, the broker closes a connection whose peer has finished sending.
                assertThat(client.awaitClosed(WAIT)).as("input %d closed", i).isTrue();
                assertThat(client.drain()).as("input %d", i)
                        .allSatisfy(r -> assertThat(r.error().map(ApiError::code)).isNotEqualTo(
                                Optional.of(ErrorCode.UNKNOWN)));
            }
        }
        assertBrokerWorks("tcp");
    }

    @Test
    void webSocketMessagesDamaged() {
        List<String> samples = List.of(
                "{\"op\":\"produce\",\"id\":1,\"topic\":\"fuzzed\",\"records\":[{\"key\":\"k\",\"value\":\"v\","
                        + "\"headers\":{\"h\":\"x\"}},{\"valueBase64\":\"AAEC\",\"partition\":1}],\"acks\":\"all\"}",
                "{\"op\":\"subscribe\",\"id\":2,\"topic\":\"fuzzed\",\"partitions\":[0],\"from\":{\"offset\":0},"
                        + "\"credits\":1}",
                "{\"op\":\"createTopic\",\"id\":3,\"name\":\"fuzz-ws\",\"partitions\":1,\"config\":{\"retention.ms\":1}}",
                "{\"op\":\"commit\",\"id\":4,\"group\":\"g\",\"offsets\":[{\"topic\":\"fuzzed\",\"partition\":0,"
                        + "\"offset\":1}]}",
                "{\"op\":\"seek\",\"id\":5,\"subscription\":\"s1\",\"partition\":0,\"to\":\"earliest\"}");
        Random random = new Random(Long.parseLong(Mutation.SEED));
        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            for (int i = 0; i < INPUTS; i++) {
                byte[] sample = samples.get(i % samples.size()).getBytes(StandardCharsets.UTF_8);
                ws.sendRaw(new String(Mutation.apply(sample, mutations(random)), StandardCharsets.UTF_8));
            }
            // Messages are handled in order, so once this is answered every damaged one before it has been.
            ws.sendRaw(new JsonObject().put("op", "ping").put("id", "last").encode());
            ws.await(m -> "pong".equals(m.getString("op")) && "last".equals(m.getString("id")), WAIT);
            assertThat(ws.drain()).filteredOn(m -> "error".equals(m.getString("op")))
                    .allSatisfy(m -> assertThat(m.getJsonObject("error").getString("code")).isNotEqualTo("UNKNOWN"));
        }
        assertBrokerWorks("ws");
    }

    @Test
    void restBodiesDamaged() {
        List<String[]> samples = List.of(
                new String[] {"/api/topics/fuzzed/records", "{\"records\":[{\"key\":\"k\",\"value\":\"v\","
                        + "\"headers\":[{\"key\":\"h\",\"valueBase64\":\"AAEC\"}]},{\"value\":\"w\",\"partition\":1,"
                        + "\"timestamp\":1700000000000}],\"acks\":1}"},
                new String[] {"/api/topics", "{\"name\":\"fuzz-rest\",\"partitions\":1,\"replicationFactor\":1,"
                        + "\"config\":{\"retention.ms\":\"60000\"}}"},
                new String[] {"/api/groups/fuzz/offsets", "{\"topic\":\"fuzzed\",\"partitions\":[0,1],\"to\":3}"});
        Random random = new Random(Long.parseLong(Mutation.SEED));
        for (int i = 0; i < INPUTS; i++) {
            String[] sample = samples.get(i % samples.size());
            byte[] body = Mutation.apply(sample[1].getBytes(StandardCharsets.UTF_8), mutations(random));
            Rest.Response response = rest.post(sample[0], new String(body, StandardCharsets.UTF_8));
            assertThat(response.status()).as("%s %s", sample[0], response.body()).isLessThan(500);
        }
        assertBrokerWorks("rest");
    }

    /** Health, then a record produced over REST that reads back. */
    private static void assertBrokerWorks(String label) {
        assertThat(broker.healthStatus()).isEqualTo(200);
        String value = "after-" + label + "-fuzz";
        Rest.Response produced = rest.post("/api/topics/fuzzed/records", new JsonObject()
                .put("records", new JsonArray().add(new JsonObject().put("value", value).put("partition", 0))));
        assertThat(produced.status()).as(produced.body()).isEqualTo(200);
        assertThat(RestartIT.readPartition(rest, "fuzzed", 0)).contains(value);
    }

    /** One to three mutations, drawn from {@code random} so that the whole run repeats. */
    private static List<Mutation> mutations(Random random) {
        List<Mutation> mutations = new ArrayList<>();
        for (int m = 1 + random.nextInt(3); m > 0; m--) {
            Mutation.Kind kind = Mutation.Kind.values()[random.nextInt(Mutation.Kind.values().length)];
            mutations.add(new Mutation(kind, random.nextDouble(), random.nextBoolean() ? random.nextInt()
                    : random.nextInt(8) - 2));
        }
        return mutations;
    }

    private static byte[] wire(int correlationId, Request request) {
        ByteBuffer frame = FrameCodec.encode(correlationId, request);
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        return bytes;
    }
}
