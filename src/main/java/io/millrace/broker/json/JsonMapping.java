package io.millrace.broker.json;

import io.millrace.broker.MoveProgress;
import io.millrace.broker.PartitionMove;
import io.millrace.broker.BrokerDescription;
import io.millrace.broker.GroupDetails;
import io.millrace.broker.NewRecord;
import io.millrace.broker.NewTopic;
import io.millrace.broker.PartitionDescription;
import io.millrace.broker.RecordMetadata;
import io.millrace.broker.TopicDescription;
import io.millrace.common.Acks;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.group.AssignmentStrategy;
import io.millrace.group.CommittedOffset;
import io.millrace.group.GroupListing;
import io.millrace.group.MemberDescription;
import io.millrace.group.PartitionLag;
import io.millrace.record.Header;
import io.millrace.record.Record;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The one JSON shape of records, topics, brokers and errors, shared by the REST API and the WebSocket gateway so a
 * browser sees the same objects everywhere. Parsing is strict: a field of the wrong type is an
 * {@code INVALID_REQUEST} naming the field, never a silent default.
 *
 * <p>Keys, values and header values are UTF-8 text in {@code key}, {@code value}, or base64 in {@code keyBase64},
 * {@code valueBase64} (binary data). Stateless and thread-safe.
 */
public final class JsonMapping {

    private JsonMapping() {
    }

    /** How record bytes are rendered for a reader. */
    public enum Encoding {
        UTF8, BASE64;

        public static Encoding parse(String text) {
            return switch (text == null ? "utf8" : text.toLowerCase(java.util.Locale.ROOT)) {
                case "utf8", "utf-8", "text" -> UTF8;
                case "base64" -> BASE64;
                default -> throw invalid("encoding must be 'utf8' or 'base64', was '" + text + "'");
            };
        }
    }

    /**
     * {@code {"key"|"keyBase64", "value"|"valueBase64", "headers": {"k":"v"} | [{"key","value"|"valueBase64"}],
     * "partition", "timestamp"}}.
     */
    public static NewRecord parseRecord(Object json) {
        if (!(json instanceof JsonObject record)) {
            throw invalid("each record must be a JSON object");
        }
        byte[] key = bytes(record, "key", "keyBase64");
        byte[] value = bytes(record, "value", "valueBase64");
        List<Header> headers = new ArrayList<>();
        Object h = record.getValue("headers");
        if (h instanceof JsonObject map) {
            for (Map.Entry<String, Object> e : map) {
                if (!(e.getValue() instanceof String s)) {
                    throw invalid("header '" + e.getKey() + "' must have a string value");
                }
                headers.add(new Header(e.getKey(), s.getBytes(StandardCharsets.UTF_8)));
            }
        } else if (h instanceof JsonArray list) {
            for (Object item : list) {
                if (!(item instanceof JsonObject header) || !(header.getValue("key") instanceof String k)) {
                    throw invalid("each header must be an object with a string 'key'");
                }
                headers.add(new Header(k, bytes(header, "value", "valueBase64")));
            }
        } else if (h != null) {
            throw invalid("'headers' must be an object or an array");
        }
        OptionalInt partition = optionalInt(record, "partition");
        OptionalLong timestamp = optionalLong(record, "timestamp");
        if (timestamp.isPresent() && timestamp.getAsLong() < 0) {
            throw invalid("'timestamp' must not be negative");
        }
        return new NewRecord(partition, key, value, headers, timestamp);
    }

    /** A list of records from {@code {"records": [...]}} or a single record object. */
    public static List<NewRecord> parseRecords(JsonObject body) {
        Object records = body.getValue("records");
        if (records == null) {
            return List.of(parseRecord(body));
        }
        if (!(records instanceof JsonArray list) || list.isEmpty()) {
            throw invalid("'records' must be a non-empty array");
        }
        List<NewRecord> out = new ArrayList<>(list.size());
        for (Object item : list) {
            out.add(parseRecord(item));
        }
        return out;
    }

    /** {@code "acks"}: 0, 1, -1 or a word {@link Acks#parse} knows; 1 when absent. */
    public static Acks parseAcks(JsonObject body) {
        return Acks.parse(String.valueOf(body.getValue("acks", "1")));
    }

    /**
     * {@code {"name", "partitions"?, "replicationFactor"?, "config"?: {"key": value}}}: a topic to create; config
     * values of any JSON type are taken as their text.
     */
    public static NewTopic parseNewTopic(JsonObject body) {
        String name = requireString(body, "name");
        OptionalInt partitions = optionalInt(body, "partitions");
        OptionalInt replicationFactor = optionalInt(body, "replicationFactor");
        Map<String, String> config = new HashMap<>();
        Object cfg = body.getValue("config");
        if (cfg instanceof JsonObject c) {
            c.forEach(e -> config.put(e.getKey(), String.valueOf(e.getValue())));
        } else if (cfg != null) {
            throw invalid("'config' must be an object");
        }
        return new NewTopic(name, partitions, replicationFactor, config);
    }

