package io.millrace.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.common.ErrorCode;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.ApiKey;
import io.millrace.protocol.ErrorResponse;
import io.millrace.protocol.FetchOffsetsResponse;
import io.millrace.protocol.GroupAckResponse;
import io.millrace.protocol.JoinGroupResponse;
import io.millrace.protocol.ListTopicsResponse;
import io.millrace.protocol.MetadataResponse;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import io.millrace.protocol.TopicPartitions;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * A group member keeps one membership and one reader per assigned partition, however its joins, heartbeats and offset
 * lookups interleave, against a scripted coordinator. A member told to rejoin at once starts looking up committed
 * offsets for its first assignment while it joins again; when the second lookup is answered first, the first must not
 * start a second reader of the same partitions (it would read them twice, and nothing could stop it). A heartbeat
 * answered after the member joined again speaks for the membership it left and must not end the new one.
 */
class GroupReadersTest {

    private FakeBroker broker;

    @AfterEach
    void close() throws IOException {
        broker.close();
    }

    @Test
    void aLookupAnsweredAfterARejoinsOwnStartsNoSecondReader() throws Exception {
        ConcurrentLinkedQueue<SubscribeRequest> subscribes = new ConcurrentLinkedQueue<>();
        AtomicInteger joins = new AtomicInteger();
        List<FakeBroker.Later> heldLookups = new CopyOnWriteArrayList<>();
        AtomicInteger lookups = new AtomicInteger();
        List<TopicPartitions> assignment = List.of(new TopicPartitions("t", List.of(0, 1)));
        broker = new FakeBroker(0, (request, later) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata());
            case JOIN_GROUP -> List.of(new JoinGroupResponse(1, "member-1", "range",
                    joins.incrementAndGet() == 1, assignment, List.of()));
            case FETCH_OFFSETS -> {
                if (lookups.incrementAndGet() == 1) {
                    heldLookups.add(later); // answered after the rejoin's lookup
                    yield List.of();
                }
                yield List.of(new FetchOffsetsResponse(List.of()));
            }
            case SUBSCRIBE -> {
                subscribes.add((SubscribeRequest) request);
                yield List.of(new SubscribeResponse(0));
            }
            case HEARTBEAT, COMMIT_OFFSETS, LEAVE_GROUP -> List.of(new GroupAckResponse(request.apiKey()));
            case LIST_TOPICS -> List.of(new ListTopicsResponse(List.of("t")));
            default -> List.of();
        });
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.port()))) {
            Disposable reading = client.consumer(ConsumerConfig.defaults()).subscribe(List.of("t"), "g").receive()
                    .subscribe();
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> subscribes.size() == 2 && !heldLookups.isEmpty());
                assertThat(joins).hasValue(2);
                heldLookups.get(0).answer(new FetchOffsetsResponse(List.of()));
                // The connection takes in the held answer before the first of these, and so has queued whatever it
                // sends because of it before the second leaves.
                client.admin().listTopics().block(Duration.ofSeconds(10));
                client.admin().listTopics().block(Duration.ofSeconds(10));
                assertThat(subscribes).extracting(SubscribeRequest::partition).containsExactlyInAnyOrder(0, 1);
            } finally {
                reading.dispose();
            }
        }
    }

    @Test
    void aHeartbeatAnsweredForAnEarlierGenerationLeavesTheMembershipAlone() throws Exception {
        AtomicInteger joins = new AtomicInteger();
        AtomicInteger heartbeats = new AtomicInteger();
        List<FakeBroker.Later> heldHeartbeats = new CopyOnWriteArrayList<>();
        List<TopicPartitions> assignment = List.of(new TopicPartitions("t", List.of(0, 1)));
        broker = new FakeBroker(0, (request, later) -> switch (request.apiKey()) {
            case METADATA -> List.of(metadata());
            case JOIN_GROUP -> {
                int generation = joins.incrementAndGet();
                yield List.of(new JoinGroupResponse(generation, "member-1", "range", false, assignment, List.of()));
            }
            case HEARTBEAT -> switch (heartbeats.getAndIncrement()) {
                case 0 -> {
                    heldHeartbeats.add(later); // generation 1's: answered once generation 2 is under way
                    yield List.of();
                }
                case 1 -> List.of(new ErrorResponse(ApiKey.HEARTBEAT, ApiError.of(ErrorCode.REBALANCE_IN_PROGRESS)));
                default -> List.of(new GroupAckResponse(ApiKey.HEARTBEAT));
            };
            case FETCH_OFFSETS -> List.of(new FetchOffsetsResponse(List.of()));
            case SUBSCRIBE -> List.of(new SubscribeResponse(0));
            case COMMIT_OFFSETS, LEAVE_GROUP -> List.of(new GroupAckResponse(request.apiKey()));
            case LIST_TOPICS -> List.of(new ListTopicsResponse(List.of("t")));
            default -> List.of();
        });
        try (MillraceClient client = MillraceClient.create(ClientConfig.bootstrap("127.0.0.1:" + broker.port()))) {
            Disposable reading = client.consumer(ConsumerConfig.defaults())
                    .subscribe(List.of("t"), "g", GroupOptions.defaults()
                            .withSessionTimeout(Duration.ofSeconds(10), Duration.ofMillis(50)))
                    .receive().subscribe();
            try {
                // rejoined after the rebalance, and heartbeating in generation 2
                await().atMost(Duration.ofSeconds(10)).until(() -> joins.get() == 2 && heartbeats.get() >= 4);
                heldHeartbeats.get(0).answer(new ErrorResponse(ApiKey.HEARTBEAT,
                        ApiError.of(ErrorCode.ILLEGAL_GENERATION)));
                client.admin().listTopics().block(Duration.ofSeconds(10));
                client.admin().listTopics().block(Duration.ofSeconds(10));
                assertThat(joins).as("joins: generation 1's late answer must not make the member join again")
                        .hasValue(2);
            } finally {
                reading.dispose();
            }
        }
    }

    private MetadataResponse metadata() {
        return broker.metadata(0, Map.of("t", 2, GroupSession.OFFSETS_TOPIC, 1));
    }
}
