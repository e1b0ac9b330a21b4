package io.millrace.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.TopicPartition;
import io.millrace.group.AssignmentStrategy;
import io.millrace.group.CommittedOffset;
import io.millrace.group.GroupDescription;
import io.millrace.group.GroupListing;
import io.millrace.group.GroupState;
import io.millrace.group.JoinRequest;
import io.millrace.group.JoinResult;
import io.millrace.group.MemberDescription;
import io.millrace.group.OffsetAndMetadata;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A group call forwarded to its coordinator arrives, and its answer comes back, as it was sent. */
class GroupMessagesTest {

    private static final TopicPartition A0 = new TopicPartition("a", 0);
    private static final TopicPartition B3 = new TopicPartition("b", 3);

    /** Through the JSON text, as on the wire. */
    private static JsonObject wire(JsonObject j) {
        return new JsonObject(j.encode());
    }

    @Test
    void joinsRoundTrip() {
        JoinRequest request = new JoinRequest("g", "m-1", "browser", "127.0.0.1", Set.of("a", "b"), 10_000, 60_000,
                AssignmentStrategy.COOPERATIVE_STICKY);
        assertThat(GroupMessages.joinRequest(wire(GroupMessages.joinRequest(request)))).isEqualTo(request);
        JoinResult result = new JoinResult(4, "m-1", AssignmentStrategy.RANGE, Map.of("a", List.of(0, 2)),
                Map.of("b", List.of(3)), true);
        assertThat(GroupMessages.joinResult(wire(GroupMessages.joinResult(result)))).isEqualTo(result);
    }

    @Test
    void offsetsAndPartitionsRoundTrip() {
        Map<TopicPartition, OffsetAndMetadata> offsets = Map.of(A0, new OffsetAndMetadata(5, "x"),
                B3, new OffsetAndMetadata(0, ""));
        assertThat(GroupMessages.offsets(new JsonObject().put("o", GroupMessages.offsets(offsets)).copy()
                .getJsonArray("o"))).isEqualTo(offsets);
        assertThat(GroupMessages.positions(GroupMessages.positions(Map.of(A0, 7L)))).isEqualTo(Map.of(A0, 7L));
        assertThat(GroupMessages.partitions(GroupMessages.partitions(List.of(A0, B3)))).containsExactly(A0, B3);
    }

    @Test
    void listingsAndDescriptionsRoundTrip() {
        List<GroupListing> listings = List.of(new GroupListing("g", GroupState.STABLE, 2,
                Optional.of(AssignmentStrategy.ROUND_ROBIN)), new GroupListing("h", GroupState.EMPTY, 0,
                Optional.empty()));
        assertThat(GroupMessages.listings(GroupMessages.listings(listings))).isEqualTo(listings);
        GroupDescription description = new GroupDescription("g", GroupState.STABLE, 3,
                Optional.of(AssignmentStrategy.RANGE), List.of(new MemberDescription("m-1", "c", "h", Set.of("a"),
                Map.of("a", List.of(0)))), Map.of(A0, new CommittedOffset(9, "meta", 1_700_000_000_000L)));
        assertThat(GroupMessages.description(wire(GroupMessages.description(description)))).isEqualTo(description);
    }
}
