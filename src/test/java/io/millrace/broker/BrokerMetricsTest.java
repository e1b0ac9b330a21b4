package io.millrace.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionStats;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The per-partition gauges that {@code /metrics} scrapes: current figures, without re-registering on every scrape. */
class BrokerMetricsTest {

    private static final TopicPartition A = new TopicPartition("t", 0);
    private static final TopicPartition B = new TopicPartition("t", 1);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final BrokerMetrics metrics = new BrokerMetrics(registry);

    private static PartitionStats stats(long logEndOffset) {
        return new PartitionStats(0, logEndOffset, logEndOffset, logEndOffset * 100, true, 0, 1, 1, 0);
    }

    private Gauge logEndOffset(TopicPartition tp) {
        return registry.find("millrace.partition.log.end.offset").tag("topic", tp.topic())
                .tag("partition", Integer.toString(tp.partition())).gauge();
    }

    @Test
    void aPartitionThatStaysKeepsItsGaugesWhichReadItsNewestFigures() {
        metrics.updatePartitions(Map.of(A, stats(1), B, stats(2)));
        Gauge before = logEndOffset(A);
        int meters = registry.getMeters().size();

        metrics.updatePartitions(Map.of(A, stats(5), B, stats(2)));

        assertThat(logEndOffset(A)).as("the same gauge, not a new one per scrape").isSameAs(before);
        assertThat(registry.getMeters()).hasSize(meters);
        assertThat(logEndOffset(A).value()).isEqualTo(5);
        assertThat(registry.find("millrace.partition.size").tag("partition", "0").gauge().value()).isEqualTo(500);
    }

    @Test
    void aPartitionThatLeavesLosesItsGaugesAndOneThatComesBackReadsItsNewLog() {
        metrics.updatePartitions(Map.of(A, stats(7), B, stats(2)));
        metrics.updatePartitions(Map.of(B, stats(2)));
        assertThat(logEndOffset(A)).isNull();
        assertThat(logEndOffset(B).value()).isEqualTo(2);

        metrics.updatePartitions(Map.of(A, stats(0), B, stats(2)));
        assertThat(logEndOffset(A).value()).as("a topic deleted and created again starts from 0").isEqualTo(0);
    }
}
