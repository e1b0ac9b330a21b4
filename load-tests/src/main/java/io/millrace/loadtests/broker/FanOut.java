package io.millrace.loadtests.broker;

import io.millrace.common.LoopbackPorts;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Recorder;

/**
 * WebSocket fan-out: K browser-like subscribers (Vert.x WebSocket clients in this JVM, speaking the JSON protocol of
 * docs/PROTOCOL.md, each with a subscription and credit of its own, granted back as they read) on one topic, while
 * the SDK produces a fixed rate into it: 1,000 × 100 records/s ({@code ws-fanout}) or 10,000 × 10
 * ({@code ws-fanout-10k}). Delivery latency is from a record's scheduled send time, carried as decimal text at the
 * start of its value, to its arrival at each subscriber; broker RSS is sampled from /proc every second, and its RSS
 * and heap per idle subscribed socket are measured before the records flow. On a cluster
 * ({@code ws-fanout-cluster}) the subscribers are spread over the brokers' gateways and the figures are also split by
 * the role of the broker a subscriber is on.
 */
final class FanOut {

    private static final String VALUE_FIELD = "\"value\":\"";
    private static final int CREDITS = 1000;
    /** Descriptors the harness JVM needs besides the subscribers: its jars, SDK and HTTP connections, epoll. */
    static final int DESCRIPTOR_MARGIN = 1024;
    /** The subscribers' event loops: as many as the machine's cores, like the broker's. */
    private static final int EVENT_LOOPS = Math.max(2, Runtime.getRuntime().availableProcessors());

    private final LoadTest.Options o;
    /** Sockets closed before the scenario ended, by close status and reason; and socket errors by message. */
    private final Map<String, Integer> earlyCloses = new ConcurrentHashMap<>();
    private final Map<String, Integer> errors = new ConcurrentHashMap<>();
    private final AtomicBoolean finished = new AtomicBoolean();

    FanOut(LoadTest.Options o) {
        this.o = o;
    }

    /**
     * Where a share of the subscribers connect: a broker's HTTP port and process, named by its broker id; with a
     * {@code role} ({@code leader}, {@code follower}) its subscribers' latency, CPU and RSS are also reported under
     * it, and without (a single broker) only the totals.
     */
    record Endpoint(String broker, int httpPort, Process process, String role) {
    }

    /**
     * Runs the fan-out as scenario {@code name} on a single broker: {@code subscribers} sockets, each with a
     * subscription and credit of its own, while the SDK produces {@code rate} records/s. Before any traffic it
     * measures what the subscribed, idle sockets cost the broker ({@link #idleMemory}).
     */
    ScenarioResult run(MillraceBroker broker, LoadClient client, int run, String name, int subscribers, int rate)
            throws Exception {
        client.createTopic(name, 1);
        return run(broker, List.of(new Endpoint("", broker.httpPort(), broker.brokerProcesses().get(0), "")), client,
                run, name, name, subscribers, rate);
    }

