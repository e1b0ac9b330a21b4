package io.millrace.loadtests.broker;

import io.millrace.loadtests.broker.Report.Figure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Apache Kafka's own performance tools, {@code org.apache.kafka.tools.ProducerPerformance} and
 * {@code ConsumerPerformance} (kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh), with the same settings
 * against Millrace's Kafka listener and against Apache Kafka, one fresh single broker per system and run (alternating
 * which goes first). Each run: the producer tool at full speed, the consumer tool reading what it wrote, then the
 * producer tool at a fixed rate for its latency percentiles; the broker's CPU time per record from /proc around each.
 * Each tool runs in a JVM of its own, as its script runs it (it ends with {@code Exit}); this harness only starts
 * processes, parses the tools' summary lines and writes the report. Run it through
 * {@code load-tests/run-kafka-tools-bench.sh}; {@code --help} lists the options.
 */
public final class KafkaToolsBenchmark {

    static final String PRODUCER_PERFORMANCE = "org.apache.kafka.tools.ProducerPerformance";
    static final String CONSUMER_PERFORMANCE = "org.apache.kafka.tools.ConsumerPerformance";

    /** The tools' scripts' heap (KAFKA_HEAP_OPTS of kafka-*-perf-test.sh), then kafka-run-class.sh's options. */
    static final List<String> TOOL_JVM_OPTS = Stream.concat(Stream.of("-Xmx512M"),
            KafkaBroker.KAFKA_PERFORMANCE_OPTS.stream()).toList();

    /**
     * Millrace's settings beyond MillraceBroker's: the group join without the initial rebalance delay, as
     * {@link KafkaBroker} configures Kafka (ConsumerPerformance's records/s counts from before the join).
     */
    static final List<String> MILLRACE_SETTINGS = List.of("group.initial.rebalance.delay.ms=0");

    static final String THROUGHPUT_TOPIC = "perf-throughput";
    static final String FIXED_RATE_TOPIC = "perf-fixed-rate";

    /** Issue 14, Done-when item 6. */
    static final List<Figure> FIGURES = List.of(
            new Figure("producer", "records_per_s", "ProducerPerformance records/s", 1.5, null),
            new Figure("producer", "mib_per_s", "ProducerPerformance MiB/s", null, null),
            new Figure("producer", "avg_ms", "full speed: avg latency ms", null, null),
            new Figure("producer", "p99_ms", "full speed: p99 latency ms", null, null),
            new Figure("producer", "broker_cpu_us_per_record", "producer: broker CPU µs/record", null, null),
            new Figure("consumer", "records_per_s", "ConsumerPerformance records/s", 1.0, null),
            new Figure("consumer", "fetch_records_per_s", "consumer records/s without group join", null, null),
            new Figure("consumer", "rebalance_ms", "consumer group join ms", null, null),
            new Figure("consumer", "broker_cpu_us_per_record", "consumer: broker CPU µs/record", null, null),
            new Figure("fixed-rate", "records_per_s", "fixed rate: records/s achieved", null, null),
            new Figure("fixed-rate", "p50_ms", "fixed rate, after warm-up: p50 latency ms", null, null),
            new Figure("fixed-rate", "p95_ms", "fixed rate, after warm-up: p95 latency ms", null, null),
            new Figure("fixed-rate", "p99_ms", "fixed rate, after warm-up: p99 latency ms", null, 5.0),
            new Figure("fixed-rate", "p99.9_ms", "fixed rate, after warm-up: p99.9 latency ms", null, null),
            new Figure("fixed-rate", "max_ms", "fixed rate, after warm-up: max latency ms", null, null),
            new Figure("fixed-rate", "p99_all_ms", "fixed rate, warm-up included: p99 latency ms", null, null),
            new Figure("fixed-rate", "broker_cpu_us_per_record", "fixed rate: broker CPU µs/record", null, null),
            new Figure("fixed-rate", "broker_rss_mib", "broker RSS MiB after the run", null, null));

    /**
     * ProducerPerformance's summary lines: {@code N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max
     * latency, P ms 50th, P ms 95th, P ms 99th, P ms 99.9th.} for the whole run and, with {@code --warmup-records},
     * the same with {@code N steady state records sent} for the records after the warm-up. Its percentiles are whole
     * milliseconds.
     */
    static final Pattern PRODUCER_SUMMARY = Pattern.compile("(\\d+)( steady state)? records sent, ([\\d.]+) records/sec \\(([\\d.]+) "
            + "MB/sec\\), ([\\d.]+) ms avg latency, ([\\d.]+) ms max latency, (\\d+) ms 50th, (\\d+) ms 95th, "
            + "(\\d+) ms 99th, (\\d+) ms 99.9th\\.");

