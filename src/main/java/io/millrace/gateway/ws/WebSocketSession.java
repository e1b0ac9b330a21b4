package io.millrace.gateway.ws;

import io.millrace.broker.Broker;
import io.millrace.broker.BrokerMetrics;
import io.millrace.broker.FetchResult;
import io.millrace.broker.ResolvedOffset;
import io.millrace.broker.Subscription;
import io.millrace.broker.TopicDescription;
import io.millrace.broker.json.JsonMapping;
import io.millrace.common.Acks;
import io.millrace.common.ErrorCode;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.MillraceException;
import io.millrace.common.OffsetSpec;
import io.millrace.common.TopicPartition;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One browser's WebSocket: decodes JSON text frames into broker calls and sends answers and pushed records back.
 *
 * <p>Flow control: each subscription has a credit pool in records, granted by the client ({@code credit}
 * messages or {@code credits} on subscribe) and never larger than {@code ws.max.credits}. Records are pushed only
 * against credit; what a fetch brought beyond the credit is not kept but fetched again later, and nothing is pushed
 * while the socket's write queue is full. So a slow browser gets exactly what it granted and the broker buffers at
 * most one fetch per subscribed partition.
 *
 * <p>Bad input (invalid JSON, JSON beyond the {@code json.max.*} limits, unknown op, wrong types, bad names) is
 * answered with the error code naming the problem; the socket stays open, because a WebSocket never loses its
 * framing. {@code UNKNOWN} is kept for broker bugs, and each is logged with its stack trace. Not thread-safe:
 * everything runs on the socket's event loop.
 */
