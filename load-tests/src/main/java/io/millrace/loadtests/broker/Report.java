package io.millrace.loadtests.broker;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Turns the results of all runs into the summary (medians, ratios, targets), JSON and an HTML page. */
final class Report {

    /**
     * A headline figure: a metric of a scenario, its median per system, and the target if it has one:
     * {@code minRatio} (Millrace/Kafka at least) or {@code max} (Millrace's value at most).
     */
    record Figure(String scenario, String metric, String label, Double minRatio, Double max) {
    }

    static final List<Figure> FIGURES = List.of(
            new Figure("produce-acks1", "records_per_s", "producer records/s, acks=1", 1.5, null),
            new Figure("produce-acks1", "mib_per_s", "producer MiB/s, acks=1", null, null),
            new Figure("produce-acksall", "records_per_s", "producer records/s, acks=all", 1.5, null),
            new Figure("produce-acksall", "errors", "failed sends, acks=all (of records)", null, 0.0),
            new Figure("produce-acks1", "broker_cpu_us_per_record", "broker CPU µs/record, acks=1", null, null),
            new Figure("produce-acksall", "broker_cpu_us_per_record", "broker CPU µs/record, acks=all", null, null),
            new Figure("consume", "records_per_s", "consumer records/s", 1.0, null),
            new Figure("consume", "broker_cpu_us_per_record", "broker CPU µs/record, consumer", null, null),
            new Figure("latency", "produce_p50_ms", "produce latency p50 ms", null, null),
            new Figure("latency", "produce_p99_ms", "produce latency p99 ms", null, 5.0),
            new Figure("latency", "produce_p99.9_ms", "produce latency p99.9 ms", null, null),
            new Figure("latency", "e2e_p50_ms", "end-to-end p50 ms", null, null),
            new Figure("latency", "e2e_p99_ms", "end-to-end p99 ms", null, 10.0),
            new Figure("latency", "e2e_p99.9_ms", "end-to-end p99.9 ms", null, null),
            new Figure("latency", "errors", "latency: failed sends", null, 0.0),
            new Figure("e2e-max", "produce_records_per_s", "full speed: produced records/s", null, null),
            new Figure("e2e-max", "e2e_p50_ms", "full speed: end-to-end p50 ms", null, null),
            new Figure("e2e-max", "e2e_p99_ms", "full speed: end-to-end p99 ms", null, null),
            new Figure("e2e-max", "e2e_p99.9_ms", "full speed: end-to-end p99.9 ms", null, null),
            new Figure("mixed", "produce_records_per_s", "mixed: produced records/s", null, null),
            new Figure("mixed", "consume_records_per_s", "mixed: consumed records/s", null, null),
            new Figure("mixed", "e2e_p99_ms", "mixed: end-to-end p99 ms", null, null),
            new Figure("ws-fanout", "delivery_p50_ms", "WebSocket delivery p50 ms", null, null),
            new Figure("ws-fanout", "delivery_p99_ms", "WebSocket delivery p99 ms", null, 50.0),
            new Figure("ws-fanout", "delivery_p99.9_ms", "WebSocket delivery p99.9 ms", null, null),
            new Figure("ws-fanout", "rss_max_mib", "broker RSS max MiB (fan-out)", null, 512.0),
            new Figure("ws-fanout", "deliveries", "WebSocket deliveries (of expected)", null, null),
            new Figure("ws-fanout", "deliveries_missing", "WebSocket deliveries not seen", null, 0.0),
            new Figure("ws-fanout", "broker_cpu_us_per_delivery", "fan-out: broker CPU µs/delivery", null, null),
            new Figure("ws-fanout", "idle_socket_rss_kib", "fan-out: broker RSS KiB/idle socket", null, null),
            new Figure("ws-fanout", "idle_socket_heap_kib", "fan-out: broker heap KiB/idle socket", null, null),
            new Figure("ws-fanout-10k", "delivery_p50_ms", "10k: WebSocket delivery p50 ms", null, null),
            new Figure("ws-fanout-10k", "delivery_p99_ms", "10k: WebSocket delivery p99 ms", null, null),
            new Figure("ws-fanout-10k", "delivery_max_ms", "10k: WebSocket delivery max ms", null, null),
            new Figure("ws-fanout-10k", "deliveries", "10k: deliveries (of expected)", null, null),
            new Figure("ws-fanout-10k", "deliveries_missing", "10k: deliveries not seen", null, 0.0),
            new Figure("ws-fanout-10k", "rss_max_mib", "10k: broker RSS max MiB", null, null),
            new Figure("ws-fanout-10k", "broker_cpu_us_per_delivery", "10k: broker CPU µs/delivery", null, null),
            new Figure("ws-fanout-10k", "idle_socket_rss_kib", "10k: broker RSS KiB/idle socket", null, null),
            new Figure("ws-fanout-10k", "idle_socket_heap_kib", "10k: broker heap KiB/idle socket", null, null),
            new Figure("ws-fanout-10k", "connect_seconds", "10k: seconds to connect, subscribe", null, null));

