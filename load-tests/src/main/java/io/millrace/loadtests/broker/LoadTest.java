package io.millrace.loadtests.broker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The broker and SDK load tests: starts a broker per run (Millrace as the README does, and with
 * {@code --compare-kafka} also an Apache Kafka broker, alternately), drives the scenarios through each system's
 * native client, and writes a summary table, JSON and an HTML report under {@code load-tests/results/}.
 * Run it through {@code load-tests/run-load-tests.sh}, which builds what it needs; {@code --help} lists the options.
 */
public final class LoadTest {

    static final List<String> ALL_SCENARIOS = List.of("produce-acks1", "produce-acksall", "consume", "latency",
            "e2e-max", "mixed", "ws-fanout", "ws-fanout-10k");
    /** Scenarios that run on a Millrace broker of their own, one each (see {@link #runFanOut}). */
    static final List<String> FAN_OUT_SCENARIOS = List.of("ws-fanout", "ws-fanout-10k");
    /** Every scenario {@code --scenarios} may name: the default ones and those on a cluster of their own. */
    static final List<String> KNOWN_SCENARIOS = Stream.concat(ALL_SCENARIOS.stream(),
            OwnClusters.SCENARIOS.stream()).toList();
    /**
     * {@code ws.max.connections}, {@code ws.max.connections.per.ip} and {@code http.max.connections.per.ip} in
     * conf/millrace.json.
     */
    private static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    /**
     * Connections the harness opens to a fan-out broker besides its subscribers (the SDK's, REST calls, /metrics):
     * they count against the per-address HTTP limit with the subscribers' WebSockets.
     */
    private static final int OTHER_CONNECTIONS = 100;
    /** Scenarios that --compare-kafka also runs against Kafka. */
    static final Set<String> KAFKA_SCENARIOS = Set.of("produce-acks1", "produce-acksall", "consume", "latency",
            "e2e-max", "mixed");
    /** What a cluster run ({@code --brokers N > 1}) measures unless {@code --scenarios} says otherwise. */
    static final List<String> CLUSTER_SCENARIOS = List.of("produce-acksall", "latency");

    record Options(boolean compareKafka, int runs, Set<String> scenarios, long records, int recordSize, int batchSize,
                   int lingerMs, long bufferMemory, int producers, int partitions, int rate, int latencySeconds,
                   int warmupSeconds, int latencyAcks, long fullSpeedRecords, int wsSubscribers, int wsRate,
                   int wsSeconds, int wsWarmupSeconds, int wsRecordSize, int timeoutSeconds, long warmupRecords,
                   long scenarioWarmupRecords, List<String> systems, String millraceJavaOpts, String fanoutJavaOpts,
                   String kafkaJavaOpts, Path home, Path results, String kafkaClassPath, String command,
                   int brokers, int replicationFactor, int minInsyncReplicas, boolean failover, int failoverRate,
                   int failoverBeforeSeconds, int failoverAfterSeconds, int ws10kSubscribers, int ws10kRate,
                   int wsSourceAddresses, boolean backgroundLoad, double backgroundLoadDuty,
                   int backgroundLoadThreads, long reassignFillBytes, int reassignRate, int reassignBeforeSeconds,
                   int reassignAfterSeconds, int reassignTimeoutSeconds, long reassignThrottle, int wsLingerMs,
                   int consumeReads) {

        /** A cluster of several brokers (and topics created with {@link #topicSettings()}). */
        boolean cluster() {
            return brokers > 1;
        }

        LoadClient.TopicSettings topicSettings() {
            return cluster() || replicationFactor > 1
                    ? new LoadClient.TopicSettings(replicationFactor, minInsyncReplicas)
                    : LoadClient.TopicSettings.SINGLE;
        }
    }

