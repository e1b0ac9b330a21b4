package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.TopicPartition;
import io.millrace.it.Oracle.Entry;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class OracleTest {

    private static final TopicPartition P0 = new TopicPartition("orders", 0);
    private static final TopicPartition P1 = new TopicPartition("orders", 1);

    private final Oracle oracle = new Oracle();

    @Test
    void passesWhenEveryAcknowledgedRecordIsReadOnceInOrder() {
        IntStream.range(0, 3).parallel().forEach(i -> oracle.acknowledged("orders", 0, i, "k", "v" + i));
        oracle.acknowledged("orders", 1, 0, null, "w0");

        Oracle.Verdict verdict = oracle.assertEveryAcknowledgedRecordReadOnce(Map.of(
                P0, List.of(entry(P0, 0, "v0"), entry(P0, 1, "v1"), entry(P0, 2, "v2"), entry(P0, 3, "in-flight")),
                P1, List.of(new Entry(P1, 0, null, "w0"))));

        assertThat(verdict.acknowledged()).isEqualTo(4);
        assertThat(verdict.unacknowledgedRead()).isEqualTo(1);
    }

    @Test
    void reportsLostDuplicatedOutOfOrderAndMovedRecords() {
        for (int i = 0; i < 4; i++) {
            oracle.acknowledged("orders", 0, i, "k", "v" + i);
        }
        oracle.acknowledged("orders", 1, 0, "k", "w0");

        Oracle.Verdict verdict = oracle.check(Map.of(P0, List.of(
                entry(P0, 0, "v0"), entry(P0, 2, "v2"), entry(P0, 1, "other"), entry(P0, 3, "v0"),
                entry(P0, 4, "v3"))));

        assertThat(verdict.passed()).isFalse();
        assertThat(verdict.lost()).hasSize(2)
                .anySatisfy(s -> assertThat(s).contains("orders-0@1 k=v1").contains("read orders-0@1 k=other"))
                .anySatisfy(s -> assertThat(s).contains("orders-1@0").contains("offset not read"));
        assertThat(verdict.duplicated()).singleElement().asString().contains("v0 read 2 times");
        assertThat(verdict.outOfOrder()).singleElement().asString().contains("@1 k=other read after orders-0@2");
        assertThat(verdict.conflicting()).singleElement().asString().contains("v3 read at offset 4");
        assertThatThrownBy(() -> oracle.assertEveryAcknowledgedRecordReadOnce(Map.of()))
                .isInstanceOf(AssertionError.class).hasMessageContaining("5 acknowledged records: 5 lost");
    }

    @Test
    void reportsTwoAcknowledgementsOfOneOffset() {
        oracle.acknowledged("orders", 0, 0, "k", "a");
        oracle.acknowledged("orders", 0, 0, "k", "b");

        assertThat(oracle.check(Map.of(P0, List.of(entry(P0, 0, "a")))).conflicting())
                .anySatisfy(s -> assertThat(s).contains("two records acknowledged at one offset"));
    }

    @Test
    void aRecordAcknowledgedWithoutItsOffsetMustBeReadOnceWhereNoOtherAcknowledgedRecordIs() {
        // as the SDK reports a batch written though its own answer was an error: offset -1
        oracle.acknowledged("orders", 0, 0, "k", "v0");
        oracle.acknowledged("orders", 0, -1, "k", "v1");
        oracle.acknowledged("orders", 0, -1, "k", "v2");
        oracle.acknowledged("orders", 0, 3, "k", "v3");

        Oracle.Verdict fine = oracle.assertEveryAcknowledgedRecordReadOnce(Map.of(P0, List.of(entry(P0, 0, "v0"),
                entry(P0, 1, "v1"), entry(P0, 2, "v2"), entry(P0, 3, "v3"))));
        assertThat(fine.unacknowledgedRead()).isZero();

        Oracle.Verdict bad = oracle.check(Map.of(P0, List.of(entry(P0, 0, "v0"), entry(P0, 1, "v1"),
                entry(P0, 3, "v2"), entry(P0, 4, "v1"))));
        assertThat(bad.lost()).singleElement().asString().contains("v3");
        assertThat(bad.duplicated()).singleElement().asString().contains("v1 read 2 times");
        assertThat(bad.conflicting()).singleElement().asString().contains("v2 read at offset 3")
                .contains("acknowledged for orders-0@3 k=v3");
    }

    private static Entry entry(TopicPartition p, long offset, String value) {
        return new Entry(p, offset, "k", value);
    }
}