    record Options(int runs, long records, int recordSize, int partitions, String acks, int rate, int rateSeconds,
                   int rateWarmupSeconds, List<String> systems, int timeoutSeconds, String millraceJavaOpts, String kafkaJavaOpts, Path home,
                   Path results, String kafkaClassPath, String command) {

        long fixedRateRecords() {
            return (long) rate * rateSeconds;
        }

        long fixedRateWarmupRecords() {
            return (long) rate * rateWarmupSeconds;
        }

        String settings() {
            return "one broker (Millrace with --set " + String.join(" --set ", MILLRACE_SETTINGS)
                    + ", Kafka with group.initial.rebalance.delay.ms=0), topics of " + partitions + " partition(s), replication factor 1; ProducerPerformance "
                    + "--num-records " + records + " --record-size " + recordSize + " --throughput -1 "
                    + "--producer-props acks=" + acks + " (client defaults otherwise: idempotence on with acks=all, "
                    + "batch.size 16384, linger.ms 5); ConsumerPerformance --messages " + records + "; fixed rate: "
                    + "ProducerPerformance --throughput " + rate + " --num-records " + fixedRateRecords() + " ("
                    + rateSeconds + " s) --warmup-records " + fixedRateWarmupRecords() + " (its first "
                    + rateWarmupSeconds + " s, left out of the latency figures) to a topic of its own; tools' JVM " + String.join(" ", TOOL_JVM_OPTS)
                    + "; runs=" + runs;
        }
    }

    private static final String HELP = """
            Usage: load-tests/run-kafka-tools-bench.sh [options]
              --runs N                 repetitions; each figure is the median over runs (default 3)
              --records N              records of ProducerPerformance at full speed and of ConsumerPerformance
                                       (default 5000000: with fewer, the first seconds' JIT compilation in
                                       both brokers and the tool weighs on the figures)
              --record-size B          record size (default 1024)
              --partitions N           partitions of each topic (default 1)
              --acks A                 the producer's acks, the same for both systems (default all)
              --rate N                 records/s of the fixed-rate ProducerPerformance (default 10000), for
              --rate-seconds N         seconds (default 30)
              --rate-warmup-seconds N  the fixed-rate run's first N seconds of records are its warm-up
                                       (ProducerPerformance --warmup-records), left out of its latency
                                       figures; the whole run's p99 is reported too (default 5)
              --systems a,b            millrace and/or kafka (default millrace,kafka)
              --timeout-seconds N      limit of each tool run; the tool is killed after it (default 300)
              --millrace-java-opts S   extra JVM options of the Millrace broker (MILLRACE_JAVA_OPTS)
              --kafka-java-opts S      extra JVM options of the Kafka broker
            """;

    /** What runs now, for the shutdown hook (Ctrl-C): stopped by PID there. */
    private static volatile BrokerUnderTest currentBroker;
    private static volatile Process currentTool;

