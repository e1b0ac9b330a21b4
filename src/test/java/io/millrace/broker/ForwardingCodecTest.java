package io.millrace.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.TopicPartition;
import io.millrace.common.Acks;
import io.millrace.common.OffsetSpec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every forwarded request and answer crosses the wire unchanged, behind whatever the buffer held before it. */
class ForwardingCodecTest {

    private final ForwardingCodec codec = new ForwardingCodec();
    private static final TopicPartition TP = new TopicPartition("örders-1", 7);

    @Test
    void everyMessageDecodesToWhatWasEncoded() {
        Buffer batch = Buffer.buffer(new byte[]{1, 2, 3, 4, 5});
        List<Forwarded> messages = List.of(
                new Forwarded.Produce(TP, batch, Acks.ALL, 3),
                new Forwarded.Produce(TP, Buffer.buffer(), Acks.NONE, -1),
                new Forwarded.Fetch(TP, 42, 1 << 20, 500, 2, (5L << 40) + 9),
                new Forwarded.CancelFetch(TP, (5L << 40) + 9),
                new Forwarded.ListOffset(TP, OffsetSpec.EARLIEST, -1),
                new Forwarded.ListOffset(TP, OffsetSpec.LATEST, 4),
                new Forwarded.ListOffset(TP, new OffsetSpec.AtOffset(17), 4),
                new Forwarded.ListOffset(TP, new OffsetSpec.AtTimestamp(1_700_000_000_000L), 4),
                new Forwarded.DeleteRecords(TP, 99),
                new Forwarded.EndOffsetForEpoch(TP, 3, 5),
                new Forwarded.Produced(10, 14, Forwarded.Produced.NO_LOG_APPEND_TIME, 0),
                new Forwarded.Produced(10, 14, 1_700_000_000_123L, 2),
                new Forwarded.Fetched(batch, 40, 45, 45, 0, 50),
                new Forwarded.Position(12, 1_700_000_000_000L),
                new Forwarded.GroupCall("grüppe", "join", new JsonObject().put("memberId", "m-1"), 65_000),
                new Forwarded.GroupCall("", "listGroups", new JsonObject(), 30_000),
                new Forwarded.GroupAnswer(new JsonObject().put("groups", new JsonArray().add("a"))),
                new Forwarded.ElectPreferredLeaders(),
                new Forwarded.Elected(12));
        for (Forwarded message : messages) {
            Buffer wire = Buffer.buffer("prefix");
            codec.encodeToWire(wire, message);
            assertThat(codec.decodeFromWire("prefix".length(), wire)).as("%s", message).isEqualTo(message);
        }
    }

    @Test
    void anUnknownTypeIsRefused() {
        assertThatThrownBy(() -> codec.decodeFromWire(0, Buffer.buffer(new byte[]{99})))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown message type 99");
    }
}
