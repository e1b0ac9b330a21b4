package io.millrace.gateway.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.broker.Broker;
import io.millrace.broker.LoopbackConnection;
import io.millrace.broker.ProduceResult;
import io.millrace.common.TopicPartition;
import io.vertx.core.Promise;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A Kafka producer keeps several Produce requests in flight on one connection: the listener must hand them to the
 * broker together (up to {@code kafka.max.inflight.produce.requests}) and still answer in request order, and any
 * other request must wait for every earlier answer. Over a real socket, against a broker whose appends the test
 * completes by hand.
 */
class PipelinedProduceTest {

    private static final short PRODUCE_VERSION = 9;
    private static final short API_VERSIONS_VERSION = 3;
    private static final int MAX_IN_FLIGHT = 3;
    /** How long a request that must not be read yet is given to show up anyway. */
    private static final long NOT_YET_MS = 300;

    /** Appends the broker was asked for, in the order asked, each completed by the test. */
    private final List<Append> appends = new CopyOnWriteArrayList<>();
    private LoopbackConnection connection;

    private record Append(TopicPartition tp, Promise<ProduceResult> result) {
        void complete(long baseOffset) {
            result.complete(new ProduceResult(tp, baseOffset, baseOffset, OptionalLong.empty(), 0));
        }
    }

    @AfterEach
    void close() throws Exception {
        if (connection != null) {
            connection.close();
        }
    }

    @Test
    void produceRequestsReachTheBrokerTogetherUpToTheLimitAndAreAnsweredInOrder() throws Exception {
        connect();
        for (int correlationId = 1; correlationId <= 5; correlationId++) {
            send(ApiKeys.PRODUCE, PRODUCE_VERSION, correlationId, produceTo(correlationId));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> appends.size() == MAX_IN_FLIGHT);
        assertThat(connection.nextFrame(NOT_YET_MS)).as("no answer before the broker's").isNull();
        assertThat(appends).as("at most %d in flight", MAX_IN_FLIGHT).hasSize(MAX_IN_FLIGHT);
        assertThat(appends).extracting(append -> append.tp().partition()).containsExactly(1, 2, 3);

        // The second append finishes first: its answer waits behind the first's.
        onServer(() -> appends.get(1).complete(200));
        assertThat(connection.nextFrame(NOT_YET_MS)).as("an answer ahead of an earlier request's").isNull();
        onServer(() -> appends.get(0).complete(100));
        assertProduceAnswer(1, 100);
        assertProduceAnswer(2, 200);
        await().atMost(Duration.ofSeconds(10)).until(() -> appends.size() == 5);

        onServer(() -> appends.get(4).complete(500));
        onServer(() -> appends.get(3).complete(400));
        onServer(() -> appends.get(2).complete(300));
        assertProduceAnswer(3, 300);
        assertProduceAnswer(4, 400);
        assertProduceAnswer(5, 500);
    }

    @Test
    void anotherRequestWaitsForEveryEarlierAnswerAndStopsReadingUntilAnswered() throws Exception {
        connect();
        send(ApiKeys.PRODUCE, PRODUCE_VERSION, 1, produceTo(1));
        send(ApiKeys.API_VERSIONS, API_VERSIONS_VERSION, 2, new ApiVersionsRequestData()
                .setClientSoftwareName("pipelined-produce-test").setClientSoftwareVersion("1"));
        send(ApiKeys.PRODUCE, PRODUCE_VERSION, 3, produceTo(3));

        await().atMost(Duration.ofSeconds(10)).until(() -> appends.size() == 1);
        assertThat(connection.nextFrame(NOT_YET_MS)).as("ApiVersions answered ahead of the Produce before it")
                .isNull();
        assertThat(appends).as("the Produce after ApiVersions read before ApiVersions is answered").hasSize(1);

        onServer(() -> appends.get(0).complete(100));
        assertProduceAnswer(1, 100);
        ByteBuffer versions = connection.nextFrame();
        assertThat(versions).as("the ApiVersions answer").isNotNull();
        // ApiVersions answers with header v0 whatever its version: correlation id first
        assertThat(versions.getInt(0)).isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> appends.size() == 2);
        onServer(() -> appends.get(1).complete(300));
        assertProduceAnswer(3, 300);
    }

    /** One record to partition {@code partition} of topic "orders", acks=1. */
    private static ProduceRequestData produceTo(int partition) {
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE,
                new SimpleRecord(("record for " + partition).getBytes(StandardCharsets.UTF_8)));
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(new ProduceRequestData.TopicProduceData().setName("orders").setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(partition).setRecords(records))));
        return new ProduceRequestData().setAcks((short) 1).setTimeoutMs(30_000).setTopicData(topics);
    }

    private void assertProduceAnswer(int correlationId, long baseOffset) throws Exception {
        ByteBuffer answer = connection.nextFrame();
        assertThat(answer).as("the answer to request %d", correlationId).isNotNull();
        ByteBufferAccessor in = new ByteBufferAccessor(answer);
        ResponseHeaderData header =
                new ResponseHeaderData(in, ApiKeys.PRODUCE.responseHeaderVersion(PRODUCE_VERSION));
        assertThat(header.correlationId()).as("answers in request order").isEqualTo(correlationId);
        ProduceResponseData.PartitionProduceResponse partition = new ProduceResponseData(in, PRODUCE_VERSION)
                .responses().iterator().next().partitionResponses().get(0);
        assertThat(partition.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(partition.index()).isEqualTo(correlationId);
        assertThat(partition.baseOffset()).isEqualTo(baseOffset);
    }

    private void send(ApiKeys key, short version, int correlationId, ApiMessage request) throws Exception {
        connection.client().write(KafkaLoopback.requestFrame(key, version, correlationId, "pipelined-produce-test",
                request)).await(10, TimeUnit.SECONDS);
    }

    /** Broker futures complete on the connection's event loop, as the real broker's do. */
    private void onServer(Runnable action) throws Exception {
        connection.onServer(() -> {
            action.run();
            return null;
        });
    }

    private void connect() throws Exception {
        Broker broker = (Broker) Proxy.newProxyInstance(Broker.class.getClassLoader(), new Class<?>[] {Broker.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("produce") && args.length == 4) {
                        Append append = new Append((TopicPartition) args[0], Promise.promise());
                        appends.add(append);
                        return append.result().future();
                    }
                    throw new UnsupportedOperationException(method.getName() + " is not part of this test");
                });
        connection = KafkaLoopback.open(broker, new KafkaSettings(1 << 20, false, MAX_IN_FLIGHT));
    }
}