    /** Three brokers, replication factor 3 (issue 12, Done-when item 9): the targets of a cluster run. */
    static final List<Figure> CLUSTER_FIGURES = List.of(
            new Figure("produce-acksall", "records_per_s", "producer records/s, acks=all", 1.5, null),
            new Figure("produce-acksall", "mib_per_s", "producer MiB/s, acks=all", null, null),
            new Figure("produce-acksall", "broker_cpu_us_per_record", "brokers' CPU µs/record (sum of nodes)", null,
                    null),
            new Figure("produce-acksall", "zookeeper_cpu_us_per_record", "ZooKeeper CPU µs/record", null, null),
            new Figure("produce-acksall", "harness_cpu_us_per_record", "client (harness) CPU µs/record", null, null),
            new Figure("produce-acksall", "broker_cores", "brokers' cores used while producing", null, null),
            new Figure("produce-acksall", "errors", "failed sends, acks=all (of records)", null, 0.0),
            new Figure("consume", "records_per_s", "consumer records/s", 1.0, null),
            new Figure("latency", "produce_p50_ms", "produce latency p50 ms", null, null),
            new Figure("latency", "produce_p99_ms", "produce latency p99 ms", null, 10.0),
            new Figure("latency", "produce_p99.9_ms", "produce latency p99.9 ms", null, null),
            new Figure("latency", "e2e_p50_ms", "end-to-end p50 ms", null, null),
            new Figure("latency", "e2e_p99_ms", "end-to-end p99 ms", null, null),
            new Figure("latency", "e2e_p99.9_ms", "end-to-end p99.9 ms", null, null),
            new Figure("latency", "broker_cpu_us_per_record", "fixed rate: brokers' CPU µs/record", null, null),
            new Figure("latency", "errors", "latency: failed sends", null, 0.0),
            new Figure("e2e-max", "produce_records_per_s", "full speed: produced records/s", null, null),
            new Figure("e2e-max", "e2e_p99_ms", "full speed: end-to-end p99 ms", null, null),
            new Figure("mixed", "produce_records_per_s", "mixed: produced records/s", null, null),
            new Figure("mixed", "consume_records_per_s", "mixed: consumed records/s", null, null));

    /** Failover time (issue 12, Done-when item 8). */
    static final List<Figure> FAILOVER_FIGURES = List.of(
            new Figure("failover", "failover_s", "kill → ack of the first record sent after it, s", null, 2.0),
            new Figure("failover", "first_ack_after_gap_s", "kill → first ack after the longest pause, s", null,
                    null),
            new Figure("failover", "ack_gap_s", "longest pause between acks, s", null, null),
            new Figure("failover", "acked_per_s_last_second_before_kill", "acks/s in the second before the kill",
                    null, null),
            new Figure("failover", "unacked_at_kill", "records sent and not yet acked at the kill", null, null),
            new Figure("failover", "send_lag_at_kill_s", "sender behind its schedule at the kill, s", null, null),
            new Figure("failover", "errors", "failed sends", null, 0.0),
            new Figure("failover", "offsets_repeated", "acked offsets repeated", null, 0.0),
            new Figure("failover", "offsets_backwards", "acked offsets out of order", null, 0.0),
            new Figure("failover", "killed_node", "killed node (the partition's leader)", null, null));

