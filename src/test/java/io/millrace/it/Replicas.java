package io.millrace.it;

import static org.awaitility.Awaitility.await;

import io.millrace.common.TopicPartition;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the replication tests ask of a {@link ClusterHarness}: partition state as the brokers describe it over REST
 * (leader, epoch, in-sync replicas), waits for a healthy cluster, freezing a broker (SIGSTOP/SIGCONT), and checksums
 * of each replica's log segments on disk.
 */
final class Replicas {

    /** How long a killed or returning broker may take to be noticed and caught up with; generous for a busy CI. */
    static final Duration HEAL_DEADLINE = Duration.ofSeconds(90);

    private final ClusterHarness cluster;

    Replicas(ClusterHarness cluster) {
        this.cluster = cluster;
    }

    ClusterHarness cluster() {
        return cluster;
    }

    Rest rest(int broker) {
        return new Rest(cluster.baseUrl(broker));
    }

    /** Creates a topic over REST (on the first running broker), failing the test if that does not work. */
    JsonObject createTopic(String name, int partitions, int replicationFactor, Map<String, String> config) {
        JsonObject cfg = new JsonObject();
        config.forEach(cfg::put);
        Rest.Response r = rest(cluster.runningIds().get(0)).post("/api/topics", new JsonObject().put("name", name)
                .put("partitions", partitions).put("replicationFactor", replicationFactor).put("config", cfg));
        if (r.status() != 201) {
            throw new AssertionError("create topic " + name + ": " + r);
        }
        return r.json();
    }

    /** {@code GET /api/topics/<topic>} answered by broker {@code id}, or empty if it does not answer 200. */
    Optional<JsonObject> describe(int id, String topic) {
        try {
            Rest.Response r = rest(id).get("/api/topics/" + topic);
            return r.status() == 200 ? Optional.of(r.json()) : Optional.empty();
        } catch (UncheckedIOException e) {
            return Optional.empty();
        }
    }

    /** The description of {@code topic} by the first running broker that answers. */
    JsonObject describe(String topic) {
        for (int id : cluster.runningIds()) {
            Optional<JsonObject> d = describe(id, topic);
            if (d.isPresent()) {
                return d.get();
            }
        }
        throw new AssertionError("no running broker describes " + topic);
    }

    JsonObject partition(String topic, int partition) {
        return partitionOf(describe(topic), partition);
    }

    static JsonObject partitionOf(JsonObject description, int partition) {
        return description.getJsonArray("partitions").stream().map(JsonObject.class::cast)
                .filter(p -> p.getInteger("partition") == partition).findFirst().orElseThrow();
    }

    /** The leader of {@code topic-partition}, or -1 while it is offline. */
    int leader(String topic, int partition) {
        Integer leader = partition(topic, partition).getInteger("leader");
        return leader == null ? -1 : leader;
    }

    int leaderEpoch(String topic, int partition) {
        return partition(topic, partition).getInteger("leaderEpoch");
    }

    static List<Integer> ints(JsonArray array) {
        return array.stream().map(o -> ((Number) o).intValue()).sorted().toList();
    }

    List<Integer> isr(String topic, int partition) {
        return ints(partition(topic, partition).getJsonArray("isr"));
    }

    /** The controller every running broker agrees on, or -1 while they do not agree or there is none. */
    int agreedController() {
        List<Integer> seen = new ArrayList<>();
        for (int id : cluster.runningIds()) {
            Optional<List<Integer>> c = cluster.controllers(id);
            if (c.isEmpty() || c.get().size() != 1) {
                return -1;
            }
            seen.add(c.get().get(0));
        }
        return seen.stream().distinct().count() == 1 ? seen.get(0) : -1;
    }

    /**
     * Waits until every running broker describes every partition of {@code topic} with a live leader and all its
     * replicas in sync (the state every test starts from and ends in).
     */
    void awaitFullyReplicated(String topic, Duration atMost) {
        await().alias(topic + ": every partition led and every replica in sync, as every running broker sees it")
                .atMost(atMost).pollInterval(Duration.ofMillis(100))
                .until(() -> cluster.runningIds().stream().allMatch(id -> describe(id, topic)
                        .map(Replicas::fullyReplicated).orElse(false)));
    }

    private static boolean fullyReplicated(JsonObject description) {
        return description.getJsonArray("partitions").stream().map(JsonObject.class::cast).allMatch(p ->
                p.getInteger("leader") != null && p.getInteger("leader") >= 0
                        && ints(p.getJsonArray("isr")).equals(ints(p.getJsonArray("replicas"))));
    }

    /** Every topic's name as the first running broker lists it. */
    List<String> topics() {
        for (int id : cluster.runningIds()) {
            try {
                Rest.Response r = rest(id).get("/api/topics");
                if (r.status() == 200) {
                    return r.array().stream().map(t -> ((JsonObject) t).getString("name")).toList();
                }
            } catch (UncheckedIOException e) {
                // the next broker may answer
            }
        }
        throw new AssertionError("no running broker lists the topics");
    }

    /**
     * Thaws frozen brokers, starts every broker that is not running, and waits until all are healthy, see each other,
     * and every topic is fully replicated: what each test leaves behind for the next.
     */
    void heal() {
        for (int id : cluster.ids()) {
            if (!cluster.broker(id).isAlive()) {
                cluster.broker(id).spawn();
            } else {
                thaw(id);
            }
        }
        cluster.awaitAllHealthy();
        cluster.awaitLiveBrokers(cluster.size(), HEAL_DEADLINE);
        for (String topic : topics()) {
            awaitFullyReplicated(topic, HEAL_DEADLINE);
        }
    }

    /** SIGSTOP: the process stops running but keeps its sockets open (connections are still accepted). */
    void freeze(int id) {
        signal(id, "STOP");
    }

    /** SIGCONT. */
    void thaw(int id) {
        signal(id, "CONT");
    }

    private void signal(int id, String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(cluster.pid(id)))
                    .redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + cluster.pid(id) + " failed: "
                        + new String(kill.getInputStream().readAllBytes()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code <dataDir>/logs/<topic>-<p>}: where broker {@code id} keeps its replica of the partition. */
    Path partitionDir(int id, TopicPartition tp) {
        return cluster.broker(id).dataDir().resolve("logs").resolve(tp.topic() + "-" + tp.partition());
    }

    /**
     * SHA-256 of the partition's {@code .log} segment files on broker {@code id}, concatenated in offset order (the
     * name is the base offset, zero-padded), with the segment names and sizes: identical replicas hold the same bytes
     * in the same segments.
     */
    LogDigest logDigest(int id, TopicPartition tp) {
        Path dir = partitionDir(id, tp);
        List<String> segments = new ArrayList<>();
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long bytes = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path segment : files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList()) {
                long size = Files.size(segment);
                segments.add(segment.getFileName() + ":" + size);
                bytes += size;
                try (InputStream in = Files.newInputStream(segment)) {
                    byte[] buffer = new byte[64 * 1024];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        sha.update(buffer, 0, n);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new LogDigest(HexFormat.of().formatHex(sha.digest()), bytes, segments);
    }

    /** The digest of every replica of {@code tp}, by broker id. */
    Map<Integer, LogDigest> logDigests(TopicPartition tp, List<Integer> replicas) {
        Map<Integer, LogDigest> out = new LinkedHashMap<>();
        replicas.forEach(id -> out.put(id, logDigest(id, tp)));
        return out;
    }

    /** A replica's log on disk: checksum of its segments' bytes, their total size, and name:size of each. */
    record LogDigest(String sha256, long bytes, List<String> segments) {
    }
}