    /**
     * The fan-out with its subscribers spread round robin over {@code endpoints} (brokers of one cluster), on
     * {@code topic}, which exists; figures as for one broker, summed over the brokers, and per endpoint role.
     */
    ScenarioResult run(BrokerUnderTest brokers, List<Endpoint> endpoints, LoadClient client, int run, String name,
                       String topic, int subscribers, int rate) throws Exception {
        checkDescriptors(subscribers);
        ScenarioResult result = new ScenarioResult(name, "millrace", run);
        Recorder latency = new Recorder(3);
        // The producer's side of each delivery (schedule to acks=1 answer), to tell the way into the partition from
        // the way out to the subscribers.
        Recorder produceLatency = new Recorder(3);
        AtomicLong produceErrors = new AtomicLong();
        Map<String, Recorder> latencyByRole = new LinkedHashMap<>();
        endpoints.stream().map(Endpoint::role).filter(role -> !role.isEmpty())
                .forEach(role -> latencyByRole.computeIfAbsent(role, r -> new Recorder(3)));
        AtomicLong delivered = new AtomicLong();
        // Records scheduled at or after this time (ns since ORIGIN) are measured; earlier ones are the warm-up.
        AtomicLong measuring = new AtomicLong(Long.MAX_VALUE);
        AtomicLong measured = new AtomicLong();
        // epoll, as the broker uses by default: the subscribers share the broker's two cores, so what their sockets
        // cost in system calls is taken from the broker.
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(EVENT_LOOPS).setPreferNativeTransport(true));
        try {
            List<String> sources = sourceAddresses(subscribers);
            List<WebSocketClient> clients = new ArrayList<>();
            for (String source : sources) {
                WebSocketClientOptions options = new WebSocketClientOptions().setMaxFrameSize(1 << 20)
                        .setMaxMessageSize(16 << 20).setMaxConnections(subscribers / sources.size() + 16)
                        .setConnectTimeout(30_000);
                if (sources.size() > 1) {
                    options.setLocalAddress(source);
                }
                clients.add(vertx.createWebSocketClient(options));
            }
            result.metric("source_addresses", sources.size());
            Memory idle = idleMemory(brokers, endpoints);
            long connectStart = System.nanoTime();
            List<WebSocket> sockets = new ArrayList<>();
            // A socket is served by the event loop of the context that connected it: connect from one context per
            // event loop in turn, or every subscriber would be read by the same thread.
            List<Context> loops = new ArrayList<>();
            vertx.deployVerticle(() -> new AbstractVerticle() {
                @Override
                public void start() {
                    synchronized (loops) {
                        loops.add(context);
                    }
                }
            }, new DeploymentOptions().setInstances(EVENT_LOOPS)).await(30, TimeUnit.SECONDS);
            for (int i = 0; i < subscribers; i += 100) {
                List<Future<WebSocket>> batch = new ArrayList<>();
                for (int j = i; j < Math.min(subscribers, i + 100); j++) {
                    Promise<WebSocket> connected = Promise.promise();
                    WebSocketClient ws = clients.get(j % clients.size());
                    Endpoint endpoint = endpoints.get(j % endpoints.size());
                    Recorder[] recorders = endpoint.role().isEmpty() ? new Recorder[] {latency}
                            : new Recorder[] {latency, latencyByRole.get(endpoint.role())};
                    loops.get(j % loops.size()).runOnContext(v -> subscribe(ws, endpoint.httpPort(), topic,
                            recorders, delivered, measuring, measured).onComplete(connected));
                    batch.add(connected.future());
                }
                Future.all(batch).await(60, TimeUnit.SECONDS);
                batch.forEach(f -> sockets.add(f.result()));
            }
            result.metric("connect_seconds", (System.nanoTime() - connectStart) / 1e9);
            Memory subscribed = idleMemory(brokers, endpoints);
            result.metric("rss_before_mib", idle.rss() / 1048576.0)
                    .metric("rss_subscribed_mib", subscribed.rss() / 1048576.0)
                    .metric("idle_socket_rss_kib", (subscribed.rss() - idle.rss()) / 1024.0 / subscribers);
            if (idle.heapUsed() >= 0 && subscribed.heapUsed() >= 0) {
                result.metric("heap_before_mib", idle.heapUsed() / 1048576.0)
                        .metric("heap_subscribed_mib", subscribed.heapUsed() / 1048576.0)
                        .metric("idle_socket_heap_kib", (subscribed.heapUsed() - idle.heapUsed()) / 1024.0
                                / subscribers);
            } else {
                result.notes.put("heap", "the broker's /metrics has no jvm_memory_used_bytes{area=\"heap\"}");
            }

            int valueSize = o.wsRecordSize();
            long total = (long) rate * (o.wsSeconds() + o.wsWarmupSeconds());
            long warmupEnd = (long) rate * o.wsWarmupSeconds();
            long maxRss = 0;
            long[] maxRssOf = new long[endpoints.size()];
            long[] cpuAtMeasuringOf = new long[endpoints.size()];
            try (LoadClient.Sender sender = client.sender(new LoadClient.ProducerSettings(1, o.batchSize(), 0,
                         o.bufferMemory()));
                 Scenarios.Sampler sampler = new Scenarios.Sampler(result.series("deliveries/s"), delivered)) {
                long start = System.nanoTime();
                long interval = 1_000_000_000L / rate;
                measuring.set(start + warmupEnd * interval - Scenarios.ORIGIN);
                long nextRss = start;
                long brokerCpuAtMeasuring = 0;
                long harnessCpuAtMeasuring = 0;
                long measuringStart = 0;
                for (long i = 0; i < total; i++) {
                    long due = start + i * interval;
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(Math.min(wait, 1_000_000));
                    }
                    if (i == warmupEnd) {
                        brokerCpuAtMeasuring = brokers.brokerCpuMicros();
                        for (int e = 0; e < endpoints.size(); e++) {
                            cpuAtMeasuringOf[e] = BrokerUnderTest.cpuMicros(List.of(endpoints.get(e).process()));
                        }
                        harnessCpuAtMeasuring = BrokerUnderTest.harnessCpuMicros();
                        measuringStart = System.nanoTime();
                    }
                    if (System.nanoTime() >= nextRss) {
                        maxRss = Math.max(maxRss, brokers.residentBytes().orElse(0));
                        sampleRss(endpoints, maxRssOf);
                        nextRss += 1_000_000_000L;
                    }
                    boolean measuredRecord = i >= warmupEnd;
                    sender.send(topic, 0, value(due, valueSize), e -> {
                        if (e != null) {
                            produceErrors.incrementAndGet();
                        } else if (measuredRecord) {
                            produceLatency.recordValue(Math.max(0, (System.nanoTime() - due) / 1000));
                        }
                    });
                }
                long expected = (total - warmupEnd) * subscribers;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (measured.get() < expected && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                    maxRss = Math.max(maxRss, brokers.residentBytes().orElse(0));
                    sampleRss(endpoints, maxRssOf);
                }
                long got = measured.get();
                long brokerUs = brokers.brokerCpuMicros() - brokerCpuAtMeasuring;
                long harnessUs = BrokerUnderTest.harnessCpuMicros() - harnessCpuAtMeasuring;
                double measuredSeconds = (System.nanoTime() - measuringStart) / 1e9;
                result.metric("subscribers", subscribers).metric("records_per_s", rate)
                        .metric("record_bytes", valueSize).metric("expected_deliveries", expected)
                        .metric("deliveries", got).metric("deliveries_missing", Math.max(0, expected - got))
                        .metric("rss_max_mib", maxRss / 1048576.0)
                        .metric("rss_end_mib", brokers.residentBytes().orElse(0) / 1048576.0)
                        .metric("broker_cores", brokerUs / 1e6 / measuredSeconds);
                if (got > 0) {
                    result.metric("broker_cpu_us_per_delivery", (double) brokerUs / got)
                            .metric("harness_cpu_us_per_delivery", (double) harnessUs / got);
                }
                result.latency("delivery", latency.getIntervalHistogram());
                result.latency("produce", produceLatency.getIntervalHistogram());
                result.metric("produce_errors", produceErrors.get());
                latencyByRole.forEach((role, r) -> result.latency("delivery_" + role, r.getIntervalHistogram()));
                perBroker(result, endpoints, cpuAtMeasuringOf, maxRssOf, measuredSeconds);
                if (got < expected) {
                    result.notes.put("missing", (expected - got) + " of " + expected + " deliveries not seen");
                }
            }
            finished.set(true);
            if (!earlyCloses.isEmpty()) {
                result.notes.put("closed_early", earlyCloses.toString());
            }
            if (!errors.isEmpty()) {
                result.notes.put("socket_errors", errors.toString());
            }
            sockets.forEach(WebSocket::close);
            // Vert.x closes a client that becomes unreachable, with every socket it opened: keep it referenced until
            // here, or a garbage collection during the run closes all subscribers at once.
            for (WebSocketClient ws : clients) {
                ws.close().await(30, TimeUnit.SECONDS);
            }
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
        return result;
    }

    /** The brokers' resident memory and heap in use (-1 when a broker's /metrics does not say), in bytes, summed. */
    record Memory(long rss, long heapUsed) {
    }

    /**
     * The brokers' memory once their garbage is gone: a full GC in each ({@code jcmd <pid> GC.run}), then, once they
     * are idle again, VmRSS from /proc and the heap in use from each one's {@code /metrics} (the sum of
     * {@code jvm_memory_used_bytes} over the heap's pools), summed over the brokers. Taken before the sockets connect
     * and after they have all subscribed, the difference divided by the sockets is what an idle subscribed socket
     * costs.
     */
    private static Memory idleMemory(BrokerUnderTest brokers, List<Endpoint> endpoints) throws Exception {
        for (Endpoint endpoint : endpoints) {
            long pid = endpoint.process().pid();
            Process gc = new ProcessBuilder("jcmd", Long.toString(pid), "GC.run").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!gc.waitFor(60, TimeUnit.SECONDS) || gc.exitValue() != 0) {
                gc.destroyForcibly();
                throw new IllegalStateException("jcmd " + pid + " GC.run failed");
            }
        }
        brokers.awaitQuiet(30_000);
        long heap = 0;
        for (Endpoint endpoint : endpoints) {
            long used = heapUsed(endpoint.httpPort());
            if (used < 0) {
                heap = -1;
                break;
            }
            heap += used;
        }
        return new Memory(brokers.residentBytes().orElse(0), heap);
    }

    /** Raises each endpoint's entry of {@code maxRss} to its broker's resident memory now. */
    private static void sampleRss(List<Endpoint> endpoints, long[] maxRss) {
        for (int e = 0; e < endpoints.size(); e++) {
            maxRss[e] = Math.max(maxRss[e], BrokerUnderTest.residentBytes(endpoints.get(e).process()).orElse(0));
        }
    }

    /**
     * With several brokers: each one's cores in use over the measured part and its largest RSS
     * ({@code broker_<id>_cores}, {@code broker_<id>_rss_max_mib}), and the same per role, since which broker leads
     * changes from run to run: the mean cores of a role's brokers ({@code leader_broker_cores},
     * {@code follower_broker_cores}) and the largest RSS among them.
     */
    private static void perBroker(ScenarioResult result, List<Endpoint> endpoints, long[] cpuAtMeasuring,
                                  long[] maxRss, double measuredSeconds) {
        if (endpoints.size() < 2) {
            return;
        }
        Map<String, double[]> coresByRole = new LinkedHashMap<>();
        Map<String, Double> rssByRole = new LinkedHashMap<>();
        for (int e = 0; e < endpoints.size(); e++) {
            Endpoint endpoint = endpoints.get(e);
            long cpuUs = BrokerUnderTest.cpuMicros(List.of(endpoint.process())) - cpuAtMeasuring[e];
            double cores = cpuUs / 1e6 / measuredSeconds;
            double rssMib = maxRss[e] / 1048576.0;
            result.metric("broker_" + endpoint.broker() + "_cores", cores)
                    .metric("broker_" + endpoint.broker() + "_rss_max_mib", rssMib);
            double[] sumAndCount = coresByRole.computeIfAbsent(endpoint.role(), r -> new double[2]);
            sumAndCount[0] += cores;
            sumAndCount[1]++;
            rssByRole.merge(endpoint.role(), rssMib, Math::max);
        }
        coresByRole.forEach((role, sumAndCount) -> result.metric(role + "_broker_cores",
                sumAndCount[0] / sumAndCount[1]));
        rssByRole.forEach((role, rss) -> result.metric(role + "_broker_rss_max_mib", rss));
    }

    private static long heapUsed(int httpPort) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        double sum = -1;
        for (String line : metrics.split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                sum = Math.max(sum, 0) + Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return (long) sum;
    }

    /**
     * Fails before any socket opens when this process may not hold {@code sockets} descriptors and a margin for its
     * own jars and connections (run-load-tests.sh raises the soft limit; the broker inherits it).
     */
    static void checkDescriptors(int sockets) throws IOException {
        long needed = sockets + DESCRIPTOR_MARGIN;
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                if (!soft.equals("unlimited") && Long.parseLong(soft) < needed) {
                    throw new IllegalStateException(sockets + " WebSocket subscribers need " + needed
                            + " open files in the harness (and in the broker), but the limit is " + soft
                            + "; run through load-tests/run-load-tests.sh, which raises ulimit -n, or raise it");
                }
            }
        }
    }

    /**
     * Loopback addresses to connect from: {@code 127.0.0.1} (no explicit bind) while one address's ephemeral ports
     * suffice, else as many of {@code 127.0.0.2 ...} as it takes. A client that binds its local address takes a
     * port for that address alone (bind before connect), so each address gets at most half of
     * {@code ip_local_port_range}, the rest left to sockets in TIME_WAIT and to other processes.
     * {@code --ws-source-addresses} forces a count.
     */
    List<String> sourceAddresses(int sockets) throws IOException {
        int count = o.wsSourceAddresses();
        if (count <= 0) {
            int[] range = LoopbackPorts.ephemeralRange();
            int perAddress = (range[1] - range[0] + 1) / 2;
            count = (sockets + perAddress - 1) / perAddress;
        }
        if (count == 1) {
            return List.of("127.0.0.1");
        }
        if (count > 250) {
            throw new IllegalArgumentException(count + " source addresses: more than 127.0.0.2-127.0.0.251");
        }
        List<String> addresses = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            addresses.add("127.0.0." + (2 + i));
        }
        return addresses;
    }

    private static byte[] value(long dueNanos, int size) {
        byte[] value = new byte[Math.max(size, 24)];
        Arrays.fill(value, (byte) 'x');
        byte[] stamp = (Long.toString(dueNanos - Scenarios.ORIGIN) + ":").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(stamp, 0, value, 0, stamp.length);
        return value;
    }

    /** One subscriber; each latency it measures goes into every one of {@code latencies}. */
    private Future<WebSocket> subscribe(WebSocketClient client, int port, String topic, Recorder[] latencies,
                                        AtomicLong delivered, AtomicLong measuring, AtomicLong measured) {
        return client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws"))
                .compose(socket -> {
                    var subscribed = Promise.<WebSocket>promise();
                    String[] subscription = {null};
                    int[] unCredited = {0};
                    socket.closeHandler(v -> {
                        if (!finished.get()) {
                            earlyCloses.merge(socket.closeStatusCode() + " " + socket.closeReason(), 1, Integer::sum);
                        }
                    });
                    socket.exceptionHandler(e -> errors.merge(e.toString(), 1, Integer::sum));
                    socket.textMessageHandler(text -> {
                        long now = System.nanoTime() - Scenarios.ORIGIN;
                        if (text.startsWith("{\"op\":\"records\"") || text.contains("\"op\":\"records\"")) {
                            int n = 0;
                            for (int at = text.indexOf(VALUE_FIELD); at >= 0;
                                 at = text.indexOf(VALUE_FIELD, at + VALUE_FIELD.length())) {
                                int from = at + VALUE_FIELD.length();
                                int colon = text.indexOf(':', from);
                                long sent = Long.parseLong(text, from, colon, 10);
                                if (sent >= measuring.get()) {
                                    for (Recorder latency : latencies) {
                                        latency.recordValue(Math.max(0, (now - sent) / 1000));
                                    }
                                    measured.incrementAndGet();
                                }
                                n++;
                            }
                            delivered.addAndGet(n);
                            unCredited[0] += n;
                            if (unCredited[0] >= CREDITS / 2 && subscription[0] != null) {
                                socket.writeTextMessage("{\"op\":\"credit\",\"subscription\":\"" + subscription[0]
                                        + "\",\"credits\":" + unCredited[0] + "}");
                                unCredited[0] = 0;
                            }
                        } else if (text.contains("\"op\":\"result\"")) {
                            int at = text.indexOf("\"subscription\":\"");
                            if (at >= 0) {
                                int from = at + "\"subscription\":\"".length();
                                subscription[0] = text.substring(from, text.indexOf('"', from));
                            }
                            subscribed.tryComplete(socket);
                        } else if (text.contains("\"op\":\"error\"")) {
                            subscribed.tryFail("subscribe failed: " + text);
                        }
                    });
                    socket.writeTextMessage("{\"op\":\"subscribe\",\"id\":1,\"topic\":\"" + topic
                            + "\",\"from\":\"latest\",\"credits\":" + CREDITS
                            + (o.wsLingerMs() >= 0 ? ",\"lingerMs\":" + o.wsLingerMs() : "") + "}");
                    return subscribed.future();
                });
    }
}
