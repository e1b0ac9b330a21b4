package io.millrace.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.rxjava3.RxHelper;

/**
 * Gives the {@link StatsStream} its own event-loop context for the life of the HTTP front-end, and listens there for
 * the other brokers' summaries ({@link BrokerSummaries}).
 */
public final class StatsVerticle extends VerticleBase {

    private final StatsStream stream;
    private final BrokerSummaries summaries;

    StatsVerticle(StatsStream stream, BrokerSummaries summaries) {
        this.stream = stream;
        this.summaries = summaries;
    }

    @Override
    public Future<?> start() {
        return summaries.attach(vertx.eventBus()).onSuccess(consumer -> stream.start(RxHelper.scheduler(context)));
    }

    @Override
    public Future<?> stop() {
        stream.stop();
        return Future.succeededFuture();
    }
}
