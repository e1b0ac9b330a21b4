package io.millrace.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.ApiKey;
import io.millrace.protocol.InitProducerIdResponse;
import io.millrace.protocol.MetadataResponse;
import io.millrace.protocol.ProduceRequest;
import io.millrace.protocol.ProduceResponse;
import io.millrace.protocol.Push;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The SDK against two scripted fake brokers: a NOT_LEADER that names the leader moves a produce and a subscription
 * there at once, without asking for metadata again. From protocol version 4 every produce and subscription carries
 * the leader epoch of the client's metadata, and a FENCED_LEADER_EPOCH makes the client learn the new epoch (from
 * metadata, or from the hint of the broker that still leads) before it retries.
 */
class LeaderHintTest {

    private FakeBroker zero;
    private FakeBroker one;

    @AfterEach
    void close() throws IOException {
        zero.close();
        one.close();
    }

    private MetadataResponse metadata(int leader) {
        return metadata(leader, 4);
    }

    private MetadataResponse metadata(int leader, int leaderEpoch) {
        return new MetadataResponse(List.of(
                new MetadataResponse.Broker(0, "127.0.0.1", zero.port(), -1),
                new MetadataResponse.Broker(1, "127.0.0.1", one.port(), -1)), OptionalInt.of(0),
                List.of(new MetadataResponse.TopicMetadata("t", Optional.empty(), List.of(
                        new MetadataResponse.PartitionMetadata(0, OptionalInt.of(leader), leaderEpoch, List.of(leader),
                                List.of(leader))))));
    }

    private static final ApiError MOVED_TO_ONE = new ApiError(ErrorCode.NOT_LEADER, "moved")
            .withLeader(new ApiError.LeaderHint(1, 5));

