package io.millrace.loadtests.broker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** The figures of one scenario in one run against one system. Filled by the one thread that runs the scenario. */
final class ScenarioResult {

    final String scenario;
    final String system;
    final int run;
    /** Named figures, e.g. {@code records_per_s}, {@code e2e_p99_ms}. */
    final Map<String, Double> metrics = new LinkedHashMap<>();
    /** Named throughput series: [seconds since the scenario started, records per second]. */
    final Map<String, List<double[]>> series = new LinkedHashMap<>();
    final Map<String, String> notes = new LinkedHashMap<>();

    ScenarioResult(String scenario, String system, int run) {
        this.scenario = scenario;
        this.system = system;
        this.run = run;
    }

    ScenarioResult metric(String name, double value) {
        metrics.put(name, value);
        return this;
    }

    /** Adds {@code <prefix>_p50_ms} ... {@code _max_ms} from a histogram of microseconds. */
    void latency(String prefix, Histogram micros) {
        metric(prefix + "_count", micros.getTotalCount());
        if (micros.getTotalCount() == 0) {
            return;
        }
        metric(prefix + "_p50_ms", micros.getValueAtPercentile(50) / 1000.0);
        metric(prefix + "_p90_ms", micros.getValueAtPercentile(90) / 1000.0);
        metric(prefix + "_p99_ms", micros.getValueAtPercentile(99) / 1000.0);
        metric(prefix + "_p99.9_ms", micros.getValueAtPercentile(99.9) / 1000.0);
        metric(prefix + "_max_ms", micros.getMaxValue() / 1000.0);
    }

    List<double[]> series(String name) {
        return series.computeIfAbsent(name, n -> new ArrayList<>());
    }
}
