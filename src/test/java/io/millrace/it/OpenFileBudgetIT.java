package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.millrace.storage.SegmentDescriptors;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A broker holding more partitions than its open-file budget has room for (issue 16): with
 * {@code log.max.open.files} = 16, room for five segments, 100 partitions take produces and serve fetches over REST,
 * the process never keeps more segment files open than the budget allows (plus the segments threads are using at that
 * moment), and after a clean restart every record is still there.
 */
class OpenFileBudgetIT {

    private static final int PARTITIONS = 100;
    private static final int MAX_OPEN_FILES = 16;
    /**
     * Segments the budget cannot close at the moment it counts: one per thread using one (two event loops, the
     * flush threads, a fetch's reader), three files each.
     */
    private static final int IN_USE_SLACK = 4 * 3;
    private static final Pattern OPEN_SEGMENTS =
            Pattern.compile("(?m)^millrace_log_open_segments(?:\\{[^}]*})? (\\S+)$");
    private static final Pattern BUDGET_CLOSES =
            Pattern.compile("(?m)^millrace_log_segment_budget_closes_total(?:\\{[^}]*})? (\\S+)$");

    private BrokerProcess broker;

    @AfterEach
    void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void aHundredPartitionsWorkThroughABudgetOfSixteenOpenFiles() {
        assumeTrue(SegmentDescriptors.countable(), "counts descriptors through /proc");
        broker = BrokerProcess.start("open-files", Map.of("log.max.open.files", Integer.toString(MAX_OPEN_FILES),
                "event.loop.threads", "2"));
        Rest rest = new Rest(broker.baseUrl());
        rest.createTopic("many", PARTITIONS);

        for (String round : List.of("first", "second")) {
            for (int p = 0; p < PARTITIONS; p++) {
                Rest.Response produced = rest.post("/api/topics/many/records", new JsonObject().put("records",
                        new JsonArray().add(new JsonObject().put("partition", p).put("value", round + "-" + p))));
                assertThat(produced.status()).as(produced.body()).isEqualTo(200);
                assertThat(produced.json().getJsonArray("offsets").getJsonObject(0).getLong("offset"))
                        .isEqualTo(round.equals("first") ? 0 : 1);
                assertThat(openSegmentFiles()).isLessThanOrEqualTo(MAX_OPEN_FILES + IN_USE_SLACK);
            }
        }
        assertEveryPartitionHoldsBothRecords(rest);

        String metrics = rest.get("/metrics").body();
        assertThat(metric(metrics, OPEN_SEGMENTS)).isLessThanOrEqualTo((MAX_OPEN_FILES + IN_USE_SLACK) / 3.0);
        assertThat(metric(metrics, BUDGET_CLOSES)).as("segments closed for the budget")
                .isGreaterThanOrEqualTo(2.0 * PARTITIONS);

        broker.stop();
        broker.restart();
        assertEveryPartitionHoldsBothRecords(new Rest(broker.baseUrl()));
    }

    private void assertEveryPartitionHoldsBothRecords(Rest rest) {
        for (int p = 0; p < PARTITIONS; p++) {
            JsonObject consumed = rest.get("/api/topics/many/partitions/" + p + "/records?offset=0").json();
            JsonArray records = consumed.getJsonArray("records");
            int partition = p;
            assertThat(IntStream.range(0, records.size()).mapToObj(i -> records.getJsonObject(i).getString("value")))
                    .as("partition %d", p).containsExactly("first-" + partition, "second-" + partition);
            assertThat(openSegmentFiles()).isLessThanOrEqualTo(MAX_OPEN_FILES + IN_USE_SLACK);
        }
    }

    private static double metric(String metrics, Pattern pattern) {
        Matcher m = pattern.matcher(metrics);
        assertThat(m.find()).as("metric %s in %s", pattern, metrics).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** Descriptors of the broker process open on a segment file (log or index) in its data folder. */
    private int openSegmentFiles() {
        try {
            return SegmentDescriptors.open(Long.toString(broker.pid()), broker.dataDir().toRealPath());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