    /** {@code [0, 2, ...]}: partition numbers, none negative or listed twice. */
    public static List<Integer> parsePartitions(Object json) {
        if (!(json instanceof JsonArray array)) {
            throw invalid("'partitions' must be an array of partition numbers");
        }
        List<Integer> partitions = new ArrayList<>();
        for (Object p : array) {
            if (!(p instanceof Integer i) || i < 0) {
                throw invalid("'partitions' must be an array of partition numbers");
            }
            if (partitions.contains(i)) {
                throw invalid("partition " + i + " is listed twice");
            }
            partitions.add(i);
        }
        return partitions;
    }

    /** {@code [{"topic", "partition", "offset"}]}: a position per partition, as commits and resets give them. */
    public static Map<TopicPartition, Long> parseOffsets(Object json) {
        if (!(json instanceof JsonArray array)) {
            throw invalid("'offsets' must be an array of {topic, partition, offset}");
        }
        Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
        for (Object o : array) {
            if (!(o instanceof JsonObject e)) {
                throw invalid("'offsets' must be an array of {topic, partition, offset}");
            }
            String topic = requireString(e, "topic");
            int partition = optionalInt(e, "partition").orElseThrow(() -> invalid("'partition' is required"));
            long offset = optionalLong(e, "offset").orElseThrow(() -> invalid("'offset' is required"));
            if (partition < 0 || offset < 0) {
                throw invalid("partitions and offsets are never negative, was partition " + partition + ", offset "
                        + offset);
            }
            offsets.put(new TopicPartition(topic, partition), offset);
        }
        return offsets;
    }

    /**
     * A reassignment plan, {@code {"partitions": [{"topic", "partition", "replicas": [broker ids]}]}} (the shape
     * {@link #plan} writes, so a generated plan can be saved, reviewed and posted back).
     */
    public static List<PartitionMove> parsePlan(JsonObject body) {
        if (!(body.getValue("partitions") instanceof JsonArray array)) {
            throw invalid("'partitions' must be an array of {topic, partition, replicas}");
        }
        List<PartitionMove> moves = new ArrayList<>();
        for (Object o : array) {
            if (!(o instanceof JsonObject e) || !(e.getValue("replicas") instanceof JsonArray replicas)) {
                throw invalid("'partitions' must be an array of {topic, partition, replicas}");
            }
            List<Integer> ids = new ArrayList<>();
            for (Object id : replicas) {
                if (!(id instanceof Integer i) || i < 0) {
                    throw invalid("'replicas' must be an array of broker ids");
                }
                ids.add(i);
            }
            moves.add(new PartitionMove(requireString(e, "topic"), requirePartition(e, "partition"), ids));
        }
        return moves;
    }