    @Test
    void aProduceRefusedWithAHintGoesToTheHintedLeaderWithTheSameSequence() throws Exception {
        ConcurrentLinkedQueue<ProduceRequest> atOne = new ConcurrentLinkedQueue<>();
        zero = new FakeBroker(0, (request, out) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(0));
            case INIT_PRODUCER_ID -> List.of(new InitProducerIdResponse(77, (short) 0));
            case PRODUCE -> List.of(new ProduceResponse(List.of(ProduceResponse.PartitionResult.failure(0,
                    MOVED_TO_ONE))));
            default -> List.of();
        });
        one = new FakeBroker(1, (request, out) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(0));
            case INIT_PRODUCER_ID -> List.of(new InitProducerIdResponse(77, (short) 0));
            case PRODUCE -> {
                atOne.add((ProduceRequest) request);
                yield List.of(new ProduceResponse(List.of(ProduceResponse.PartitionResult.success(0, 42,
                        OptionalLong.empty(), 0))));
            }
            default -> List.of();
        });
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + zero.port())
                .withReconnectBackoff(Duration.ofSeconds(5), Duration.ofSeconds(10)))) {
            Producer producer = client.producer(ProducerConfig.defaults().withRetryBackoff(Duration.ofSeconds(5)));
            long started = System.nanoTime();
            RecordMetadata sent = producer.send(ProducerRecord.of("t", "k", "v").withPartition(0))
                    .block(Duration.ofSeconds(4));

            assertThat(sent.offset()).isEqualTo(42);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("no back-off").isLessThan(
                    Duration.ofSeconds(4));
            assertThat(metadataRequests()).as("no metadata round trip").isEqualTo(1);
            ByteBuffer batch = atOne.peek().partitions().get(0).batches();
            assertThat(batch.getLong(batch.position() + 43)).as("producer id").isEqualTo(77);
            assertThat(batch.getInt(batch.position() + 53)).as("base sequence").isZero();
            assertThat(atOne.peek().partitions().get(0).currentLeaderEpoch()).as("a version 3 broker gets no epoch")
                    .isEqualTo(LeaderEpoch.UNKNOWN);
        }
    }

    @Test
    void aProduceCarriesTheLeaderEpochAndAFencedAnswerRefreshesMetadataBeforeTheRetry() throws Exception {
        AtomicInteger epoch = new AtomicInteger(4);
        ConcurrentLinkedQueue<ProduceRequest> produces = new ConcurrentLinkedQueue<>();
        zero = new FakeBroker(0, 4, (request, out) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(0, epoch.get()));
            case INIT_PRODUCER_ID -> List.of(new InitProducerIdResponse(77, (short) 0));
            case PRODUCE -> {
                ProduceRequest produce = (ProduceRequest) request;
                produces.add(produce);
                if (produce.partitions().get(0).currentLeaderEpoch() < 6) {
                    // The controller moved leadership away and back: this broker leads again, in epoch 6.
                    epoch.set(6);
                    yield List.of(new ProduceResponse(List.of(ProduceResponse.PartitionResult.failure(0,
                            new ApiError(ErrorCode.FENCED_LEADER_EPOCH, "epoch 4 is over")))));
                }
                yield List.of(new ProduceResponse(List.of(ProduceResponse.PartitionResult.success(0, 42,
                        OptionalLong.empty(), 0))));
            }
            default -> List.of();
        });
        one = new FakeBroker(1, 4, (request, out) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(0, epoch.get()));
            case INIT_PRODUCER_ID -> List.of(new InitProducerIdResponse(77, (short) 0));
            default -> List.of();
        });
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + zero.port()))) {
            Producer producer = client.producer(ProducerConfig.defaults().withRetryBackoff(Duration.ofMillis(10)));
            RecordMetadata sent = producer.send(ProducerRecord.of("t", "k", "v").withPartition(0))
                    .block(Duration.ofSeconds(10));

            assertThat(sent.offset()).isEqualTo(42);
            assertThat(produces).extracting(p -> p.partitions().get(0).currentLeaderEpoch()).containsExactly(4, 6);
            assertThat(metadataRequests()).as("refreshed after the fence").isEqualTo(2);
            List<ByteBuffer> batches = produces.stream().map(p -> p.partitions().get(0).batches()).toList();
            assertThat(batches.get(1).getLong(batches.get(1).position() + 43)).as("same producer id").isEqualTo(77);
            assertThat(batches.get(1).getInt(batches.get(1).position() + 53)).as("same base sequence").isZero();
        }
    }

    @Test
    void aSubscriptionCarriesTheLeaderEpochAndResubscribesInTheNewEpochAfterAFencedPush() throws Exception {
        ConcurrentLinkedQueue<SubscribeRequest> subscribes = new ConcurrentLinkedQueue<>();
        ApiError fenced = new ApiError(ErrorCode.FENCED_LEADER_EPOCH, "epoch 4 is over")
                .withLeader(new ApiError.LeaderHint(0, 6));
        zero = new FakeBroker(0, 4, (request, out) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(0, 4));
            case SUBSCRIBE -> {
                SubscribeRequest subscribe = (SubscribeRequest) request;
                subscribes.add(subscribe);
                yield subscribe.currentLeaderEpoch() < 6
                        ? List.of(new SubscribeResponse(0), Push.of("t", 0, 3, batch(0, "a", "b", "c")),
                                Push.failure("t", 0, fenced))
                        : List.of(new SubscribeResponse(3), Push.of("t", 0, 5, batch(3, "d", "e")));
            }
            default -> List.of();
        });
        one = new FakeBroker(1, 4, (request, out) -> request.apiKey() == ApiKey.METADATA
                ? List.of(metadata(0, 4)) : List.of());
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + zero.port()))) {
            List<String> values = client.consumer(ConsumerConfig.defaults().withReconnect(1, Duration.ofSeconds(30)))
                    .assign(new TopicPartition("t", 0), Seek.earliest()).receive()
                    .map(r -> new String(r.value(), StandardCharsets.UTF_8)).take(5).collectList()
                    .block(Duration.ofSeconds(10));

            assertThat(values).containsExactly("a", "b", "c", "d", "e");
            assertThat(subscribes).extracting(SubscribeRequest::currentLeaderEpoch).containsExactly(4, 6);
            assertThat(subscribes).extracting(SubscribeRequest::start).containsExactly(
                    SubscribeRequest.StartPosition.earliest(), SubscribeRequest.StartPosition.offset(3));
            assertThat(metadataRequests()).as("the leader's own newer epoch needs no metadata round trip")
                    .isEqualTo(1);
        }
    }

    @Test
    void aSubscriptionEndedByAHintedNotLeaderResumesAtTheLeaderFromTheNextOffset() throws Exception {
        ConcurrentLinkedQueue<SubscribeRequest> atOne = new ConcurrentLinkedQueue<>();
        zero = new FakeBroker(0, (request, out) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(0));
            case SUBSCRIBE -> List.of(new SubscribeResponse(0), Push.of("t", 0, 3, batch(0, "a", "b", "c")),
                    Push.failure("t", 0, MOVED_TO_ONE));
            default -> List.of();
        });
        one = new FakeBroker(1, (request, out) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(0));
            case SUBSCRIBE -> {
                atOne.add((SubscribeRequest) request);
                yield List.of(new SubscribeResponse(3), Push.of("t", 0, 5, batch(3, "d", "e")));
            }
            default -> List.of();
        });
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + zero.port()))) {
            List<String> values = client.consumer(ConsumerConfig.defaults().withReconnect(1, Duration.ofSeconds(30)))
                    .assign(new TopicPartition("t", 0), Seek.earliest()).receive()
                    .map(r -> new String(r.value(), StandardCharsets.UTF_8)).take(5).collectList()
                    .block(Duration.ofSeconds(10));

            assertThat(values).containsExactly("a", "b", "c", "d", "e");
            assertThat(atOne.peek().start()).isEqualTo(SubscribeRequest.StartPosition.offset(3));
            assertThat(metadataRequests()).isEqualTo(1);
        }
    }

    private long metadataRequests() {
        return zero.received(io.millrace.protocol.ApiKey.METADATA) + one.received(io.millrace.protocol.ApiKey.METADATA);
    }

    private static ByteBuffer batch(long baseOffset, String... values) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME,
                baseOffset);
        for (String v : values) {
            builder.append(1L, null, v.getBytes(StandardCharsets.UTF_8));
        }
        return builder.build().buffer();
    }
}
