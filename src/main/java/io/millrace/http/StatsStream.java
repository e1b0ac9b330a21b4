package io.millrace.http;

import io.millrace.broker.json.JsonMapping;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.reactivex.rxjava3.core.Flowable;
import io.reactivex.rxjava3.core.Scheduler;
import io.reactivex.rxjava3.core.Single;
import io.reactivex.rxjava3.disposables.CompositeDisposable;
import io.reactivex.rxjava3.flowables.ConnectableFlowable;
import io.reactivex.rxjava3.subjects.CompletableSubject;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.rxjava3.RxHelper;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's live stats, as one Rx pipeline shared by every open page and served as Server-Sent Events at
 * {@code GET /api/stats/stream} (format in docs/PROTOCOL.md, "Live stats").
 *
 * <pre>
 *  interval(1 s) ─> read totals ─> buffer(2, 1) ─> rate per second ─> publish ─┬─> history (last 5 minutes, always)
 *                                                                              │   and {@code sampled} (always)
 *                                                                              └─> latest ─> + cluster state ─> share
 *                                                                                                        │
 *                                                                                       SSE event text, once ─> share
 *                                                                                                        │
 *  each page: history event, then ─> latest (a slow page skips frames) ─> its event loop ─> HTTP response
 * </pre>
 *
 * Rates are sampled whether or not anyone listens, so a page opened now draws the last five minutes at once. The
 * costlier part, reading the cluster state each second, runs only while at least one page listens
 * ({@code share()}): the first page starts it, the last one to leave stops it. A page that stops reading is never
 * queued for: it gets the newest frame when it can take one. A page that goes away cancels its branch through the
 * response's exception handler.
 *
 * <p>Thread-safe: the pipeline runs on the scheduler given to {@link #start}; each page's writes run on that page's
 * event loop.
 */
public final class StatsStream {

    private static final Logger LOG = LoggerFactory.getLogger(StatsStream.class);

    /** Five minutes of one-second samples. */
    public static final int HISTORY_SAMPLES = 300;
    public static final long PERIOD_MS = 1_000;
    /** How long one reading of the cluster state may take before the frame goes out without it. */
    private static final long CLUSTER_TIMEOUT_MS = 5_000;
    /** What EventSource waits before reconnecting after the stream ends. */
    private static final int RETRY_MS = 2_000;

    private final Supplier<Map<String, long[]>> totals;
    private final Supplier<CompletionStage<JsonObject>> cluster;
    private final Consumer<RateSample> sampled;
    private final long periodMs;
    private final int maxStreams;
    private final RateHistory history;
    private final AtomicInteger open = new AtomicInteger();
    private final CompletableSubject stopped = CompletableSubject.create();
    private final CompositeDisposable running = new CompositeDisposable();
    private volatile Flowable<JsonObject> frames;
    /** The frames as SSE events, encoded once for every page: a frame lists every partition of every topic. */
    private volatile Flowable<String> events;

    /**
     * @param totals     running totals per topic, {@code [recordsIn, bytesIn, recordsOut, bytesOut]}
     *                   (BrokerMetrics.topicTotals)
     * @param cluster    reads the cluster state once (ClusterSnapshot.take); called on the pipeline's scheduler
     * @param periodMs   sampling period
     * @param historySize samples kept for a page that opens
     * @param maxStreams most pages listening at once ({@code http.max.stats.streams}); more get 503
     */
    public StatsStream(Supplier<Map<String, long[]>> totals, Supplier<CompletionStage<JsonObject>> cluster,
                       long periodMs, int historySize, int maxStreams) {
        this(totals, cluster, sample -> { }, periodMs, historySize, maxStreams);
    }

    /**
     * As above, and hands every rate sample to {@code sampled} as it is measured, on the pipeline's scheduler,
     * whether or not a page listens (the broker publishes its summary to the cluster from there). It must not block;
     * what it throws is logged and the sampling goes on.
     */
    public StatsStream(Supplier<Map<String, long[]>> totals, Supplier<CompletionStage<JsonObject>> cluster,
                       Consumer<RateSample> sampled, long periodMs, int historySize, int maxStreams) {
        this.totals = totals;
        this.cluster = cluster;
        this.sampled = sampled;
        this.periodMs = periodMs;
        this.maxStreams = maxStreams;
        this.history = new RateHistory(historySize);
    }

    /** Starts sampling on {@code scheduler}. */
    public void start(Scheduler scheduler) {
        ConnectableFlowable<RateSample> rates = Flowable.interval(0, periodMs, TimeUnit.MILLISECONDS, scheduler)
                .map(tick -> new RateSample.Totals(scheduler.now(TimeUnit.MILLISECONDS), totals.get()))
                .buffer(2, 1)
                .filter(pair -> pair.size() == 2)
                .map(pair -> RateSample.between(pair.get(0), pair.get(1)))
                .publish();
        // Unbounded consumers only, so the publish never stalls the interval.
        running.add(rates.subscribe(sample -> {
            history.add(sample);
            try {
                sampled.accept(sample);
            } catch (RuntimeException e) {
                LOG.warn("Handing on a rate sample failed", e);
            }
        }, e -> LOG.error("Stats sampling failed", e)));
        frames = rates
                .onBackpressureLatest()
                .concatMapSingle(sample -> Single.fromCompletionStage(cluster.get())
                        .timeout(CLUSTER_TIMEOUT_MS, TimeUnit.MILLISECONDS, scheduler)
                        .onErrorReturn(e -> new JsonObject().put("problems", new JsonArray()
                                .add("Cannot read the cluster state: " + JsonMapping.asMillrace(e).getMessage())))
                        .map(state -> frame(sample, state)), 1)
                .share();
        events = frames.map(frame -> event("stats", frame)).share();
        running.add(rates.connect());
    }

    /** Ends every open stream (their pages reconnect elsewhere or later) and stops sampling. */
    public void stop() {
        stopped.onComplete();
        running.dispose();
    }

    /** The rate samples kept, oldest first. */
    public List<RateSample> history() {
        return history.snapshot();
    }

    /**
     * The live frames, one per period, shared: the cluster state is read once per period however many subscribe,
     * and only while someone does. Hot; a subscriber that cannot keep up must drop frames itself (for example with
     * {@code onBackpressureLatest()}).
     */
    public Flowable<JsonObject> frames() {
        Flowable<JsonObject> live = frames;
        if (live == null) {
            throw new IllegalStateException("The stats stream has not been started");
        }
        return live;
    }

    /** Pages listening now. */
    public int openStreams() {
        return open.get();
    }

    /** {@code {"intervalMs", "samples": [...]}}: the history event's data. */
    public JsonObject historyJson() {
        JsonArray samples = new JsonArray();
        history.snapshot().forEach(s -> samples.add(s.toJson()));
        return new JsonObject().put("intervalMs", periodMs).put("samples", samples);
    }

    /** Serves one page: headers, then the history event, then a stats event per period until the page leaves. */
    void serve(RoutingContext ctx) {
        Flowable<String> live = events;
        if (live == null || stopped.hasComplete()) {
            HttpApi.fail(ctx, new MillraceException(ErrorCode.BROKER_OVERLOADED, "The stats stream is not running"));
            return;
        }
        if (open.incrementAndGet() > maxStreams) {
            open.decrementAndGet();
            HttpApi.fail(ctx, new MillraceException(ErrorCode.BROKER_OVERLOADED, "Too many open stats streams"
                    + " (http.max.stats.streams=" + maxStreams + "); retry later"));
            return;
        }
        HttpServerResponse response = ctx.response().setChunked(true)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                // Compression would hold events back in the compressor; proxies must not buffer either.
                .putHeader(HttpHeaders.CONTENT_ENCODING, HttpHeaders.IDENTITY)
                .putHeader("x-accel-buffering", "no");
        Scheduler here = RxHelper.scheduler(ctx.vertx().getOrCreateContext());
        Flowable.defer(() -> Flowable.just("retry: " + RETRY_MS + "\n\n" + event("history", historyJson())))
                .concatWith(live.onBackpressureLatest())
                .takeUntil(stopped.andThen(Flowable.just("")))
                .observeOn(here, false, 1)
                .doFinally(open::decrementAndGet)
                .subscribe(RxHelper.<String, Buffer>toSubscriber(response, Buffer::buffer)
                        .onError(e -> LOG.warn("Stats stream failed", e))
                        .onWriteStreamError(e -> LOG.debug("Stats page went away: {}", e.toString())));
    }

    private JsonObject frame(RateSample sample, JsonObject state) {
        return state.copy().put("time", sample.time()).put("intervalMs", periodMs).put("rates", sample.toJson());
    }

    /** One SSE event: its name, then the JSON on one data line (JSON text never holds a raw newline). */
    static String event(String name, JsonObject data) {
        return "event: " + name + "\ndata: " + data.encode() + "\n\n";
    }
}
