package io.millrace.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.millrace.broker.LocalPartitionCounts;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Brokers' summaries: what one publishes reaches the others' views, and goes stale when it stops. */
class BrokerSummariesTest {

    private final Vertx vertx = Vertx.vertx();
    private final AtomicLong now = new AtomicLong(1_000_000);

    @AfterEach
    void close() {
        vertx.close().await();
    }

    @Test
    void everyBrokerHearsEveryOthersFiguresUntilTheyStop() {
        BrokerSummaries one = new BrokerSummaries(1, () -> new LocalPartitionCounts(6, 2, 1), 3_000, now::get);
        BrokerSummaries two = new BrokerSummaries(2, () -> new LocalPartitionCounts(6, 4, 0), 3_000, now::get);
        one.attach(vertx.eventBus()).await();
        two.attach(vertx.eventBus()).await();

        one.publish(new RateSample(now.get(), new Rates(10, 1_000, 5, 500), Map.of()));
        two.publish(new RateSample(now.get(), new Rates(1, 100, 0, 0), Map.of()));

        await().atMost(Duration.ofSeconds(5)).until(() -> two.of(1).isPresent() && one.of(2).isPresent()
                && one.of(1).isPresent());
        BrokerSummary heard = two.of(1).orElseThrow();
        assertThat(heard.rates()).isEqualTo(new Rates(10, 1_000, 5, 500));
        assertThat(heard.leaders()).isEqualTo(2);
        assertThat(heard.underReplicated()).isEqualTo(1);
        assertThat(heard.replicas()).isEqualTo(6);
        assertThat(one.of(2).orElseThrow().leaders()).isEqualTo(4);

        now.addAndGet(3_001);
        assertThat(two.of(1)).as("a broker that stopped publishing has no figures").isEmpty();
        assertThat(two.of(3)).as("a broker never heard from").isEmpty();
    }

    @Test
    void summariesOfAnotherVersionOrShapeAreIgnored() {
        BrokerSummaries view = new BrokerSummaries(1, () -> new LocalPartitionCounts(0, 0, 0), 3_000, now::get);
        BrokerSummary good = new BrokerSummary(7, 5, new Rates(1, 2, 3, 4), 3, 2, 1);
        view.received(good.toJson().put("v", 2));
        view.received(new JsonObject().put("v", 1).put("brokerId", 7));
        view.received(good.toJson().put("rates", "fast"));
        assertThat(view.of(7)).isEmpty();
        view.received(good.toJson().put("future", "field"));
        assertThat(view.of(7)).contains(good);
    }
}