    /**
     * The scenarios on clusters of their own (issue 13, Done-when item 6), reported whatever else ran: the fan-out
     * over three brokers and a partition's move onto a fourth.
     */
    static final List<Figure> OWN_CLUSTER_FIGURES = List.of(
            new Figure("ws-fanout-cluster", "delivery_p50_ms", "3 brokers: WebSocket delivery p50 ms", null, null),
            new Figure("ws-fanout-cluster", "delivery_p99_ms", "3 brokers: WebSocket delivery p99 ms", null, 50.0),
            new Figure("ws-fanout-cluster", "delivery_p99.9_ms", "3 brokers: delivery p99.9 ms", null, null),
            new Figure("ws-fanout-cluster", "delivery_leader_p99_ms", "3 brokers: p99 ms, leader's subscribers",
                    null, null),
            new Figure("ws-fanout-cluster", "delivery_follower_p99_ms", "3 brokers: p99 ms, followers' subscribers",
                    null, null),
            new Figure("ws-fanout-cluster", "produce_p99_ms", "3 brokers: producer p99 ms (acks=1)", null, null),
            new Figure("ws-fanout-cluster", "expected_deliveries", "3 brokers: deliveries expected", null, null),
            new Figure("ws-fanout-cluster", "deliveries", "3 brokers: deliveries seen", null, null),
            new Figure("ws-fanout-cluster", "deliveries_missing", "3 brokers: deliveries not seen", null, 0.0),
            new Figure("ws-fanout-cluster", "leader_broker_cores", "3 brokers: leader's cores", null, null),
            new Figure("ws-fanout-cluster", "follower_broker_cores", "3 brokers: cores per follower", null, null),
            new Figure("ws-fanout-cluster", "leader_broker_rss_max_mib", "3 brokers: leader's RSS max MiB", null,
                    null),
            new Figure("ws-fanout-cluster", "follower_broker_rss_max_mib", "3 brokers: followers' RSS max MiB",
                    null, null),
            new Figure("ws-fanout-cluster", "broker_cpu_us_per_delivery", "3 brokers: CPU µs/delivery (sum)", null,
                    null),
            new Figure("reassign-1gib", "partition_mib", "move: partition MiB", null, null),
            new Figure("reassign-1gib", "move_s", "move: duration s", null, null),
            new Figure("reassign-1gib", "move_mib_per_s", "move: MiB/s over the duration", null, null),
            new Figure("reassign-1gib", "copy_s", "move: s until the new replica is in sync", null, null),
            new Figure("reassign-1gib", "produce_before_p99_ms", "move: producer p99 ms before", null, null),
            new Figure("reassign-1gib", "produce_during_p99_ms", "move: producer p99 ms during", null, null),
            new Figure("reassign-1gib", "produce_after_p99_ms", "move: producer p99 ms after", null, null),
            new Figure("reassign-1gib", "produce_during_max_ms", "move: producer max ms during", null, null),
            new Figure("reassign-1gib", "errors", "move: failed sends", null, 0.0),
            new Figure("reassign-1gib", "unanswered", "move: sends never answered", null, 0.0),
            new Figure("reassign-1gib", "readback_checked", "move: acked records read back", null, null),
            new Figure("reassign-1gib", "readback_missing", "move: acked records missing", null, 0.0),
            new Figure("reassign-1gib", "brokers_cores_during_move", "move: brokers' cores during", null, null));

    private final String title;
    private final String command;
    private final String settings;
    private final List<Figure> figures;
    private final String stamp;
    private final List<ScenarioResult> results;
    private final Background background;

    /** Whether {@code --background-load} ran a CPU burner beside the brokers, and how hard. */
    record Background(boolean on, double duty, int threads) {
        static final Background OFF = new Background(false, 0, 0);
    }

    /** The report of the broker and SDK load tests (LoadTest). */
    Report(LoadTest.Options o, String stamp, List<ScenarioResult> results) {
        this("Broker and SDK load tests", o.command(), settings(o),
                Stream.concat((o.failover() ? FAILOVER_FIGURES : o.cluster() ? CLUSTER_FIGURES : FIGURES).stream(),
                        OWN_CLUSTER_FIGURES.stream()).toList(), stamp, results,
                new Background(o.backgroundLoad(), o.backgroundLoadDuty(), o.backgroundLoadThreads()));
    }

    /**
     * A report of any harness: {@code figures} are its headline rows, {@code settings} says how it ran (printed with
     * the machine).
     */
    Report(String title, String command, String settings, List<Figure> figures, String stamp,
           List<ScenarioResult> results) {
        this(title, command, settings, figures, stamp, results, Background.OFF);
    }

