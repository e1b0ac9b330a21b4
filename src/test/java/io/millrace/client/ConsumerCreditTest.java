package io.millrace.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.TopicPartition;
import io.millrace.protocol.MetadataResponse;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * How many records a consumer lets the broker push ahead of the application, against a scripted fake broker: every
 * partition of a consumer that reads as fast as the records come gets the whole {@link ConsumerConfig#maxCreditsPerRequest()},
 * however many partitions it reads. A window of a few dozen records per partition made a consumer of several
 * partitions wait for a round trip every few dozen records, so it fell behind producers that a one-partition consumer
 * kept up with.
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

    private MetadataResponse metadata(int partitions) {
        return new MetadataResponse(List.of(new MetadataResponse.Broker(0, "127.0.0.1", broker.port(), -1)),
                OptionalInt.of(0), List.of(new MetadataResponse.TopicMetadata("t", Optional.empty(),
                        IntStream.range(0, partitions).mapToObj(p -> new MetadataResponse.PartitionMetadata(p,
                                OptionalInt.of(0), 0, List.of(0), List.of(0))).toList())));
    }
}
