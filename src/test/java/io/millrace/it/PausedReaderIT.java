package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.protocol.Push;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import io.millrace.record.Record;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Readers that stop reading while they still have credit, until the broker's output to them is full, then read on:
 * each must get every record once and in order, those produced after it read on included.
 *
 * <p>What this guards: a subscription whose push finds the output full takes nothing, and waits for the drain to
 * ask again. The client's credit has not changed, so the drain asks for no new records ({@code request(0)}), and
 * that must still fetch; once it did not, and the subscription stopped for good while the client waited with
 * credit to spare.
 *
 * <p>Each reader's receive buffer is set small and fixed, and the broker is given more than its socket, its write
 * queue and the reader can hold together, so the output certainly fills; the test then waits until the broker stops
 * taking records ({@code millrace_records_out_total} stays put for half a second) before the reader reads on.
 */
class PausedReaderIT {

    private static final int VALUE_BYTES = 16 * 1024;
    /** Records per produce request, so one batch of about 240 KiB: a WebSocket fetch (256 KiB) brings one batch. */
    private static final int RECORDS_PER_REQUEST = 15;
    private static final int RECEIVE_BUFFER_BYTES = 64 * 1024;
    private static final int CREDITS = 10_000;
    private static final long MIB = 1024 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String FILLER = "x".repeat(VALUE_BYTES);
    private static final Pattern TCP_WMEM = Pattern.compile("\\d+\\s+\\d+\\s+(\\d+)");

    static BrokerProcess broker;
    static Rest rest;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("paused-reader", Map.of());
        rest = new Rest(broker.baseUrl());
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void aWebSocketReaderThatStopsUntilTheWriteQueueIsFullGetsEveryRecordOnceWhenItReadsOn() {
        String topic = "paused-ws";
        rest.createTopic(topic, 1);
        try (PausableWsClient ws = PausableWsClient.connect(broker.webSocketUri(), RECEIVE_BUFFER_BYTES)) {
            JsonObject sub = ws.call(new JsonObject().put("op", "subscribe").put("topic", topic)
                    .put("from", "earliest").put("credits", CREDITS));
            assertThat(sub.getString("op")).as("%s", sub).isEqualTo("result");
            ws.pauseReading();
            // The most the reader, the kernel and the broker hold before the broker's write queue is full: the
            // reader's buffer, the message it was reading when paused and 64 KiB it read ahead, the broker's send
            // buffer, and the write queue, which Vert.x calls full once 16 messages wait behind the 64 KiB that
            // Netty holds. A message is one fetch: at most 256 KiB of batches, a little more as JSON.
            long message = 272 * 1024;
            long held = ws.receiveBufferBytes() + 64 * 1024 + message + maxSendBufferBytes() + 64 * 1024
                    + 17 * message;
            int total = fillUntilStoppedThenReadOn(topic, held, ws::resumeReading);
            List<JsonObject> others = new ArrayList<>();
            assertEveryRecordOnceInOrder(total, () -> {
                List<Delivered> records = new ArrayList<>();
                for (JsonObject m : ws.drain()) {
                    if ("records".equals(m.getString("op"))) {
                        m.getJsonArray("records").forEach(r -> records.add(new Delivered(
                                ((JsonObject) r).getLong("offset"), ((JsonObject) r).getString("value"))));
                    } else {
                        others.add(m);
                    }
                }
                assertThat(others).as("messages other than records").isEmpty();
                return records;
            });
        }
    }

    @Test
    void aTcpPushReaderThatStopsUntilTheOutputIsBlockedGetsEveryRecordOnceWhenItReadsOn() {
        String topic = "paused-tcp";
        int pushBytes = 256 * 1024;
        rest.createTopic(topic, 1);
        try (TcpClient client = TcpClient.connect(broker.tcpPort(), RECEIVE_BUFFER_BYTES)) {
            int sid = client.send(new SubscribeRequest(topic, 0, SubscribeRequest.StartPosition.earliest(), CREDITS,
                    pushBytes));
            assertThat(client.awaitResponse(sid, WAIT).as(SubscribeResponse.class).startOffset()).isZero();
            client.pauseReading();
            // The most the reader, the kernel and the broker hold before the connection's output is blocked: the
            // reader's buffer and the push it was reading when paused, the broker's send buffer, the 4 MiB of file
            // bytes waiting to enter it at which FrameOutput blocks, and the push that crossed that line.
            long held = client.receiveBufferBytes() + maxSendBufferBytes() + 4 * MIB + 2L * pushBytes;
            int total = fillUntilStoppedThenReadOn(topic, held, client::resumeReading);
            List<TcpClient.Received> others = new ArrayList<>();
            assertEveryRecordOnceInOrder(total, () -> {
                List<Delivered> records = new ArrayList<>();
                for (TcpClient.Received frame : client.drain()) {
                    if (frame.isPush() && frame.error().isEmpty()) {
                        for (Record r : TcpGatewayIT.records(frame.as(Push.class).recordBatches())) {
                            records.add(new Delivered(r.offset(), TcpGatewayIT.text(r.value())));
                        }
                    } else {
                        others.add(frame);
                    }
                }
                assertThat(others).as("frames other than pushes of records").isEmpty();
                return records;
            });
        }
    }

