import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * One broker, one topic of many partitions (issue 16, item 2): starts a broker with {@code bin/millrace start} (its own
 * data folder under /tmp, free loopback ports, embedded ZooKeeper), then over REST creates a topic of
 * {@code --partitions} partitions (replication factor 1), describes it, scrapes {@code /metrics}, reads one frame of
 * the dashboard's stats stream, produces one record to every partition (batches with an explicit {@code partition}),
 * reads some back, and deletes the topic, timing each step and checking its result. After each step it samples the
 * broker's RSS, open descriptors, memory mappings and threads from /proc, and its heap after a full GC (jcmd). A
 * thread polls {@code /health} throughout: any answer but 200 fails the run, as does a ZooKeeper session the broker
 * lost (its log). Prints a table and writes {@code load-tests/results/many-partitions-<time>.md} with the broker's log
 * beside it. The broker is stopped by PID and its folder deleted whatever happens.
 *
 * <pre>
 * load-tests/many-partitions/run.sh [--partitions 20000] [--nofile 200000] [--produce-batch 1000]
 * </pre>
 */
public class ManyPartitions {

    private static final String TOPIC = "many";
    private static final Duration LONG_STEP = Duration.ofMinutes(30);
    private static final long HEALTH_PERIOD_MS = 500;
    private static final int READ_BACK = 10;
    /** How long the broker is left alone to measure what its partitions cost when nothing happens. */
    private static final long IDLE_MS = 60_000;
    /** Log lines that mean the broker lost, or nearly lost, its ZooKeeper session. */
    private static final List<String> SESSION_TROUBLE = List.of("SUSPENDED", "LOST", "Session expired",
            "session expired", "ZooKeeper session re-established");

    private final int partitions;
    private final int nofile;
    private final int produceBatch;
    private final int produceConcurrency;
    private final Path root = Path.of("").toAbsolutePath();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final Map<String, String> results = new LinkedHashMap<>();
    private final List<Sample> samples = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private Process broker;
    private long pid;
    private String base;
    private Path dataDir;
    private Path log;

    ManyPartitions(int partitions, int nofile, int produceBatch, int produceConcurrency) {
        this.partitions = partitions;
        this.nofile = nofile;
        this.produceBatch = produceBatch;
        this.produceConcurrency = produceConcurrency;
    }

