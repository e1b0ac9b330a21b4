package io.millrace.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.InitProducerIdResponse;
import io.millrace.protocol.MetadataResponse;
import io.millrace.protocol.ProduceRequest;
import io.millrace.protocol.ProduceResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The producer's retries against a scripted fake broker on a real socket. */
class ProducerRetryTest {

    private FakeBroker broker;

    @AfterEach
    void close() throws IOException {
        broker.close();
    }

    /**
     * A stopping broker refuses a batch while the one sent before it, which it had already taken, is still to be
     * answered, and that one then succeeds: the refused batch is resent once nothing is in flight, with its sequence,
     * whether the last answer was a failure or, as here, a success.
     */
    @Test
    void aBatchRefusedWhileAnotherInFlightLaterSucceedsIsResent() throws Exception {
        List<ProduceRequest> produces = secondRefusedBeforeFirstSucceeds(new ApiError(ErrorCode.NOT_LEADER,
                "Broker 0 is shutting down"));
        assertThat(produces).extracting(p -> baseSequence(p.partitions().get(0).batches()))
                .as("the refused batch is resent with its own sequence").containsExactly(0, 1, 1);
    }

    /**
     * A batch that reaches the partition before an earlier one whose answer is still to come (its answer overtook
     * the earlier one's, or the earlier one waited for a metadata lookup) is refused as out of sequence: it is resent
     * once the earlier one is acknowledged, not failed.
     */
    @Test
    void aBatchRefusedAsOutOfSequenceWhileAnEarlierOneIsInFlightIsResent() throws Exception {
        List<ProduceRequest> produces = secondRefusedBeforeFirstSucceeds(new ApiError(
                ErrorCode.OUT_OF_ORDER_SEQUENCE, "Producer 77 sent sequence 1 but 0 was expected"));
        assertThat(produces).extracting(p -> baseSequence(p.partitions().get(0).batches()))
                .as("the refused batch is resent after the earlier one, with its own sequence")
                .containsExactly(0, 1, 1);
    }

    /**
     * Two batches sent together: the second is refused with {@code refusal} while the first's answer is held back,
     * then the first succeeds at offset 10, and any later produce succeeds at 11. Asserts both records end up
     * acknowledged at 10 and 11, and returns every produce request the broker saw.
     */
    private List<ProduceRequest> secondRefusedBeforeFirstSucceeds(ApiError refusal) throws Exception {
        ConcurrentLinkedQueue<ProduceRequest> produces = new ConcurrentLinkedQueue<>();
        AtomicReference<FakeBroker.Later> firstAnswer = new AtomicReference<>();
        broker = new FakeBroker(0, (request, later) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata());
            case INIT_PRODUCER_ID -> List.of(new InitProducerIdResponse(77, (short) 0));
            case PRODUCE -> {
                produces.add((ProduceRequest) request);
                if (produces.size() == 1) {
                    firstAnswer.set(later);
                    yield List.of();
                }
                if (produces.size() == 2) {
                    later.answer(new ProduceResponse(List.of(ProduceResponse.PartitionResult.failure(0, refusal))));
                    firstAnswer.get().answer(new ProduceResponse(List.of(ProduceResponse.PartitionResult.success(0,
                            10, OptionalLong.empty(), 0))));
                    yield List.of();
                }
                yield List.of(new ProduceResponse(List.of(ProduceResponse.PartitionResult.success(0, 11,
                        OptionalLong.empty(), 0))));
            }
            default -> List.of();
        });
        assertThat(sendTwoBatches()).extracting(RecordMetadata::offset).containsExactly(10L, 11L);
        return List.copyOf(produces);
    }

    /**
     * A batch answered with a retriable error although the partition wrote it (an acks=all produce timed out after the
     * append), while the next batch succeeds: the partition takes batches only in sequence order, so the first was
     * written. It succeeds with its offset unknown and is not resent (resent after more batches than the broker
     * remembers, it was refused as out of sequence and its records reported lost: ControllerFailoverIT).
     */
    @Test
    void aFailedBatchBeforeOneThePartitionTookIsReportedWrittenNotResent() throws Exception {
        ConcurrentLinkedQueue<ProduceRequest> produces = new ConcurrentLinkedQueue<>();
        broker = new FakeBroker(0, (request, out) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata());
            case INIT_PRODUCER_ID -> List.of(new InitProducerIdResponse(77, (short) 0));
            case PRODUCE -> {
                produces.add((ProduceRequest) request);
                yield List.of(new ProduceResponse(List.of(produces.size() == 1
                        ? ProduceResponse.PartitionResult.failure(0, new ApiError(ErrorCode.REQUEST_TIMED_OUT,
                                "Not replicated in time"))
                        : ProduceResponse.PartitionResult.success(0, 11, OptionalLong.empty(), 0))));
            }
            default -> List.of();
        });
        List<RecordMetadata> sent = sendTwoBatches();

        assertThat(sent).extracting(RecordMetadata::offset).containsExactly(-1L, 11L);
        assertThat(produces).extracting(p -> baseSequence(p.partitions().get(0).batches())).containsExactly(0, 1);
    }

    /**
     * Sends two records to partition 0 of topic t, one batch each; both batches leave together once the producer id
     * is known. Returns their metadata, in sending order.
     */
    private List<RecordMetadata> sendTwoBatches() {
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.port()))) {
            Producer producer = client.producer(ProducerConfig.defaults().withBatchSize(1)
                    .withRetryBackoff(Duration.ofMillis(10)));
            Mono<RecordMetadata> first = producer.send(ProducerRecord.of("t", "k", "first").withPartition(0));
            Mono<RecordMetadata> second = producer.send(ProducerRecord.of("t", "k", "second").withPartition(0));
            return Mono.zip(first, second, List::of).block(Duration.ofSeconds(10));
        }
    }

    private MetadataResponse metadata() {
        return broker.metadata(4, Map.of("t", 1));
    }

    private static int baseSequence(ByteBuffer batch) {
        return batch.getInt(batch.position() + 53);
    }
}