final class WebSocketSession {

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketSession.class);

    private final ServerWebSocket socket;
    private final Broker broker;
    private final BrokerMetrics metrics;
    private final WebSocketSettings settings;
    private final Map<String, ClientSubscription> subscriptions = new LinkedHashMap<>();
    /** Consumer-group memberships of this socket, by group id. */
    private final Map<String, WebSocketGroupMember> groups = new LinkedHashMap<>();
    private int partitionSubscriptions;
    /** Requests asked of the broker and not answered yet, by their {@code id} (which may be null or repeated). */
    private final Set<PendingRequest> inFlight = new LinkedHashSet<>();
    private int nextSubscriptionId = 1;
    private long pingTimer = -1;
    /** When the client last sent a message or a pong, by {@link System#nanoTime()}. */
    private long lastHeardNanos;
    private boolean closed;
    /** Shared by the sockets of this event loop; set by {@link #start()}, which runs there. */
    private RecordsMessages recordsMessages;

    WebSocketSession(ServerWebSocket socket, Broker broker, BrokerMetrics metrics, WebSocketSettings settings) {
        this.socket = socket;
        this.broker = broker;
        this.metrics = metrics;
        this.settings = settings;
    }

    void start() {
        recordsMessages = RecordsMessages.of(io.vertx.core.Vertx.currentContext());
        lastHeardNanos = System.nanoTime();
        socket.textMessageHandler(text -> {
            lastHeardNanos = System.nanoTime();
            onText(text);
        });
        socket.binaryMessageHandler(b -> {
            lastHeardNanos = System.nanoTime();
            sendError(null, new MillraceException(ErrorCode.INVALID_REQUEST,
                    "Binary frames are not part of the WebSocket protocol; send JSON text frames"));
        });
        socket.pongHandler(pong -> lastHeardNanos = System.nanoTime());
        socket.exceptionHandler(this::onConnectionError);
        socket.drainHandler(v -> subscriptions.values().forEach(ClientSubscription::resume));
        // Browsers answer pings by themselves, which keeps a live but quiet socket under the idle timeout. The HTTP
        // server's own idle timeout cannot tell: these pings are traffic to it. So a socket is idle when nothing came
        // *from* the client, checked at each ping: it closes between one and one and a half idle timeouts of silence.
        long every = Math.max(1_000, settings.idleTimeoutMs() / 2);
        pingTimer = io.vertx.core.Vertx.currentContext().owner().setPeriodic(every, id -> {
            if (closed) {
                return;
            }
            if (System.nanoTime() - lastHeardNanos >= settings.idleTimeoutMs() * 1_000_000L) {
                socket.close((short) 1000, "Nothing received (no message, no pong) for ws.idle.timeout.ms="
                        + settings.idleTimeoutMs() + " ms; closing");
            } else {
                socket.writePing(Buffer.buffer("millrace"));
            }
        });
    }

    /**
     * The framing layer failed (the socket cannot continue): tell the client why in the close frame. A message over
     * {@code ws.max.frame.bytes} closes with 1009 (message too big), as RFC 6455 says.
     */
    private void onConnectionError(Throwable e) {
        boolean tooBig = e instanceof CorruptedWebSocketFrameException corrupt
                && corrupt.closeStatus().code() == WebSocketCloseStatus.MESSAGE_TOO_BIG.code()
                // Vert.x reports a fragmented message that outgrows the limit this way.
                || e instanceof IllegalStateException && String.valueOf(e.getMessage()).contains("max message size");
        if (tooBig) {
            socket.close((short) 1009, "FRAME_TOO_LARGE: messages are limited to ws.max.frame.bytes="
                    + settings.maxFrameBytes());
        } else {
            LOG.debug("Closing WebSocket after a connection error", e);
            socket.close((short) 1002, truncate("INVALID_REQUEST: " + e.getMessage()));
        }
    }

    /**
     * The broker is shutting down (the HTTP server's shutdown event, after the partitions have stopped): answers
     * every request still waiting on the broker, then closes with 1001 (going away), so a client learns the fate of
     * each request instead of losing it with the connection.
     */
    void shutdown() {
        MillraceException stopping = new MillraceException(ErrorCode.REQUEST_TIMED_OUT, "Broker "
                + broker.brokerId() + " is shutting down before this request completed, so it may or may not have "
                + "taken effect; retry, on another broker if this one does not come back");
        List<PendingRequest> unanswered = new ArrayList<>(inFlight);
        inFlight.clear();
        unanswered.forEach(pending -> sendError(pending.id, stopping));
        socket.close((short) 1001, "Broker " + broker.brokerId() + " is shutting down");
    }

    /** A request asked of the broker; identity matters, as clients may repeat ids or send none. */
    private static final class PendingRequest {
        final Object id;

        PendingRequest(Object id) {
            this.id = id;
        }
    }

    void closed() {
        closed = true;
        io.vertx.core.Vertx.currentContext().owner().cancelTimer(pingTimer);
        subscriptions.values().forEach(ClientSubscription::cancel);
        subscriptions.clear();
        // Closing the socket leaves its groups (committing what was delivered, with auto-commit).
        groups.values().forEach(WebSocketGroupMember::leave);
        groups.clear();
    }

    private void onText(String text) {
        JsonObject message;
        try {
            message = settings.json().object(text, "Each message");
        } catch (MillraceException e) {
            sendError(null, e);
            return;
        }
        Object id = message.getValue("id");
        if (id != null && !(id instanceof String) && !(id instanceof Number)) {
            sendError(null, JsonMapping.invalid("'id' must be a string or a number"));
            return;
        }
        try {
            dispatch(message, id);
        } catch (RuntimeException e) {
            sendError(id, JsonMapping.asMillrace(e));
        }
    }

    private void dispatch(JsonObject message, Object id) {
        Object op = message.getValue("op");
        if (!(op instanceof String name)) {
            throw JsonMapping.invalid("'op' must be a string naming the operation");
        }
        switch (name) {
            case "produce" -> request(id, "produce", () -> produce(message));
            case "subscribe" -> request(id, "subscribe", () -> subscribe(message));
            case "credit" -> credit(message);
            case "seek" -> request(id, "seek", () -> seek(message));
            case "unsubscribe" -> unsubscribe(message, id);
            case "createTopic" -> request(id, "createTopic", () -> createTopic(message).map(JsonMapping::topic));
            case "listTopics" -> request(id, "listTopics",
                    () -> broker.listTopics().map(names -> new JsonObject().put("topics", new JsonArray(names))));
            case "describeTopic" -> request(id, "describeTopic",
                    () -> broker.describeTopic(JsonMapping.requireString(message, "name")).map(JsonMapping::topic));
            case "addPartitions" -> request(id, "addPartitions",
                    () -> addPartitions(message).map(JsonMapping::topic));
            case "deleteTopic" -> request(id, "deleteTopic",
                    () -> broker.deleteTopic(JsonMapping.requireString(message, "name")).map(v -> new JsonObject()));
            case "joinGroup" -> request(id, "joinGroup", () -> joinGroup(message));
            case "commit" -> request(id, "commit", () -> group(message).commit(parseOffsets(message))
                    .map(v -> new JsonObject()));
            case "leaveGroup" -> request(id, "leaveGroup", () -> leaveGroup(group(message)));
            case "ping" -> send(new JsonObject().put("op", "pong").put("id", id));
            default -> throw JsonMapping.invalid("Unknown op '" + name + "'; see docs/PROTOCOL.md");
        }
    }

    /**
     * Runs a request within the in-flight limit and answers {@code {"op":"result","id",...}} or an error. The call
     * is made only once the limit allows it, so a refused request has not taken effect.
     */
    private void request(Object id, String operation, java.util.function.Supplier<Future<JsonObject>> call) {
        if (inFlight.size() >= settings.maxInFlightRequests()) {
            throw new MillraceException(ErrorCode.BROKER_OVERLOADED, "Too many requests in flight on this socket"
                    + " (ws.max.inflight.requests=" + settings.maxInFlightRequests() + "); wait for answers");
        }
        Future<JsonObject> result = call.get();
        PendingRequest pending = new PendingRequest(id);
        inFlight.add(pending);
        long start = System.nanoTime();
        result.onComplete(r -> {
            if (!inFlight.remove(pending)) {
                return; // answered at shutdown
            }
            metrics.requestLatency("ws." + operation, System.nanoTime() - start);
            if (r.succeeded()) {
                send(r.result().put("op", "result").put("id", id));
            } else {
                sendError(id, JsonMapping.asMillrace(r.cause()));
            }
        });
    }

    private Future<JsonObject> produce(JsonObject message) {
        String topic = JsonMapping.requireString(message, "topic");
        Acks acks = JsonMapping.parseAcks(message);
        return broker.produceRecords(topic, JsonMapping.parseRecords(message), acks)
                .map(list -> new JsonObject().put("offsets",
                        new JsonArray(list.stream().map(JsonMapping::metadata).toList())));
    }

    private Future<TopicDescription> createTopic(JsonObject message) {
        return broker.createTopic(JsonMapping.parseNewTopic(message));
    }

    private Future<TopicDescription> addPartitions(JsonObject message) {
        OptionalInt count = JsonMapping.optionalInt(message, "partitions");
        if (count.isEmpty()) {
            throw JsonMapping.invalid("'partitions' (the new total count) is required");
        }
        return broker.addPartitions(JsonMapping.requireString(message, "name"), count.getAsInt());
    }

    /**
     * {@code {"op":"subscribe","id","topic","partitions":[..]?,"from":"earliest"|"latest"|{"offset":n}|
     * {"timestamp":t},"credits":n?,"encoding":"utf8"|"base64"?,"lingerMs":n?}}.
     */
    private Future<JsonObject> subscribe(JsonObject message) {
        String topic = JsonMapping.requireString(message, "topic");
        OffsetSpec from = parseFrom(message.getValue("from"));
        long credits = JsonMapping.optionalLong(message, "credits").orElse(0);
        checkCredits(credits, 0);
        JsonMapping.Encoding encoding = JsonMapping.Encoding.parse(JsonMapping.optionalString(message, "encoding",
                null));
        int lingerMs = parseLinger(message);
        Object partitions = message.getValue("partitions");
        List<Integer> requested = partitions == null ? List.of() : JsonMapping.parsePartitions(partitions);
        return broker.describeTopic(topic).compose(description -> {
            List<Integer> chosen = requested.isEmpty()
                    ? description.partitions().stream().map(p -> p.partition()).toList() : requested;
            for (int p : chosen) {
                if (p >= description.partitions().size()) {
                    throw new MillraceException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + topic
                            + " has no partition " + p);
                }
            }
            if (partitionSubscriptions + chosen.size() > settings.maxSubscriptions()) {
                throw new MillraceException(ErrorCode.BROKER_OVERLOADED, "Too many subscribed partitions on this"
                        + " socket (ws.max.subscriptions=" + settings.maxSubscriptions() + ")");
            }
            List<Future<ResolvedOffset>> starts = new ArrayList<>();
            for (int p : chosen) {
                starts.add(broker.listOffset(new TopicPartition(topic, p), from));
            }
            return Future.all(starts).map(all -> {
                String sid = "s" + nextSubscriptionId++;
                ClientSubscription sub = new ClientSubscription(sid, topic, encoding, credits, lingerMs);
                JsonArray positions = new JsonArray();
                for (int i = 0; i < chosen.size(); i++) {
                    long start = starts.get(i).result().offset();
                    sub.add(new TopicPartition(topic, chosen.get(i)), start);
                    positions.add(new JsonObject().put("partition", chosen.get(i)).put("offset", start));
                }
                if (closed) {
                    sub.cancel();
                } else {
                    subscriptions.put(sid, sub);
                    partitionSubscriptions += chosen.size();
                    sub.resume();
                }
                return new JsonObject().put("subscription", sid).put("partitions", positions);
            });
        });
    }

    /**
     * {@code {"op":"joinGroup","id","group","topics":[..],"strategy"?,"sessionTimeoutMs"?,"rebalanceTimeoutMs"?,
     * "autoCommit"?,"reset"?,"credits"?,"encoding"?,"lingerMs"?,"clientId"?}}: the gateway becomes the browser's group
     * member.
     * Answered once the first assignment is known; records of assigned partitions come under the answer's
     * subscription id, against its credit.
     */
    private Future<JsonObject> joinGroup(JsonObject message) {
        long credits = JsonMapping.optionalLong(message, "credits").orElse(0);
        checkCredits(credits, 0);
        JsonMapping.Encoding encoding = JsonMapping.Encoding.parse(JsonMapping.optionalString(message, "encoding",
                null));
        int lingerMs = parseLinger(message);
        String sid = "s" + nextSubscriptionId;
        ClientSubscription sub = new ClientSubscription(sid, null, encoding, credits, lingerMs);
        WebSocketGroupMember member = new WebSocketGroupMember(io.vertx.core.Vertx.currentContext().owner(), broker,
                sid, message, socket.remoteAddress().host(), groupPartitions(sub), this::send);
        if (groups.containsKey(member.groupId())) {
            throw JsonMapping.invalid("This socket is already a member of group " + member.groupId());
        }
        nextSubscriptionId++;
        sub.group = member;
        subscriptions.put(sid, sub);
        groups.put(member.groupId(), member);
        return member.start().map(first -> first.put("subscription", sid)).onFailure(e -> {
            // a refused join (a bad topic name, session timeout...) leaves nothing behind: the browser may fix it
            // and join again
            if (groups.get(member.groupId()) == member) {
                leaveGroup(member);
            }
        });
    }

    private WebSocketGroupMember.Partitions groupPartitions(ClientSubscription sub) {
        return new WebSocketGroupMember.Partitions() {
            @Override
            public void start(TopicPartition tp, long offset) {
                if (closed) {
                    return;
                }
                if (partitionSubscriptions >= settings.maxSubscriptions()) {
                    // the group counts it as read by this member: the browser must free partitions or leave
                    send(new JsonObject().put("op", "error").put("subscription", sub.id).put("topic", tp.topic())
                            .put("partition", tp.partition()).put("error", JsonMapping.error(
                                    ErrorCode.BROKER_OVERLOADED, "Too many subscribed partitions on this socket "
                                            + "(ws.max.subscriptions=" + settings.maxSubscriptions() + ")")));
                    return;
                }
                sub.add(tp, offset);
                partitionSubscriptions++;
                sub.resume();
            }

            @Override
            public void stop(TopicPartition tp) {
                if (sub.remove(tp)) {
                    partitionSubscriptions--;
                }
            }

            @Override
            public java.util.OptionalLong delivered(TopicPartition tp) {
                Long next = sub.delivered.get(tp);
                return next == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(next);
            }
        };
    }

    private WebSocketGroupMember group(JsonObject message) {
        String name = JsonMapping.requireString(message, "group");
        WebSocketGroupMember member = groups.get(name);
        if (member == null) {
            throw new MillraceException(ErrorCode.UNKNOWN_MEMBER_ID, "This socket is not a member of group " + name
                    + "; send joinGroup first");
        }
        return member;
    }

    private Future<JsonObject> leaveGroup(WebSocketGroupMember member) {
        groups.remove(member.groupId());
        ClientSubscription sub = subscriptions.values().stream().filter(s -> s.group == member).findFirst()
                .orElse(null);
        return member.leave().map(v -> {
            if (sub != null) {
                subscriptions.remove(sub.id);
                partitionSubscriptions -= sub.partitions.size();
                sub.cancel();
            }
            return new JsonObject().put("group", member.groupId());
        });
    }

    /** {@code "offsets": [{"topic","partition","offset"}]}, or nothing (the delivered positions). */
    private static Map<TopicPartition, Long> parseOffsets(JsonObject message) {
        Object list = message.getValue("offsets");
        return list == null ? new LinkedHashMap<>() : JsonMapping.parseOffsets(list);
    }

    private void credit(JsonObject message) {
        ClientSubscription sub = subscription(message);
        long credits = JsonMapping.optionalLong(message, "credits").orElseThrow(() ->
                JsonMapping.invalid("'credits' (a positive number of records) is required"));
        checkCredits(credits, sub.credits);
        if (credits <= 0) {
            throw JsonMapping.invalid("'credits' must be positive");
        }
        sub.credits += credits;
        sub.resume();
    }

    private Future<JsonObject> seek(JsonObject message) {
        ClientSubscription sub = subscription(message);
        OptionalInt partition = JsonMapping.optionalInt(message, "partition");
        if (sub.topic == null || partition.isEmpty()
                || !sub.partitions.containsKey(new TopicPartition(sub.topic, partition.getAsInt()))) {
            throw JsonMapping.invalid("'partition' must name a partition of subscription " + sub.id);
        }
        OffsetSpec to = parseFrom(message.getValue("to"));
        TopicPartition tp = new TopicPartition(sub.topic, partition.getAsInt());
        return broker.listOffset(tp, to).map(resolved -> {
            Subscription s = sub.partitions.get(tp);
            if (s != null) {
                s.seek(resolved.offset());
            }
            return new JsonObject().put("subscription", sub.id).put("partition", partition.getAsInt())
                    .put("offset", resolved.offset());
        });
    }

    private void unsubscribe(JsonObject message, Object id) {
        ClientSubscription sub = subscription(message);
        if (sub.group != null) {
            request(id, "leaveGroup", () -> leaveGroup(sub.group).map(v -> v.put("subscription", sub.id)));
            return;
        }
        sub.cancel();
        subscriptions.remove(sub.id);
        partitionSubscriptions -= sub.partitions.size();
        send(new JsonObject().put("op", "result").put("id", id).put("subscription", sub.id));
    }

    private ClientSubscription subscription(JsonObject message) {
        Object sid = message.getValue("subscription");
        ClientSubscription sub = sid instanceof String s ? subscriptions.get(s) : null;
        if (sub == null) {
            throw JsonMapping.invalid("'subscription' must name an open subscription of this socket, was " + sid);
        }
        return sub;
    }

    /**
     * A subscription's own linger ({@code lingerMs}), within what {@code ws.push.linger.ms} may be; the broker's
     * {@code ws.push.linger.ms} when absent. The client knows what a push's delay costs it (a chart repainting 60
     * times a second loses nothing to 16 ms, a live order book does), so it may ask for more or less than the default.
     */
    private int parseLinger(JsonObject message) {
        long lingerMs = JsonMapping.optionalLong(message, "lingerMs").orElse(settings.pushLingerMs());
        if (lingerMs < 0 || lingerMs > settings.maxPushLingerMs()) {
            throw JsonMapping.invalid("'lingerMs' must be 0 (push at once) to " + settings.maxPushLingerMs()
                    + ", got " + lingerMs);
        }
        return (int) lingerMs;
    }

    private void checkCredits(long credits, long outstanding) {
        // compared as a difference: a huge grant must not overflow past the check
        if (credits < 0 || credits > settings.maxCredits() - outstanding) {
            throw new MillraceException(ErrorCode.INVALID_REQUEST, "Credits must be between 0 and "
                    + settings.maxCredits() + " outstanding per subscription (ws.max.credits)");
        }
    }

    private static OffsetSpec parseFrom(Object from) {
        if (from == null || "latest".equals(from)) {
            return OffsetSpec.LATEST;
        }
        if ("earliest".equals(from)) {
            return OffsetSpec.EARLIEST;
        }
        if (from instanceof JsonObject object) {
            OptionalLong offset = JsonMapping.optionalLong(object, "offset");
            if (offset.isPresent()) {
                if (offset.getAsLong() < 0) {
                    throw JsonMapping.invalid("offsets are never negative; use \"earliest\" or \"latest\"");
                }
                return new OffsetSpec.AtOffset(offset.getAsLong());
            }
            OptionalLong timestamp = JsonMapping.optionalLong(object, "timestamp");
            if (timestamp.isPresent()) {
                if (timestamp.getAsLong() < 0) {
                    throw JsonMapping.invalid("'timestamp' must not be negative (epoch milliseconds)");
                }
                return new OffsetSpec.AtTimestamp(timestamp.getAsLong());
            }
        }
        throw JsonMapping.invalid("'from' must be \"earliest\", \"latest\", {\"offset\": n} or {\"timestamp\": ms}");
    }

    private void send(JsonObject message) {
        if (!closed) {
            socket.writeTextMessage(message.encode());
        }
    }

    private void sendError(Object id, MillraceException e) {
        logIfBroken(e);
        send(new JsonObject().put("op", "error").put("id", id).put("error",
                JsonMapping.error(e.errorCode(), e.getMessage())));
    }

    /** Logs an UNKNOWN error with its stack trace: the code a client sees only for a broker bug. */
    private static void logIfBroken(MillraceException e) {
        if (e.errorCode() == ErrorCode.UNKNOWN) {
            LOG.error("A WebSocket request failed with an unexpected error (a broker bug: client mistakes have their"
                    + " own codes)", e.getCause() != null ? e.getCause() : e);
        }
    }

    private static String truncate(String reason) {
        return reason.length() > 120 ? reason.substring(0, 120) : reason;
    }

    /** One client subscription: a credit pool shared by the partitions it reads. */
    private final class ClientSubscription {
        final String id;
        final String topic;
        final JsonMapping.Encoding encoding;
        /** How long after a push its partitions wait before fetching again. */
        final int lingerMs;
        /** Null for a group's subscription, whose partitions may be of several topics. */
        final Map<TopicPartition, Subscription> partitions = new LinkedHashMap<>();
        /** Per partition, the offset after the last record sent to the browser. */
        final Map<TopicPartition, Long> delivered = new HashMap<>();
        /** The group membership feeding this subscription, or null for a plain one. */
        WebSocketGroupMember group;
        long credits;

        ClientSubscription(String id, String topic, JsonMapping.Encoding encoding, long credits, int lingerMs) {
            this.id = id;
            this.topic = topic;
            this.encoding = encoding;
            this.credits = credits;
            this.lingerMs = lingerMs;
        }

        void add(TopicPartition tp, long start) {
            partitions.put(tp, broker.subscribe(tp, start, settings.fetchBytes(), LeaderEpoch.UNKNOWN,
                    lingerMs, new Subscription.Handler() {
                @Override
                public long onData(FetchResult result, long position) {
                    return deliver(tp, result, position);
                }

                @Override
                public void onError(MillraceException error) {
                    logIfBroken(error);
                    send(new JsonObject().put("op", "error").put("subscription", id).put("topic", tp.topic())
                            .put("partition", tp.partition())
                            .put("error", JsonMapping.error(error.errorCode(), error.getMessage())));
                }
            }));
        }

        /** Lets every partition fetch again (credit arrived, or the socket drained). */
        void resume() {
            if (credits > 0 && !socket.writeQueueFull()) {
                // Demand per partition is an upper bound (the shared credit pool is the real limit): top it up to the
                // pool rather than adding to it on every drain.
                partitions.values().forEach(s -> s.request(Math.max(0, credits - s.demand())));
            }
        }

        void cancel() {
            partitions.values().forEach(Subscription::cancel);
        }

        /** Stops one partition (revoked from a group member); says whether it was there. */
        boolean remove(TopicPartition tp) {
            Subscription s = partitions.remove(tp);
            delivered.remove(tp);
            if (s != null) {
                s.cancel();
            }
            return s != null;
        }

        /** Pushes records at or after {@code position}, at most {@code credits}; returns where to continue. */
        private long deliver(TopicPartition tp, FetchResult result, long position) {
            if (closed || credits <= 0 || socket.writeQueueFull()) {
                return position;
            }
            RecordsMessages.Message message = recordsMessages.build(id, result, position, encoding, credits);
            if (message.count() == 0) {
                return position;
            }
            credits -= message.count();
            if (partitions.containsKey(tp)) {
                delivered.put(tp, message.nextOffset());
            }
            socket.writeTextMessage(message.text());
            return message.nextOffset();
        }
    }
}