    private static final String HELP = """
            Usage: load-tests/run-load-tests.sh [options]
              --compare-kafka            also run producer, consumer and latency scenarios on Apache Kafka (KRaft),
                                         alternating with Millrace in every run, and print Millrace/Kafka ratios
              --runs N                   repetitions; each figure is the median over runs (default 3)
              --scenarios a,b            subset of %s (the default), or also of %s (below)
              --records N                records per producer/consumer throughput run (default 1000000)
              --record-size B            value bytes (default 1024)
              --batch-size B             producer batch.size (default 16384)
              --linger-ms N              producer linger.ms (default 5)
              --buffer-memory B          producer buffer.memory; also the driver's window of unacked records (32 MiB)
              --producers N              producers in the throughput scenarios (default 1)
              --partitions N             partitions of the throughput topics (default 1)
              --rate N                   offered records/s of the latency scenario (default 10000)
              --latency-seconds N        measured seconds of the latency scenario (default 10), after
              --warmup-seconds N         warm-up seconds left out (default 2)
              --latency-acks 1|all       acks of the latency scenarios (default all)
              --full-speed-records N     records of e2e-max and mixed (default 200000)
              --ws-subscribers K         WebSocket subscribers of ws-fanout (default 1000)
              --ws-rate N                records/s produced to the fan-out topic (default 100)
              --ws-seconds N             measured seconds of each fan-out (default 30), after --ws-warmup-seconds (5)
              --ws-record-size B         value bytes of fan-out records (default 1024)
              --ws-linger-ms N           the lingerMs each fan-out subscriber asks for, 0 to 1000 (default: none
                                         asked, so the broker's ws.push.linger.ms, 0 unless it is set)
              --ws-10k-subscribers K     WebSocket subscribers of ws-fanout-10k, each with its own subscription and
                                         credit (default 10000)
              --ws-10k-rate N            records/s produced to its topic (default 10): the same 100,000 deliveries/s
                                         as ws-fanout, over ten times the sockets
              --ws-source-addresses N    loopback addresses the subscribers connect from, 127.0.0.2 ... (default:
                                         as many as the ephemeral port range needs, 127.0.0.1 when one suffices)
              --background-load          run a CPU burner (a process of its own) during every scenario of every
                                         system alike; its measured CPU is in the report
              --background-load-duty F   share of each 10 ms period each burner thread spins (default 0.5)
              --background-load-threads N
                                         burner threads (default 1)
              --millrace-java-opts S     extra JVM options of the Millrace broker (MILLRACE_JAVA_OPTS), e.g. JFR
              --fanout-java-opts S       further JVM options of the fan-out's own broker, e.g. -Xmx256m
              --kafka-java-opts S        extra JVM options of the Kafka broker
              --timeout-seconds N        per-scenario limit (default 180)
              --warmup-records N         unreported records after each broker start, produced alone and then
                                         produced and consumed at once (default 500000 each)
              --scenario-warmup-records N
                                         unreported records each produce scenario first sends to its own topic
                                         (default 200000)
              --consume-reads N          measured reads of the consume scenario's topic, one after another after an
                                         unreported one, reported as one read (default 5)
              --systems a,b              millrace and/or kafka (default millrace, both with --compare-kafka)

            Clusters (each system as N brokers on this machine: Millrace as bin/local-cluster starts it, one
            ZooKeeper and N brokers; Kafka as N KRaft nodes with combined broker and controller roles):
              --brokers N                brokers per system (default 1: the single-broker scenarios above); with N > 1
                                         the default scenarios are produce-acksall,latency and --rate defaults to 5000
              --replication-factor N     replication factor of every topic the harness creates (default: --brokers)
              --min-insync-replicas N    the topics' min.insync.replicas (default 2 when the replication factor is
                                         at least 3, else 1)
              --failover                 instead of the scenarios: failover time (default 3 brokers, replication
                                         factor 3, 5 runs, 100000 warm-up records). One idempotent acks=all producer
                                         offers --failover-rate records/s (5000) to one partition; after
                                         --failover-before-seconds (10) its leader is SIGKILLed; the schedule goes on
                                         for --failover-after-seconds (20); time from the kill to the ack of the first
                                         record sent after it, and the longest pause between acks

            Scenarios on a Millrace cluster of their own (3 brokers, replication factor 3, min.insync.replicas 2;
            each started and stopped in every run, whatever --brokers says; only when named in --scenarios):
              ws-fanout-cluster          the ws-fanout (--ws-subscribers, --ws-rate, --ws-* durations) with its
                                         subscribers spread round robin over the three brokers; the topic (one
                                         partition) is led by one of them; latency split by leader / followers
              reassign-1gib              one partition filled with --reassign-fill-bytes, a 4th broker added, the
                                         partition moved onto [new broker, an old follower] through the REST API while
                                         a steady idempotent acks=all producer runs
              --reassign-fill-bytes B    record value bytes written to the partition before the move (1073741824)
              --reassign-rate N          the steady producer's records/s (default 2000)
              --reassign-before-seconds N, --reassign-after-seconds N
                                         its seconds before the move starts and after it ends (default 10 each)
              --reassign-timeout-seconds N
                                         longest move before it is cancelled and reported so (default 600)
              --reassign-throttle B      replication.throttled.rate of the added broker, bytes/s (default 0: none)
            """;

