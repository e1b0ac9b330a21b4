package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Apache Kafka's own command-line tools (kafka-tools 4.1: the classes behind {@code kafka-topics.sh},
 * {@code kafka-console-producer.sh}, {@code kafka-console-consumer.sh}, {@code kafka-consumer-groups.sh} and
 * {@code kafka-get-offsets.sh}) against a Millrace broker process's Kafka listener, each run as its own JVM as a user
 * runs it (the tools end with {@code System.exit}), its exit code and output checked.
 */
class KafkaToolsIT {

    private static final String TOPICS = "org.apache.kafka.tools.TopicCommand";
    private static final String CONSOLE_PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
    private static final String CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
    private static final String CONSUMER_GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    private static final String GET_OFFSETS = "org.apache.kafka.tools.GetOffsetShell";

    private static final Duration TOOL_DEADLINE = Duration.ofSeconds(60);
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    /**
     * The jars of the test classpath, which hold kafka-tools and what it needs (Surefire's booter names them here).
     * The folders are left out: the tools need nothing in them, and a class-data-sharing archive allows only jars.
     */
    private static final String CLASSPATH = Arrays.stream(System.getProperty("surefire.test.class.path",
                    System.getProperty("java.class.path")).split(File.pathSeparator))
            .filter(entry -> entry.endsWith(".jar")).collect(Collectors.joining(File.pathSeparator));
    private static final String LOGBACK_CONFIG = KafkaToolsIT.class.getResource("/kafka-tools-logback.xml")
            .toString();

    /** Every tool process started and not yet seen to exit, so that {@link #stop} can kill what a failure left. */
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();
    private static final AtomicInteger RUNS = new AtomicInteger();
    /** JVM options of every tool run but the first (see {@link #start}). */
    private static final List<String> TOOL_JVM_OPTIONS = new ArrayList<>();

    static BrokerProcess broker;
    static Rest rest;
    static String bootstrap;
    static int brokerId;
    static Path toolFiles;

