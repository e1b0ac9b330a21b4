package io.millrace.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.reactivex.rxjava3.schedulers.TestScheduler;
import io.reactivex.rxjava3.subscribers.TestSubscriber;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The stats pipeline on virtual time: rates per second, the bounded history, one shared cluster read per tick. */
class StatsStreamTest {

    private final TestScheduler time = new TestScheduler();
    private final Map<String, long[]> totals = new TreeMap<>();
    private final AtomicInteger clusterReads = new AtomicInteger();
    private final StatsStream stream = new StatsStream(() -> copy(totals), () -> {
        clusterReads.incrementAndGet();
        return CompletableFuture.completedFuture(new JsonObject().put("topics", new JsonArray()));
    }, 1_000, 3, 10);

    @AfterEach
    void stop() {
        stream.stop();
    }

    @Test
    void ratesArePerSecondPerTopicAndInTotal() {
        stream.start(time);
        totals.put("orders", new long[] {0, 0, 0, 0});
        time.advanceTimeBy(1, TimeUnit.SECONDS);
        totals.put("orders", new long[] {10, 1_000, 4, 400});
        totals.put("clicks", new long[] {5, 50, 0, 0});
        time.advanceTimeBy(1, TimeUnit.SECONDS);

        RateSample last = stream.history().get(stream.history().size() - 1);
        assertThat(last.time()).isEqualTo(2_000);
        assertThat(last.topics().get("orders")).isEqualTo(new Rates(10, 1_000, 4, 400));
        // A topic that appeared since the last reading counts from zero.
        assertThat(last.topics().get("clicks")).isEqualTo(new Rates(5, 50, 0, 0));
        assertThat(last.total()).isEqualTo(new Rates(15, 1_050, 4, 400));

        time.advanceTimeBy(1, TimeUnit.SECONDS);
        RateSample idle = stream.history().get(stream.history().size() - 1);
        assertThat(idle.topics()).as("idle topics are left out").isEmpty();
        assertThat(idle.total()).isEqualTo(Rates.ZERO);
        assertThat(idle.toJson().getJsonObject("total").getDouble("recordsIn")).isZero();
    }

    @Test
    void historyKeepsTheNewestSamplesWhetherOrNotAnyoneListens() {
        stream.start(time);
        time.advanceTimeBy(10, TimeUnit.SECONDS);
        assertThat(stream.history()).extracting(RateSample::time).containsExactly(8_000L, 9_000L, 10_000L);
        assertThat(clusterReads).as("nobody listened, so the cluster was never read").hasValue(0);
        assertThat(stream.historyJson().getJsonArray("samples")).hasSize(3);
        assertThat(stream.historyJson().getLong("intervalMs")).isEqualTo(1_000);
    }

    @Test
    void oneClusterReadPerTickHoweverManyListenAndNoneOnceTheyLeave() {
        stream.start(time);
        TestSubscriber<JsonObject> first = stream.frames().test();
        TestSubscriber<JsonObject> second = stream.frames().test();
        time.advanceTimeBy(3, TimeUnit.SECONDS);

        first.assertValueCount(3);
        second.assertValueCount(3);
        assertThat(clusterReads).hasValue(3);
        JsonObject frame = first.values().get(2);
        assertThat(frame.getLong("time")).isEqualTo(3_000);
        assertThat(frame.getJsonObject("rates").getJsonObject("total")).isNotNull();
        assertThat(frame.getJsonArray("topics")).isEmpty();

        first.cancel();
        second.cancel();
        time.advanceTimeBy(5, TimeUnit.SECONDS);
        assertThat(clusterReads).hasValue(3);
        assertThat(stream.history()).hasSize(3);
    }

    @Test
    void aClusterReadThatNeverAnswersStillLetsFramesOutWithTheProblemNamed() {
        StatsStream stuck = new StatsStream(() -> copy(totals), CompletableFuture::new, 1_000, 3, 10);
        stuck.start(time);
        try {
            TestSubscriber<JsonObject> page = stuck.frames().test();
            time.advanceTimeBy(7, TimeUnit.SECONDS);
            assertThat(page.values()).isNotEmpty();
            assertThat(page.values().get(0).getJsonArray("problems").getString(0))
                    .startsWith("Cannot read the cluster state");
        } finally {
            stuck.stop();
        }
    }

    private static Map<String, long[]> copy(Map<String, long[]> totals) {
        Map<String, long[]> out = new TreeMap<>();
        totals.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }
}