    private LoadTest() {
    }

    public static void main(String[] args) throws Exception {
        Options o = parse(args);
        Files.createDirectories(o.results());
        String stamp = stamp();
        Path logs = o.results().resolve("load-" + stamp + "-logs");
        Files.createDirectories(logs);
        Path dataRoot = o.home().resolve("load-tests/target/load-data");
        Files.createDirectories(dataRoot);
        Scenarios scenarios = new Scenarios(o);
        List<ScenarioResult> results = new ArrayList<>();
        for (int run = 1; run <= o.runs(); run++) {
            List<String> systems = new ArrayList<>(o.systems());
            if (run % 2 == 0) {
                // Alternate which system goes first, so slow drift of a shared machine favours neither.
                java.util.Collections.reverse(systems);
            }
            for (String system : systems) {
                if (!o.failover() && o.scenarios().stream().allMatch(name -> FAN_OUT_SCENARIOS.contains(name)
                        || OwnClusters.SCENARIOS.contains(name))) {
                    // Only scenarios that start brokers of their own below; the shared broker would idle.
                    runFanOuts(o, run, system, stamp, dataRoot, logs, results);
                    OwnClusters.runChosen(o, scenarios, run, system, stamp, dataRoot, logs, results);
                    continue;
                }
                Path data = dataRoot.resolve(system + "-" + stamp + "-" + run);
                Path log = logs.resolve(system + "-run" + run + ".log");
                BrokerUnderTest broker = brokerUnderTest(o, system, data, log);
                System.out.printf("== run %d/%d: %s (log %s)%n", run, o.runs(), system, log);
                try (broker) {
                    broker.start();
                    System.out.printf("   broker pid%s %s, RSS %.0f MiB%n", broker.nodes() > 1 ? "s" : "",
                            broker.brokerProcesses().stream().map(p -> Long.toString(p.pid()))
                                    .collect(Collectors.joining(" ")),
                            broker.residentBytes().orElse(0) / 1048576.0);
                    try (LoadClient client = broker.client()) {
                        if (o.failover()) {
                            runFailover(o, scenarios, broker, client, run, results);
                        } else {
                            runScenarios(o, scenarios, broker, client, run, results);
                        }
                    }
                } catch (Exception e) {
                    failed(system, run, e, results);
                }
                runFanOuts(o, run, system, stamp, dataRoot, logs, results);
                OwnClusters.runChosen(o, scenarios, run, system, stamp, dataRoot, logs, results);
            }
        }
        Report report = new Report(o, stamp, results);
        System.out.println();
        System.out.println(report.table());
        Path base = o.results().resolve("load-" + stamp);
        Files.writeString(Path.of(base + ".md"), report.markdown());
        Files.writeString(Path.of(base + ".json"), report.json());
        Files.writeString(Path.of(base + ".html"), report.html());
        System.out.println("Report: " + base + ".{md,json,html}; broker logs: " + logs);
        BrokerUnderTest.deleteTree(dataRoot);
        System.exit(0);
    }

    /**
     * One broker as before ({@code --brokers 1}), or a cluster: Millrace as bin/local-cluster starts it, Kafka as N
     * KRaft nodes.
     */
    private static BrokerUnderTest brokerUnderTest(Options o, String system, Path data, Path log) {
        if (system.equals("kafka")) {
            return o.cluster() ? new KafkaBroker(o.kafkaClassPath(), data, log, o.kafkaJavaOpts(), o.brokers(),
                    o.topicSettings()) : new KafkaBroker(o.kafkaClassPath(), data, log, o.kafkaJavaOpts());
        }
        return o.cluster() ? new MillraceCluster(o.home(), data, log, o.millraceJavaOpts(), o.brokers(),
                o.topicSettings()) : new MillraceBroker(o.home(), data, log, o.millraceJavaOpts());
    }

