package io.millrace.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.millrace.broker.Broker;
import io.millrace.broker.BrokerMetrics;
import io.millrace.broker.BrokerService;
import io.millrace.broker.FetchResult;
import io.millrace.broker.NewTopic;
import io.millrace.broker.Reassignments;
import io.millrace.broker.json.JsonInput;
import io.millrace.broker.json.JsonMapping;
import io.millrace.common.Acks;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.OffsetSpec;
import io.millrace.common.TopicPartition;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the broker: the REST admin and data API under {@code /api}, the dashboard's live stats stream
 * ({@link StatsStream}), {@code /health}, {@code /metrics}, and the dashboard's files at {@code /}. JSON in and out;
 * every error is {@code {"error": {"code", "message", "retriable"}}} with a fitting status. Stateless apart from the
 * broker it calls and the stats stream it serves.
 *
 * <p>A request body is JSON whatever its {@code Content-Type} says ({@code curl -d} sends a form type), read as bytes
 * up to {@code http.max.body.bytes} and parsed within the {@link JsonInput} limits. A client's mistake is answered
 * with the code that names it; {@code UNKNOWN} (500) means a broker bug and is logged with its stack trace.
 */
public final class HttpApi {

    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);

    /** Where the dashboard's built files live on the class path (the Maven build puts them there). */
    static final String WEB_ROOT = "webroot";
    /** Vite names every file under /assets/ by its content hash, so those can be cached for good. */
    private static final String HASHED_ASSETS = "/assets/";
    /**
     * A broker's summary is shown for this many stats periods after it arrived: long enough to ride out a late
     * message, short enough that a dead broker's rates disappear within seconds.
     */
    private static final int SUMMARY_STALE_PERIODS = 3;
    /** Where {@link #readBody} leaves the body for the handlers. */
    private static final String BODY = "millrace.body";

    private final Broker broker;
    private final BrokerService brokerService;
    private final PrometheusMeterRegistry registry;
    private final int maxBodyBytes;
    private final JsonInput jsonInput;
    private final Reassignments reassignments;
    private final StatsStream stats;
    private final BrokerSummaries summaries;
    private final ClusterSnapshot cluster;

    /**
     * @param maxBodyBytes    largest request body ({@code http.max.body.bytes})
     * @param maxStatsStreams most dashboards listening to the stats stream at once ({@code http.max.stats.streams})
     * @param jsonInput       how request bodies are parsed ({@code json.max.*})
     */
    public HttpApi(BrokerService broker, PrometheusMeterRegistry registry, int maxBodyBytes, int maxStatsStreams,
                   JsonInput jsonInput) {
        this.broker = broker;
        this.reassignments = broker.reassignments();
        this.brokerService = broker;
        this.registry = registry;
        this.maxBodyBytes = maxBodyBytes;
        this.jsonInput = jsonInput;
        this.summaries = new BrokerSummaries(broker.brokerId(), broker::localPartitionCounts,
                SUMMARY_STALE_PERIODS * StatsStream.PERIOD_MS, System::currentTimeMillis);
        this.cluster = new ClusterSnapshot(broker, summaries);
        this.stats = new StatsStream(broker.metrics()::topicTotals, () -> cluster.take().toCompletionStage(),
                summaries::publish, StatsStream.PERIOD_MS, StatsStream.HISTORY_SAMPLES, maxStatsStreams);
    }

    /**
     * The verticle that runs the stats stream and exchanges the brokers' summaries; deploy it once, beside the HTTP
     * servers that share this API.
     */
    public StatsVerticle statsVerticle() {
        return new StatsVerticle(stats, summaries);
    }

    private static void allowAnyOrigin(RoutingContext ctx) {
        ctx.response().putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        ctx.next();
    }

    /** Adds the routes to {@code router}. */
    public void mount(Router router) {
        router.get("/health").handler(this::health);
        router.get("/metrics").handler(this::metrics);
        router.route("/api/*").handler(this::readBody);
        // A dashboard or page whose own broker died reads these from another broker, another origin.
        for (String shared : List.of("/api/stats/stream", "/api/stats", "/api/cluster", "/api/brokers",
                "/api/reassignments")) {
            router.get(shared).handler(HttpApi::allowAnyOrigin);
        }
        router.get("/api/stats/stream").handler(stats::serve);
        router.get("/api/stats").handler(ctx -> reply(ctx, 200, Future.succeededFuture(stats.historyJson())));
        router.get("/api/cluster").handler(ctx -> reply(ctx, 200, cluster.summary()));
        router.get("/api/brokers").handler(ctx -> reply(ctx, 200, broker.brokers()
                .map(list -> new JsonArray(list.stream()
                        .map(b -> summaries.withStats(JsonMapping.broker(b), b)).toList()))));
        router.post("/api/cluster/preferred-leader-election").handler(ctx -> reply(ctx, 200,
                broker.electPreferredLeaders().map(moved -> new JsonObject().put("partitionsMoved", moved))));
        router.get("/api/reassignments").handler(ctx -> reply(ctx, 200,
                reassignments.reassignments().map(JsonMapping::progress)));
        router.post("/api/reassignments").handler(ctx -> reply(ctx, 200, body(ctx)
                .compose(json -> reassignments.reassign(JsonMapping.parsePlan(json))).map(JsonMapping::plan)));
        router.delete("/api/reassignments").handler(ctx -> reply(ctx, 200, reassignments.cancel(List.of())
                .map(n -> new JsonObject().put("cancelled", n))));
        router.delete("/api/reassignments/:topic/:partition").handler(ctx -> reply(ctx, 200,
                pathPartition(ctx).compose(tp -> reassignments.cancel(List.of(tp)))
                        .map(n -> new JsonObject().put("cancelled", n))));
        router.get("/api/cluster/rebalance-plan").handler(ctx -> reply(ctx, 200,
                reassignments.rebalancePlan().map(JsonMapping::plan)));
        router.get("/api/brokers/:broker/decommission-plan").handler(ctx -> reply(ctx, 200,
                pathBroker(ctx).compose(reassignments::decommissionPlan).map(JsonMapping::plan)));
        router.post("/api/brokers/:broker/decommission").handler(ctx -> reply(ctx, 200,
                pathBroker(ctx).compose(reassignments::decommissionPlan).compose(reassignments::reassign)
                        .map(JsonMapping::plan)));
        router.get("/api/topics").handler(this::listTopics);
        router.post("/api/topics").handler(this::createTopic);
        router.get("/api/topics/:topic").handler(ctx -> reply(ctx, 200,
                broker.describeTopic(ctx.pathParam("topic")).map(JsonMapping::topic)));
        router.delete("/api/topics/:topic").handler(ctx -> reply(ctx, 204,
                broker.deleteTopic(ctx.pathParam("topic")).map(v -> null)));
        router.post("/api/topics/:topic/partitions").handler(this::addPartitions);
        router.post("/api/topics/:topic/records").handler(this::produce);
        router.get("/api/topics/:topic/partitions/:partition/records").handler(this::consume);
        router.get("/api/groups").handler(ctx -> reply(ctx, 200, broker.listGroups()
                .map(all -> new JsonArray(all.stream().map(JsonMapping::groupListing).toList()))));
        router.get("/api/groups/:group").handler(ctx -> reply(ctx, 200,
                broker.describeGroup(ctx.pathParam("group")).map(JsonMapping::group)));
        router.post("/api/groups/:group/offsets").handler(this::resetOffsets);
        router.delete("/api/groups/:group").handler(ctx -> reply(ctx, 204,
                broker.deleteGroup(ctx.pathParam("group"))));
        router.route("/api/*").last().handler(ctx -> fail(ctx, new MillraceException(ErrorCode.INVALID_REQUEST,
                "No such endpoint: " + ctx.request().method() + " " + ctx.request().path())));
        // A path or query Vert.x cannot decode (%ZZ) fails before any route matches, so only the router's own error
        // handler sees it.
        router.errorHandler(400, ctx -> {
            if (ctx.request().path().startsWith("/api/")) {
                fail(ctx, JsonMapping.invalid("The request's path or query string cannot be decoded: check its"
                        + " percent-escapes (%XX, two hex digits)"));
            } else {
                ctx.response().setStatusCode(400).end("Bad Request");
            }
        });
        router.route("/api/*").failureHandler(ctx -> fail(ctx, ctx.failure() != null ? ctx.failure()
                : new MillraceException(ErrorCode.INVALID_REQUEST, "The request was refused with HTTP "
                + ctx.statusCode() + " before it reached the API; check its method, path and headers")));
        mountDashboard(router);
    }

    /**
     * The dashboard and the browser client module, from {@value #WEB_ROOT} on the class path. Hashed assets are
     * immutable; everything else ({@code index.html}, {@code /millrace-client.js}) is revalidated on each load, so a
     * new broker version is picked up at once while unchanged files cost a 304.
     */
    private static void mountDashboard(Router router) {
        String notApi = "^(?!/api/).*";
        router.routeWithRegex(notApi).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(ctx -> {
            ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, ctx.normalizedPath().startsWith(HASHED_ASSETS)
                    ? "public, max-age=31536000, immutable" : "no-cache");
            ctx.next();
        });
        router.routeWithRegex(notApi).method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(StaticHandler.create(WEB_ROOT).setDirectoryListing(false));
        router.get("/").handler(ctx -> ctx.response().setStatusCode(404)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
                .end("The dashboard is not in this build: build with Maven (it runs npm in web-dashboard/)."
                        + " The REST API is under /api, the WebSocket at /ws.\n"));
    }

    private void health(RoutingContext ctx) {
        JsonObject body = ClusterSnapshot.health(broker);
        // Degraded (data directory full or read-only) is still 200: the broker serves reads, and a load balancer
        // that dropped it would take those away too; the body says what is wrong.
        ctx.response().setStatusCode("unavailable".equals(body.getString("status")) ? 503 : 200)
                .putHeader("content-type", "application/json").end(body.encode());
    }

    /**
     * Scrapes on a worker: the text grows with the partitions (four series each, written from the partitions'
     * figures by {@link BrokerMetrics#partitionSeries}), and a broker of 20,000 partitions must not stop its HTTP
     * event loop for the scrape.
     */
    private void metrics(RoutingContext ctx) {
        ctx.vertx().executeBlocking(() -> registry.scrape()
                        + BrokerMetrics.partitionSeries(brokerService.localPartitionStats()))
                .onSuccess(text -> ctx.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(text))
                .onFailure(ctx::fail);
    }

    private void listTopics(RoutingContext ctx) {
        reply(ctx, 200, broker.listTopics().compose(names -> Future.all(names.stream()
                        .map(name -> broker.describeTopic(name).map(JsonMapping::topic)
                                .otherwise((JsonObject) null))
                        .toList()))
                .map(all -> {
                    JsonArray out = new JsonArray();
                    all.<JsonObject>list().stream().filter(t -> t != null).forEach(out::add);
                    return out;
                }));
    }

    private void createTopic(RoutingContext ctx) {
        reply(ctx, 201, body(ctx).compose(json -> broker.createTopic(JsonMapping.parseNewTopic(json)))
                .map(JsonMapping::topic));
    }

    private void addPartitions(RoutingContext ctx) {
        reply(ctx, 200, body(ctx).compose(json -> {
            OptionalInt count = JsonMapping.optionalInt(json, "partitions");
            if (count.isEmpty()) {
                throw JsonMapping.invalid("'partitions' (the new total count) is required");
            }
            return broker.addPartitions(ctx.pathParam("topic"), count.getAsInt());
        }).map(JsonMapping::topic));
    }

    /**
     * {@code POST /api/groups/{g}/offsets} with {@code {"topic", "partitions": [..] (default all), "to": "earliest" |
     * "latest" | offset}} or {@code {"offsets": [{"topic", "partition", "offset"}]}}: rewinds or skips a group without
     * members. Answers the group's description.
     */
    private void resetOffsets(RoutingContext ctx) {
        String group = ctx.pathParam("group");
        reply(ctx, 200, body(ctx).compose(json -> {
            if (json.getValue("offsets") != null) {
                return broker.resetOffsets(group, JsonMapping.parseOffsets(json.getValue("offsets")));
            }
            String topic = JsonMapping.requireString(json, "topic");
            Object to = json.getValue("to", "earliest");
            if (!(to instanceof String) && !(to instanceof Integer) && !(to instanceof Long)) {
                throw JsonMapping.invalid("'to' must be \"earliest\", \"latest\" or an offset");
            }
            OffsetSpec spec = switch (String.valueOf(to)) {
                case "earliest" -> OffsetSpec.EARLIEST;
                case "latest" -> OffsetSpec.LATEST;
                default -> new OffsetSpec.AtOffset(parseLong(String.valueOf(to), "to"));
            };
            Object listed = json.getValue("partitions");
            List<Integer> requested = listed == null ? List.of() : JsonMapping.parsePartitions(listed);
            return broker.describeTopic(topic).compose(t -> {
                List<Integer> partitions = new ArrayList<>(requested);
                if (partitions.isEmpty()) {
                    t.partitions().forEach(p -> partitions.add(p.partition()));
                }
                List<Future<Map.Entry<TopicPartition, Long>>> resolved = new ArrayList<>();
                for (int p : partitions) {
                    TopicPartition tp = new TopicPartition(topic, p);
                    resolved.add(spec instanceof OffsetSpec.AtOffset at
                            ? Future.succeededFuture(Map.entry(tp, at.offset()))
                            : broker.listOffset(tp, spec).map(r -> Map.entry(tp, r.offset())));
                }
                return Future.all(resolved).compose(all -> {
                    Map<TopicPartition, Long> offsets = new java.util.LinkedHashMap<>();
                    all.<Map.Entry<TopicPartition, Long>>list().forEach(e -> offsets.put(e.getKey(), e.getValue()));
                    return broker.resetOffsets(group, offsets);
                });
            });
        }).compose(v -> broker.describeGroup(group)).map(JsonMapping::group));
    }

    private void produce(RoutingContext ctx) {
        reply(ctx, 200, body(ctx).compose(json -> {
            Acks acks = JsonMapping.parseAcks(json);
            return broker.produceRecords(ctx.pathParam("topic"), JsonMapping.parseRecords(json), acks);
        }).map(list -> new JsonObject().put("offsets",
                new JsonArray(list.stream().map(JsonMapping::metadata).toList()))));
    }

    /**
     * {@code GET /api/topics/{t}/partitions/{p}/records?offset=N|earliest|latest&maxRecords=100&maxWaitMs=0
     * &encoding=utf8|base64}: committed records from an offset, for simple consumers such as curl.
     */
    private void consume(RoutingContext ctx) {
        Future<JsonObject> result;
        try {
            TopicPartition tp = new TopicPartition(ctx.pathParam("topic"), parseInt(ctx.pathParam("partition"),
                    "partition", 0, Integer.MAX_VALUE));
            MultiMap query = ctx.queryParams();
            String from = query.get("offset") == null ? "earliest" : query.get("offset");
            int maxRecords = parseInt(query.get("maxRecords"), "maxRecords", 1, 10_000, 100);
            int maxWait = parseInt(query.get("maxWaitMs"), "maxWaitMs", 0, 60_000, 0);
            JsonMapping.Encoding encoding = JsonMapping.Encoding.parse(query.get("encoding"));
            OffsetSpec spec = switch (from) {
                case "earliest" -> OffsetSpec.EARLIEST;
                case "latest" -> OffsetSpec.LATEST;
                default -> new OffsetSpec.AtOffset(parseLong(from, "offset"));
            };
            result = broker.listOffset(tp, spec).compose(start -> broker.fetch(tp, start.offset(),
                    1024 * 1024, maxWait).map(fetched -> records(tp, fetched, start.offset(), maxRecords, encoding)));
        } catch (MillraceException e) {
            result = Future.failedFuture(e);
        }
        reply(ctx, 200, result);
    }

    private static JsonObject records(TopicPartition tp, FetchResult fetched, long from, int maxRecords,
                                      JsonMapping.Encoding encoding) {
        JsonArray out = new JsonArray();
        long next = from;
        if (!fetched.records().isEmpty()) {
            for (RecordBatch batch : RecordBatches.split(fetched.readRecords())) {
                for (Record record : batch.records()) {
                    if (record.offset() >= from && out.size() < maxRecords) {
                        out.add(JsonMapping.record(tp.topic(), tp.partition(), record, encoding));
                        next = record.offset() + 1;
                    }
                }
            }
        }
        return new JsonObject().put("records", out).put("nextOffset", next)
                .put("highWatermark", fetched.highWatermark()).put("logStartOffset", fetched.logStartOffset());
    }

    private static int parseInt(String text, String name, int min, int max, int orElse) {
        return text == null ? orElse : parseInt(text, name, min, max);
    }

    private static int parseInt(String text, String name, int min, int max) {
        long v = parseLong(text, name);
        if (v < min || v > max) {
            throw JsonMapping.invalid("'" + name + "' must be between " + min + " and " + max);
        }
        return (int) v;
    }

    private static long parseLong(String text, String name) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw JsonMapping.invalid("'" + name + "' must be a whole number, was '" + text + "'");
        }
    }

    /**
     * Reads the body as bytes, up to {@code http.max.body.bytes}, and leaves it for {@link #body}. Unlike Vert.x's
     * {@code BodyHandler} it never decodes a form, whose field size limits would refuse a large JSON body sent as
     * {@code curl -d} sends it. A body over the limit is answered 413 as soon as that is known (from
     * {@code Content-Length}, before reading, or while reading a chunked body) and the connection is then closed,
     * as the rest of the body is never read.
     */
    private void readBody(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        boolean chunked = request.headers().contains(HttpHeaders.TRANSFER_ENCODING);
        if ((length == null && !chunked) || request.isEnded()) {
            ctx.next();
            return;
        }
        if (length != null && declaredOverLimit(length)) {
            bodyTooLarge(ctx);
            return;
        }
        if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
            ctx.response().writeContinue();
        }
        Buffer body = Buffer.buffer();
        boolean[] refused = {false};
        request.handler(chunk -> {
            if (refused[0]) {
                return;
            }
            if ((long) body.length() + chunk.length() > maxBodyBytes) {
                refused[0] = true;
                bodyTooLarge(ctx);
                return;
            }
            body.appendBuffer(chunk);
        });
        request.endHandler(v -> {
            if (!refused[0]) {
                ctx.put(BODY, body);
                ctx.next();
            }
        });
        request.resume();
    }

    private boolean declaredOverLimit(String contentLength) {
        try {
            return Long.parseLong(contentLength.trim()) > maxBodyBytes;
        } catch (NumberFormatException e) {
            // Netty refuses a malformed Content-Length before we see the request; this is only a second line.
            return false;
        }
    }

    private void bodyTooLarge(RoutingContext ctx) {
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        fail(ctx, new MillraceException(ErrorCode.RECORD_TOO_LARGE, "The request body is larger than "
                + "http.max.body.bytes=" + maxBodyBytes + " bytes; split the records over several requests"));
    }

    private static Future<TopicPartition> pathPartition(RoutingContext ctx) {
        try {
            return Future.succeededFuture(new TopicPartition(ctx.pathParam("topic"),
                    Integer.parseInt(ctx.pathParam("partition"))));
        } catch (NumberFormatException e) {
            return Future.failedFuture(JsonMapping.invalid("The partition must be a number, was '"
                    + ctx.pathParam("partition") + "'"));
        }
    }

    private static Future<Integer> pathBroker(RoutingContext ctx) {
        try {
            return Future.succeededFuture(Integer.parseInt(ctx.pathParam("broker")));
        } catch (NumberFormatException e) {
            return Future.failedFuture(JsonMapping.invalid("The broker id must be a number, was '"
                    + ctx.pathParam("broker") + "'"));
        }
    }

    private Future<JsonObject> body(RoutingContext ctx) {
        Buffer bytes = ctx.get(BODY);
        if (bytes == null || bytes.length() == 0) {
            return Future.failedFuture(JsonMapping.invalid("The request needs a JSON object as its body"));
        }
        try {
            return Future.succeededFuture(jsonInput.object(bytes, "The request body"));
        } catch (MillraceException e) {
            return Future.failedFuture(e);
        }
    }

    private static void reply(RoutingContext ctx, int status, Future<?> result) {
        result.onComplete(r -> {
            if (r.failed()) {
                fail(ctx, r.cause());
                return;
            }
            if (ctx.response().ended()) {
                return;
            }
            Object body = r.result();
            ctx.response().setStatusCode(body == null && status == 200 ? 204 : status);
            if (body == null) {
                ctx.response().end();
            } else {
                ctx.response().putHeader("content-type", "application/json").end(body instanceof JsonObject o
                        ? o.encode() : ((JsonArray) body).encode());
            }
        });
    }

    static void fail(RoutingContext ctx, Throwable error) {
        if (ctx.response().ended()) {
            return;
        }
        MillraceException e = JsonMapping.asMillrace(error);
        if (e.errorCode() == ErrorCode.UNKNOWN) {
            LOG.error("{} {} failed with an unexpected error (a broker bug: client mistakes have their own codes)",
                    ctx.request().method(), ctx.request().path(), error);
        }
        ctx.response().setStatusCode(status(e.errorCode())).putHeader("content-type", "application/json")
                .end(new JsonObject().put("error", JsonMapping.error(e.errorCode(), e.getMessage())).encode());
    }

    static int status(ErrorCode code) {
        return switch (code) {
            case INVALID_REQUEST, INVALID_CONFIG, INVALID_TOPIC, INVALID_REPLICATION_FACTOR, CORRUPT_RECORD,
                 UNSUPPORTED_COMPRESSION, UNSUPPORTED_VERSION -> 400;
            case INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, OFFSET_METADATA_TOO_LARGE, INVALID_TIMESTAMP,
                 INVALID_REPLICA_ASSIGNMENT -> 400;
            case NO_REASSIGNMENT_IN_PROGRESS -> 404;
            case UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_GROUP, UNKNOWN_MEMBER_ID -> 404;
            case TOPIC_ALREADY_EXISTS, GROUP_NOT_EMPTY, REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION,
                 INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED, TOO_MANY_PARTITIONS -> 409;
            case OFFSET_OUT_OF_RANGE -> 416;
            case RECORD_TOO_LARGE, FRAME_TOO_LARGE -> 413;
            case BROKER_OVERLOADED, NOT_LEADER, NOT_ENOUGH_REPLICAS, FENCED_LEADER_EPOCH, NOT_COORDINATOR,
                 COORDINATOR_LOAD_IN_PROGRESS, STORAGE_ERROR, BROKER_NOT_AVAILABLE -> 503;
            case REQUEST_TIMED_OUT -> 504;
            default -> 500;
        };
    }

    /** The list of routes, for the docs and the start-up log. */
    public static List<String> routes() {
        return List.of("GET /", "GET /millrace-client.js", "GET /health", "GET /metrics", "GET /api/stats",
                "GET /api/stats/stream", "GET /api/cluster", "GET /api/brokers", "GET|POST|DELETE /api/reassignments",
                "DELETE /api/reassignments/{topic}/{p}", "GET /api/cluster/rebalance-plan",
                "GET /api/brokers/{id}/decommission-plan", "POST /api/brokers/{id}/decommission",
                "POST /api/cluster/preferred-leader-election", "GET|POST /api/topics",
                "GET|DELETE /api/topics/{topic}", "POST /api/topics/{topic}/partitions",
                "POST /api/topics/{topic}/records", "GET /api/topics/{topic}/partitions/{p}/records",
                "GET /api/groups", "GET|DELETE /api/groups/{group}", "POST /api/groups/{group}/offsets");
    }
}
