package io.millrace.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.group.OffsetsTopic;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SDK finds a group's coordinator with its own copy of the broker's rule (it may not import server code): the two
 * must agree on every group id, including those whose hash code is negative or {@link Integer#MIN_VALUE}.
 */
class GroupCoordinatorLookupTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 10, 50})
    void theSdkPicksTheSameOffsetsPartitionAsTheBroker(int partitions) {
        Random random = new Random(partitions);
        for (int i = 0; i < 10_000; i++) {
            StringBuilder id = new StringBuilder();
            int length = 1 + random.nextInt(20);
            for (int c = 0; c < length; c++) {
                id.append((char) (32 + random.nextInt(0x3000)));
            }
            String group = id.toString();
            assertThat(GroupSession.offsetsPartitionFor(group, partitions))
                    .as(group).isEqualTo(OffsetsTopic.partitionFor(group, partitions));
        }
        // "polygenelubricants".hashCode() is Integer.MIN_VALUE
        assertThat("polygenelubricants".hashCode()).isEqualTo(Integer.MIN_VALUE);
        assertThat(GroupSession.offsetsPartitionFor("polygenelubricants", partitions))
                .isEqualTo(OffsetsTopic.partitionFor("polygenelubricants", partitions)).isZero();
    }
}
