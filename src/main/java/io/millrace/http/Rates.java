package io.millrace.http;

import io.vertx.core.json.JsonObject;

/**
 * Throughput over one sampling interval, per second: records and bytes produced into the broker ("in") and
 * delivered to consumers ("out").
 */
public record Rates(double recordsIn, double bytesIn, double recordsOut, double bytesOut) {

    public static final Rates ZERO = new Rates(0, 0, 0, 0);

    /**
     * The rates between two readings of running totals ({@code [recordsIn, bytesIn, recordsOut, bytesOut]}) taken
     * {@code seconds} apart. A counter that went backwards (it cannot today, but a restart of the counters would)
     * counts as zero rather than as negative throughput.
     */
    static Rates between(long[] before, long[] after, double seconds) {
        if (seconds <= 0) {
            return ZERO;
        }
        return new Rates(perSecond(before[0], after[0], seconds), perSecond(before[1], after[1], seconds),
                perSecond(before[2], after[2], seconds), perSecond(before[3], after[3], seconds));
    }

    Rates plus(Rates other) {
        return new Rates(recordsIn + other.recordsIn, bytesIn + other.bytesIn, recordsOut + other.recordsOut,
                bytesOut + other.bytesOut);
    }

    boolean isZero() {
        return recordsIn == 0 && bytesIn == 0 && recordsOut == 0 && bytesOut == 0;
    }

    /** {@code {"recordsIn", "bytesIn", "recordsOut", "bytesOut"}}, per second, rounded to 0.001. */
    JsonObject toJson() {
        return new JsonObject().put("recordsIn", round(recordsIn)).put("bytesIn", round(bytesIn))
                .put("recordsOut", round(recordsOut)).put("bytesOut", round(bytesOut));
    }

    private static double perSecond(long before, long after, double seconds) {
        return Math.max(0, after - before) / seconds;
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }
}