    private KafkaToolsBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Options o = parse(args);
        String stamp = LoadTest.stamp();
        Path logs = Files.createDirectories(o.results().resolve("kafka-tools-" + stamp + "-logs"));
        Path dataRoot = Files.createDirectories(o.home().resolve("load-tests/target/kafka-tools-data"));
        Runtime.getRuntime().addShutdownHook(new Thread(KafkaToolsBenchmark::stopWhatRuns, "stop-on-exit"));
        List<ScenarioResult> results = new ArrayList<>();
        for (int run = 1; run <= o.runs(); run++) {
            List<String> systems = new ArrayList<>(o.systems());
            if (run % 2 == 0) {
                // Alternate which system goes first, so slow drift of a shared machine favours neither.
                Collections.reverse(systems);
            }
            for (String system : systems) {
                Path data = dataRoot.resolve(system + "-" + stamp + "-" + run);
                Path log = logs.resolve(system + "-run" + run + ".log");
                BrokerUnderTest broker = system.equals("kafka")
                        ? new KafkaBroker(o.kafkaClassPath(), data, log, o.kafkaJavaOpts())
                        : new MillraceBroker(o.home(), data, log, o.millraceJavaOpts(), MILLRACE_SETTINGS);
                System.out.printf("== run %d/%d: %s (log %s)%n", run, o.runs(), system, log);
                currentBroker = broker;
                try (broker) {
                    broker.start();
                    System.out.printf("   broker pid %d, Kafka listener %s%n", broker.pid(), broker.kafkaBootstrap());
                    runTools(o, broker, run, logs.resolve(system + "-run" + run + "-"), results);
                } catch (Exception e) {
                    LoadTest.failed(system, run, e, results);
                } finally {
                    currentBroker = null;
                }
            }
        }
        Report report = new Report("Kafka's own performance tools", o.command(), o.settings(), FIGURES, stamp,
                results);
        System.out.println();
        System.out.println(report.table());
        Path base = o.results().resolve("kafka-tools-" + stamp);
        Files.writeString(Path.of(base + ".md"), report.markdown());
        Files.writeString(Path.of(base + ".json"), report.json());
        System.out.println("Report: " + base + ".{md,json}; broker and tool logs: " + logs);
        BrokerUnderTest.deleteTree(dataRoot);
        System.exit(0);
    }

    /** The three phases on a started broker, each once the broker is idle. */
    private static void runTools(Options o, BrokerUnderTest broker, int run, Path logPrefix,
                                 List<ScenarioResult> results) throws Exception {
        String system = broker.system();
        createTopics(broker.kafkaBootstrap(), o.partitions());

        broker.awaitQuiet(30_000);
        ScenarioResult producer = withBrokerCpu(broker, () -> producerPerformance(o, broker, system, run, "producer",
                THROUGHPUT_TOPIC, o.records(), -1, 0, Path.of(logPrefix + "producer.log")));
        report(producer, results);

        broker.awaitQuiet(30_000);
        ScenarioResult consumer = withBrokerCpu(broker, () -> consumerPerformance(o, broker, system, run,
                Path.of(logPrefix + "consumer.log")));
        report(consumer, results);

        broker.awaitQuiet(30_000);
        ScenarioResult fixedRate = withBrokerCpu(broker, () -> producerPerformance(o, broker, system, run,
                "fixed-rate", FIXED_RATE_TOPIC, o.fixedRateRecords(), o.rate(), o.fixedRateWarmupRecords(),
                Path.of(logPrefix + "fixed-rate.log")));
        fixedRate.metric("broker_rss_mib", broker.residentBytes().orElse(0) / 1048576.0);
        report(fixedRate, results);
    }

    private static void report(ScenarioResult r, List<ScenarioResult> results) {
        results.add(r);
        System.out.println("   " + Report.oneLine(r));
    }

    /**
     * {@link LoadTest#withCpu}, less its harness figure: the clients here are the tools' own JVMs, not this one.
     */
    private static ScenarioResult withBrokerCpu(BrokerUnderTest broker,
                                                Callable<ScenarioResult> phase)
            throws Exception {
        ScenarioResult r = LoadTest.withCpu(broker, phase);
        r.metrics.remove("harness_cpu_us_per_record");
        return r;
    }

    /** Both topics through the Kafka protocol (CreateTopics), as kafka-topics.sh would: replication factor 1. */
    private static void createTopics(String bootstrap, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(THROUGHPUT_TOPIC, partitions, (short) 1),
                    new NewTopic(FIXED_RATE_TOPIC, partitions, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
    }

    /**
     * ProducerPerformance's figures: with {@code warmupRecords} above 0 the latency figures are those of the records
     * after the warm-up (the tool's steady-state line) and {@code p99_all_ms} the whole run's p99.
     */
    private static ScenarioResult producerPerformance(Options o, BrokerUnderTest broker, String system, int run,
                                                      String phase, String topic, long records, int throughput,
                                                      long warmupRecords, Path log) throws Exception {
        List<String> args = new ArrayList<>(List.of("--topic", topic,
                "--num-records", Long.toString(records), "--record-size", Integer.toString(o.recordSize()),
                "--throughput", Integer.toString(throughput)));
        if (warmupRecords > 0) {
            args.addAll(List.of("--warmup-records", Long.toString(warmupRecords)));
        }
        args.addAll(List.of("--producer-props", "acks=" + o.acks(), "bootstrap.servers=" + broker.kafkaBootstrap()));
        List<String> output = runTool(o, log, PRODUCER_PERFORMANCE, args.toArray(String[]::new));
        Matcher whole = null;
        Matcher steady = null;
        for (String line : output) {
            Matcher candidate = PRODUCER_SUMMARY.matcher(line);
            if (candidate.find()) {
                if (candidate.group(2) == null) {
                    whole = candidate;
                } else {
                    steady = candidate;
                }
            }
        }
        if (whole == null || (warmupRecords > 0 && steady == null)) {
            throw new IllegalStateException("no ProducerPerformance summary" + (warmupRecords > 0 ? " (whole run and"
                    + " steady state)" : "") + " in " + log + ":\n" + tail(output));
        }
        Matcher latency = warmupRecords > 0 ? steady : whole;
        ScenarioResult r = new ScenarioResult(phase, system, run);
        r.metric("records", Double.parseDouble(whole.group(1)));
        r.metric("records_per_s", Double.parseDouble(whole.group(3)));
        r.metric("mib_per_s", Double.parseDouble(whole.group(4)));
        r.metric("avg_ms", Double.parseDouble(latency.group(5)));
        r.metric("max_ms", Double.parseDouble(latency.group(6)));
        r.metric("p50_ms", Double.parseDouble(latency.group(7)));
        r.metric("p95_ms", Double.parseDouble(latency.group(8)));
        r.metric("p99_ms", Double.parseDouble(latency.group(9)));
        r.metric("p99.9_ms", Double.parseDouble(latency.group(10)));
        if (warmupRecords > 0) {
            r.metric("warmup_records", warmupRecords);
            r.metric("p99_all_ms", Double.parseDouble(whole.group(9)));
        }
        long failed = output.stream().filter(line -> line.contains("Error when sending message")).count();
        if (failed > 0) {
            r.notes.put("send errors", failed + " lines of 'Error when sending message' in " + log);
        }
        return r;
    }

    /**
     * ConsumerPerformance reading the full-speed topic from the start: its CSV line under its header (start.time,
     * end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms,
     * fetch.MB.sec, fetch.nMsg.sec). nMsg.sec counts from before the group join, fetch.nMsg.sec from after it.
     */
    private static ScenarioResult consumerPerformance(Options o, BrokerUnderTest broker, String system, int run,
                                                      Path log) throws Exception {
        List<String> output = runTool(o, log, CONSUMER_PERFORMANCE, "--bootstrap-server", broker.kafkaBootstrap(),
                "--topic", THROUGHPUT_TOPIC, "--messages", Long.toString(o.records()), "--timeout", "30000");
        Map<String, String> row = consumerRow(output);
        if (row == null) {
            throw new IllegalStateException("no ConsumerPerformance result in " + log + ":\n" + tail(output));
        }
        ScenarioResult r = new ScenarioResult("consumer", system, run);
        r.metric("records", Double.parseDouble(row.get("data.consumed.in.nMsg")));
        r.metric("records_per_s", Double.parseDouble(row.get("nMsg.sec")));
        r.metric("mib_per_s", Double.parseDouble(row.get("MB.sec")));
        r.metric("fetch_records_per_s", Double.parseDouble(row.get("fetch.nMsg.sec")));
        r.metric("fetch_mib_per_s", Double.parseDouble(row.get("fetch.MB.sec")));
        r.metric("rebalance_ms", Double.parseDouble(row.get("rebalance.time.ms")));
        r.metric("fetch_ms", Double.parseDouble(row.get("fetch.time.ms")));
        if (r.metrics.get("records") < o.records()) {
            r.notes.put("short", "consumed " + r.metrics.get("records").longValue() + " of " + o.records()
                    + " records before ConsumerPerformance's --timeout");
        }
        return r;
    }

    /** The line after ConsumerPerformance's header, by column name; null when there is none. */
    static Map<String, String> consumerRow(List<String> output) {
        for (int i = 0; i + 1 < output.size(); i++) {
            if (output.get(i).startsWith("start.time, end.time")) {
                String[] names = output.get(i).split(",\\s*");
                String[] values = output.get(i + 1).split(",\\s*");
                if (values.length != names.length) {
                    return null;
                }
                Map<String, String> row = new LinkedHashMap<>();
                for (int c = 0; c < names.length; c++) {
                    row.put(names[c].trim(), values[c].trim());
                }
                return row;
            }
        }
        return null;
    }

    /**
     * Runs a tool's main class in a JVM of its own with its output in {@code log}, at most
     * {@code --timeout-seconds}; returns its output lines (the log starts with the command line). A tool that fails or overruns is stopped by PID and
     * fails the phase.
     */
    private static List<String> runTool(Options o, Path log, String mainClass, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(TOOL_JVM_OPTS);
        // The tools format their figures with the default locale; the parser reads English numbers.
        command.add("-Duser.language=en");
        command.add("-Duser.country=US");
        command.add("-Dlogback.configurationFile=" + System.getProperty("logback.configurationFile", ""));
        command.add("-cp");
        command.add(o.kafkaClassPath());
        command.add(mainClass);
        command.addAll(Arrays.asList(args));
        Files.writeString(log, String.join(" ", command) + "\n");
        Process tool = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        currentTool = tool;
        try {
            if (!tool.waitFor(o.timeoutSeconds(), TimeUnit.SECONDS)) {
                BrokerUnderTest.stop(List.of(tool));
                throw new IllegalStateException(mainClass + " still running after " + o.timeoutSeconds()
                        + " s; stopped it; log: " + log);
            }
        } finally {
            currentTool = null;
        }
        List<String> lines = Files.readAllLines(log);
        List<String> output = lines.subList(1, lines.size()); // after the command line
        if (tool.exitValue() != 0) {
            throw new IllegalStateException(mainClass + " exited with " + tool.exitValue() + "; log " + log + ":\n"
                    + tail(output));
        }
        return output;
    }

    private static String tail(List<String> lines) {
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }

    /** On Ctrl-C (or any exit): the tool and the broker that run now, by PID, and the broker's data folder. */
    private static void stopWhatRuns() {
        Process tool = currentTool;
        BrokerUnderTest broker = currentBroker;
        try {
            if (tool != null) {
                BrokerUnderTest.stop(List.of(tool));
            }
            if (broker != null) {
                broker.close();
            }
        } catch (Exception e) {
            System.err.println("could not stop everything on exit: " + e);
        }
    }

    static Options parse(String[] args) {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                System.out.print(HELP);
                System.exit(0);
            } else if (args[i].startsWith("--") && i + 1 < args.length) {
                a.put(args[i].substring(2), args[++i]);
            } else {
                System.err.println("Unknown argument " + args[i] + "\n" + HELP);
                System.exit(2);
            }
        }
        Path home = Path.of(System.getProperty("millrace.home", "..")).toAbsolutePath().normalize();
        Options o = new Options(integer(a, "runs", 3), Long.parseLong(a.getOrDefault("records", "5000000")),
                integer(a, "record-size", 1024), integer(a, "partitions", 1), a.getOrDefault("acks", "all"),
                integer(a, "rate", 10_000), integer(a, "rate-seconds", 30), integer(a, "rate-warmup-seconds", 5),
                List.of(a.getOrDefault("systems", "millrace,kafka").split(",")), integer(a, "timeout-seconds", 300),
                a.getOrDefault("millrace-java-opts", ""), a.getOrDefault("kafka-java-opts", ""), home,
                home.resolve("load-tests/results"),
                System.getProperty("loadtests.kafka.classpath", System.getProperty("java.class.path")),
                System.getProperty("loadtests.command", "KafkaToolsBenchmark " + String.join(" ", args)));
        a.keySet().removeAll(List.of("runs", "records", "record-size", "partitions", "acks", "rate", "rate-seconds",
                "rate-warmup-seconds", "systems", "timeout-seconds", "millrace-java-opts", "kafka-java-opts"));
        if (!a.isEmpty()) {
            throw new IllegalArgumentException("Unknown options " + a.keySet() + "; see --help");
        }
        if (o.rateWarmupSeconds() < 0 || o.rateWarmupSeconds() >= o.rateSeconds()) {
            throw new IllegalArgumentException("--rate-warmup-seconds must be at least 0 and below --rate-seconds ("
                    + o.rateSeconds() + "), not " + o.rateWarmupSeconds());
        }
        if (!List.of("millrace", "kafka").containsAll(o.systems())) {
            throw new IllegalArgumentException("--systems takes millrace and/or kafka, not " + o.systems());
        }
        return o;
    }

    private static int integer(Map<String, String> a, String key, int def) {
        return a.containsKey(key) ? Integer.parseInt(a.get(key)) : def;
    }
}