    @BeforeAll
    static void start() throws IOException {
        toolFiles = Files.createTempDirectory("millrace-it-kafka-tools");
        // Console consumers join their group at once rather than waiting for company.
        broker = BrokerProcess.start("kafka-tools", Map.of("group.initial.rebalance.delay.ms", "0"));
        rest = new Rest(broker.baseUrl());
        bootstrap = "127.0.0.1:" + broker.kafkaPort();
        brokerId = rest.get("/health").json().getInteger("brokerId");
        // A first run that archives the classes it loaded (the admin client's, which most tools use), so that every
        // later run maps them instead of loading them from the jars (about 1.1 s of CPU time per run instead of 1.9).
        Path archive = toolFiles.resolve("kafka-tools.jsa");
        TOOL_JVM_OPTIONS.add("-XX:ArchiveClassesAtExit=" + archive);
        run(TOPICS, "", "--bootstrap-server", bootstrap, "--list").assertSucceeded();
        TOOL_JVM_OPTIONS.clear();
        if (Files.exists(archive)) {
            TOOL_JVM_OPTIONS.addAll(List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds=off",
                    "-Xlog:cds+dynamic=off"));
        }
    }

    @AfterAll
    static void stop() throws IOException {
        for (Process process : RUNNING) {
            ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
        if (broker != null) {
            broker.close();
        }
        if (toolFiles != null) {
            try (Stream<Path> files = Files.walk(toolFiles)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void kafkaTopicsCreatesListsDescribesAltersAndDeletes() {
        String topic = "tools-topic";
        Result created = run(TOPICS, "", "--bootstrap-server", bootstrap, "--create", "--topic", topic,
                "--partitions", "3", "--replication-factor", "1", "--config", "retention.ms=3600000");
        created.assertSucceeded();
        assertThat(created.stdout).contains("Created topic " + topic + ".");

        Result again = run(TOPICS, "", "--bootstrap-server", bootstrap, "--create", "--topic", topic,
                "--partitions", "3");
        assertThat(again.exit).as(again.describe()).isEqualTo(1);
        assertThat(again.stdout).contains("Error while executing topic command", topic + " already exists");

        Result listed = run(TOPICS, "", "--bootstrap-server", bootstrap, "--list");
        listed.assertSucceeded();
        assertThat(listed.lines()).contains(topic);

        Result described = run(TOPICS, "", "--bootstrap-server", bootstrap, "--describe", "--topic", topic);
        described.assertSucceeded();
        assertThat(described.lines().get(0)).contains("Topic: " + topic, "PartitionCount: 3", "ReplicationFactor: 1",
                "retention.ms=3600000");
        assertThat(partitionLines(described, topic)).containsExactly(IntStream.range(0, 3)
                .mapToObj(p -> partitionLine(topic, p)).toArray(String[]::new));

        Result altered = run(TOPICS, "", "--bootstrap-server", bootstrap, "--alter", "--topic", topic,
                "--partitions", "5");
        altered.assertSucceeded();
        Result grown = run(TOPICS, "", "--bootstrap-server", bootstrap, "--describe", "--topic", topic);
        assertThat(grown.lines().get(0)).contains("PartitionCount: 5");
        assertThat(partitionLines(grown, topic)).containsExactly(IntStream.range(0, 5)
                .mapToObj(p -> partitionLine(topic, p)).toArray(String[]::new));

        run(TOPICS, "", "--bootstrap-server", bootstrap, "--delete", "--topic", topic).assertSucceeded();
        await().atMost(WAIT).untilAsserted(() -> {
            Result gone = run(TOPICS, "", "--bootstrap-server", bootstrap, "--describe", "--topic", topic);
            assertThat(gone.exit).as(gone.describe()).isEqualTo(1);
            assertThat(gone.stdout).contains("Topic '" + topic + "' does not exist");
        });
    }

    /**
     * Keyed lines through the console producer land where Kafka's partitioner puts their keys; the console consumer
     * reads exactly them and commits for its group; kafka-consumer-groups then shows the group's lag grow by what is
     * produced after, resets the group to the earliest offsets, and a consumer of the group reads everything again.
     */
    @Test
    void consoleProducerConsumerAndConsumerGroupsShowLagAndResetOffsets() {
        String topic = "orders";
        String group = "order-readers";
        int partitions = 3;
        rest.createTopic(topic, partitions);
        List<String> first = keyedLines(0, 6);
        produce(topic, first);

        Result consumed = run(CONSOLE_CONSUMER, "", "--bootstrap-server", bootstrap, "--topic", topic,
                "--from-beginning", "--max-messages", "6", "--group", group,
                "--property", "print.key=true", "--property", "key.separator=:");
        consumed.assertSucceeded();
        assertReadInPartitionOrder(consumed.lines(), first, partitions);
        assertThat(consumed.stderr).contains("Processed a total of 6 messages");

        Result listed = run(CONSUMER_GROUPS, "", "--bootstrap-server", bootstrap, "--list");
        listed.assertSucceeded();
        assertThat(listed.lines()).contains(group);

        Map<Integer, Long> committed = endOffsets(first, partitions);
        assertThat(groupOffsets(group)).isEqualTo(lagRows(committed, committed));

        List<String> more = keyedLines(6, 10);
        produce(topic, more);
        List<String> all = new ArrayList<>(first);
        all.addAll(more);
        Map<Integer, Long> ends = endOffsets(all, partitions);
        Map<Integer, GroupRow> lagging = groupOffsets(group);
        assertThat(lagging).isEqualTo(lagRows(committed, ends));
        assertThat(lagging.values().stream().mapToLong(GroupRow::lag).sum()).isEqualTo(more.size());

        Result reset = run(CONSUMER_GROUPS, "", "--bootstrap-server", bootstrap, "--reset-offsets", "--group", group,
                "--topic", topic, "--to-earliest", "--execute");
        reset.assertSucceeded();
        assertThat(table(reset.stdout)).extracting(row -> row.get("PARTITION") + "=" + row.get("NEW-OFFSET"))
                .containsExactlyInAnyOrder("0=0", "1=0", "2=0");
        Map<Integer, Long> earliest = IntStream.range(0, partitions).boxed()
                .collect(Collectors.toMap(p -> p, p -> 0L));
        assertThat(groupOffsets(group)).isEqualTo(lagRows(earliest, ends));

        Result reread = run(CONSOLE_CONSUMER, "", "--bootstrap-server", bootstrap, "--topic", topic,
                "--max-messages", Integer.toString(all.size()), "--group", group,
                "--property", "print.key=true", "--property", "key.separator=:");
        reread.assertSucceeded();
        assertReadInPartitionOrder(reread.lines(), all, partitions);
    }

    /**
     * A console consumer still running shows in kafka-consumer-groups as the group's member, with its client id and
     * partitions; its group cannot be reset while it is there, and is empty once the consumer is stopped.
     */
    @Test
    void consumerGroupsDescribesARunningConsoleConsumer() {
        String topic = "live";
        String group = "live-readers";
        rest.createTopic(topic, 2);
        Tool reader = launch(CONSOLE_CONSUMER, "", "--bootstrap-server", bootstrap, "--topic", topic,
                "--group", group, "--consumer-property", "client.id=live-reader");

        await().atMost(WAIT).untilAsserted(() -> assertThat(describeGroup(group, "--members")).singleElement()
                .satisfies(row -> {
                    assertThat(row.get("CLIENT-ID")).isEqualTo("live-reader");
                    assertThat(row.get("CONSUMER-ID")).startsWith("live-reader-");
                    assertThat(row.get("HOST")).isEqualTo("127.0.0.1");
                    assertThat(row.get("#PARTITIONS")).isEqualTo("2");
                }));
        assertThat(describeGroup(group, "--state")).singleElement().satisfies(row -> {
            assertThat(row.get("STATE")).isEqualTo("Stable");
            assertThat(row.get("ASSIGNMENT-STRATEGY")).isEqualTo("range");
            assertThat(row.get("#MEMBERS")).isEqualTo("1");
        });

        // The tool reports the refusal on stdout and still exits 0, as against Kafka's own broker.
        Result refused = run(CONSUMER_GROUPS, "", "--bootstrap-server", bootstrap, "--reset-offsets", "--group",
                group, "--topic", topic, "--to-earliest", "--execute");
        assertThat(refused.stdout).as(refused.describe())
                .contains("can only be reset if the group '" + group + "' is inactive");

        // SIGTERM: the console consumer's shutdown hook closes its consumer, which leaves the group.
        reader.process.destroy();
        reader.awaitExit();
        await().atMost(WAIT).untilAsserted(() -> assertThat(describeGroup(group, "--state")).singleElement()
                .satisfies(row -> assertThat(row.get("STATE")).isEqualTo("Empty")));
    }

    @Test
    void getOffsetShellPrintsLatestEarliestAndByTimestamp() {
        String topic = "offsets";
        rest.createTopic(topic, 2);
        long base = System.currentTimeMillis() - 60_000;
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(topic, 0, base + i * 1000L, "k", "zero-" + i));
            }
            for (int i = 0; i < 2; i++) {
                producer.send(new ProducerRecord<>(topic, 1, base + i * 1000L, "k", "one-" + i));
            }
            producer.flush();
        }

        Result latest = run(GET_OFFSETS, "", "--bootstrap-server", bootstrap, "--topic", topic, "--time", "-1");
        latest.assertSucceeded();
        assertThat(latest.lines()).containsExactly(topic + ":0:3", topic + ":1:2");

        Result earliest = run(GET_OFFSETS, "", "--bootstrap-server", bootstrap, "--topic", topic, "--time", "-2");
        earliest.assertSucceeded();
        assertThat(earliest.lines()).containsExactly(topic + ":0:0", topic + ":1:0");

        // The first record at or after the time; partition 1 has none, and the tool leaves it out.
        Result byTime = run(GET_OFFSETS, "", "--bootstrap-server", bootstrap, "--topic", topic, "--time",
                Long.toString(base + 1500));
        byTime.assertSucceeded();
        assertThat(byTime.lines()).containsExactly(topic + ":0:2");
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** Lines {@code user-i:order-i} for i in [from, to), as the console producer reads them with parse.key. */
    private static List<String> keyedLines(int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> "user-" + i + ":order-" + i).toList();
    }

    private static void produce(String topic, List<String> lines) {
        run(CONSOLE_PRODUCER, String.join("\n", lines) + "\n", "--bootstrap-server", bootstrap, "--topic", topic,
                "--property", "parse.key=true", "--property", "key.separator=:").assertSucceeded();
    }

    /** The partition Kafka's producer gives a key: murmur2 of its bytes, as the console producer's partitioner. */
    private static int partitionOf(String line, int partitions) {
        byte[] key = line.substring(0, line.indexOf(':')).getBytes(StandardCharsets.UTF_8);
        return Utils.toPositive(Utils.murmur2(key)) % partitions;
    }

    /** The end offset of every partition once {@code lines} were produced to an empty topic. */
    private static Map<Integer, Long> endOffsets(List<String> lines, int partitions) {
        Map<Integer, Long> ends = new TreeMap<>();
        IntStream.range(0, partitions).forEach(p -> ends.put(p, 0L));
        lines.forEach(line -> ends.merge(partitionOf(line, partitions), 1L, Long::sum));
        return ends;
    }

    /** Exactly {@code produced} was read, and each partition's records in the order they were produced. */
    private static void assertReadInPartitionOrder(List<String> read, List<String> produced, int partitions) {
        assertThat(read).containsExactlyInAnyOrderElementsOf(produced);
        for (int p = 0; p < partitions; p++) {
            int partition = p;
            assertThat(read.stream().filter(line -> partitionOf(line, partitions) == partition))
                    .containsExactlyElementsOf(produced.stream()
                            .filter(line -> partitionOf(line, partitions) == partition).toList());
        }
    }

    private static String partitionLine(String topic, int partition) {
        return "Topic: " + topic + "\tPartition: " + partition + "\tLeader: " + brokerId + "\tReplicas: " + brokerId
                + "\tIsr: " + brokerId;
    }

    /** The partition lines of kafka-topics --describe, up to the ISR (the ELR columns, KRaft's, follow it). */
    private static List<String> partitionLines(Result described, String topic) {
        return described.lines().stream().skip(1).map(String::strip)
                .map(line -> line.substring(0, line.indexOf("\tElr:") < 0 ? line.length() : line.indexOf("\tElr:")))
                .filter(line -> line.startsWith("Topic: " + topic))
                .toList();
    }

    /** One partition's row of kafka-consumer-groups --describe. */
    private record GroupRow(long currentOffset, long logEndOffset, long lag) {
    }

    private static Map<Integer, GroupRow> lagRows(Map<Integer, Long> committed, Map<Integer, Long> ends) {
        Map<Integer, GroupRow> rows = new TreeMap<>();
        ends.forEach((p, end) -> rows.put(p, new GroupRow(committed.get(p), end, end - committed.get(p))));
        return rows;
    }

    /** kafka-consumer-groups --describe of the group's offsets, by partition. */
    private static Map<Integer, GroupRow> groupOffsets(String group) {
        Map<Integer, GroupRow> rows = new TreeMap<>();
        for (Map<String, String> row : describeGroup(group)) {
            assertThat(row.get("GROUP")).isEqualTo(group);
            rows.put(Integer.parseInt(row.get("PARTITION")), new GroupRow(Long.parseLong(row.get("CURRENT-OFFSET")),
                    Long.parseLong(row.get("LOG-END-OFFSET")), Long.parseLong(row.get("LAG"))));
        }
        return rows;
    }

    /** The rows of kafka-consumer-groups --describe, with the options that choose what it shows ({@code --state}). */
    private static List<Map<String, String>> describeGroup(String group, String... view) {
        List<String> args = new ArrayList<>(List.of("--bootstrap-server", bootstrap, "--describe", "--group", group));
        args.addAll(Arrays.asList(view));
        Result described = run(CONSUMER_GROUPS, "", args.toArray(String[]::new));
        described.assertSucceeded();
        return table(described.stdout);
    }

    /** The rows of the table kafka-consumer-groups prints: a header line starting with GROUP, then its rows. */
    private static List<Map<String, String>> table(String output) {
        List<String> lines = output.lines().filter(line -> !line.isBlank()).toList();
        int header = IntStream.range(0, lines.size()).filter(i -> lines.get(i).startsWith("GROUP ")).findFirst()
                .orElseThrow(() -> new AssertionError("No table in: " + output));
        String[] columns = lines.get(header).strip().split("\\s+");
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(header + 1, lines.size())) {
            String[] cells = line.strip().split("\\s+");
            assertThat(cells).as(line).hasSameSizeAs(columns);
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < columns.length; i++) {
                row.put(columns[i], cells[i]);
            }
            rows.add(row);
        }
        return rows;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Running the tools

    private record Result(String command, int exit, String stdout, String stderr) {

        List<String> lines() {
            return stdout.lines().filter(line -> !line.isBlank()).toList();
        }

        void assertSucceeded() {
            assertThat(exit).as(describe()).isZero();
        }

        String describe() {
            return command + " exited " + exit + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    /** A started tool process, its standard input, output and error being files. */
    private record Tool(String command, Process process, Path stdout, Path stderr) {

        Result awaitExit() {
            try {
                if (!process.waitFor(TOOL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError(command + " did not finish within " + TOOL_DEADLINE + "\nstdout:\n"
                            + Files.readString(stdout) + "\nstderr:\n" + Files.readString(stderr));
                }
                RUNNING.remove(process);
                return new Result(command, process.exitValue(), Files.readString(stdout), Files.readString(stderr));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static Result run(String mainClass, String stdin, String... args) {
        return launch(mainClass, stdin, args).awaitExit();
    }

    private static Tool launch(String mainClass, String stdin, String... args) {
        int run = RUNS.incrementAndGet();
        Path in = toolFiles.resolve(run + ".in");
        Path out = toolFiles.resolve(run + ".out");
        Path err = toolFiles.resolve(run + ".err");
        // C1 only and the serial collector: each tool is a short-lived JVM, and start-up is most of its time.
        List<String> command = new ArrayList<>(List.of(JAVA.toString(), "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "-Dlogback.configurationFile=" + LOGBACK_CONFIG));
        command.addAll(TOOL_JVM_OPTIONS);
        command.addAll(List.of("-cp", CLASSPATH, mainClass));
        command.addAll(Arrays.asList(args));
        String shown = mainClass.substring(mainClass.lastIndexOf('.') + 1) + " " + String.join(" ", args);
        try {
            Files.writeString(in, stdin);
            Process process = new ProcessBuilder(command).redirectInput(in.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
            RUNNING.add(process);
            return new Tool(shown, process, out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