    /**
     * The failover scenario on a fresh cluster: it kills a broker, so it is the run's only scenario. First
     * {@code --warmup-records} (100,000) acks=all records to a topic of their own, at full speed: without them the
     * brokers' JIT compilers took as much CPU as their event loops during the first seconds, neither system kept up
     * with 5,000 records/s before the kill, and the backlog of unacknowledged records delayed the first ack after it.
     */
    private static void runFailover(Options o, Scenarios s, BrokerUnderTest broker, LoadClient client, int run,
                                    List<ScenarioResult> results) throws Exception {
        if (o.warmupRecords() > 0) {
            client.createTopic("warm-up-produce", 1);
            ScenarioResult p = s.produce(client, broker.system(), run, "warm-up", "warm-up-produce", -1, 1, 1,
                    o.warmupRecords());
            System.out.println("   (" + Report.oneLine(p) + ")");
            drop(client, broker, "warm-up-produce");
        }
        long quietAfter = broker.awaitQuiet(30_000);
        ScenarioResult r = underBackgroundLoad(o, () -> s.failover(broker, client, run, "failover", o.failoverRate(),
                o.failoverBeforeSeconds(), o.failoverAfterSeconds()));
        r.metric("quiet_wait_s", quietAfter / 1000.0);
        results.add(r);
        System.out.println("   " + Report.oneLine(r));
    }

    /**
     * Runs {@code scenario} and adds the CPU time it cost per record (its {@code records} metric), from /proc:
     * {@code broker_cpu_us_per_record} summed over the broker processes (all nodes of a cluster), the harness's own
     * (the clients) and, for a Millrace cluster, its ZooKeeper's; plus {@code broker_cores}, the brokers' average
     * use of this machine's cores while it ran.
     */
    static ScenarioResult withCpu(BrokerUnderTest broker, Callable<ScenarioResult> scenario) throws Exception {
        long brokerBefore = broker.brokerCpuMicros();
        long otherBefore = broker.otherCpuMicros();
        long harnessBefore = BrokerUnderTest.harnessCpuMicros();
        long start = System.nanoTime();
        ScenarioResult r = scenario.call();
        double seconds = (System.nanoTime() - start) / 1e9;
        long brokerUs = broker.brokerCpuMicros() - brokerBefore;
        long otherUs = broker.otherCpuMicros() - otherBefore;
        long harnessUs = BrokerUnderTest.harnessCpuMicros() - harnessBefore;
        Double records = r.metrics.get("records");
        if (records != null && records > 0) {
            r.metric("broker_cpu_us_per_record", brokerUs / records);
            r.metric("harness_cpu_us_per_record", harnessUs / records);
            if (!broker.otherProcesses().isEmpty()) {
                r.metric("zookeeper_cpu_us_per_record", otherUs / records);
            }
        }
        r.metric("broker_cores", brokerUs / 1e6 / seconds);
        return r;
    }

    /** The time a report is named after, UTC, e.g. 20261204T155024Z. */
    static String stamp() {
        return DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
    }

    /** Prints why a run failed and records it as a result of its own (the report's notes list it). */
    static void failed(String system, int run, Exception e, List<ScenarioResult> results) {
        System.out.println("   FAILED: " + e);
        e.printStackTrace(System.out);
        ScenarioResult failed = new ScenarioResult("broker", system, run);
        failed.notes.put("error", e.toString());
        results.add(failed);
    }

    /** The chosen WebSocket fan-out scenarios, Millrace only, single broker only: each on a broker of its own. */
    private static void runFanOuts(Options o, int run, String system, String stamp, Path dataRoot, Path logs,
                                   List<ScenarioResult> results) {
        for (String fanOut : FAN_OUT_SCENARIOS) {
            if (system.equals("millrace") && o.scenarios().contains(fanOut) && !o.cluster()) {
                runFanOut(o, run, fanOut, dataRoot.resolve(fanOut + "-" + stamp + "-" + run),
                        logs.resolve("millrace-" + fanOut + "-run" + run + ".log"), results);
            }
        }
    }