    /** {@code {"partitions": [{"topic", "partition"}]}}: the partitions a cancel names; none means all. */
    public static List<TopicPartition> parseTopicPartitions(JsonObject body) {
        Object value = body.getValue("partitions");
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof JsonArray array)) {
            throw invalid("'partitions' must be an array of {topic, partition}");
        }
        List<TopicPartition> out = new ArrayList<>();
        for (Object o : array) {
            if (!(o instanceof JsonObject e)) {
                throw invalid("'partitions' must be an array of {topic, partition}");
            }
            out.add(new TopicPartition(requireString(e, "topic"), requirePartition(e, "partition")));
        }
        return out;
    }

    public static JsonObject plan(List<PartitionMove> moves) {
        JsonArray partitions = new JsonArray();
        moves.forEach(m -> partitions.add(new JsonObject().put("topic", m.topic()).put("partition", m.partition())
                .put("replicas", new JsonArray(m.replicas()))));
        return new JsonObject().put("version", 1).put("partitions", partitions);
    }

    public static JsonObject progress(List<MoveProgress> moves) {
        JsonArray out = new JsonArray();
        moves.forEach(m -> out.add(new JsonObject().put("topic", m.topic()).put("partition", m.partition())
                .put("original", new JsonArray(m.original())).put("target", new JsonArray(m.target()))
                .put("replicas", new JsonArray(m.replicas())).put("isr", new JsonArray(m.isr()))
                .put("leader", m.leader()).put("phase", m.phase()).put("adding", new JsonArray(m.adding()))
                .put("removing", new JsonArray(m.removing()))));
        return new JsonObject().put("reassignments", out);
    }

    public static JsonObject record(String topic, int partition, Record record, Encoding encoding) {
        JsonObject json = new JsonObject().put("topic", topic).put("partition", partition)
                .put("offset", record.offset()).put("timestamp", record.timestamp());
        putBytes(json, "key", record.key(), encoding);
        putBytes(json, "value", record.value(), encoding);
        JsonArray headers = new JsonArray();
        for (Header header : record.headers()) {
            JsonObject h = new JsonObject().put("key", header.key());
            putBytes(h, "value", header.value(), encoding);
            headers.add(h);
        }
        return json.put("headers", headers);
    }

    public static JsonObject metadata(RecordMetadata m) {
        return new JsonObject().put("topic", m.topic()).put("partition", m.partition()).put("offset", m.offset())
                .put("timestamp", m.timestamp());
    }

    public static JsonObject topic(TopicDescription t) {
        JsonObject config = new JsonObject();
        t.config().forEach(config::put);
        JsonArray partitions = new JsonArray();
        for (PartitionDescription p : t.partitions()) {
            partitions.add(new JsonObject().put("partition", p.partition()).put("leader", p.leader())
                    .put("leaderEpoch", p.leaderEpoch()).put("replicas", new JsonArray(p.replicas()))
                    .put("isr", new JsonArray(p.isr())).put("underReplicated", p.underReplicated())
                    .put("logStartOffset", p.logStartOffset()).put("logEndOffset", p.logEndOffset())
                    .put("highWatermark", p.highWatermark()).put("sizeBytes", p.sizeBytes()));
        }
        return new JsonObject().put("name", t.name()).put("replicationFactor", t.replicationFactor())
                .put("config", config).put("partitions", partitions);
    }

    public static JsonObject broker(BrokerDescription b) {
        return new JsonObject().put("id", b.id()).put("host", b.host()).put("httpPort", b.httpPort())
                .put("tcpPort", b.tcpPort()).put("alive", b.alive()).put("controller", b.controller());
    }

    /** A strategy's JSON name: Kafka's, {@code range}, {@code roundrobin} or {@code cooperative-sticky}. */
    public static String strategy(AssignmentStrategy s) {
        return switch (s) {
            case RANGE -> "range";
            case ROUND_ROBIN -> "roundrobin";
            case COOPERATIVE_STICKY -> "cooperative-sticky";
        };
    }

    /** Parses a strategy name ({@link #strategy}; also the enum constant's name, any case). */
    public static AssignmentStrategy parseStrategy(String text) {
        if (text == null) {
            return AssignmentStrategy.RANGE;
        }
        for (AssignmentStrategy s : AssignmentStrategy.values()) {
            if (strategy(s).equalsIgnoreCase(text) || s.name().equalsIgnoreCase(text.replace('-', '_'))) {
                return s;
            }
        }
        throw invalid("Unknown assignment strategy '" + text + "'; use range, roundrobin or cooperative-sticky");
    }

    /** {@code [{"topic", "partitions": [..]}]}. */
    public static JsonArray assignment(Map<String, List<Integer>> byTopic) {
        JsonArray out = new JsonArray();
        byTopic.forEach((topic, partitions) -> out.add(new JsonObject().put("topic", topic)
                .put("partitions", new JsonArray(new ArrayList<>(partitions)))));
        return out;
    }

    public static JsonObject groupListing(GroupListing g) {
        return new JsonObject().put("id", g.groupId()).put("state", g.state().name())
                .put("members", g.memberCount())
                .put("strategy", g.strategy().map(JsonMapping::strategy).orElse(null));
    }

    /**
     * {@code {"id", "state", "generation", "strategy", "members": [{"memberId", "clientId", "host", "topics",
     * "assignment"}], "partitions": [{"topic", "partition", "owner", "committed", "highWatermark", "lag",
     * "metadata"}], "lag"}}; {@code lag} at the top is the sum over partitions where it is known.
     */
    public static JsonObject group(GroupDetails details) {
        var d = details.description();
        JsonArray members = new JsonArray();
        for (MemberDescription m : d.members()) {
            members.add(new JsonObject().put("memberId", m.memberId()).put("clientId", m.clientId())
                    .put("host", m.host()).put("topics", new JsonArray(m.topics().stream().sorted().toList()))
                    .put("assignment", assignment(m.assignment())));
        }
        JsonArray partitions = new JsonArray();
        long total = 0;
        for (PartitionLag lag : details.lag()) {
            CommittedOffset committed = d.offsets().get(lag.partition());
            partitions.add(new JsonObject().put("topic", lag.partition().topic())
                    .put("partition", lag.partition().partition()).put("owner", lag.owner().orElse(null))
                    .put("committed", lag.committed().isPresent() ? lag.committed().getAsLong() : null)
                    .put("highWatermark", lag.highWatermark().isPresent() ? lag.highWatermark().getAsLong() : null)
                    .put("lag", lag.lag().isPresent() ? lag.lag().getAsLong() : null)
                    .put("metadata", committed == null ? null : committed.metadata()));
            total += lag.lag().orElse(0);
        }
        return new JsonObject().put("id", d.groupId()).put("state", d.state().name())
                .put("generation", d.generation())
                .put("strategy", d.strategy().map(JsonMapping::strategy).orElse(null))
                .put("members", members).put("partitions", partitions).put("lag", total);
    }

    /** {@code {"code": "NAME", "message": "..."}}, the body of every error. */
    public static JsonObject error(ErrorCode code, String message) {
        return new JsonObject().put("code", code.name()).put("message", message == null ? code.description()
                : message).put("retriable", code.retriable());
    }

    /** Maps any failure to an error code: ours keep theirs, anything else is UNKNOWN. */
    public static MillraceException asMillrace(Throwable t) {
        return t instanceof MillraceException m ? m
                : new MillraceException(ErrorCode.UNKNOWN, t.getClass().getSimpleName() + ": " + t.getMessage(), t);
    }

    public static String requireString(JsonObject json, String field) {
        Object v = json.getValue(field);
        if (!(v instanceof String s) || s.isEmpty()) {
            throw invalid("'" + field + "' must be a non-empty string");
        }
        return s;
    }

    /** {@code field} as a string, or {@code orElse} when it is absent or null. */
    public static String optionalString(JsonObject json, String field, String orElse) {
        return optional(json, field, String.class, orElse, "a string");
    }

    /** {@code field} as a boolean, or {@code orElse} when it is absent or null. */
    public static boolean optionalBoolean(JsonObject json, String field, boolean orElse) {
        return optional(json, field, Boolean.class, orElse, "true or false");
    }

    private static <T> T optional(JsonObject json, String field, Class<T> type, T orElse, String expected) {
        Object v = json.getValue(field);
        if (v == null) {
            return orElse;
        }
        if (!type.isInstance(v)) {
            throw invalid("'" + field + "' must be " + expected);
        }
        return type.cast(v);
    }

    /** {@code field} as a partition number: required, a whole number, not negative. */
    public static int requirePartition(JsonObject json, String field) {
        int partition = optionalInt(json, field).orElseThrow(() -> invalid("'" + field + "' is required"));
        if (partition < 0) {
            throw invalid("'" + field + "' must not be negative, was " + partition);
        }
        return partition;
    }

    public static OptionalInt optionalInt(JsonObject json, String field) {
        Object v = json.getValue(field);
        if (v == null) {
            return OptionalInt.empty();
        }
        if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() != ((Number) v).intValue()) {
            throw invalid("'" + field + "' must be a whole number");
        }
        return OptionalInt.of(((Number) v).intValue());
    }

    public static OptionalLong optionalLong(JsonObject json, String field) {
        Object v = json.getValue(field);
        if (v == null) {
            return OptionalLong.empty();
        }
        if (!(v instanceof Integer || v instanceof Long)) {
            throw invalid("'" + field + "' must be a whole number");
        }
        return OptionalLong.of(((Number) v).longValue());
    }

    public static MillraceException invalid(String message) {
        return new MillraceException(ErrorCode.INVALID_REQUEST, message);
    }

    private static byte[] bytes(JsonObject json, String textField, String base64Field) {
        Object text = json.getValue(textField);
        Object base64 = json.getValue(base64Field);
        if (text != null && base64 != null) {
            throw invalid("give either '" + textField + "' or '" + base64Field + "', not both");
        }
        if (text != null) {
            if (!(text instanceof String s)) {
                throw invalid("'" + textField + "' must be a string (use '" + base64Field + "' for binary data)");
            }
            return s.getBytes(StandardCharsets.UTF_8);
        }
        if (base64 != null) {
            if (!(base64 instanceof String s)) {
                throw invalid("'" + base64Field + "' must be a base64 string");
            }
            try {
                return Base64.getDecoder().decode(s);
            } catch (IllegalArgumentException e) {
                throw invalid("'" + base64Field + "' is not valid base64");
            }
        }
        return null;
    }

    private static void putBytes(JsonObject json, String field, byte[] bytes, Encoding encoding) {
        if (bytes == null) {
            json.putNull(encoding == Encoding.UTF8 ? field : field + "Base64");
        } else if (encoding == Encoding.UTF8) {
            json.put(field, new String(bytes, StandardCharsets.UTF_8));
        } else {
            json.put(field + "Base64", Base64.getEncoder().encodeToString(bytes));
        }
    }
}
