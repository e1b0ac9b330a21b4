package io.millrace.http;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * The broker's throughput over one sampling interval ending at {@code time}: the total and each topic's.
 *
 * @param time   end of the interval, ms since the epoch
 * @param total  the sum over all topics
 * @param topics per topic; a topic with no traffic in the interval is left out (its rates are zero)
 */
public record RateSample(long time, Rates total, Map<String, Rates> topics) {

    public RateSample {
        topics = Map.copyOf(topics);
    }

    /**
     * The throughput between two readings of {@link io.millrace.broker.BrokerMetrics#topicTotals()}. A topic missing
     * from {@code before} was created in between: its counters started from zero.
     */
    static RateSample between(Totals before, Totals after) {
        double seconds = (after.time() - before.time()) / 1000.0;
        Map<String, Rates> topics = new TreeMap<>();
        Rates total = Rates.ZERO;
        for (Map.Entry<String, long[]> e : after.topics().entrySet()) {
            long[] previous = before.topics().getOrDefault(e.getKey(), new long[4]);
            Rates rates = Rates.between(previous, e.getValue(), seconds);
            if (!rates.isZero()) {
                topics.put(e.getKey(), rates);
                total = total.plus(rates);
            }
        }
        return new RateSample(after.time(), total, topics);
    }

    /** {@code {"time", "total": rates, "topics": {"name": rates}}}; see docs/PROTOCOL.md, "Live stats". */
    JsonObject toJson() {
        JsonObject byTopic = new JsonObject();
        new TreeMap<>(topics).forEach((name, rates) -> byTopic.put(name, rates.toJson()));
        return new JsonObject().put("time", time).put("total", total.toJson()).put("topics", byTopic);
    }

    /**
     * One reading of the running totals per topic ({@code [recordsIn, bytesIn, recordsOut, bytesOut]}).
     *
     * @param time when it was read, ms since the epoch
     */
    record Totals(long time, Map<String, long[]> topics) {
    }
}
