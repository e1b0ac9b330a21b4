package io.millrace.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PartitionerTest {

    /** Vectors from Apache Kafka's own {@code UtilsTest.testMurmur2}; see also the cross-check against Kafka. */
    @ParameterizedTest(name = "murmur2({0}) = {1}")
    @CsvSource({
        "21, -973932308",
        "foobar, -790332482",
        "a-little-bit-long-string, -985981536",
        "a-little-bit-longer-string, -1486304829",
        "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8, -58897971",
        "abc, 479470107"
    })
    void murmur2MatchesKafkaVectors(String key, int expected) {
        assertThat(Partitioner.murmur2(key.getBytes(StandardCharsets.UTF_8))).isEqualTo(expected);
    }

    @Test
    void toPositiveClearsOnlyTheSignBit() {
        assertThat(Partitioner.toPositive(Integer.MIN_VALUE)).isZero();
        assertThat(Partitioner.toPositive(-1)).isEqualTo(Integer.MAX_VALUE);
        assertThat(Partitioner.toPositive(42)).isEqualTo(42);
    }

    @Test
    void partitionIsStableAndInRange() {
        byte[] key = "order-17".getBytes(StandardCharsets.UTF_8);
        int partition = Partitioner.partitionForKey(key, 12);

        assertThat(partition).isBetween(0, 11).isEqualTo(Partitioner.partitionForKey(key.clone(), 12));
        assertThat(Partitioner.partitionForKey(new byte[0], 7)).isBetween(0, 6);
        assertThat(Partitioner.partitionForKey(key, 1)).isZero();
    }

    @Test
    void rejectsNonPositivePartitionCountAndNullKey() {
        assertThatThrownBy(() -> Partitioner.partitionForKey(new byte[] {1}, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Partitioner.partitionForKey(null, 3)).isInstanceOf(NullPointerException.class);
    }
}
