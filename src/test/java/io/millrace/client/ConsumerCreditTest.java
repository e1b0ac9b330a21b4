package io.millrace.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.ErrorCode;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.CreditRequest;
import io.millrace.protocol.MetadataResponse;
import io.millrace.protocol.Push;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import io.millrace.record.CompressionType;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.TimestampType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * How many records a consumer lets the broker push ahead of the application, against a scripted fake broker: every
 * partition of a consumer that reads as fast as the records come gets the whole
 * {@link ConsumerConfig#maxCreditsPerRequest()}, however many partitions it reads. A window of a few dozen records per
 * partition made a consumer of several partitions wait for a round trip every few dozen records, so it fell behind
 * producers that a one-partition consumer kept up with. And the count of what the broker still owes starts with the
 * SUBSCRIBE, since the pushes that follow its answer may be taken in before the answer is.
 */
class ConsumerCreditTest {

    private FakeBroker broker;
    private final ConcurrentLinkedQueue<SubscribeRequest> subscribes = new ConcurrentLinkedQueue<>();

    @AfterEach
    void close() throws IOException {
        broker.close();
    }

    @Test
    void eachPartitionOfAMultiPartitionConsumerGrantsTheFullCreditWindow() throws Exception {
        assertInitialCredits(3, 5_000);
    }

    @Test
    void aOnePartitionConsumerGrantsTheSameWindow() throws Exception {
        assertInitialCredits(1, 5_000);
    }

    private void assertInitialCredits(int partitions, int maxCredits) throws Exception {
        broker = new FakeBroker(0, (request, later) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(partitions));
            case SUBSCRIBE -> {
                subscribes.add((SubscribeRequest) request);
                yield List.of(new SubscribeResponse(0));
            }
            default -> List.of();
        });
        List<TopicPartition> all = IntStream.range(0, partitions).mapToObj(p -> new TopicPartition("t", p)).toList();
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.port()))) {
            Disposable reading = client.consumer(ConsumerConfig.defaults().withMaxCreditsPerRequest(maxCredits))
                    .assign(all, Seek.earliest()).receive().subscribe();
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> subscribes.size() == partitions);
                assertThat(subscribes).extracting(SubscribeRequest::partition)
                        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, partitions).boxed().toList());
                assertThat(subscribes).extracting(SubscribeRequest::initialCredits).containsOnly(maxCredits);
            } finally {
                reading.dispose();
            }
        }
    }

    @Test
    void recordsPushedBeforeTheAnswerIsTakenInAreCountedAgainstTheCredit() throws Exception {
        List<CreditRequest> credits = new CopyOnWriteArrayList<>();
        // The connection's thread may take in pushes before the thread that subscribed takes in the answer; a broker
        // that sends them first makes that order certain.
        broker = new FakeBroker(0, (request, later) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(1));
            case SUBSCRIBE -> {
                subscribes.add((SubscribeRequest) request);
                yield List.of(Push.of("t", 0, 60, batchOf(60)), new SubscribeResponse(0));
            }
            case CREDIT -> {
                credits.add((CreditRequest) request);
                yield List.of();
            }
            default -> List.of();
        });
        List<Long> offsets = new CopyOnWriteArrayList<>();
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.port()))) {
            Disposable reading = client.consumer(ConsumerConfig.defaults().withMaxCreditsPerRequest(100))
                    .assign(List.of(new TopicPartition("t", 0)), Seek.earliest()).receive()
                    .subscribe(r -> offsets.add(r.offset()));
            try {
                // 100 granted with the SUBSCRIBE, 60 pushed: the window is topped up by those 60, no more, no fewer
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> credits.stream().mapToInt(CreditRequest::credits).sum() >= 60);
                assertThat(offsets).hasSize(60);
                assertThat(credits.stream().mapToInt(CreditRequest::credits).sum()).isEqualTo(60);
            } finally {
                reading.dispose();
            }
        }
    }

    @Test
    void aSubscriptionEndedBeforeItsAnswerIsTakenInIsMadeAgain() throws Exception {
        broker = new FakeBroker(0, (request, later) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata(1));
            case SUBSCRIBE -> {
                subscribes.add((SubscribeRequest) request);
                yield subscribes.size() == 1
                        ? List.of(Push.failure("t", 0, ApiError.of(ErrorCode.NOT_LEADER)), new SubscribeResponse(0))
                        : List.of(new SubscribeResponse(0));
            }
            default -> List.of();
        });
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.port()))) {
            Disposable reading = client.consumer(ConsumerConfig.defaults())
                    .assign(List.of(new TopicPartition("t", 0)), Seek.earliest()).receive().subscribe();
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> subscribes.size() == 2);
            } finally {
                reading.dispose();
            }
        }
    }

    private static java.nio.ByteBuffer batchOf(int records) {
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE, TimestampType.CREATE_TIME, 0);
        for (int i = 0; i < records; i++) {
            builder.append(1_000L + i, null, ("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        return builder.build().buffer();
    }

    private MetadataResponse metadata(int partitions) {
        return broker.metadata(0, Map.of("t", partitions));
    }
}