    private Report(String title, String command, String settings, List<Figure> figures, String stamp,
                   List<ScenarioResult> results, Background background) {
        this.background = background;
        this.title = title;
        this.command = command;
        this.settings = settings;
        this.figures = figures;
        this.stamp = stamp;
        this.results = results;
    }

    private static String scenarioKey(ScenarioResult r) {
        return r.scenario.startsWith("latency-") ? "latency" : r.scenario;
    }

    List<Double> values(String scenario, String metric, String system) {
        return results.stream().filter(r -> r.system.equals(system) && scenarioKey(r).equals(scenario))
                .map(r -> r.metrics.get(metric)).filter(Objects::nonNull).toList();
    }

    static OptionalDouble median(List<Double> values) {
        if (values.isEmpty()) {
            return OptionalDouble.empty();
        }
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return OptionalDouble.of(n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2);
    }

    /** One row per headline figure that was measured. */
    List<Map<String, Object>> rows() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Figure f : figures) {
            List<Double> m = values(f.scenario(), f.metric(), "millrace");
            List<Double> k = values(f.scenario(), f.metric(), "kafka");
            if (m.isEmpty() && k.isEmpty()) {
                continue;
            }
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("scenario", f.scenario());
            row.put("figure", f.label());
            row.put("metric", f.metric());
            row.put("millrace_runs", m);
            row.put("kafka_runs", k);
            OptionalDouble mm = median(m);
            OptionalDouble km = median(k);
            mm.ifPresent(v -> row.put("millrace", v));
            km.ifPresent(v -> row.put("kafka", v));
            if (mm.isPresent() && km.isPresent() && km.getAsDouble() > 0) {
                row.put("ratio", mm.getAsDouble() / km.getAsDouble());
            }
            String target = "";
            String verdict = "";
            if (f.minRatio() != null) {
                target = "≥ " + f.minRatio() + "× Kafka";
                if (row.containsKey("ratio")) {
                    verdict = (double) row.get("ratio") >= f.minRatio() ? "PASS" : "FAIL";
                }
            } else if (f.max() != null) {
                target = "≤ " + fmt(f.max());
                if (mm.isPresent()) {
                    verdict = mm.getAsDouble() <= f.max() ? "PASS" : "FAIL";
                }
            }
            row.put("target", target);
            row.put("verdict", verdict);
            rows.add(row);
        }
        return rows;
    }

    static String fmt(double v) {
        if (Math.abs(v) >= 1000) {
            return String.format("%,.0f", v);
        }
        if (Math.abs(v) >= 100) {
            return String.format("%.0f", v);
        }
        return String.format("%.2f", v);
    }

    private static String runs(Object values) {
        @SuppressWarnings("unchecked")
        List<Double> list = (List<Double>) values;
        return list.stream().map(Report::fmt).collect(Collectors.joining(" / "));
    }

    static String oneLine(ScenarioResult r) {
        StringBuilder b = new StringBuilder(r.scenario).append(':');
        r.metrics.forEach((k, v) -> {
            if (!k.endsWith("_count") && !k.endsWith("_p90_ms")) {
                b.append(' ').append(k).append('=').append(fmt(v));
            }
        });
        r.notes.forEach((k, v) -> b.append(" [").append(k).append(": ").append(v).append(']'));
        return b.toString();
    }

    String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-38s %14s %14s %8s %-14s %s%n", "figure (median of runs)", "millrace", "kafka",
                "ratio", "target", ""));
        for (Map<String, Object> row : rows()) {
            b.append(String.format("%-38s %14s %14s %8s %-14s %s%n", row.get("figure"), cell(row, "millrace"),
                    cell(row, "kafka"), row.containsKey("ratio") ? String.format("%.2f", row.get("ratio")) : "",
                    row.get("target"), row.get("verdict")));
        }
        b.append(backgroundLoad()).append('\n');
        notes().forEach(n -> b.append("note: ").append(n).append('\n'));
        return b.toString();
    }

    private List<String> notes() {
        List<String> notes = new ArrayList<>();
        for (ScenarioResult r : results) {
            r.notes.forEach((k, v) -> notes.add(r.system + " run " + r.run + " " + r.scenario + ": " + k + ": " + v));
        }
        return notes;
    }

    private static String cell(Map<String, Object> row, String key) {
        return row.containsKey(key) ? fmt((double) row.get(key)) : "";
    }

    String markdown() {
        StringBuilder b = new StringBuilder("# ").append(title).append(", ").append(stamp).append("\n\n");
        b.append("Command: `").append(command).append("`  \n");
        b.append(machine()).append("  \n");
        b.append(backgroundLoad()).append("\n\n");
        b.append("| figure | Millrace (median) | Kafka (median) | Millrace/Kafka | target | verdict | Millrace runs | Kafka runs |\n");
        b.append("|---|---|---|---|---|---|---|---|\n");
        for (Map<String, Object> row : rows()) {
            b.append("| ").append(row.get("figure")).append(" | ").append(cell(row, "millrace")).append(" | ")
                    .append(cell(row, "kafka")).append(" | ")
                    .append(row.containsKey("ratio") ? String.format("%.2f", row.get("ratio")) : "").append(" | ")
                    .append(row.get("target")).append(" | ").append(row.get("verdict")).append(" | ")
                    .append(runs(row.get("millrace_runs"))).append(" | ").append(runs(row.get("kafka_runs")))
                    .append(" |\n");
        }
        List<String> notes = notes();
        if (!notes.isEmpty()) {
            b.append("\nNotes:\n");
            notes.forEach(n -> b.append("- ").append(n).append('\n'));
        }
        return b.toString();
    }

    private String machine() {
        return "Machine: " + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java "
                + System.getProperty("java.version") + ", " + loadAverage() + "; settings: " + settings;
    }

    /**
     * The machine's load average when the report is written: with {@code --background-load} the burner is a known
     * part of the contention, and this says how much other tenants of the machine added.
     */
    private static String loadAverage() {
        try {
            String[] fields = Files.readAllLines(Path.of("/proc/loadavg")).get(0).split(" ");
            return "load average " + fields[0] + " / " + fields[1] + " / " + fields[2] + " (1/5/15 min, at the end)";
        } catch (IOException | RuntimeException e) {
            return "load average unknown";
        }
    }

    private static String settings(LoadTest.Options o) {
        if (o.failover()) {
            return o.brokers() + " brokers, replication factor " + o.replicationFactor() + ", min.insync.replicas="
                    + o.minInsyncReplicas() + "; one idempotent acks=all producer, " + o.failoverRate()
                    + " records/s of " + o.recordSize() + " B to one partition, batch.size=" + o.batchSize()
                    + ", linger.ms=" + o.lingerMs() + "; leader SIGKILLed after " + o.failoverBeforeSeconds()
                    + " s, then " + o.failoverAfterSeconds() + " s more; Millrace zookeeper.session.timeout.ms="
                    + MillraceCluster.SESSION_TIMEOUT_MS + " (bin/local-cluster's), Kafka defaults; runs=" + o.runs();
        }
        String cluster = o.cluster() ? o.brokers() + " brokers, replication factor " + o.replicationFactor()
                + ", min.insync.replicas=" + o.minInsyncReplicas() + "; " : "";
        return cluster + "records=" + o.records() + ", record size=" + o.recordSize() + " B, batch.size=" + o.batchSize()
                + ", linger.ms=" + o.lingerMs() + ", buffer.memory=" + o.bufferMemory() + ", producers="
                + o.producers() + ", partitions=" + o.partitions() + ", latency: " + o.rate() + " records/s for "
                + o.latencySeconds() + " s after " + o.warmupSeconds() + " s warm-up, acks="
                + (o.latencyAcks() == -1 ? "all" : o.latencyAcks())
                + (o.cluster() ? "" : "; fan-out: " + o.wsSubscribers() + " subscribers, " + o.wsRate()
                        + " records/s, and (10k) " + o.ws10kSubscribers() + " subscribers, " + o.ws10kRate()
                        + " records/s, of " + o.wsRecordSize() + " B for " + o.wsSeconds() + " s after "
                        + o.wsWarmupSeconds() + " s warm-up" + wsLinger(o))
                + ownClusters(o) + "; runs=" + o.runs();
    }

    /** The linger the fan-out subscribers ask for, or the broker's default when they ask for none. */
    private static String wsLinger(LoadTest.Options o) {
        String broker = System.getenv("MILLRACE_WS_PUSH_LINGER_MS");
        return o.wsLingerMs() >= 0 ? ", subscribers ask lingerMs " + o.wsLingerMs()
                : ", subscribers ask no lingerMs (broker's ws.push.linger.ms: "
                        + (broker == null ? "default" : broker + " from MILLRACE_WS_PUSH_LINGER_MS") + ")";
    }

    /** The settings of the scenarios on clusters of their own, when any was chosen. */
    private static String ownClusters(LoadTest.Options o) {
        String s = "";
        if (o.scenarios().contains(OwnClusters.FAN_OUT)) {
            s += "; " + OwnClusters.FAN_OUT + ": " + OwnClusters.BROKERS + " brokers, replication factor 3, "
                    + o.wsSubscribers() + " subscribers round robin over them, " + o.wsRate() + " records/s of "
                    + o.wsRecordSize() + " B for " + o.wsSeconds() + " s after " + o.wsWarmupSeconds() + " s warm-up"
                    + wsLinger(o);
        }
        if (o.scenarios().contains(PartitionMove.SCENARIO)) {
            s += "; " + PartitionMove.SCENARIO + ": " + OwnClusters.BROKERS + " brokers + 1 added, "
                    + o.reassignFillBytes() + " B of values in the partition, steady idempotent acks=all producer "
                    + o.reassignRate() + " records/s of " + o.recordSize() + " B, " + o.reassignBeforeSeconds()
                    + " s before and " + o.reassignAfterSeconds() + " s after the move, throttle "
                    + (o.reassignThrottle() > 0 ? o.reassignThrottle() + " B/s" : "none");
        }
        return s;
    }

    /** The burner's measured cores in every scenario of {@code system}, in the order they ran. */
    private List<Double> backgroundCores(String system) {
        return results.stream().filter(r -> r.system.equals(system))
                .map(r -> r.metrics.get("background_load_cores")).filter(Objects::nonNull).toList();
    }

    /**
     * Whether {@code --background-load} was on and, if so, what the burner took in each system's scenarios
     * (median, min and max of its cores), so that a reader sees both were measured under the same contention.
     */
    String backgroundLoad() {
        if (!background.on()) {
            return "Background load: off";
        }
        StringBuilder b = new StringBuilder(String.format("Background load: on, %d thread(s) at %.0f %% duty (%s "
                        + "ms periods) in a process of its own, during every scenario; measured",
                background.threads(), background.duty() * 100, BackgroundLoad.PERIOD_MS));
        for (String system : List.of("millrace", "kafka")) {
            List<Double> cores = backgroundCores(system);
            if (!cores.isEmpty()) {
                b.append(String.format(" %s %s cores (median of %d scenarios, %s-%s)", system,
                        fmt(median(cores).getAsDouble()), cores.size(),
                        fmt(cores.stream().mapToDouble(Double::doubleValue).min().getAsDouble()),
                        fmt(cores.stream().mapToDouble(Double::doubleValue).max().getAsDouble())));
            }
        }
        return b.toString();
    }

    String json() {
        JsonObject root = new JsonObject().put("time", stamp).put("command", command).put("machine", machine());
        JsonObject load = new JsonObject().put("enabled", background.on());
        if (background.on()) {
            load.put("duty", background.duty()).put("threads", background.threads());
            for (String system : List.of("millrace", "kafka")) {
                List<Double> cores = backgroundCores(system);
                if (!cores.isEmpty()) {
                    load.put(system + "_cores_per_scenario", new JsonArray(new ArrayList<Object>(cores)));
                }
            }
        }
        root.put("background_load", load);
        JsonArray summary = new JsonArray();
        rows().forEach(r -> summary.add(new JsonObject(new LinkedHashMap<>(r))));
        root.put("summary", summary);
        JsonArray runs = new JsonArray();
        for (ScenarioResult r : results) {
            JsonObject series = new JsonObject();
            r.series.forEach((name, points) -> {
                JsonArray list = new JsonArray();
                synchronized (points) {
                    points.forEach(p -> list.add(new JsonArray().add(p[0]).add(p[1])));
                }
                series.put(name, list);
            });
            runs.add(new JsonObject().put("scenario", r.scenario).put("system", r.system).put("run", r.run)
                    .put("metrics", new JsonObject(new LinkedHashMap<>(r.metrics)))
                    .put("notes", new JsonObject(new LinkedHashMap<>(r.notes))).put("series", series));
        }
        root.put("runs", runs);
        return root.encodePrettily();
    }

    // ---- HTML with inline SVG charts (no scripts, no external resources) ----

    private static final String MILLRACE_COLOR = "#1565c0";
    private static final String KAFKA_COLOR = "#e65100";

    String html() {
        StringBuilder b = new StringBuilder();
        b.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Millrace: ").append(esc(title)).append(' ').append(stamp)
                .append("</title><style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}"
                        + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                        + "td:first-child,th:first-child{text-align:left}.PASS{color:#2e7d32;font-weight:bold}"
                        + ".FAIL{color:#c62828;font-weight:bold}svg{background:#fafafa;border:1px solid #ddd;margin:4px}"
                        + "code{background:#f3f3f3;padding:1px 4px}</style></head><body>");
        b.append("<h1>").append(esc(title)).append("</h1><p>").append(esc(stamp)).append("<br>Command: <code>")
                .append(esc(command)).append("</code><br>").append(esc(machine())).append("<br>")
                .append(esc(backgroundLoad())).append("</p>");
        b.append("<p><span style=\"color:").append(MILLRACE_COLOR).append("\">■ Millrace</span> &nbsp; <span style=\"color:")
                .append(KAFKA_COLOR).append("\">■ Apache Kafka</span></p>");
        b.append("<h2>Summary (median of runs)</h2><table><tr><th>figure</th><th>Millrace</th><th>Kafka</th>"
                + "<th>Millrace/Kafka</th><th>target</th><th></th><th>Millrace runs</th><th>Kafka runs</th></tr>");
        for (Map<String, Object> row : rows()) {
            b.append("<tr><td>").append(esc((String) row.get("figure"))).append("</td><td>")
                    .append(cell(row, "millrace")).append("</td><td>").append(cell(row, "kafka")).append("</td><td>")
                    .append(row.containsKey("ratio") ? String.format("%.2f", row.get("ratio")) : "")
                    .append("</td><td>").append(esc((String) row.get("target"))).append("</td><td class=\"")
                    .append(row.get("verdict")).append("\">").append(row.get("verdict")).append("</td><td>")
                    .append(runs(row.get("millrace_runs"))).append("</td><td>").append(runs(row.get("kafka_runs")))
                    .append("</td></tr>");
        }
        b.append("</table>");
        List<String> notes = notes();
        if (!notes.isEmpty()) {
            b.append("<ul>");
            notes.forEach(n -> b.append("<li>").append(esc(n)).append("</li>"));
            b.append("</ul>");
        }
        Map<String, List<ScenarioResult>> byScenario = results.stream()
                .collect(Collectors.groupingBy(Report::scenarioKey, LinkedHashMap::new, Collectors.toList()));
        byScenario.forEach((scenario, rs) -> {
            b.append("<h2>").append(esc(scenario)).append("</h2>");
            Map<String, List<ScenarioResult>> bySeries = new LinkedHashMap<>();
            for (ScenarioResult r : rs) {
                r.series.keySet().forEach(name -> bySeries.computeIfAbsent(name, n -> new ArrayList<>()).add(r));
            }
            bySeries.forEach((name, withSeries) -> b.append(lineChart(name + " over time (each line one run)",
                    name, withSeries)));
            b.append(latencyChart(scenario, rs));
        });
        b.append("</body></html>\n");
        return b.toString();
    }

    private static String lineChart(String title, String seriesName, List<ScenarioResult> rs) {
        int w = 520;
        int h = 260;
        int left = 70;
        int bottom = 30;
        double maxX = 0;
        double maxY = 0;
        for (ScenarioResult r : rs) {
            synchronized (r.series(seriesName)) {
                for (double[] p : r.series(seriesName)) {
                    maxX = Math.max(maxX, p[0]);
                    maxY = Math.max(maxY, p[1]);
                }
            }
        }
        if (maxX == 0 || maxY == 0) {
            return "";
        }
        StringBuilder s = new StringBuilder();
        s.append("<svg width=\"").append(w).append("\" height=\"").append(h).append("\" viewBox=\"0 0 ").append(w)
                .append(' ').append(h).append("\"><text x=\"").append(left).append("\" y=\"14\" font-size=\"12\">")
                .append(esc(title)).append("</text>");
        axes(s, w, h, left, bottom, maxX, maxY, "s");
        for (ScenarioResult r : rs) {
            s.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"")
                    .append(r.system.equals("kafka") ? KAFKA_COLOR : MILLRACE_COLOR)
                    .append("\" stroke-opacity=\"0.8\" points=\"");
            synchronized (r.series(seriesName)) {
                for (double[] p : r.series(seriesName)) {
                    s.append(String.format("%.1f,%.1f ", left + p[0] / maxX * (w - left - 10),
                            h - bottom - p[1] / maxY * (h - bottom - 25)));
                }
            }
            s.append("\"><title>").append(r.system).append(" run ").append(r.run).append("</title></polyline>");
        }
        return s.append("</svg>").toString();
    }

    private static void axes(StringBuilder s, int w, int h, int left, int bottom, double maxX, double maxY,
                             String xUnit) {
        s.append(String.format("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>", left, h - bottom,
                w - 10, h - bottom));
        s.append(String.format("<line x1=\"%d\" y1=\"25\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>", left, left,
                h - bottom));
        for (int i = 0; i <= 4; i++) {
            double y = maxY * i / 4;
            double py = h - bottom - (double) i / 4 * (h - bottom - 25);
            s.append(String.format("<text x=\"%d\" y=\"%.0f\" font-size=\"10\" text-anchor=\"end\">%s</text>",
                    left - 4, py + 3, fmt(y)));
            s.append(String.format("<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" stroke=\"#e0e0e0\"/>", left,
                    py, w - 10, py));
            if (xUnit != null) {
                double x = maxX * i / 4;
                double px = left + (double) i / 4 * (w - left - 10);
                s.append(String.format("<text x=\"%.0f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s %s</text>",
                        px, h - bottom + 14, fmt(x), xUnit));
            }
        }
    }

    /** Grouped bars of the median p50/p90/p99/p99.9/max per system for each latency prefix of the scenario. */
    private String latencyChart(String scenario, List<ScenarioResult> rs) {
        StringBuilder out = new StringBuilder();
        for (String prefix : List.of("produce", "e2e", "delivery", "ack")) {
            List<String> pcts = List.of("p50", "p90", "p99", "p99.9", "max");
            Map<String, double[]> bySystem = new LinkedHashMap<>();
            for (String system : List.of("millrace", "kafka")) {
                double[] v = new double[pcts.size()];
                boolean any = false;
                for (int i = 0; i < pcts.size(); i++) {
                    OptionalDouble m = median(values(scenario, prefix + "_" + pcts.get(i) + "_ms", system));
                    v[i] = m.orElse(Double.NaN);
                    any |= m.isPresent();
                }
                if (any) {
                    bySystem.put(system, v);
                }
            }
            if (bySystem.isEmpty()) {
                continue;
            }
            double maxY = bySystem.values().stream().flatMapToDouble(java.util.Arrays::stream)
                    .filter(d -> !Double.isNaN(d)).max().orElse(1);
            int w = 520;
            int h = 260;
            int left = 70;
            int bottom = 30;
            StringBuilder s = new StringBuilder();
            s.append("<svg width=\"").append(w).append("\" height=\"").append(h).append("\"><text x=\"").append(left)
                    .append("\" y=\"14\" font-size=\"12\">").append(esc(prefix + " latency, ms (median of runs)"))
                    .append("</text>");
            axes(s, w, h, left, bottom, 0, maxY, null);
            double group = (w - left - 10.0) / pcts.size();
            double bar = group * 0.8 / bySystem.size();
            for (int i = 0; i < pcts.size(); i++) {
                s.append(String.format("<text x=\"%.0f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>",
                        left + group * (i + 0.5), h - bottom + 14, pcts.get(i)));
                int j = 0;
                for (Map.Entry<String, double[]> e : bySystem.entrySet()) {
                    double v = e.getValue()[i];
                    if (!Double.isNaN(v)) {
                        double bh = v / maxY * (h - bottom - 25);
                        double x = left + group * i + group * 0.1 + bar * j;
                        s.append(String.format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                                        + "<title>%s %s %s ms</title></rect>", x, h - bottom - bh, bar - 2, bh,
                                e.getKey().equals("kafka") ? KAFKA_COLOR : MILLRACE_COLOR, e.getKey(), pcts.get(i),
                                fmt(v)));
                        s.append(String.format("<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"middle\">%s</text>",
                                x + bar / 2 - 1, h - bottom - bh - 2, fmt(v)));
                    }
                    j++;
                }
            }
            out.append(s.append("</svg>"));
        }
        return out.toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
