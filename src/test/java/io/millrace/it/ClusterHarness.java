package io.millrace.it;

import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A real cluster on this machine, started as {@code bin/local-cluster} starts one: a {@link ZooKeeperProcess} that
 * outlives the brokers, and brokers 1..N as {@code bin/millrace start} processes with the same flags as the script
 * ({@link #brokerArguments}), but on free loopback ports and with their data under one temporary folder.
 *
 * <p>Brokers are numbered by their broker id, from 1. Every wait has a deadline (Awaitility). {@link #close()} kills
 * every process it started, by PID, and deletes every folder. Not thread-safe: one test thread drives it.
 */
public final class ClusterHarness implements AutoCloseable {

    /**
     * The brokers' {@code zookeeper.session.timeout.ms}: the broker default, longer than bin/local-cluster's 3 s. A
     * killed broker is found by its refused event-bus port long before; but on a loaded machine a 3 s session of a
     * live broker can expire, and the Vert.x ZooKeeper cluster manager does not bring that broker back into the
     * event bus's membership afterwards (other brokers then answer "Not a member of the cluster" when they send to
     * it), which fails a test for a reason that is not its own.
     */
    public static final int DEFAULT_SESSION_TIMEOUT_MS = 6000;

    private static final Duration START_DEADLINE = Duration.ofSeconds(120);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final ZooKeeperProcess zookeeper;
    private final Path root;
    private final int sessionTimeoutMs;
    private final List<BrokerProcess> brokers = new ArrayList<>();
    /** The {@code --set} settings every broker got, for brokers added later. */
    private final Map<String, String> settings;

    private ClusterHarness(ZooKeeperProcess zookeeper, Path root, int sessionTimeoutMs, Map<String, String> settings) {
        this.zookeeper = zookeeper;
        this.root = root;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.settings = Map.copyOf(settings);
    }

    /** Starts ZooKeeper and {@code brokerCount} brokers with the default settings; waits until all see each other. */
    public static ClusterHarness start(int brokerCount) {
        return start(brokerCount, Map.of());
    }

    /**
     * Starts ZooKeeper and {@code brokerCount} brokers, each given {@code settings} as {@code --set key=value} (as
     * {@code bin/local-cluster start --set ...} does), and waits until every broker is healthy and sees them all.
     * {@code zookeeper.session.timeout.ms} among the settings replaces {@link #DEFAULT_SESSION_TIMEOUT_MS}.
     */
    public static ClusterHarness start(int brokerCount, Map<String, String> settings) {
        Map<String, String> extra = new LinkedHashMap<>(settings);
        String session = extra.remove("zookeeper.session.timeout.ms");
        int sessionTimeoutMs = session == null ? DEFAULT_SESSION_TIMEOUT_MS : Integer.parseInt(session);
        Path root;
        try {
            root = Files.createTempDirectory("millrace-cluster");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ClusterHarness cluster = null;
        try {
            cluster = new ClusterHarness(ZooKeeperProcess.start("cluster-zookeeper"), root, sessionTimeoutMs, extra);
            for (int id = 1; id <= brokerCount; id++) {
                cluster.prepareBroker(id, extra);
            }
            cluster.brokers.forEach(BrokerProcess::spawn);
            cluster.awaitAllHealthy();
            cluster.awaitLiveBrokers(brokerCount);
            return cluster;
        } catch (RuntimeException | Error e) {
            if (cluster != null) {
                cluster.close();
            } else {
                deleteTree(root);
            }
            throw e;
        }
    }

    private BrokerProcess prepareBroker(int id, Map<String, String> extra) {
        int httpPort = BrokerProcess.freePort();
        int tcpPort = BrokerProcess.freePort();
        int kafkaPort = BrokerProcess.freePort();
        Path dataDir = root.resolve("broker-" + id);
        // named after the cluster's ZooKeeper port too, so that each cluster's logs survive the next one's
        BrokerProcess broker = BrokerProcess.prepare("cluster-" + zookeeper.port() + "-broker-" + id, dataDir,
                httpPort, tcpPort, kafkaPort, brokerArguments(id, zookeeper.connectString(), dataDir, httpPort,
                        tcpPort, kafkaPort, sessionTimeoutMs, extra));
        brokers.add(broker);
        return broker;
    }

    /**
     * Starts one more broker (the next id), with the settings the others got plus {@code more}, and waits until it is
     * healthy and every running broker sees it: a cluster growing online. Returns its id.
     */
    public int addBroker(Map<String, String> more) {
        Map<String, String> extra = new LinkedHashMap<>(settings);
        extra.putAll(more);
        int id = brokers.size() + 1;
        BrokerProcess broker = prepareBroker(id, extra);
        broker.spawn();
        broker.awaitHealthy(START_DEADLINE);
        awaitLiveBrokers(runningIds().size());
        return id;
    }

    /**
     * The arguments after {@code bin/millrace start} of broker {@code id}, exactly as bin/local-cluster writes them
     * (LocalClusterIT compares the two): loopback only, an external ZooKeeper, the session timeout, then extras.
     */
    public static List<String> brokerArguments(int id, String zookeeperConnect, Path dataDir, int httpPort,
                                               int tcpPort, int kafkaPort, int sessionTimeoutMs,
                                               Map<String, String> settings) {
        List<String> arguments = new ArrayList<>(List.of("--broker-id", Integer.toString(id),
                "--zookeeper", zookeeperConnect, "--data-dir", dataDir.toString(),
                "--http-port", Integer.toString(httpPort), "--tcp-port", Integer.toString(tcpPort),
                "--kafka-port", Integer.toString(kafkaPort),
                "--set", "listen.host=127.0.0.1", "--set", "advertised.host=127.0.0.1",
                "--set", "zookeeper.session.timeout.ms=" + sessionTimeoutMs));
        settings.forEach((key, value) -> {
            arguments.add("--set");
            arguments.add(key + "=" + value);
        });
        return arguments;
    }

    /** Broker {@code id} (1..N). */
    public BrokerProcess broker(int id) {
        if (id < 1 || id > brokers.size()) {
            throw new IllegalArgumentException("No broker " + id + " in a cluster of " + brokers.size());
        }
        return brokers.get(id - 1);
    }

    public int size() {
        return brokers.size();
    }

    public List<Integer> ids() {
        return IntStream.rangeClosed(1, brokers.size()).boxed().toList();
    }

    /** Ids of the brokers whose process runs (it may not be healthy yet). */
    public List<Integer> runningIds() {
        return ids().stream().filter(id -> broker(id).isAlive()).toList();
    }

    /** SIGKILL broker {@code id} and wait until its process is gone; its ZooKeeper session lives on until expiry. */
    public void kill(int id) {
        broker(id).kill();
    }

    /** SIGTERM broker {@code id} (a clean shutdown) and wait until its process is gone. */
    public void stop(int id) {
        broker(id).stop();
    }

    /** Starts broker {@code id} again on its ports and data folder, and waits until it is healthy. */
    public void restart(int id) {
        broker(id).spawn();
        broker(id).awaitHealthy(START_DEADLINE);
    }

    public long pid(int id) {
        return broker(id).pid();
    }

    public String baseUrl(int id) {
        return broker(id).baseUrl();
    }

    public List<String> baseUrls() {
        return brokers.stream().map(BrokerProcess::baseUrl).toList();
    }

    /** {@code 127.0.0.1:tcp1,127.0.0.1:tcp2,...}: the SDK's bootstrap list, every broker of the cluster. */
    public String bootstrap() {
        return brokers.stream().map(b -> "127.0.0.1:" + b.tcpPort()).collect(Collectors.joining(","));
    }

    public ZooKeeperProcess zookeeper() {
        return zookeeper;
    }

    public int sessionTimeoutMs() {
        return sessionTimeoutMs;
    }

    /** The longest a killed broker may stay listed as alive: its session timeout, one ZooKeeper tick, 1 s of polls. */
    public Duration failureDetectionDeadline() {
        return Duration.ofMillis(sessionTimeoutMs + ZooKeeperProcess.TICK_TIME_MS + 1000);
    }

    /** Waits until every running broker answers {@code /health} with 200. */
    public void awaitAllHealthy() {
        for (int id : runningIds()) {
            broker(id).awaitHealthy(START_DEADLINE);
        }
    }

    /** Waits until every running broker lists exactly {@code n} live brokers in {@code GET /api/brokers}. */
    public void awaitLiveBrokers(int n) {
        awaitLiveBrokers(n, START_DEADLINE);
    }

    public void awaitLiveBrokers(int n, Duration atMost) {
        await().alias("every running broker lists " + n + " live brokers").atMost(atMost)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> runningIds().stream().allMatch(id -> liveBrokers(id).map(List::size).orElse(-1) == n));
    }

    /** The ids broker {@code id} lists as alive, or empty if it does not answer. */
    public Optional<List<Integer>> liveBrokers(int id) {
        return brokersSeenBy(id).map(list -> list.stream().map(JsonObject.class::cast)
                .filter(b -> b.getBoolean("alive")).map(b -> b.getInteger("id")).sorted().toList());
    }

    /** The ids broker {@code id} lists as controller (one, in a healthy cluster), or empty if it does not answer. */
    public Optional<List<Integer>> controllers(int id) {
        return brokersSeenBy(id).map(list -> list.stream().map(JsonObject.class::cast)
                .filter(b -> b.getBoolean("controller")).map(b -> b.getInteger("id")).toList());
    }

    /** Broker {@code id}'s {@code GET /api/brokers}, or empty if it does not answer 200. */
    public Optional<JsonArray> brokersSeenBy(int id) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl(id) + "/api/brokers"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(new JsonArray(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Kills every broker, then ZooKeeper (SIGKILL, by PID), and deletes every folder they used. */
    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        for (BrokerProcess broker : brokers) {
            try {
                broker.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        try {
            zookeeper.close();
        } catch (RuntimeException e) {
            failures.add(e);
        }
        deleteTree(root);
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.stream().skip(1).forEach(first::addSuppressed);
            throw first;
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