    /** One record as a reader got it. */
    private record Delivered(long offset, String value) {
    }

    /**
     * Takes what {@code take} gives until {@code total} records came, then checks they are offsets 0 to total - 1,
     * each once, in order, with the values produced.
     */
    private static void assertEveryRecordOnceInOrder(int total, Supplier<List<Delivered>> take) {
        List<Delivered> got = new ArrayList<>();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            got.addAll(take.get());
            assertThat(got.size()).as("records received, of %d produced", total).isGreaterThanOrEqualTo(total);
        });
        assertThat(got).extracting(Delivered::offset)
                .containsExactlyElementsOf(LongStream.range(0, total).boxed().toList());
        for (Delivered d : got) {
            assertThat(d.value().equals(value(d.offset()))).as("value of offset %d", d.offset()).isTrue();
        }
    }

    /**
     * For a paused reader of {@code topic}: produces more than {@code held} bytes, so that the broker's output to
     * the reader fills; waits until the broker has taken no record for half a second (with credit and records
     * waiting, its output is full); lets the reader read on with {@code readOn}, and produces some more. Returns
     * how many records the topic has then.
     */
    private static int fillUntilStoppedThenReadOn(String topic, long held, Runnable readOn) {
        int produced = produce(topic, 0, recordsOf(held + MIB));
        AtomicLong taken = new AtomicLong(-1);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).during(Duration.ofMillis(500)).until(() -> {
            long now = recordsOut(topic);
            return taken.getAndSet(now) == now;
        });
        System.out.printf("%s: the broker stopped after taking %d of %d records%n", topic, taken.get(), produced);
        assertThat(taken.get()).as("records pushed before the output was full, of %d", produced)
                .isPositive().isLessThan(produced);
        readOn.run();
        return produce(topic, produced, 2 * RECORDS_PER_REQUEST);
    }

    private static long recordsOut(String topic) {
        Matcher m = Pattern.compile("millrace_records_out_total\\{topic=\"" + Pattern.quote(topic) + "\",?} (\\S+)")
                .matcher(rest.get("/metrics").body());
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    /**
     * Produces {@code count} records (a multiple of {@link #RECORDS_PER_REQUEST}) with offsets from {@code first},
     * and returns the next offset.
     */
    private static int produce(String topic, int first, int count) {
        for (int n = first; n < first + count; n += RECORDS_PER_REQUEST) {
            JsonArray records = new JsonArray();
            for (int i = n; i < n + RECORDS_PER_REQUEST; i++) {
                records.add(new JsonObject().put("value", value(i)));
            }
            Rest.Response r = rest.post("/api/topics/" + topic + "/records", new JsonObject().put("records", records));
            assertThat(r.status()).as("%s", r).isEqualTo(200);
            assertThat(r.json().getJsonArray("offsets").getJsonObject(0).getLong("offset")).isEqualTo(n);
        }
        return first + count;
    }

    /** Whole produce requests holding more than {@code bytes} of values. */
    private static int recordsOf(long bytes) {
        long requests = bytes / ((long) VALUE_BYTES * RECORDS_PER_REQUEST) + 1;
        return (int) requests * RECORDS_PER_REQUEST;
    }

    private static String value(long offset) {
        return offset + ":" + FILLER;
    }

    /**
     * The most the kernel lets a socket's send buffer grow to (Vert.x leaves it to the kernel): the third number of
     * {@code net.ipv4.tcp_wmem}.
     */
    private static long maxSendBufferBytes() {
        try {
            // readAllLines, not readString: the latter trusts the size /proc reports and reads one byte
            Matcher m = TCP_WMEM.matcher(Files.readAllLines(Path.of("/proc/sys/net/ipv4/tcp_wmem")).get(0).trim());
            if (!m.matches()) {
                throw new IllegalStateException("Cannot read net.ipv4.tcp_wmem");
            }
            return Long.parseLong(m.group(1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
