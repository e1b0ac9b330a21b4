package io.millrace.http;

import io.millrace.broker.BrokerDescription;
import io.millrace.broker.LocalPartitionCounts;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every broker's live figures, on every broker. Each broker publishes its own {@link BrokerSummary} once per stats
 * period on the clustered event-bus address {@value #ADDRESS} (a publish, so every broker's consumer gets it: it is a
 * broadcast of figures, not a request, and nobody answers), and keeps the newest summary heard from each broker,
 * itself included. A summary older than {@code staleAfterMs} on the receiver's clock is no longer shown: its broker
 * stopped publishing (died, or is cut off), so its rates are unknown rather than the last ones heard.
 *
 * <p>The cost is one message of about 200 bytes per broker per second to every other broker, whatever the partition
 * count: the summary holds counts, never lists of partitions.
 *
 * <p>Thread-safe: {@link #publish} runs on the stats pipeline, {@link #received} on the consumer's context, readers
 * anywhere.
 */
final class BrokerSummaries {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerSummaries.class);

    /** The clustered event-bus address every broker publishes its summary to and listens on. */
    static final String ADDRESS = "millrace.stats.brokers";

    private final int brokerId;
    private final Supplier<LocalPartitionCounts> counts;
    private final long staleAfterMs;
    private final LongSupplier clock;
    /** Newest summary per broker, with the receiver's clock when it arrived. */
    private final Map<Integer, Heard> latest = new ConcurrentHashMap<>();
    private volatile EventBus bus;

    /**
     * @param counts       this broker's partition counts now (BrokerService.localPartitionCounts)
     * @param staleAfterMs how long a summary is shown after it arrived
     * @param clock        ms since the epoch, for staleness
     */
    BrokerSummaries(int brokerId, Supplier<LocalPartitionCounts> counts, long staleAfterMs, LongSupplier clock) {
        this.brokerId = brokerId;
        this.counts = counts;
        this.staleAfterMs = staleAfterMs;
        this.clock = clock;
    }

    /** Starts listening on {@code bus} (and publishing to it); completes once the consumer is registered. */
    Future<MessageConsumer<JsonObject>> attach(EventBus bus) {
        this.bus = bus;
        MessageConsumer<JsonObject> consumer = bus.consumer(ADDRESS, message -> received(message.body()));
        return consumer.completion().map(v -> consumer);
    }

    /** Publishes this broker's summary of the interval that {@code sample} measured; a no-op before attach. */
    void publish(RateSample sample) {
        EventBus target = bus;
        if (target == null) {
            return;
        }
        LocalPartitionCounts now = counts.get();
        BrokerSummary own = new BrokerSummary(brokerId, sample.time(), sample.total(), now.replicas(), now.leaders(),
                now.underReplicated());
        target.publish(ADDRESS, own.toJson());
    }

    /** Takes a summary heard on the bus. */
    void received(JsonObject json) {
        BrokerSummary summary = BrokerSummary.fromJson(json);
        if (summary == null) {
            LOG.debug("Ignored a broker summary this version cannot read: {}", json);
            return;
        }
        latest.put(summary.brokerId(), new Heard(summary, clock.getAsLong()));
    }

    /** The newest summary of broker {@code id}, unless none arrived within the last {@code staleAfterMs}. */
    Optional<BrokerSummary> of(int id) {
        Heard heard = latest.get(id);
        if (heard == null || clock.getAsLong() - heard.at() > staleAfterMs) {
            return Optional.empty();
        }
        return Optional.of(heard.summary());
    }

    /**
     * Adds {@code "stats"} (the dashboard's form of the newest summary) to a broker's JSON, if that broker is alive
     * and its summary fresh: a dead broker's last summary may not have gone stale yet.
     */
    JsonObject withStats(JsonObject brokerJson, BrokerDescription broker) {
        if (broker.alive()) {
            of(broker.id()).ifPresent(summary -> brokerJson.put("stats", summary.toDashboardJson()));
        }
        return brokerJson;
    }

    private record Heard(BrokerSummary summary, long at) {
    }
}
