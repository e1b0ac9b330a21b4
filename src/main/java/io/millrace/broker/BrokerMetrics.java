package io.millrace.broker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToLongFunction;

/**
 * The broker's own metrics, exported with Vert.x's in Prometheus format at {@code /metrics}:
 * <ul>
 *   <li>{@code millrace_records_in_total}, {@code millrace_bytes_in_total} per topic (produced),</li>
 *   <li>{@code millrace_records_out_total}, {@code millrace_bytes_out_total} per topic (fetched or pushed),</li>
 *   <li>{@code millrace_request_seconds} per operation (a timer: count, sum, max),</li>
 *   <li>{@code millrace_connections} per front-end (ws, tcp),</li>
 *   <li>{@code millrace_partition_log_end_offset}, {@code _log_start_offset}, {@code _high_watermark},
 *   {@code _size_bytes} per topic and partition, written at each scrape by {@link #partitionSeries}.</li>
 * </ul>
 * Thread-safe.
 */
public final class BrokerMetrics {

    private final MeterRegistry registry;
    private final Map<String, TopicCounters> topics = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> connections = new ConcurrentHashMap<>();

    public BrokerMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void recordsIn(String topic, long records, long bytes) {
        TopicCounters c = counters(topic);
        c.recordsIn.increment(records);
        c.bytesIn.increment(bytes);
    }

    public void recordsOut(String topic, long records, long bytes) {
        TopicCounters c = counters(topic);
        c.recordsOut.increment(records);
        c.bytesOut.increment(bytes);
    }

    /** Running totals per topic: records in, bytes in, records out, bytes out. */
    public Map<String, long[]> topicTotals() {
        Map<String, long[]> out = new java.util.TreeMap<>();
        topics.forEach((topic, c) -> out.put(topic, new long[] {(long) c.recordsIn.count(), (long) c.bytesIn.count(),
                (long) c.recordsOut.count(), (long) c.bytesOut.count()}));
        return out;
    }

    public void requestLatency(String operation, long nanos) {
        timers.computeIfAbsent(operation, op -> Timer.builder("millrace.request").tag("operation", op)
                .description("Time from request to answer, per operation").register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    public void connectionOpened(String frontEnd) {
        connectionGauge(frontEnd).incrementAndGet();
    }

    public void connectionClosed(String frontEnd) {
        connectionGauge(frontEnd).decrementAndGet();
    }

    public int connections(String frontEnd) {
        return connectionGauge(frontEnd).get();
    }

    /**
     * The per-partition series in Prometheus text format (version 0.0.4, as the registry's own scrape), to append
     * to it: {@code millrace_partition_log_end_offset}, {@code _log_start_offset}, {@code _high_watermark} and
     * {@code _size_bytes}, each labelled with {@code partition} and {@code topic}. Written from the figures given,
     * rather than registered as meters: four Micrometer gauges per partition held about 2.4 KiB of heap per partition
     * (46 MiB at 20,000) for figures every partition verticle already publishes ({@link PartitionStats}).
     */
    public static String partitionSeries(Map<TopicPartition, PartitionStats> stats) {
        List<Map.Entry<TopicPartition, PartitionStats>> sorted = new ArrayList<>(stats.entrySet());
        sorted.sort(Map.Entry.comparingByKey(java.util.Comparator.comparing(TopicPartition::topic)
                .thenComparingInt(TopicPartition::partition)));
        StringBuilder text = new StringBuilder(sorted.size() * 4 * 80);
        series(text, sorted, "millrace_partition_log_end_offset", "Next offset to be written",
                PartitionStats::logEndOffset);
        series(text, sorted, "millrace_partition_log_start_offset", "First offset still in the log",
                PartitionStats::logStartOffset);
        series(text, sorted, "millrace_partition_high_watermark", "Offsets below it are committed",
                PartitionStats::highWatermark);
        series(text, sorted, "millrace_partition_size_bytes", "Bytes of the partition's segments",
                PartitionStats::sizeBytes);
        return text.toString();
    }

    private static void series(StringBuilder text, List<Map.Entry<TopicPartition, PartitionStats>> partitions,
                               String name, String help, ToLongFunction<PartitionStats> figure) {
        if (partitions.isEmpty()) {
            return;
        }
        text.append("# HELP ").append(name).append(' ').append(help).append('\n');
        text.append("# TYPE ").append(name).append(" gauge\n");
        for (Map.Entry<TopicPartition, PartitionStats> p : partitions) {
            text.append(name).append("{partition=\"").append(p.getKey().partition()).append("\",topic=\"");
            labelValue(text, p.getKey().topic());
            text.append("\"} ").append((double) figure.applyAsLong(p.getValue())).append('\n');
        }
    }

    /** A label value as the text format escapes it: backslash, double quote and line feed. */
    private static void labelValue(StringBuilder text, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> text.append("\\\\");
                case '"' -> text.append("\\\"");
                case '\n' -> text.append("\\n");
                default -> text.append(c);
            }
        }
    }

    private AtomicInteger connectionGauge(String frontEnd) {
        return connections.computeIfAbsent(frontEnd, fe -> {
            AtomicInteger gauge = new AtomicInteger();
            registry.gauge("millrace.connections", Tags.of("frontend", fe), gauge);
            return gauge;
        });
    }

    private TopicCounters counters(String topic) {
        return topics.computeIfAbsent(topic, t -> new TopicCounters(
                Counter.builder("millrace.records.in").tag("topic", t).register(registry),
                Counter.builder("millrace.bytes.in").tag("topic", t).register(registry),
                Counter.builder("millrace.records.out").tag("topic", t).register(registry),
                Counter.builder("millrace.bytes.out").tag("topic", t).register(registry)));
    }

    private record TopicCounters(Counter recordsIn, Counter bytesIn, Counter recordsOut, Counter bytesOut) {
    }
}
