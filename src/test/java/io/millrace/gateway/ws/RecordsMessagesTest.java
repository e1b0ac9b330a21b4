package io.millrace.gateway.ws;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.broker.FetchResult;
import io.millrace.broker.FetchedRecords;
import io.millrace.broker.TestFetchedRecords;
import io.millrace.broker.json.JsonMapping;
import io.millrace.broker.json.JsonMapping.Encoding;
import io.millrace.common.ManualTime;
import io.millrace.common.TopicPartition;
import io.millrace.record.CompressionType;
import io.millrace.record.Header;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatchBuilder;
import io.millrace.record.RecordBatches;
import io.millrace.record.TimestampType;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogSlice;
import io.millrace.storage.PartitionLog;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link RecordsMessages} over {@link FetchResult}s read from a real partition log, in both forms the broker API
 * hands out: the segment file region a local read returns, and the same batches in memory, as another broker sends
 * them. Every message must be what one socket encoding its own records would send (the oracle {@link #perSocket} is
 * the encoding WebSocketSession did before messages were shared), whatever the socket before it on the event loop
 * asked for.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(RecordsMessagesTest.Form.class)
class RecordsMessagesTest {

    /** Where a fetch result's batches are. */
    enum Form {
        SEGMENT_FILE, IN_MEMORY
    }

    @Parameter
    Form form;

    private static final TopicPartition TP = new TopicPartition("orders", 3);

    /** The log's clock; records are stamped just before it, so that they stay in one segment. */
    private static final long NOW = 1_700_000_000_000L;
    /** What the log holds: offsets 0-2 in an uncompressed batch, 3-5 in a gzip one. */
    private static final List<Sent> SENT = List.of(
            new Sent(NOW - 6, bytes("k0"), bytes("v0 ünï \"quoted\" \\ </script>"),
                    List.of(new Header("source", bytes("web")), new Header("empty", null))),
            new Sent(NOW - 5, null, bytes("v1, no key"), List.of()),
            new Sent(NOW - 4, bytes("k2"), null, List.of()),
            new Sent(NOW - 3, bytes("k3"), bytes("v3"), List.of(new Header("h", bytes("x")))),
            new Sent(NOW - 2, bytes("k4"), bytes("v4"), List.of()),
            new Sent(NOW - 1, bytes("k5"), new byte[] {0, 1, 2, (byte) 0xff}, List.of()));

    private record Sent(long timestamp, byte[] key, byte[] value, List<Header> headers) {
    }

    @TempDir
    Path dir;

    private PartitionLog log;
    private final RecordsMessages messages = new RecordsMessages();

    @BeforeEach
    void fillLog() {
        log = PartitionLog.open(dir, LogConfig.from(Map.of()), new ManualTime(NOW), Runnable::run);
        log.appendAsLeader(batch(CompressionType.NONE, SENT.subList(0, 3)), 0);
        log.appendAsLeader(batch(CompressionType.GZIP, SENT.subList(3, 6)), 0);
    }

    @AfterEach
    void closeLog() {
        log.close();
    }

    @ParameterizedTest
    @EnumSource(Encoding.class)
    void aMessageCarriesEveryFieldOfEveryRecord(Encoding encoding) {
        FetchResult result = fetch(0);

        RecordsMessages.Message message = messages.build("s1", result, 0, encoding, 100);

        assertThat(message.count()).isEqualTo(6);
        assertThat(message.nextOffset()).isEqualTo(6);
        assertThat(new JsonObject(message.text())).isEqualTo(expected("s1", 0, encoding));
        assertThat(message.text()).isEqualTo(perSocket("s1", result, 0, encoding, 100));
    }

    @Test
    void recordsBelowThePositionAreSkipped() {
        FetchResult result = fetch(1);
        assertThat(result.records().firstOffset()).as("the slice starts at the batch holding offset 1").isZero();

        RecordsMessages.Message fromOne = messages.build("s1", result, 1, Encoding.UTF8, 100);
        assertThat(offsets(fromOne)).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(fromOne.nextOffset()).isEqualTo(6);
        assertThat(new JsonObject(fromOne.text())).isEqualTo(expected("s1", 1, Encoding.UTF8));

        // inside the compressed batch
        RecordsMessages.Message fromFour = messages.build("s1", result, 4, Encoding.UTF8, 100);
        assertThat(offsets(fromFour)).containsExactly(4L, 5L);
        assertThat(fromFour.count()).isEqualTo(2);
        assertThat(fromFour.text()).isEqualTo(perSocket("s1", result, 4, Encoding.UTF8, 100));
    }

    @Test
    void aCreditLimitCutsTheMessageAndALargerLimitGetsEverything() {
        FetchResult result = fetch(0);

        RecordsMessages.Message cut = messages.build("s1", result, 0, Encoding.UTF8, 2);
        assertThat(cut.count()).isEqualTo(2);
        assertThat(cut.nextOffset()).isEqualTo(2);
        assertThat(offsets(cut)).containsExactly(0L, 1L);
        assertThat(cut.text()).isEqualTo(perSocket("s1", result, 0, Encoding.UTF8, 2));

        // the next socket has more credit: the cut body must not serve it
        RecordsMessages.Message whole = messages.build("s1", result, 0, Encoding.UTF8, 100);
        assertThat(whole.count()).isEqualTo(6);
        assertThat(whole.nextOffset()).isEqualTo(6);
        assertThat(offsets(whole)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);

        // the cut at exactly what is there is no cut
        assertThat(messages.build("s1", result, 0, Encoding.UTF8, 6).count()).isEqualTo(6);
        // and a whole body does not serve a smaller limit
        RecordsMessages.Message three = messages.build("s1", result, 0, Encoding.UTF8, 3);
        assertThat(offsets(three)).containsExactly(0L, 1L, 2L);
        assertThat(three.nextOffset()).isEqualTo(3);
        // nor does a cut body serve a smaller cut
        RecordsMessages.Message one = messages.build("s1", result, 0, Encoding.UTF8, 1);
        assertThat(offsets(one)).containsExactly(0L);
        assertThat(one.nextOffset()).isEqualTo(1);
    }

    @Test
    void socketsWithDifferentCreditTakingTurnsEachGetTheirOwnCount() {
        FetchResult result = fetch(0);
        long[] credits = {100, 3, 100, 3, 4, 1, 6, 2, 100};
        for (long limit : credits) {
            RecordsMessages.Message message = messages.build("s1", result, 0, Encoding.UTF8, limit);
            long count = Math.min(limit, 6);
            assertThat(message.count()).as("limit %d", limit).isEqualTo((int) count);
            assertThat(message.nextOffset()).as("limit %d", limit).isEqualTo(count);
            assertThat(message.text()).as("limit %d", limit)
                    .isEqualTo(perSocket("s1", result, 0, Encoding.UTF8, limit));
        }
    }

    @Test
    void theSameCutOrAnyLimitAtLeastTheWholeCountReusesTheText() {
        FetchResult result = fetch(0);

        RecordsMessages.Message cut = messages.build("s1", result, 0, Encoding.UTF8, 2);
        assertThat(messages.build("s1", result, 0, Encoding.UTF8, 2).text()).isSameAs(cut.text());

        RecordsMessages.Message whole = messages.build("s1", result, 0, Encoding.UTF8, 6);
        assertThat(messages.build("s1", result, 0, Encoding.UTF8, 7).text()).isSameAs(whole.text());
        assertThat(messages.build("s1", result, 0, Encoding.UTF8, 10_000).text()).isSameAs(whole.text());
    }

    @Test
    void eachSubscriptionIdGetsItsOwnTextOverTheSameRecords() {
        FetchResult result = fetch(0);
        String awkward = "a\"b\\c";

        RecordsMessages.Message s1 = messages.build("s1", result, 0, Encoding.UTF8, 100);
        RecordsMessages.Message s2 = messages.build("s2", result, 0, Encoding.UTF8, 100);
        RecordsMessages.Message s2Again = messages.build("s2", result, 0, Encoding.UTF8, 100);
        RecordsMessages.Message s1Again = messages.build("s1", result, 0, Encoding.UTF8, 100);
        RecordsMessages.Message odd = messages.build(awkward, result, 0, Encoding.UTF8, 100);

        assertThat(new JsonObject(s1.text())).isEqualTo(expected("s1", 0, Encoding.UTF8));
        assertThat(new JsonObject(s2.text())).isEqualTo(expected("s2", 0, Encoding.UTF8));
        assertThat(s2Again.text()).isSameAs(s2.text());
        assertThat(new JsonObject(s1Again.text())).isEqualTo(expected("s1", 0, Encoding.UTF8));
        assertThat(new JsonObject(odd.text())).isEqualTo(expected(awkward, 0, Encoding.UTF8));
        assertThat(odd.text()).isEqualTo(perSocket(awkward, result, 0, Encoding.UTF8, 100));
        for (RecordsMessages.Message m : List.of(s1, s2, s2Again, s1Again, odd)) {
            assertThat(m.count()).isEqualTo(6);
            assertThat(m.nextOffset()).isEqualTo(6);
        }
    }

    @Test
    void anotherFetchResultIsEncodedAfreshEvenWithTheSameContent() {
        FetchResult first = fetch(0);
        FetchResult same = fetch(0);

        RecordsMessages.Message a = messages.build("s1", first, 0, Encoding.UTF8, 100);
        RecordsMessages.Message b = messages.build("s1", same, 0, Encoding.UTF8, 100);

        assertThat(b.text()).isEqualTo(a.text()).isNotSameAs(a.text());

        // a later fetch from the same position brings more records and a higher watermark
        log.appendAsLeader(batch(CompressionType.NONE, List.of(new Sent(NOW, bytes("k6"), bytes("v6"),
                List.of()))), 0);
        FetchResult later = fetch(0);
        RecordsMessages.Message c = messages.build("s1", later, 0, Encoding.UTF8, 100);
        assertThat(c.count()).isEqualTo(7);
        assertThat(c.nextOffset()).isEqualTo(7);
        assertThat(new JsonObject(c.text()).getLong("highWatermark")).isEqualTo(7);
        assertThat(c.text()).isEqualTo(perSocket("s1", later, 0, Encoding.UTF8, 100));
    }

    @Test
    void anotherPositionOrEncodingIsEncodedAfresh() {
        FetchResult result = fetch(0);

        RecordsMessages.Message utf8 = messages.build("s1", result, 0, Encoding.UTF8, 100);
        RecordsMessages.Message fromTwo = messages.build("s1", result, 2, Encoding.UTF8, 100);
        RecordsMessages.Message base64 = messages.build("s1", result, 2, Encoding.BASE64, 100);
        RecordsMessages.Message utf8Again = messages.build("s1", result, 0, Encoding.UTF8, 100);

        assertThat(new JsonObject(utf8.text())).isEqualTo(expected("s1", 0, Encoding.UTF8));
        assertThat(new JsonObject(fromTwo.text())).isEqualTo(expected("s1", 2, Encoding.UTF8));
        assertThat(fromTwo.count()).isEqualTo(4);
        assertThat(new JsonObject(base64.text())).isEqualTo(expected("s1", 2, Encoding.BASE64));
        assertThat(new JsonObject(utf8Again.text())).isEqualTo(expected("s1", 0, Encoding.UTF8));
    }

    @Test
    void nothingAtOrAfterThePositionIsCountZeroAtThePosition() {
        FetchResult result = fetch(0);

        RecordsMessages.Message past = messages.build("s1", result, 6, Encoding.UTF8, 100);
        assertThat(past.count()).isZero();
        assertThat(past.nextOffset()).isEqualTo(6);

        FetchResult empty = fetch(6);
        assertThat(empty.records().isEmpty()).isTrue();
        RecordsMessages.Message none = messages.build("s1", empty, 6, Encoding.UTF8, 100);
        assertThat(none.count()).isZero();
        assertThat(none.nextOffset()).isEqualTo(6);

        // and the next socket with records still gets them, under its own id
        RecordsMessages.Message next = messages.build("s1", result, 5, Encoding.UTF8, 100);
        assertThat(new JsonObject(next.text())).isEqualTo(expected("s1", 5, Encoding.UTF8));
    }

    @Test
    void oneInstanceServesAContextAndAnotherContextHasItsOwn() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            // from a thread outside Vert.x, each call makes a new context
            Context one = vertx.getOrCreateContext();
            Context two = vertx.getOrCreateContext();

            assertThat(RecordsMessages.of(one)).isSameAs(RecordsMessages.of(one));
            assertThat(RecordsMessages.of(one)).isNotSameAs(RecordsMessages.of(two));
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    private FetchResult fetch(long offset) {
        LogSlice slice = log.read(offset, 1 << 20);
        FetchedRecords records = form == Form.SEGMENT_FILE ? TestFetchedRecords.fileRegion(slice)
                : TestFetchedRecords.inMemory(slice);
        return new FetchResult(TP, records, log.logEndOffset(), log.logStartOffset(), log.logEndOffset());
    }

    private static RecordBatch batch(CompressionType compression, List<Sent> records) {
        RecordBatchBuilder builder = new RecordBatchBuilder(compression, TimestampType.CREATE_TIME, 0);
        records.forEach(r -> builder.append(r.timestamp(), r.key(), r.value(), r.headers()));
        return builder.build();
    }

    private static List<Long> offsets(RecordsMessages.Message message) {
        List<Long> offsets = new ArrayList<>();
        new JsonObject(message.text()).getJsonArray("records")
                .forEach(r -> offsets.add(((JsonObject) r).getLong("offset")));
        return offsets;
    }

    /** The message for {@link #SENT} from {@code position} on, written out field by field. */
    private JsonObject expected(String subscription, long position, Encoding encoding) {
        JsonArray records = new JsonArray();
        LongStream.range(position, SENT.size()).forEach(offset -> {
            Sent sent = SENT.get((int) offset);
            JsonObject record = new JsonObject().put("topic", TP.topic()).put("partition", TP.partition())
                    .put("offset", offset).put("timestamp", sent.timestamp());
            putBytes(record, "key", sent.key(), encoding);
            putBytes(record, "value", sent.value(), encoding);
            JsonArray headers = new JsonArray();
            for (Header header : sent.headers()) {
                JsonObject h = new JsonObject().put("key", header.key());
                putBytes(h, "value", header.value(), encoding);
                headers.add(h);
            }
            records.add(record.put("headers", headers));
        });
        return new JsonObject().put("op", "records").put("subscription", subscription).put("topic", TP.topic())
                .put("partition", TP.partition()).put("highWatermark", log.logEndOffset()).put("records", records);
    }

    private static void putBytes(JsonObject json, String field, byte[] bytes, Encoding encoding) {
        String name = encoding == Encoding.UTF8 ? field : field + "Base64";
        if (bytes == null) {
            json.putNull(name);
        } else {
            json.put(name, encoding == Encoding.UTF8 ? new String(bytes, StandardCharsets.UTF_8)
                    : Base64.getEncoder().encodeToString(bytes));
        }
    }

    /** The text one socket sent on its own before messages were shared (WebSocketSession before f7954d8). */
    private static String perSocket(String subscription, FetchResult result, long position, Encoding encoding,
                                    long credits) {
        JsonArray out = new JsonArray();
        outer:
        for (RecordBatch batch : RecordBatches.split(result.records().readFully())) {
            for (Record record : batch.records()) {
                if (record.offset() < position) {
                    continue;
                }
                if (out.size() >= credits) {
                    break outer;
                }
                out.add(JsonMapping.record(TP.topic(), TP.partition(), record, encoding));
            }
        }
        return new JsonObject().put("op", "records").put("subscription", subscription).put("topic", TP.topic())
                .put("partition", TP.partition()).put("highWatermark", result.highWatermark()).put("records", out)
                .encode();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