    /**
     * A WebSocket fan-out scenario on a broker of its own, so that its RSS is the fan-out's and not what earlier
     * scenarios left in the heap; {@code --fanout-java-opts} are added to that broker's JVM options (e.g. a heap
     * limit). {@code ws-fanout} has {@code --ws-subscribers} sockets at {@code --ws-rate} records/s,
     * {@code ws-fanout-10k} {@code --ws-10k-subscribers} at {@code --ws-10k-rate}. The broker's WebSocket limits
     * ({@code ws.max.connections}, and per client address, with the HTTP one) are raised only when the sockets and the
     * harness's other connections would pass their defaults.
     */
    private static void runFanOut(Options o, int run, String name, Path data, Path log,
                                  List<ScenarioResult> results) {
        boolean wide = name.equals("ws-fanout-10k");
        int subscribers = wide ? o.ws10kSubscribers() : o.wsSubscribers();
        int rate = wide ? o.ws10kRate() : o.wsRate();
        String opts = (o.millraceJavaOpts() + " " + o.fanoutJavaOpts()).trim();
        int connections = subscribers + OTHER_CONNECTIONS;
        List<String> settings = connections > DEFAULT_MAX_CONNECTIONS
                ? List.of("ws.max.connections=" + connections, "ws.max.connections.per.ip=" + connections,
                        "http.max.connections.per.ip=" + connections)
                : List.of();
        System.out.printf("== run %d/%d: millrace, %s (%d WebSocket subscribers, %d records/s), "
                + "MILLRACE_JAVA_OPTS='%s'%s (log %s)%n", run, o.runs(), name, subscribers, rate, opts,
                settings.isEmpty() ? "" : " " + settings, log);
        try (MillraceBroker broker = new MillraceBroker(o.home(), data, log, opts, settings)) {
            broker.start();
            try (LoadClient client = broker.client()) {
                ScenarioResult r = underBackgroundLoad(o, () -> new FanOut(o).run(broker, client, run, name,
                        subscribers, rate));
                r.notes.put("broker_java_opts", opts.isEmpty() ? "(none)" : opts);
                if (!settings.isEmpty()) {
                    r.notes.put("broker_settings", String.join(" ", settings));
                }
                results.add(r);
                System.out.println("   " + Report.oneLine(r));
            }
        } catch (Exception e) {
            failed("millrace", run, e, results);
        }
    }

    private static void runScenarios(Options o, Scenarios s, BrokerUnderTest broker, LoadClient client, int run,
                                     List<ScenarioResult> results) throws Exception {
        String system = broker.system();
        boolean kafka = system.equals("kafka");
        if (o.warmupRecords() > 0) {
            // Warms up both JVMs (JIT, page cache, connections) the same way for either system; not reported. A
            // producer alone first, then a producer with a consumer: warmed up by the latter alone, the first
            // produce scenario ran well below the later ones (while the broker's JIT compiler was still busy).
            client.createTopic("warm-up-produce", 1);
            ScenarioResult p = s.produce(client, system, run, "warm-up", "warm-up-produce", 1, 1, 1,
                    o.warmupRecords());
            System.out.println("   (" + Report.oneLine(p) + ")");
            ScenarioResult w = s.fullSpeed(client, system, run, "warm-up", "warm-up", -1, 1, 1, o.warmupRecords());
            System.out.println("   (" + Report.oneLine(w) + ")");
            drop(client, broker, "warm-up-produce");
            drop(client, broker, "warm-up");
        }
        for (String name : o.scenarios()) {
            if (FAN_OUT_SCENARIOS.contains(name) || OwnClusters.SCENARIOS.contains(name)
                    || (kafka && !KAFKA_SCENARIOS.contains(name))) {
                continue;
            }
            long quietAfter = broker.awaitQuiet(30_000);
            ScenarioResult r = underBackgroundLoad(o, () -> scenario(o, s, broker, client, run, name, results));
            r.metric("broker_rss_mib", broker.residentBytes().orElse(0) / 1048576.0);
            r.metric("quiet_wait_s", quietAfter / 1000.0);
            results.add(r);
            System.out.println("   " + Report.oneLine(r));
            String written = name.equals("consume") ? "produce-acksall" : name;
            if (!(name.equals("produce-acksall") && o.scenarios().contains("consume"))) {
                drop(client, broker, written);
            }
        }
    }

