package io.millrace.gateway.ws;

import io.millrace.broker.FetchResult;
import io.millrace.broker.json.JsonMapping;
import io.millrace.common.TopicPartition;
import io.millrace.record.Record;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import io.vertx.core.Context;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Builds {@code records} messages, remembering the last one built on its event loop. Sockets subscribed at a
 * partition's end share one fetch per event loop, so they push the same records one after another: the records are
 * decoded and JSON-encoded once for all of them instead of once per socket, and a socket whose subscription id
 * matches the previous socket's (ids are numbered per socket, so most are {@code "s1"}) reuses the whole text.
 *
 * <p>Confined to its context.
 */
final class RecordsMessages {

    private static final String CONTEXT_KEY = RecordsMessages.class.getName();

    /** What a socket sends: the text, how many records it carries, and the offset after the last one. */
    record Message(String text, int count, long nextOffset) {
    }

    /** The encoded part after the subscription id, for the records of one fetch from one position. */
    private record Body(FetchResult result, long position, JsonMapping.Encoding encoding, long limit, String json,
                        int count, long nextOffset, boolean truncated) {

        boolean serves(FetchResult r, long p, JsonMapping.Encoding e, long maxRecords) {
            return result == r && position == p && encoding == e
                    && (truncated ? limit == maxRecords : count <= maxRecords);
        }
    }

    private Body lastBody;
    private String lastSubscription;
    private Message lastMessage;

    static RecordsMessages of(Context context) {
        RecordsMessages messages = context.get(CONTEXT_KEY);
        if (messages == null) {
            messages = new RecordsMessages();
            context.put(CONTEXT_KEY, messages);
        }
        return messages;
    }

    /**
     * The message pushing the records of {@code result} at or after {@code position}, at most {@code maxRecords} of
     * them; its count is 0 when there are none.
     */
    Message build(String subscription, FetchResult result, long position, JsonMapping.Encoding encoding,
                  long maxRecords) {
        Body body = lastBody;
        if (body == null || !body.serves(result, position, encoding, maxRecords)) {
            body = encode(result, position, encoding, maxRecords);
            lastBody = body;
            lastMessage = null;
        }
        if (body.count == 0) {
            return new Message("", 0, position);
        }
        if (lastMessage == null || !subscription.equals(lastSubscription)) {
            lastSubscription = subscription;
            lastMessage = new Message("{\"op\":\"records\",\"subscription\":" + Json.encode(subscription) + ","
                    + body.json, body.count, body.nextOffset);
        }
        return lastMessage;
    }

    private static Body encode(FetchResult result, long position, JsonMapping.Encoding encoding, long maxRecords) {
        TopicPartition tp = result.topicPartition();
        JsonArray out = new JsonArray();
        long next = position;
        boolean truncated = false;
        outer:
        for (RecordBatch batch : RecordBatches.split(result.readRecords())) {
            for (Record record : batch.records()) {
                if (record.offset() < position) {
                    continue;
                }
                if (out.size() >= maxRecords) {
                    truncated = true;
                    break outer;
                }
                out.add(JsonMapping.record(tp.topic(), tp.partition(), record, encoding));
                next = record.offset() + 1;
            }
        }
        String json = new JsonObject().put("topic", tp.topic()).put("partition", tp.partition())
                .put("highWatermark", result.highWatermark()).put("records", out).encode();
        // Without its opening brace, it continues the object the subscription id starts.
        return new Body(result, position, encoding, maxRecords, json.substring(1), out.size(), next, truncated);
    }
}