    public static void main(String[] args) throws Exception {
        int partitions = 20_000;
        int nofile = 0;
        int batch = 1_000;
        int concurrency = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--partitions" -> partitions = Integer.parseInt(args[++i]);
                case "--nofile" -> nofile = Integer.parseInt(args[++i]);
                case "--produce-batch" -> batch = Integer.parseInt(args[++i]);
                case "--produce-concurrency" -> concurrency = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: ManyPartitions [--partitions N] [--nofile N (prlimit for the broker;"
                            + " 0: this shell's limit)] [--produce-batch N] [--produce-concurrency N]");
                    System.exit(2);
                }
            }
        }
        System.exit(new ManyPartitions(partitions, nofile, batch, concurrency).run());
    }

    int run() throws Exception {
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
        Path reports = Files.createDirectories(root.resolve("load-tests/results"));
        log = reports.resolve("many-partitions-" + stamp + "-broker.log");
        dataDir = Files.createTempDirectory(Path.of("/tmp"), "many-partitions-");
        Health health = null;
        try {
            startBroker();
            health = new Health();
            health.start();
            sample("broker started");
            steps();
        } catch (Exception e) {
            failures.add("run stopped: " + e);
            e.printStackTrace();
        } finally {
            if (health != null) {
                health.stop();
                results.put("health polls (every " + HEALTH_PERIOD_MS + " ms)", health.summary());
                failures.addAll(health.failures);
            }
            stopBroker();
            deleteTree(dataDir);
        }
        scanLog();
        Path report = reports.resolve("many-partitions-" + stamp + ".md");
        Files.writeString(report, report(stamp));
        System.out.println(report(stamp));
        System.out.println("report: " + root.relativize(report) + ", broker log: " + root.relativize(log));
        return failures.isEmpty() ? 0 : 1;
    }

    private void steps() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/api/topics")).timeout(LONG_STEP)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("name", TOPIC)
                        .put("partitions", partitions).put("replicationFactor", 1).encode())));
        timed("create", start, created.statusCode() + ", " + kib(created.body()));
        expect(created, 201, "create");
        sample("created");

        for (String round : List.of("describe", "describe again")) {
            start = System.nanoTime();
            HttpResponse<String> described = send(HttpRequest.newBuilder(uri("/api/topics/" + TOPIC))
                    .timeout(LONG_STEP));
            timed(round, start, described.statusCode() + ", " + kib(described.body()));
            expect(described, 200, round);
            checkDescription(new JsonObject(described.body()), 0);
        }

        for (String round : List.of("GET /metrics", "GET /metrics again")) {
            start = System.nanoTime();
            HttpResponse<String> metrics = send(HttpRequest.newBuilder(uri("/metrics")).timeout(LONG_STEP));
            timed(round, start, metrics.statusCode() + ", " + kib(metrics.body()) + ", "
                    + metrics.body().lines().filter(l -> !l.startsWith("#")).count() + " series");
            expect(metrics, 200, round);
        }

        readStatsFrames();
        sample("described");

        long cpuBefore = cpuTicks();
        Thread.sleep(IDLE_MS);
        results.put("idle broker CPU over " + IDLE_MS / 1000 + " s", String.format("%.1f %% of one core",
                (cpuTicks() - cpuBefore) * 10.0 * 100 / IDLE_MS));

        produce();
        sample("produced");

        start = System.nanoTime();
        for (int i = 0; i < READ_BACK; i++) {
            int p = (int) ((long) i * (partitions - 1) / Math.max(1, READ_BACK - 1));
            HttpResponse<String> read = send(HttpRequest.newBuilder(uri("/api/topics/" + TOPIC + "/partitions/" + p
                    + "/records?offset=earliest&maxRecords=10")).timeout(Duration.ofMinutes(1)));
            expect(read, 200, "read partition " + p);
            JsonArray records = new JsonObject(read.body()).getJsonArray("records");
            if (records.size() != 1 || !value(p).equals(records.getJsonObject(0).getString("value"))) {
                failures.add("partition " + p + " holds " + records.encode() + ", not one record " + value(p));
            }
        }
        timed("read back " + READ_BACK + " partitions", start, "");

        HttpResponse<String> described = send(HttpRequest.newBuilder(uri("/api/topics/" + TOPIC)).timeout(LONG_STEP));
        expect(described, 200, "describe after produce");
        checkDescription(new JsonObject(described.body()), 1);

        start = System.nanoTime();
        HttpResponse<String> deleted = send(HttpRequest.newBuilder(uri("/api/topics/" + TOPIC)).timeout(LONG_STEP)
                .DELETE());
        timed("delete", start, Integer.toString(deleted.statusCode()));
        expect(deleted, 204, "delete");
        long deadline = System.nanoTime() + LONG_STEP.toNanos();
        while (partitionDirectories() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        timed("delete, to the last directory gone", start, partitionDirectories() + " left");
        if (partitionDirectories() > 0) {
            failures.add(partitionDirectories() + " partition directories left after the delete");
        }
        sample("deleted");
    }

    /** Every partition listed once, led by broker 0... whichever broker this is, and holding {@code records}. */
    private void checkDescription(JsonObject topic, long records) {
        JsonArray listed = topic.getJsonArray("partitions");
        long led = listed.stream().map(JsonObject.class::cast).filter(p -> p.getInteger("leader") >= 0).count();
        long holding = listed.stream().map(JsonObject.class::cast)
                .filter(p -> p.getLong("logEndOffset") == records).count();
        long distinct = listed.stream().map(JsonObject.class::cast).mapToInt(p -> p.getInteger("partition"))
                .distinct().count();
        if (listed.size() != partitions || distinct != partitions || led != partitions || holding != partitions) {
            failures.add("describe listed " + listed.size() + " partitions (" + distinct + " distinct, " + led
                    + " led, " + holding + " with log end offset " + records + "), expected " + partitions);
        }
    }

    private void produce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(produceConcurrency);
        long start = System.nanoTime();
        List<Future<String>> sent = new ArrayList<>();
        for (int from = 0; from < partitions; from += produceBatch) {
            int first = from;
            int last = Math.min(partitions, from + produceBatch);
            sent.add(pool.submit(() -> {
                JsonArray records = new JsonArray();
                for (int p = first; p < last; p++) {
                    records.add(new JsonObject().put("partition", p).put("value", value(p)));
                }
                HttpResponse<String> answer = send(HttpRequest.newBuilder(uri("/api/topics/" + TOPIC + "/records"))
                        .timeout(Duration.ofMinutes(5)).header("content-type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("records", records)
                                .put("acks", "1").encode())));
                if (answer.statusCode() != 200) {
                    return "partitions " + first + ".." + (last - 1) + ": " + answer.statusCode() + " "
                            + truncate(answer.body());
                }
                JsonArray offsets = new JsonObject(answer.body()).getJsonArray("offsets");
                for (int i = 0; i < offsets.size(); i++) {
                    JsonObject o = offsets.getJsonObject(i);
                    if (o.getInteger("partition") != first + i || o.getLong("offset") != 0) {
                        return "partition " + (first + i) + " answered " + o.encode();
                    }
                }
                return null;
            }));
        }
        int bad = 0;
        for (Future<String> f : sent) {
            String problem = f.get(LONG_STEP.toMinutes(), TimeUnit.MINUTES);
            if (problem != null && bad++ < 5) {
                failures.add("produce: " + problem);
            }
        }
        pool.shutdown();
        timed("produce 1 record to each partition", start, sent.size() + " requests of " + produceBatch
                + " records, " + produceConcurrency + " at a time, acks=1");
    }

    /** Reads the dashboard's live stream until two stats frames came: their size and the time between them. */
    private void readStatsFrames() throws Exception {
        long start = System.nanoTime();
        HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(uri("/api/stats/stream"))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofInputStream());
        List<Long> frameTimes = new ArrayList<>();
        List<Integer> frameSizes = new ArrayList<>();
        try (InputStream in = stream.body();
             BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String event = "";
            for (String line; frameTimes.size() < 2 && (line = lines.readLine()) != null; ) {
                if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ") && event.equals("stats")) {
                    frameTimes.add(System.nanoTime());
                    frameSizes.add(line.length() - 6);
                }
            }
        }
        if (frameTimes.size() < 2) {
            failures.add("stats stream ended after " + frameTimes.size() + " frames");
            return;
        }
        results.put("stats stream: first frame", ms(frameTimes.get(0) - start) + " (" + kib(frameSizes.get(0))
                + ")");
        results.put("stats stream: next frame after", ms(frameTimes.get(1) - frameTimes.get(0)) + " ("
                + kib(frameSizes.get(1)) + ")");
    }

    private void startBroker() throws Exception {
        int[] ports = freePorts(3);
        List<String> command = new ArrayList<>();
        if (nofile > 0) {
            command.addAll(List.of("prlimit", "--nofile=" + nofile + ":" + nofile, "--"));
        }
        command.addAll(List.of(root.resolve("bin/millrace").toString(), "start", "--data-dir",
                dataDir.resolve("broker").toString(), "--http-port", Integer.toString(ports[0]), "--tcp-port",
                Integer.toString(ports[1]), "--zookeeper-port", Integer.toString(ports[2]), "--set",
                "listen.host=127.0.0.1", "--set", "advertised.host=127.0.0.1"));
        base = "http://127.0.0.1:" + ports[0];
        broker = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // prlimit and bin/millrace exec the JVM, so the process is the broker itself.
        pid = broker.pid();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        long start = System.nanoTime();
        while (true) {
            if (!broker.isAlive()) {
                throw new IllegalStateException("broker exited with " + broker.exitValue() + "; see " + log);
            }
            try {
                if (http.send(HttpRequest.newBuilder(uri("/health")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("broker not healthy within 5 minutes; see " + log);
            }
            Thread.sleep(100);
        }
        results.put("broker", "pid " + pid + ", descriptor limit " + limit("Max open files") + ", "
                + (nofile > 0 ? "raised with prlimit" : "inherited") + "; ready in " + ms(System.nanoTime() - start));
    }

    private void stopBroker() {
        if (broker == null) {
            return;
        }
        broker.destroy();
        try {
            if (!broker.waitFor(60, TimeUnit.SECONDS)) {
                failures.add("broker did not stop within 60 s of SIGTERM; killed");
                broker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            broker.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Session trouble and blocked event loops, from the broker's log. */
    private void scanLog() throws IOException {
        if (!Files.exists(log)) {
            return;
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        long blocked = lines.stream().filter(l -> l.contains("has been blocked for")).count();
        results.put("blocked-thread warnings in the broker log", Long.toString(blocked));
        lines.stream().filter(l -> l.contains("has been blocked for")).limit(3)
                .forEach(l -> results.put("blocked: " + results.size(), truncate(l)));
        lines.stream().filter(l -> SESSION_TROUBLE.stream().anyMatch(l::contains)).limit(5)
                .forEach(l -> failures.add("ZooKeeper session: " + truncate(l)));
        lines.stream().filter(l -> l.contains("OutOfMemoryError")).limit(1)
                .forEach(l -> failures.add("broker: " + truncate(l)));
    }

    private void sample(String step) throws Exception {
        String heap = "";
        Process jcmd = new ProcessBuilder("jcmd", Long.toString(pid), "GC.run").redirectErrorStream(true).start();
        jcmd.getInputStream().readAllBytes();
        jcmd.waitFor(2, TimeUnit.MINUTES);
        Process info = new ProcessBuilder("jcmd", Long.toString(pid), "GC.heap_info").redirectErrorStream(true)
                .start();
        String text = new String(info.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        info.waitFor(2, TimeUnit.MINUTES);
        java.util.regex.Matcher used = java.util.regex.Pattern.compile("used (\\d+)K").matcher(text);
        if (used.find()) {
            heap = String.format("%.1f", Long.parseLong(used.group(1)) / 1024.0);
        }
        Path proc = Path.of("/proc", Long.toString(pid));
        long rssKib = Files.readAllLines(proc.resolve("status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1);
        long threads = Files.readAllLines(proc.resolve("status")).stream().filter(l -> l.startsWith("Threads:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1);
        long fds;
        try (Stream<Path> open = Files.list(proc.resolve("fd"))) {
            fds = open.count();
        }
        long maps = Files.readAllLines(proc.resolve("maps")).size();
        samples.add(new Sample(step, rssKib / 1024.0, heap, fds, maps, threads, partitionDirectories()));
    }

    /** The broker's user and system CPU time so far, in clock ticks (10 ms). */
    private long cpuTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private String limit(String name) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits")).stream()
                .filter(l -> l.startsWith(name)).map(l -> l.substring(name.length()).trim().split("\\s+")[0])
                .findFirst().orElse("?");
    }

    private long partitionDirectories() throws IOException {
        Path logs = dataDir.resolve("broker/logs");
        if (!Files.isDirectory(logs)) {
            return 0;
        }
        try (Stream<Path> dirs = Files.list(logs)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith(TOPIC + "-")).count();
        }
    }

    private String report(String stamp) {
        StringBuilder out = new StringBuilder();
        out.append("# Many partitions, ").append(stamp).append(" UTC\n\n");
        out.append(partitions).append(" partitions, replication factor 1, one broker (`bin/millrace start`, its")
                .append(" defaults, embedded ZooKeeper). Result: ")
                .append(failures.isEmpty() ? "**pass**" : "**FAIL**").append("\n\n");
        out.append("| step | figure |\n|---|---|\n");
        results.forEach((k, v) -> out.append("| ").append(k).append(" | ").append(v.replace("|", "\\|"))
                .append(" |\n"));
        out.append("\n| after | RSS (MiB) | heap after full GC (MiB) | open descriptors | mappings | threads |")
                .append(" partition directories |\n|---|---|---|---|---|---|---|\n");
        for (Sample s : samples) {
            out.append(String.format("| %s | %.0f | %s | %d | %d | %d | %d |%n", s.step, s.rssMib, s.heapMib, s.fds,
                    s.maps, s.threads, s.directories));
        }
        if (!failures.isEmpty()) {
            out.append("\nFailures:\n\n");
            failures.forEach(f -> out.append("- ").append(f).append('\n'));
        }
        return out.toString();
    }

    private void timed(String step, long startNanos, String detail) {
        results.put(step, ms(System.nanoTime() - startNanos) + (detail.isEmpty() ? "" : " (" + detail + ")"));
        System.out.println(step + ": " + results.get(step));
    }

    private void expect(HttpResponse<String> response, int status, String step) {
        if (response.statusCode() != status) {
            throw new IllegalStateException(step + " answered " + response.statusCode() + ": "
                    + truncate(response.body()));
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }

    private static String value(int partition) {
        return "record of partition " + partition;
    }

    private static String ms(long nanos) {
        return String.format("%,d ms", TimeUnit.NANOSECONDS.toMillis(nanos));
    }

    private static String kib(String body) {
        return kib(body.length());
    }

    private static String kib(int chars) {
        return String.format("%,.0f KiB", chars / 1024.0);
    }

    private static String truncate(String text) {
        return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    }

    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0);
                held.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private record Sample(String step, double rssMib, String heapMib, long fds, long maps, long threads,
                          long directories) {
    }

    /** Polls /health until stopped; any answer but 200, or none within 10 s, is a failure. */
    private final class Health {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger polls = new AtomicInteger();
        private final AtomicLong slowestMs = new AtomicLong();
        private final List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final Thread thread = new Thread(this::poll, "health");

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(30_000);
        }

        String summary() {
            return polls.get() + " polls, slowest " + slowestMs.get() + " ms, " + failures.size() + " failed";
        }

        private void poll() {
            while (running.get()) {
                long start = System.nanoTime();
                try {
                    HttpResponse<String> answer = http.send(HttpRequest.newBuilder(uri("/health"))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                    if (answer.statusCode() != 200 && failures.size() < 5) {
                        failures.add("/health answered " + answer.statusCode() + ": " + truncate(answer.body()));
                    }
                } catch (IOException e) {
                    if (failures.size() < 5) {
                        failures.add("/health: " + e);
                    }
                } catch (InterruptedException e) {
                    return;
                }
                polls.incrementAndGet();
                slowestMs.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), Math::max);
                try {
                    Thread.sleep(HEALTH_PERIOD_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