    private static ScenarioResult scenario(Options o, Scenarios s, BrokerUnderTest broker, LoadClient client, int run,
                                           String name, List<ScenarioResult> results) throws Exception {
        String system = broker.system();
        int latencyAcks = o.latencyAcks();
        return switch (name) {
            case "produce-acks1" -> warmedProduce(o, s, broker, client, run, name, 1);
            case "produce-acksall" -> warmedProduce(o, s, broker, client, run, name, -1);
            case "consume" -> {
                // Reads what produce-acksall wrote (or writes it first when that scenario is not chosen).
                ScenarioResult written = results.stream().filter(x -> x.system.equals(system) && x.run == run
                        && x.scenario.equals("produce-acksall")).findFirst().orElse(null);
                if (written == null) {
                    written = warmedProduce(o, s, broker, client, run, "produce-acksall", -1);
                }
                long records = (long) (double) written.metrics.get("topic_records");
                warmedRead(o, s, broker, client, run, "produce-acksall", records);
                // Several reads back to back: one read lasts about a second on Millrace (two on Kafka), and a
                // single slow stretch of a noisy machine moved one read's CPU per record by half.
                yield withCpu(broker, () -> s.consume(client, system, run, "consume", "produce-acksall",
                        o.partitions(), records, o.consumeReads()));
            }
            case "latency" -> withCpu(broker, () -> s.latencyAtRate(client, system, run, "latency",
                    latencyAcks, o.rate(), o.latencySeconds(), o.warmupSeconds()));
            case "e2e-max" -> s.fullSpeed(client, system, run, name, "e2e-max", latencyAcks, 1, 1,
                    o.fullSpeedRecords());
            case "mixed" -> s.fullSpeed(client, system, run, name, "mixed", latencyAcks,
                    Math.max(2, o.producers()), Math.max(2, o.partitions()), o.fullSpeedRecords());
            default -> throw new IllegalArgumentException("Unknown scenario " + name);
        };
    }

    /**
     * Runs {@code scenario} with the {@code --background-load} burner, if on, started just before it (after the quiet
     * wait, where the scenario has one) and stopped by PID right after; the burner's own CPU time goes into the
     * result.
     */
    static ScenarioResult underBackgroundLoad(Options o, Callable<ScenarioResult> scenario) throws Exception {
        try (BackgroundLoad load = BackgroundLoad.startIf(o)) {
            ScenarioResult r = scenario.call();
            if (load != null) {
                load.recordInto(r);
            }
            return r;
        }
    }

    /**
     * A produce scenario on a topic of its own, after {@code --scenario-warmup-records} unmeasured records to that
     * topic. A new topic (and the previous one's deletion) cost each system a burst of JIT work: on Millrace the JIT
     * log shows the produce path's compiled code discarded and compiled again, and the first second ran at a third
     * of the speed of the rest, which on a 3-second scenario is most of the difference between runs.
     */
    private static ScenarioResult warmedProduce(Options o, Scenarios s, BrokerUnderTest broker, LoadClient client,
                                                int run, String topic, int acks) throws Exception {
        client.createTopic(topic, o.partitions());
        long warmed = 0;
        if (o.scenarioWarmupRecords() > 0) {
            ScenarioResult w = s.produce(client, broker.system(), run, "warm-up", topic, acks, o.producers(),
                    o.partitions(), o.scenarioWarmupRecords());
            warmed = (long) (w.metrics.get("records") - w.metrics.get("errors"));
            broker.awaitQuiet(30_000);
        }
        ScenarioResult r = withCpu(broker, () -> s.produce(client, broker.system(), run, topic, topic, acks,
                o.producers(), o.partitions(), o.records()));
        return r.metric("topic_records", warmed + r.metrics.get("records") - r.metrics.get("errors"));
    }

    /**
     * Reads the whole of {@code topic} once unmeasured, then waits for the broker to go quiet, so that the measured
     * read that follows (the same records again) runs on compiled code. Reading at full speed takes paths the warm-up's
     * tail-following consumer never took (pushes cut short by credit, file chunks queued behind one another), and its
     * per-push code is called once per megabyte: on Millrace the JIT log showed the read path's compiled code
     * discarded and compiled again during a first read, and C2 still took 40 % of the broker's CPU during a 3-second
     * measured read after a warm-up of only 200,000 records (perf), so the CPU per record read was largely the
     * compiler's. Either system gets the same warm-up.
     */
    private static void warmedRead(Options o, Scenarios s, BrokerUnderTest broker, LoadClient client, int run,
                                   String topic, long topicRecords) throws Exception {
        ScenarioResult w = s.consume(client, broker.system(), run, "warm-up", topic, o.partitions(), topicRecords,
                1);
        System.out.println("   (" + Report.oneLine(w) + ")");
        broker.awaitQuiet(30_000);
    }

