package io.millrace.loadtests.broker;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * A large partition moved onto a new broker under load ({@code reassign-1gib}). On a cluster of three brokers, one
 * partition (replication factor 3, {@code min.insync.replicas} 2) is filled with {@code --reassign-fill-bytes} of
 * record values (1 GiB) by an idempotent acks=all producer; a fourth broker joins (with
 * {@code replication.throttled.rate} = {@code --reassign-throttle} when that is set); then a steady idempotent acks=all
 * producer offers {@code --reassign-rate} records/s to the partition, on a fixed schedule, for
 * {@code --reassign-before-seconds}, during the move and for {@code --reassign-after-seconds} after it. The move
 * goes through the REST API ({@code POST /api/reassignments}) onto [the new broker, one old follower], so the new
 * broker copies the whole log and then takes the leadership; its progress is polled from
 * {@code GET /api/reassignments}.
 *
 * <p>Figures: the move's duration (POST to the partition on its target replicas and the move gone) and the time
 * until the new replica joined the in-sync set, the partition's size over each (MiB/s), the steady producer's latency
 * (from each record's scheduled send time to its acknowledgement, so a stalled producer cannot hide its backlog) by
 * the phase its send was scheduled in, its failed sends, and a read-back: every record acknowledged is read again
 * at the offset it was acknowledged with, and must carry its own index.
 *
 * <p>Not thread-safe: the harness's main thread runs it; the producer's callbacks write per-record arrays that the
 * main thread reads only after the acknowledgement counter says they are all written.
 */
final class PartitionMove {

    static final String SCENARIO = "reassign-1gib";
    private static final long POLL_MS = 100;

    private final LoadTest.Options o;
    private final Scenarios scenarios;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    PartitionMove(LoadTest.Options o, Scenarios scenarios) {
        this.o = o;
        this.scenarios = scenarios;
    }

    /** The figures of one move; the cluster has three brokers and {@link #SCENARIO}'s topic does not exist yet. */
    ScenarioResult run(MillraceCluster cluster, MillraceLoadClient client, int run) throws Exception {
        ScenarioResult result = new ScenarioResult(SCENARIO, "millrace", run);
        String topic = SCENARIO;
        client.createTopic(topic, 1);
        Scenarios.awaitFullIsr(client, topic, cluster.nodes(), 60_000);
        fill(cluster, client, run, topic, result);

        int restPort = cluster.httpPort(cluster.brokerIds().get(0));
        List<String> settings = o.reassignThrottle() > 0
                ? List.of("replication.throttled.rate=" + o.reassignThrottle()) : List.of();
        int added = cluster.addBroker(settings);
        cluster.awaitQuiet(30_000);
        JsonObject before = partition(restPort, topic);
        int leader = before.getInteger("leader");
        int follower = before.getJsonArray("replicas").stream().map(id -> (Integer) id).filter(id -> id != leader)
                .findFirst().orElseThrow();
        List<Integer> target = List.of(added, follower);
        result.metric("added_broker", added).metric("leader_before", leader)
                .metric("throttle_bytes_per_s", o.reassignThrottle());
        result.notes.put("move", "replicas " + replicas(restPort, topic) + " -> " + target);

        int rate = o.reassignRate();
        result.metric("offered_records_per_s", rate);
        int capacity = Math.multiplyExact(rate, o.reassignBeforeSeconds() + o.reassignTimeoutSeconds()
                + o.reassignAfterSeconds());
        long[] due = new long[capacity];
        long[] answered = new long[capacity];
        long[] offsets = new long[capacity];
        AtomicInteger sent = new AtomicInteger();
        AtomicLong acked = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong stopAt = new AtomicLong(Long.MAX_VALUE);
        List<String> firstErrors = new ArrayList<>();
        long moveStart;
        long copyEnd = 0;
        long moveEnd = 0;
        try (LoadClient.Sender sender = client.sender(scenarios.settings(-1));
             Scenarios.Sampler sampler = new Scenarios.Sampler(result.series("acked records/s"), acked)) {
            long start = System.nanoTime();
            long interval = 1_000_000_000L / rate;
            Thread producer = new Thread(() -> {
                for (int i = 0; i < capacity; i++) {
                    long scheduled = start + i * interval;
                    if (scheduled >= stopAt.get()) {
                        break;
                    }
                    Scenarios.awaitSchedule(scheduled);
                    due[i] = scheduled;
                    int index = i;
                    sender.sendWithOffset(topic, 0, scenarios.stamped(scheduled, i), (offset, e) -> {
                        answered[index] = System.nanoTime();
                        offsets[index] = e == null ? offset : -1;
                        if (e != null && errors.incrementAndGet() <= 3) {
                            synchronized (firstErrors) {
                                firstErrors.add(e.toString());
                            }
                        }
                        acked.incrementAndGet();
                    });
                    sent.set(i + 1);
                }
            }, "steady-producer");
            producer.start();
            sleepUntil(start + TimeUnit.SECONDS.toNanos(o.reassignBeforeSeconds()));

            long brokerCpuAtStart = cluster.brokerCpuMicros();
            double partitionMib = partition(restPort, topic).getLong("sizeBytes") / 1048576.0;
            moveStart = System.nanoTime();
            startMove(restPort, topic, target);
            long deadline = moveStart + TimeUnit.SECONDS.toNanos(o.reassignTimeoutSeconds());
            StringBuilder phases = new StringBuilder();
            String phase = "";
            while (true) {
                JsonObject move = move(restPort, topic);
                long now = System.nanoTime();
                String nowPhase = move == null ? "DONE" : move.getString("phase");
                if (!nowPhase.equals(phase)) {
                    phases.append(phases.isEmpty() ? "" : ", ").append(nowPhase)
                            .append(String.format(" at %.2f s", (now - moveStart) / 1e9));
                    phase = nowPhase;
                }
                if (copyEnd == 0 && (move == null || move.getJsonArray("adding", new JsonArray()).isEmpty())) {
                    copyEnd = now;
                }
                if (nowPhase.equals("DONE") && replicas(restPort, topic).equals(target)) {
                    moveEnd = now;
                    break;
                }
                if (now > deadline) {
                    result.notes.put("timeout", "the move did not finish within " + o.reassignTimeoutSeconds()
                            + " s (phase " + phase + "); cancelled");
                    cancelMove(restPort, topic);
                    break;
                }
                Thread.sleep(POLL_MS);
            }
            result.notes.put("phases", phases.toString());
            long phaseEnd = moveEnd > 0 ? moveEnd : System.nanoTime();
            result.metric("brokers_cores_during_move", (cluster.brokerCpuMicros() - brokerCpuAtStart) / 1e6
                    / ((phaseEnd - moveStart) / 1e9));
            if (moveEnd > 0 && partitionMib > 0) {
                double moveSeconds = (moveEnd - moveStart) / 1e9;
                double copySeconds = (copyEnd - moveStart) / 1e9;
                result.metric("partition_mib", partitionMib).metric("move_s", moveSeconds)
                        .metric("move_mib_per_s", partitionMib / moveSeconds).metric("copy_s", copySeconds)
                        .metric("copy_mib_per_s", partitionMib / copySeconds);
            }
            sleepUntil(phaseEnd + TimeUnit.SECONDS.toNanos(o.reassignAfterSeconds()));
            stopAt.set(System.nanoTime());
            producer.join();
            long answersDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.timeoutSeconds());
            while (acked.get() < sent.get() && System.nanoTime() < answersDeadline) {
                Thread.sleep(10);
            }
            phaseEnd = moveEnd > 0 ? moveEnd : Long.MAX_VALUE;
            producerFigures(result, sent.get(), acked.get(), errors.get(), due, answered, offsets, moveStart,
                    phaseEnd);
        }
        if (!firstErrors.isEmpty()) {
            result.notes.put("first_errors", String.join("; ", firstErrors));
        }
        result.metric("leader_after", partition(restPort, topic).getInteger("leader"));
        readBack(client, topic, sent.get(), offsets, result);
        return result;
    }

    /**
     * {@code --reassign-fill-bytes} of record values, at full speed, acks=all; fails the scenario unless every record
     * is acknowledged, since the move's figures are about a partition of that size.
     */
    private void fill(MillraceCluster cluster, MillraceLoadClient client, int run, String topic,
                      ScenarioResult result) throws Exception {
        long records = (o.reassignFillBytes() + o.recordSize() - 1) / o.recordSize();
        ScenarioResult fill = scenarios.produce(client, "millrace", run, "fill", topic, -1, 1, 1, records);
        System.out.println("   (" + Report.oneLine(fill) + ")");
        if (fill.metrics.get("records") < records || fill.metrics.get("errors") > 0) {
            throw new IllegalStateException("filling " + topic + " failed: " + Report.oneLine(fill));
        }
        result.metric("fill_records", records).metric("fill_s", fill.metrics.get("seconds"))
                .metric("fill_records_per_s", fill.metrics.get("records_per_s"));
        Scenarios.awaitFullIsr(client, topic, cluster.nodes(), 120_000);
        cluster.awaitQuiet(30_000);
    }

    /**
     * The steady producer's figures: latency from each record's schedule to its acknowledgement by the phase it was
     * scheduled in ({@code produce_before}, {@code produce_during}, {@code produce_after}), failed sends, records never
     * answered, and acknowledged offsets given twice.
     */
    private static void producerFigures(ScenarioResult result, int sent, long acked, long errors, long[] due,
                                        long[] answered, long[] offsets, long moveStart, long moveEnd) {
        Histogram before = new Histogram(3);
        Histogram during = new Histogram(3);
        Histogram after = new Histogram(3);
        for (int i = 0; i < sent; i++) {
            if (answered[i] == 0 || offsets[i] < 0) {
                continue;
            }
            Histogram phase = due[i] < moveStart ? before : due[i] < moveEnd ? during : after;
            phase.recordValue(Math.max(0, (answered[i] - due[i]) / 1000));
        }
        result.metric("sent", sent).metric("answered", acked).metric("unanswered", sent - acked)
                .metric("errors", errors);
        result.latency("produce_before", before);
        result.latency("produce_during", during);
        result.latency("produce_after", after);
    }

    /**
     * Reads the partition again from the first acknowledged offset of the steady producer and checks that each
     * acknowledged record is at its offset and is the record sent ({@code readback_missing} counts those not found
     * there, {@code readback_wrong} those where another record is; {@code offsets_repeated} acknowledgements that
     * share an offset with an earlier one).
     */
    private void readBack(MillraceLoadClient client, String topic, int sent, long[] offsets, ScenarioResult result)
            throws Exception {
        long first = Long.MAX_VALUE;
        long last = -1;
        for (int i = 0; i < sent; i++) {
            if (offsets[i] >= 0) {
                first = Math.min(first, offsets[i]);
                last = Math.max(last, offsets[i]);
            }
        }
        if (last < 0) {
            result.notes.put("readback", "no record was acknowledged");
            return;
        }
        int[] expected = new int[Math.toIntExact(last - first + 1)];
        Arrays.fill(expected, -1);
        long checked = 0;
        long repeated = 0;
        for (int i = 0; i < sent; i++) {
            if (offsets[i] >= 0) {
                int slot = (int) (offsets[i] - first);
                if (expected[slot] >= 0) {
                    repeated++;
                } else {
                    expected[slot] = i;
                    checked++;
                }
            }
        }
        AtomicLong matched = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        CountDownLatch reachedLast = new CountDownLatch(1);
        long from = first;
        long to = last;
        long start = System.nanoTime();
        try (LoadClient.Receiver receiver = client.receiveFrom(topic, 0, from, (offset, value) -> {
            if (offset <= to) {
                int want = expected[(int) (offset - from)];
                if (want >= 0) {
                    if (ByteBuffer.wrap(value).getLong(8) == want) {
                        matched.incrementAndGet();
                    } else {
                        wrong.incrementAndGet();
                    }
                }
            }
            if (offset >= to) {
                reachedLast.countDown();
            }
        })) {
            if (!reachedLast.await(o.timeoutSeconds(), TimeUnit.SECONDS)) {
                result.notes.put("readback", "offset " + to + " not read within " + o.timeoutSeconds() + " s");
            }
        }
        result.metric("readback_checked", checked).metric("readback_missing", checked - matched.get())
                .metric("readback_wrong", wrong.get()).metric("offsets_repeated", repeated)
                .metric("readback_s", (System.nanoTime() - start) / 1e9);
    }

    private void startMove(int port, String topic, List<Integer> target) throws Exception {
        JsonObject plan = new JsonObject().put("version", 1).put("partitions", new JsonArray().add(new JsonObject()
                .put("topic", topic).put("partition", 0).put("replicas", new JsonArray(new ArrayList<>(target)))));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(port, "/api/reassignments"))
                .timeout(Duration.ofSeconds(30)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(plan.encode())).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("POST /api/reassignments answered " + r.statusCode() + ": " + r.body());
        }
    }

    private void cancelMove(int port, String topic) throws Exception {
        http.send(HttpRequest.newBuilder(uri(port, "/api/reassignments/" + topic + "/0")).timeout(Duration.ofSeconds(30))
                .DELETE().build(), HttpResponse.BodyHandlers.discarding());
    }

    /** The partition's entry of {@code GET /api/reassignments}, or null when it is not moving. */
    private JsonObject move(int port, String topic) throws Exception {
        JsonArray moves = getJson(port, "/api/reassignments").getJsonArray("reassignments");
        for (int i = 0; i < moves.size(); i++) {
            JsonObject m = moves.getJsonObject(i);
            if (topic.equals(m.getString("topic")) && m.getInteger("partition") == 0) {
                return m;
            }
        }
        return null;
    }

    /** Partition 0 as {@code GET /api/topics/{topic}} describes it: leader, replicas, ISR, size. */
    private JsonObject partition(int port, String topic) throws Exception {
        return getJson(port, "/api/topics/" + topic).getJsonArray("partitions").getJsonObject(0);
    }

    private List<Integer> replicas(int port, String topic) throws Exception {
        return partition(port, topic).getJsonArray("replicas").stream().map(id -> (Integer) id).toList();
    }

    private JsonObject getJson(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return new JsonObject(Objects.requireNonNull(r.body()));
    }

    private static URI uri(int port, String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long wait;
        while ((wait = nanoTime - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}
