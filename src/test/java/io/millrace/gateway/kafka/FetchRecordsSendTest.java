package io.millrace.gateway.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.broker.Broker;
import io.millrace.broker.FetchResult;
import io.millrace.broker.FetchedRecords;
import io.millrace.broker.LoopbackConnection;
import io.millrace.broker.TestFetchedRecords;
import io.millrace.common.TopicPartition;
import io.millrace.storage.PartitionLog;
import io.vertx.core.Future;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka listener's fetch answer over a real socket when the broker returns batches in memory (as from another
 * broker) next to a segment file region: each partition's records must arrive in its place in the response, byte for
 * byte, decoded by Kafka's own message classes. The broker behind the connection answers FETCH only.
 */
class FetchRecordsSendTest {

    private static final String TOPIC = "orders";
    private static final short VERSION = 12;
    private static final int BATCHES = 4;
    private static final int RECORDS_PER_BATCH = 100;

    @TempDir
    Path dir;

    private PartitionLog log;
    private LoopbackConnection connection;
    private int correlationId;

    @BeforeEach
    void fillLog() {
        log = TestFetchedRecords.log(dir, BATCHES, RECORDS_PER_BATCH, 2048);
    }

    @AfterEach
    void close() throws Exception {
        if (connection != null) {
            connection.close();
        }
        log.close();
    }

    @Test
    void eachPartitionsRecordsArriveInTheirPlaceWhateverTheirForm() throws Exception {
        FetchedRecords file = TestFetchedRecords.fileRegion(log.read(0, 1 << 30));
        FetchedRecords memory = TestFetchedRecords.inMemory(log.read(RECORDS_PER_BATCH, 1 << 30));
        FetchedRecords none = FetchedRecords.empty(log.logEndOffset());
        assertThat(file.sizeInBytes()).as("more than one sendFile chunk").isGreaterThan(512 * 1024);
        // memory first: its bytes are written between the heap parts before and after it
        Map<Integer, FetchedRecords> byPartition = Map.of(0, memory, 1, file, 2, none, 3, memory);
        connect(byPartition);

        FetchResponseData response = fetch(List.of(0, 1, 2, 3));

        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        List<FetchResponseData.PartitionData> partitions = response.responses().get(0).partitions();
        assertThat(partitions).extracting(FetchResponseData.PartitionData::partitionIndex).containsExactly(0, 1, 2, 3);
        for (FetchResponseData.PartitionData partition : partitions) {
            FetchedRecords sent = byPartition.get(partition.partitionIndex());
            assertThat(partition.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(partition.highWatermark()).isEqualTo(log.logEndOffset());
            assertThat(TestFetchedRecords.bytes(((MemoryRecords) partition.records()).buffer()))
                    .as("partition %d", partition.partitionIndex())
                    .isEqualTo(TestFetchedRecords.bytes(sent.readFully()));
        }
        // Kafka's own reader sees the batches, and the connection goes on answering
        assertThat(((MemoryRecords) partitions.get(0).records()).batches()).hasSize(BATCHES - 1);
        assertThat(fetch(List.of(3)).responses().get(0).partitions().get(0).records().sizeInBytes())
                .isEqualTo(memory.sizeInBytes());
    }

    /** Starts a Kafka listener's connection handling on a real socket, whose broker answers FETCH from the map. */
    private void connect(Map<Integer, FetchedRecords> byPartition) throws Exception {
        Broker broker = (Broker) Proxy.newProxyInstance(Broker.class.getClassLoader(), new Class<?>[] {Broker.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("fetch") && args.length == 5) {
                        FetchedRecords records = byPartition.get(((TopicPartition) args[0]).partition());
                        return Future.succeededFuture(new FetchResult((TopicPartition) args[0], records,
                                log.logEndOffset(), log.logStartOffset(), log.logEndOffset()));
                    }
                    throw new UnsupportedOperationException(method.getName() + " is not part of this test");
                });
        connection = KafkaLoopback.open(broker, new KafkaSettings(1 << 20, false, 5));
    }

    /** Sends a FETCH v12 of {@code partitions} from offset 0, without waiting, and decodes the answer. */
    private FetchResponseData fetch(List<Integer> partitions) throws Exception {
        FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic().setTopic(TOPIC);
        for (int partition : partitions) {
            topic.partitions().add(new FetchRequestData.FetchPartition().setPartition(partition).setFetchOffset(0)
                    .setPartitionMaxBytes(8 << 20).setCurrentLeaderEpoch(-1).setLogStartOffset(-1));
        }
        FetchRequestData request = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1)
                .setMaxBytes(16 << 20).setSessionId(0).setSessionEpoch(-1).setTopics(List.of(topic));
        correlationId++;
        connection.client().write(KafkaLoopback.requestFrame(ApiKeys.FETCH, VERSION, correlationId,
                "fetch-records-test", request)).await(10, TimeUnit.SECONDS);

        ByteBuffer answer = connection.nextFrame();
        assertThat(answer).as("an answer within 10 s").isNotNull();
        ByteBufferAccessor in = new ByteBufferAccessor(answer);
        ResponseHeaderData responseHeader = new ResponseHeaderData(in, ApiKeys.FETCH.responseHeaderVersion(VERSION));
        assertThat(responseHeader.correlationId()).isEqualTo(correlationId);
        FetchResponseData response = new FetchResponseData(in, VERSION);
        assertThat(answer.hasRemaining()).as("the response is exactly its size").isFalse();
        return response;
    }
}