    /**
     * Deletes a scenario's topic once nothing reads it any more. On this VM the kernel starts writing dirty pages
     * back once about 2.3 GB are dirty, and from then on writes into the page cache run ~3x slower (measured with
     * dd), so without this the second gigabyte-sized scenario ran ~30 % slower than the first (Millrace acks=all
     * ~170,000 records/s after acks=1, ~250,000 alone): each scenario now starts from the same page-cache state,
     * for either system.
     */
    private static void drop(LoadClient client, BrokerUnderTest broker, String topic) throws Exception {
        client.deleteTopic(topic);
        broker.awaitTopicFilesGone(topic, 120_000);
    }

    static Options parse(String[] args) {
        Map<String, String> a = new LinkedHashMap<>();
        boolean compare = false;
        boolean failover = false;
        boolean backgroundLoad = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                System.out.printf(HELP, ALL_SCENARIOS, OwnClusters.SCENARIOS);
                System.exit(0);
            } else if (arg.equals("--compare-kafka")) {
                compare = true;
            } else if (arg.equals("--failover")) {
                failover = true;
            } else if (arg.equals("--background-load")) {
                backgroundLoad = true;
            } else if (arg.startsWith("--") && i + 1 < args.length) {
                a.put(arg.substring(2), args[++i]);
            } else {
                System.err.println("Unknown argument " + arg + "\n" + HELP.formatted(ALL_SCENARIOS,
                        OwnClusters.SCENARIOS));
                System.exit(2);
            }
        }
        int brokers = i(a, "brokers", failover ? 3 : 1);
        int replicationFactor = i(a, "replication-factor", brokers);
        int minInsync = i(a, "min-insync-replicas", replicationFactor >= 3 ? 2 : 1);
        if (replicationFactor < 1 || replicationFactor > brokers || minInsync < 1 || minInsync > replicationFactor) {
            throw new IllegalArgumentException("need 1 <= min.insync.replicas <= replication factor <= brokers; got "
                    + minInsync + ", " + replicationFactor + ", " + brokers);
        }
        Set<String> scenarios = new LinkedHashSet<>(failover ? List.of("failover")
                : brokers > 1 ? CLUSTER_SCENARIOS : ALL_SCENARIOS);
        if (failover && a.containsKey("scenarios")) {
            throw new IllegalArgumentException("--failover runs only the failover scenario; drop --scenarios");
        }
        if (a.containsKey("scenarios")) {
            scenarios = new LinkedHashSet<>(KNOWN_SCENARIOS);
            Set<String> chosen = Arrays.stream(a.remove("scenarios").split(",")).map(String::trim)
                    .collect(Collectors.toSet());
            scenarios.retainAll(chosen);
            chosen.removeAll(KNOWN_SCENARIOS);
            if (!chosen.isEmpty()) {
                throw new IllegalArgumentException("Unknown scenarios " + chosen + "; known: " + KNOWN_SCENARIOS);
            }
        }
        if (!backgroundLoad && (a.containsKey("background-load-duty") || a.containsKey("background-load-threads"))) {
            throw new IllegalArgumentException("--background-load-duty and --background-load-threads need "
                    + "--background-load");
        }
        Path home = Path.of(System.getProperty("millrace.home", "..")).toAbsolutePath().normalize();
        String acks = a.getOrDefault("latency-acks", "all");
        Options o = new Options(compare, i(a, "runs", failover ? 5 : 3), scenarios, l(a, "records", 1_000_000),
                i(a, "record-size", 1024), i(a, "batch-size", 16_384), i(a, "linger-ms", 5),
                l(a, "buffer-memory", 32L << 20), i(a, "producers", 1), i(a, "partitions", 1), i(a, "rate", brokers > 1 ? 5_000 : 10_000),
                i(a, "latency-seconds", 10), i(a, "warmup-seconds", 2), acks.equals("all") ? -1 : Integer.parseInt(acks),
                l(a, "full-speed-records", 200_000), i(a, "ws-subscribers", 1000), i(a, "ws-rate", 100),
                i(a, "ws-seconds", 30), i(a, "ws-warmup-seconds", 5), i(a, "ws-record-size", 1024),
                i(a, "timeout-seconds", 180), l(a, "warmup-records", failover ? 100_000 : 500_000), l(a, "scenario-warmup-records", 200_000),
                List.of(a.getOrDefault("systems", compare ? "millrace,kafka" : "millrace").split(",")),
                a.getOrDefault("millrace-java-opts", ""), a.getOrDefault("fanout-java-opts", ""),
                a.getOrDefault("kafka-java-opts", ""), home, home.resolve("load-tests/results"),
                System.getProperty("loadtests.kafka.classpath", System.getProperty("java.class.path")),
                System.getProperty("loadtests.command", "LoadTest " + String.join(" ", args)),
                brokers, replicationFactor, minInsync, failover, i(a, "failover-rate", 5_000),
                i(a, "failover-before-seconds", 10), i(a, "failover-after-seconds", 20),
                i(a, "ws-10k-subscribers", 10_000), i(a, "ws-10k-rate", 10), i(a, "ws-source-addresses", 0),
                backgroundLoad, d(a, "background-load-duty", 0.5), i(a, "background-load-threads", 1),
                l(a, "reassign-fill-bytes", 1L << 30), i(a, "reassign-rate", 2_000), i(a, "reassign-before-seconds", 10),
                i(a, "reassign-after-seconds", 10), i(a, "reassign-timeout-seconds", 600),
                l(a, "reassign-throttle", 0), i(a, "ws-linger-ms", -1), i(a, "consume-reads", 5));
        a.keySet().removeAll(List.of("runs", "records", "record-size", "batch-size", "linger-ms", "buffer-memory",
                "producers", "partitions", "rate", "latency-seconds", "warmup-seconds", "latency-acks",
                "full-speed-records", "ws-subscribers", "ws-rate", "ws-seconds", "ws-warmup-seconds", "ws-record-size",
                "timeout-seconds", "warmup-records", "scenario-warmup-records", "systems", "millrace-java-opts", "fanout-java-opts", "kafka-java-opts",
                "brokers", "replication-factor", "min-insync-replicas", "failover-rate", "failover-before-seconds",
                "failover-after-seconds", "ws-10k-subscribers", "ws-10k-rate", "ws-source-addresses",
                "background-load-duty", "background-load-threads", "reassign-fill-bytes", "reassign-rate",
                "reassign-before-seconds", "reassign-after-seconds", "reassign-timeout-seconds", "reassign-throttle",
                "ws-linger-ms", "consume-reads"));
        if (backgroundLoad && (!(o.backgroundLoadDuty() > 0 && o.backgroundLoadDuty() <= 1)
                || o.backgroundLoadThreads() < 1)) {
            throw new IllegalArgumentException("--background-load-duty must be in (0, 1] and "
                    + "--background-load-threads at least 1");
        }
        if (!a.isEmpty()) {
            throw new IllegalArgumentException("Unknown options " + a.keySet() + "; see --help");
        }
        if (o.consumeReads() < 1) {
            throw new IllegalArgumentException("--consume-reads must be at least 1");
        }
        if (o.wsLingerMs() < -1 || o.wsLingerMs() > 1000) {
            throw new IllegalArgumentException("--ws-linger-ms must be 0 to 1000");
        }
        if (o.reassignRate() < 1 || o.reassignFillBytes() < 1 || o.reassignThrottle() < 0 || o.recordSize() < 16) {
            throw new IllegalArgumentException("--reassign-rate and --reassign-fill-bytes must be positive, "
                    + "--reassign-throttle not negative, and --record-size at least 16 (records carry their schedule "
                    + "and index)");
        }
        return o;
    }

    private static int i(Map<String, String> a, String key, int def) {
        return a.containsKey(key) ? Integer.parseInt(a.get(key)) : def;
    }

    private static double d(Map<String, String> a, String key, double def) {
        return a.containsKey(key) ? Double.parseDouble(a.get(key)) : def;
    }

    private static long l(Map<String, String> a, String key, long def) {
        return a.containsKey(key) ? Long.parseLong(a.get(key)) : def;
    }
}
