package io.millrace.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionStats;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The per-partition series of {@code /metrics}: written from the partitions' current figures at each scrape, in the
 * registry's text format, with no meter per partition.
 */
class BrokerMetricsTest {

    private static final TopicPartition A = new TopicPartition("t", 0);
    private static final TopicPartition B = new TopicPartition("t", 1);

    private static PartitionStats stats(long logEndOffset) {
        return new PartitionStats(3, logEndOffset, logEndOffset - 1, logEndOffset * 100, true, 0, 1, 1, 0);
    }

    @Test
    void everyPartitionGetsItsFourSeriesWithItsCurrentFigures() {
        String text = BrokerMetrics.partitionSeries(Map.of(B, stats(2), A, stats(5)));

        assertThat(text).contains("# TYPE millrace_partition_log_end_offset gauge\n"
                + "millrace_partition_log_end_offset{partition=\"0\",topic=\"t\"} 5.0\n"
                + "millrace_partition_log_end_offset{partition=\"1\",topic=\"t\"} 2.0\n");
        assertThat(text).contains("millrace_partition_log_start_offset{partition=\"1\",topic=\"t\"} 3.0\n");
        assertThat(text).contains("millrace_partition_high_watermark{partition=\"0\",topic=\"t\"} 4.0\n");
        assertThat(text).contains("millrace_partition_size_bytes{partition=\"0\",topic=\"t\"} 500.0\n");
        assertThat(text.lines().filter(l -> !l.startsWith("#"))).hasSize(8);
    }

    @Test
    void aPartitionThatLeftHasNoSeriesAndNoPartitionsNoText() {
        assertThat(BrokerMetrics.partitionSeries(Map.of(B, stats(2)))).doesNotContain("partition=\"0\"");
        assertThat(BrokerMetrics.partitionSeries(Map.of())).isEmpty();
    }

    @Test
    void partitionFiguresRegisterNoMeters() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new BrokerMetrics(registry);
        BrokerMetrics.partitionSeries(Map.of(A, stats(1)));
        assertThat(registry.getMeters()).isEmpty();
    }
}
