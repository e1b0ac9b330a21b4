package io.millrace.loadtests.broker;

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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
 * docs/PROTOCOL.md, granting credit back as they read) on one topic, while the SDK produces a fixed rate into it.
 * Delivery latency is from a record's scheduled send time, carried as decimal text at the start of its value, to
 * its arrival at each subscriber; broker RSS is sampled from /proc every second.
 */
final class FanOut {

    private static final String VALUE_FIELD = "\"value\":\"";
    private static final int CREDITS = 1000;
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

    ScenarioResult run(MillraceBroker broker, LoadClient client, int run) throws Exception {
        int subscribers = o.wsSubscribers();
        int rate = o.wsRate();
        String topic = "ws-fanout";
        client.createTopic(topic, 1);
        ScenarioResult result = new ScenarioResult("ws-fanout", "millrace", run);
        Recorder latency = new Recorder(3);
        AtomicLong delivered = new AtomicLong();
        // Records scheduled at or after this time (ns since ORIGIN) are measured; earlier ones are the warm-up.
        AtomicLong measuring = new AtomicLong(Long.MAX_VALUE);
        AtomicLong measured = new AtomicLong();
        // epoll, as the broker uses by default: the subscribers share the broker's two cores, so what their sockets
        // cost in system calls is taken from the broker.
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(EVENT_LOOPS).setPreferNativeTransport(true));
        try {
            WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions()
                    .setMaxFrameSize(1 << 20).setMaxMessageSize(16 << 20).setMaxConnections(subscribers + 16)
                    .setConnectTimeout(30_000));
            long rssIdle = broker.residentBytes().orElse(0);
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
                    loops.get(j % loops.size()).runOnContext(v -> subscribe(ws, broker.httpPort(), topic, latency,
                            delivered, measuring, measured).onComplete(connected));
                    batch.add(connected.future());
                }
                Future.all(batch).await(60, TimeUnit.SECONDS);
                batch.forEach(f -> sockets.add(f.result()));
            }
            result.metric("connect_seconds", (System.nanoTime() - connectStart) / 1e9);
            result.metric("rss_subscribed_mib", broker.residentBytes().orElse(0) / 1048576.0);
            result.metric("rss_before_mib", rssIdle / 1048576.0);

            int valueSize = o.wsRecordSize();
            long total = (long) rate * (o.wsSeconds() + o.wsWarmupSeconds());
            long warmupEnd = (long) rate * o.wsWarmupSeconds();
            long maxRss = 0;
            try (LoadClient.Sender sender = client.sender(new LoadClient.ProducerSettings(1, o.batchSize(), 0,
                         o.bufferMemory()));
                 Scenarios.Sampler sampler = new Scenarios.Sampler(result.series("deliveries/s"), delivered)) {
                long start = System.nanoTime();
                long interval = 1_000_000_000L / rate;
                measuring.set(start + warmupEnd * interval - Scenarios.ORIGIN);
                long nextRss = start;
                for (long i = 0; i < total; i++) {
                    long due = start + i * interval;
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(Math.min(wait, 1_000_000));
                    }
                    if (System.nanoTime() >= nextRss) {
                        maxRss = Math.max(maxRss, broker.residentBytes().orElse(0));
                        nextRss += 1_000_000_000L;
                    }
                    sender.send(topic, 0, value(due, valueSize), e -> { });
                }
                long expected = (total - warmupEnd) * subscribers;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (measured.get() < expected && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                    maxRss = Math.max(maxRss, broker.residentBytes().orElse(0));
                }
                long got = measured.get();
                result.metric("subscribers", subscribers).metric("records_per_s", rate)
                        .metric("record_bytes", valueSize).metric("expected_deliveries", expected)
                        .metric("deliveries", got)
                        .metric("rss_max_mib", maxRss / 1048576.0)
                        .metric("rss_end_mib", broker.residentBytes().orElse(0) / 1048576.0);
                result.latency("delivery", latency.getIntervalHistogram());
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
            ws.close().await(30, TimeUnit.SECONDS);
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
        return result;
    }

    private static byte[] value(long dueNanos, int size) {
        byte[] value = new byte[Math.max(size, 24)];
        Arrays.fill(value, (byte) 'x');
        byte[] stamp = (Long.toString(dueNanos - Scenarios.ORIGIN) + ":").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(stamp, 0, value, 0, stamp.length);
        return value;
    }

    private Future<WebSocket> subscribe(WebSocketClient client, int port, String topic, Recorder latency,
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
                                    latency.recordValue(Math.max(0, (now - sent) / 1000));
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
                            + "\",\"from\":\"latest\",\"credits\":" + CREDITS + "}");
                    return subscribed.future();
                });
    }
}
