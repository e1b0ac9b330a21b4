package io.millrace.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.rxjava3.RxHelper;

/** Gives the {@link StatsStream} its own event-loop context for the life of the HTTP front-end. */
public final class StatsVerticle extends VerticleBase {

    private final StatsStream stream;

    public StatsVerticle(StatsStream stream) {
        this.stream = stream;
    }

    @Override
    public Future<?> start() {
        stream.start(RxHelper.scheduler(context));
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        stream.stop();
        return Future.succeededFuture();
    }
}
