package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.client.ClientConfig;
import io.millrace.client.MillraceClient;
import io.millrace.client.MillraceClientException;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import io.millrace.client.RecordMetadata;
import io.millrace.common.ErrorCode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * Records dated too far from the broker's clock are refused with INVALID_TIMESTAMP over the SDK's TCP connection and
 * over REST, and the broker goes on serving the same producer, connection and topic; topic overrides beyond what the
 * broker can carry are refused with INVALID_CONFIG. A real broker process.
 */
class TimestampLimitsIT {

    private static final long YEAR_2286 = 9_999_999_999_999L;
    private static final Duration WAIT = Duration.ofSeconds(30);

    static BrokerProcess broker;
    static Rest rest;
    static MillraceClient client;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("timestamps", Map.of("tcp.max.frame.bytes", "65536"));
        rest = new Rest(broker.baseUrl());
        client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.tcpPort())
                .withClientId("timestamps-it"));
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void theSdkGetsATypedNonRetriableErrorAndItsProducerCarriesOn() {
        Rest.Response created = createTopic("retained", new JsonObject().put("retention.ms", "1000"));
        assertThat(created.status()).isEqualTo(201);
        Producer producer = client.producer(ProducerConfig.defaults());

        StepVerifier.create(producer.send(ProducerRecord.of("retained", "k", "from 2286").withTimestamp(YEAR_2286)))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(MillraceClientException.InvalidTimestampException.class);
                    MillraceClientException refused = (MillraceClientException) e;
                    assertThat(refused.errorCode().code()).isEqualTo((short) 35);
                    assertThat(refused.retriable()).isFalse();
                    assertThat(refused.getMessage()).contains("message.timestamp.after.max.ms");
                })
                .verify(WAIT);

        RecordMetadata written = producer.send(ProducerRecord.of("retained", "k", "on time")).block(WAIT);
        assertThat(written.offset()).isZero();
        producer.close();
    }

    @Test
    void restAnswers400WithTheCodeAndTheTopicStaysWritable() {
        assertThat(createTopic("rest-ts", new JsonObject()).status()).isEqualTo(201);

        Rest.Response refused = rest.post("/api/topics/rest-ts/records", new JsonObject().put("records",
                new JsonArray().add(new JsonObject().put("value", "from 2286").put("timestamp", YEAR_2286))));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.errorCode()).isEqualTo(ErrorCode.INVALID_TIMESTAMP.name());

        Rest.Response accepted = rest.post("/api/topics/rest-ts/records", new JsonObject().put("records",
                new JsonArray().add(new JsonObject().put("value", "now"))));
        assertThat(accepted.status()).isEqualTo(200);
        assertThat(accepted.json().getJsonArray("offsets").getJsonObject(0).getLong("offset")).isZero();
    }

    @Test
    void aTopicMayNotAskForBatchesLargerThanTheTcpFrameCarries() {
        Rest.Response refused = createTopic("too-big", new JsonObject().put("max.message.bytes", "1048588"));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.errorCode()).isEqualTo(ErrorCode.INVALID_CONFIG.name());
        assertThat(refused.body()).contains("tcp.max.frame.bytes=65536");

        assertThat(createTopic("fits", new JsonObject().put("max.message.bytes", "65024")).status()).isEqualTo(201);
    }

    private static Rest.Response createTopic(String name, JsonObject config) {
        return rest.post("/api/topics", new JsonObject().put("name", name).put("partitions", 1)
                .put("config", config));
    }
}
