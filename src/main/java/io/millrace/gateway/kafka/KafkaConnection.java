package io.millrace.gateway.kafka;

import io.millrace.broker.BrokerMetrics;
import io.millrace.broker.FetchedRecords;
import io.millrace.gateway.framing.FrameReader;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetSocket;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka client's connection: reads Kafka request frames, has {@link KafkaApis} answer them, writes the responses.
 *
 * <h2>Framing</h2>
 * A request is a 4-byte size, then a request header (v1, or v2 with tagged fields for flexible versions, as
 * {@link ApiKeys#requestHeaderVersion} says) and the request body; a response is a 4-byte size, a response header (v0,
 * or v1 for flexible versions, except ApiVersions which always answers with v0) and the response body. Headers and
 * bodies are read and written by the message classes of kafka-clients; a Fetch answer's records are sent as the broker
 * returned them ({@link BrokerRecords}, {@link ResponseParts}): from their segment files, not through the heap, or
 * from memory when another broker sent them.
 *
 * <h2>Answers in request order; Produce pipelined</h2>
 * A Kafka client matches each response to the oldest request it has in flight, so answers go back in request order
 * ({@link #pending}): one that is ready waits behind any earlier one still being worked on. The connection stops
 * reading when a request is complete and decides when to read on:
 * <ul>
 *   <li>after a Produce, at once, while every unanswered request is a Produce and there are fewer than
 *       {@code kafka.max.inflight.produce.requests}: a producer keeps several requests in flight (Kafka's
 *       {@code max.in.flight.requests.per.connection}, 5 by default), and working on them together overlaps one
 *       request's append and replication with the next one's, where one at a time left the producer waiting a round
 *       trip per request. They are handed to the broker in the order they came, so each partition appends them in
 *       that order, as an idempotent producer's sequence numbers require;</li>
 *   <li>after any other request, only once it and all before it are answered and sent, as Apache Kafka's broker does
 *       for every request: a consumer has one Fetch in flight per broker anyway, and reading on only after a fetch
 *       answer's file regions are out bounds the open files a connection holds.</li>
 * </ul>
 * Either way a connection can ask only so much of the broker at once without a limit of its own.
 *
 * <h2>Bad input</h2>
 * The stream cannot be resynchronised after a bad frame, so each of these closes the connection (and only it), with a
 * log line: a size field below {@value KafkaSettings#MIN_REQUEST_BYTES} or above {@code socket.request.max.bytes}
 * (the body is not read), an API key Kafka does not define or this broker does not answer, a version outside what
 * ApiVersions announced, a header or body that does not decode, and PRODUCE with acks 0 that fails (Kafka's way of
 * telling a client that asked for no answer). ApiVersions in a version newer than announced is answered, in version
 * 0 with UNSUPPORTED_VERSION and the supported versions, as Kafka clients expect.
 *
 * <p>Not thread-safe: everything runs on the event loop that accepted the socket, where the broker also completes
 * its futures.
 */
final class KafkaConnection {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaConnection.class);
    private static final int SIZE_BYTES = 4;

    private final NetSocket socket;
    private final KafkaApis apis;
    private final KafkaSettings settings;
    private final BrokerMetrics metrics;
    /** The event loop that accepted the socket, where everything here runs. */
    private final Context context;
    /** Cuts the stream into size fields and requests, each request copied once into an array of its own. */
    private final FrameReader reader;
    /** Requests read whose answers are not yet sent whole, oldest first. */
    private final ArrayDeque<PendingAnswer> pending = new ArrayDeque<>();
    private boolean readingSize = true;
    private boolean readingPaused;
    private boolean closed;
    /** Whether {@link #writeReadyAnswers} is queued on the event loop already. */
    private boolean writeScheduled;
    private String clientId = "";

    KafkaConnection(NetSocket socket, KafkaApis apis, KafkaSettings settings, BrokerMetrics metrics) {
        this.socket = socket;
        this.apis = apis;
        this.settings = settings;
        this.metrics = metrics;
        this.context = Objects.requireNonNull(Vertx.currentContext(), "a Kafka connection starts on its event loop");
        this.reader = new FrameReader(socket, SIZE_BYTES, this::onRecord, unfinishedBytes -> { });
    }

    /** Starts reading requests. */
    void start() {
        socket.exceptionHandler(e -> LOG.debug("Kafka connection from {} failed", socket.remoteAddress(), e));
        reader.start();
    }

    /** The socket closed, whoever closed it: answers still pending are dropped. */
    void closed() {
        closed = true;
    }

    private void onRecord(ByteBuffer record) {
        if (closed) {
            return;
        }
        try {
            if (readingSize) {
                onSize(record.getInt());
            } else {
                readingSize = true;
                reader.fixedSizeMode(SIZE_BYTES);
                // Whether to read on depends on what this request is and what is still unanswered (class comment).
                readingPaused = true;
                reader.pause();
                onRequest(record);
                readOnIfAllowed();
            }
        } catch (RuntimeException e) {
            // A bug here or in a synchronous broker path must cost this connection, not the event loop's next task.
            LOG.error("Unexpected failure on the Kafka connection from {}; closing it", socket.remoteAddress(), e);
            close("unexpected failure " + e);
        }
    }

    private void onSize(int size) {
        if (size < KafkaSettings.MIN_REQUEST_BYTES) {
            close("a request size of " + size + " bytes (at least " + KafkaSettings.MIN_REQUEST_BYTES + ")");
        } else if (size > settings.maxRequestBytes()) {
            close("a request of " + size + " bytes, over socket.request.max.bytes (" + settings.maxRequestBytes()
                    + ")");
        } else {
            readingSize = false;
            reader.fixedSizeMode(size);
        }
    }

    private void onRequest(ByteBuffer frame) {
        short apiKeyId = frame.getShort(0);
        short version = frame.getShort(2);
        int correlationId = frame.getInt(4);
        if (!ApiKeys.hasId(apiKeyId)) {
            close("API key " + apiKeyId + ", which Kafka does not define");
            return;
        }
        ApiKeys key = ApiKeys.forId(apiKeyId);
        if (!apis.supports(key, version)) {
            if (key == ApiKeys.API_VERSIONS) {
                // A newer client than this broker: Kafka answers in version 0 with its versions, so the client can
                // retry in one both know.
                PendingAnswer answer = new PendingAnswer(correlationId, key, (short) 0);
                pending.add(answer);
                answer.response = Optional.of(apis.unsupportedApiVersions());
                writeReadyAnswers();
            } else {
                close(key + " version " + version + ", which this broker does not answer ("
                        + apis.describeSupport(key) + " in its ApiVersions)");
            }
            return;
        }
        ByteBufferAccessor reader = new ByteBufferAccessor(frame);
        ApiMessage request;
        try {
            RequestHeaderData header = new RequestHeaderData(reader, key.requestHeaderVersion(version));
            if (header.clientId() != null) {
                clientId = header.clientId();
            }
            request = key.messageType.newRequest();
            request.read(reader, version);
        } catch (RuntimeException e) {
            close(key + " v" + version + " that does not decode (" + e + ")");
            return;
        }
        PendingAnswer pendingAnswer = new PendingAnswer(correlationId, key, version);
        pending.add(pendingAnswer);
        long start = System.nanoTime();
        Future<Optional<ApiMessage>> answer;
        try {
            answer = apis.answer(key, version, clientId, request);
        } catch (RuntimeException e) {
            answer = Future.failedFuture(e);
        }
        answer.onComplete(result -> {
            // Named as the other front-ends' latencies: "kafka.produce", "kafka.fetch", "kafka.joinGroup", ...
            metrics.requestLatency(KafkaGateway.FRONT_END + "." + key.name.substring(0, 1).toLowerCase(Locale.ROOT)
                    + key.name.substring(1), System.nanoTime() - start);
            if (closed) {
                return;
            }
            if (result.failed() && result.cause() instanceof KafkaApis.Unanswerable refused) {
                close(refused.getMessage());
                return;
            }
            if (result.failed()) {
                LOG.warn("Cannot answer {} v{} from {} (client '{}'); closing the connection", key, version,
                        socket.remoteAddress(), clientId, result.cause());
                close(key + " that could not be answered");
                return;
            }
            pendingAnswer.response = result.result();
            scheduleWrite();
        });
    }

    /**
     * Writes the ready answers once the event loop has run what it has queued: the partition completes the requests of
     * one append together, and their answers then leave in one write (see {@link Outgoing}).
     */
    private void scheduleWrite() {
        if (writeScheduled) {
            return;
        }
        writeScheduled = true;
        context.runOnContext(v -> {
            writeScheduled = false;
            writeReadyAnswers();
        });
    }

    /** Writes, in request order, every answer that is ready and has no unanswered request before it. */
    private void writeReadyAnswers() {
        // Picked first: a send that completes at once removes its answer from the queue.
        List<PendingAnswer> ready = new ArrayList<>();
        for (PendingAnswer answer : pending) {
            if (answer.response == null) {
                break;
            }
            if (!answer.writing) {
                answer.writing = true;
                ready.add(answer);
            }
        }
        if (closed || ready.isEmpty()) {
            return;
        }
        Outgoing out = new Outgoing();
        List<Future<Void>> sent = new ArrayList<>(ready.size());
        for (PendingAnswer answer : ready) {
            sent.add(answer.response
                    .map(response -> respond(out, answer.correlationId, answer.key, answer.version, response))
                    .orElseGet(Future::succeededFuture));
        }
        out.writeHeap();
        for (int i = 0; i < ready.size(); i++) {
            PendingAnswer answer = ready.get(i);
            sent.get(i).onComplete(done -> {
                if (done.succeeded()) {
                    pending.remove(answer);
                    readOnIfAllowed();
                } else if (!closed) {
                    LOG.warn("Cannot send the {} answer to {}; closing the connection, whose stream is cut short: {}",
                            answer.key, socket.remoteAddress(), done.cause().toString());
                    close(answer.key + " whose answer could not be sent whole");
                }
            });
        }
    }

    /** Reads on if what is still unanswered allows it (see the class comment). */
    private void readOnIfAllowed() {
        if (closed || !readingPaused) {
            return;
        }
        boolean onlyProduce = pending.stream().allMatch(answer -> answer.key == ApiKeys.PRODUCE);
        if (pending.isEmpty() || (onlyProduce && pending.size() < settings.maxInFlightProduceRequests())) {
            readingPaused = false;
            reader.resume();
        }
    }

    /**
     * Serialises a response into {@code out}: its heap parts join the bytes gathered for the next write, the records
     * of a fetch go with {@link FetchedRecords#sendTo} (from their segment files in chunks small enough that Vert.x
     * queues each whole, in call order). Completes when the last part is sent; fails when a segment changed since it
     * was read (its bytes are announced already, so the connection must close) or a send fails.
     */
    private Future<Void> respond(Outgoing out, int correlationId, ApiKeys key, short version, ApiMessage response) {
        short headerVersion = key.responseHeaderVersion(version);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        int size = header.size(cache, headerVersion) + response.size(cache, version);
        ResponseParts parts = new ResponseParts(SIZE_BYTES + size - brokerRecordsBytes(response));
        parts.writeInt(size);
        header.write(parts, cache, headerVersion);
        response.write(parts, cache, version);
        List<Future<Void>> sent = new ArrayList<>();
        for (ResponseParts.Part part : parts.parts()) {
            if (part instanceof ResponseParts.Heap heap) {
                if (heap.bytes().hasRemaining()) {
                    sent.add(out.heap(heap.bytes()));
                }
            } else if (part instanceof ResponseParts.Batches batches) {
                sent.add(out.records(batches.records()));
            }
        }
        return sent.size() == 1 ? sent.get(0) : Future.all(sent).mapEmpty();
    }

    /** The bytes of a response that are sent as the broker's batches rather than written from the heap. */
    private static int brokerRecordsBytes(ApiMessage response) {
        if (!(response instanceof FetchResponseData fetch)) {
            return 0;
        }
        int bytes = 0;
        for (FetchResponseData.FetchableTopicResponse topic : fetch.responses()) {
            for (FetchResponseData.PartitionData partition : topic.partitions()) {
                if (partition.records() instanceof BrokerRecords records) {
                    bytes += records.sizeInBytes();
                }
            }
        }
        return bytes;
    }

    private void close(String reason) {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("Closing the Kafka connection from {} (client '{}'): it sent {}", socket.remoteAddress(), clientId,
                reason);
        socket.close();
    }

    /**
     * The bytes of the answers written in one pass, in wire order: heap bytes of consecutive answers are gathered and
     * handed to the socket as one buffer, which Vert.x sends with one system call where one write per answer cost a
     * call and a wake-up of the client each; a fetch's records go in their place between them.
     */
    private final class Outgoing {
        private CompositeByteBuf heap;
        private Promise<Void> heapSent;

        /** Adds {@code bytes} to the next write; the future completes when that write is sent. */
        Future<Void> heap(ByteBuffer bytes) {
            if (heap == null) {
                heap = Unpooled.compositeBuffer(Integer.MAX_VALUE);
                heapSent = Promise.promise();
            }
            heap.addComponent(true, Unpooled.wrappedBuffer(bytes));
            return heapSent.future();
        }

        /** Writes the heap bytes gathered so far, then queues {@code records} behind them. */
        Future<Void> records(FetchedRecords records) {
            writeHeap();
            return records.sendTo(socket, 0, records.sizeInBytes());
        }

        /** Hands the heap bytes gathered so far to the socket, if any. */
        void writeHeap() {
            if (heap != null) {
                socket.write(BufferInternal.buffer(heap)).onComplete(heapSent);
                heap = null;
                heapSent = null;
            }
        }
    }

    /** A request read and not yet answered whole; {@code version} is the one its answer is written in. */
    private static final class PendingAnswer {
        final int correlationId;
        final ApiKeys key;
        final short version;
        /** Null until the broker answered; empty when the request gets no answer (Produce with acks 0). */
        Optional<ApiMessage> response;
        boolean writing;

        PendingAnswer(int correlationId, ApiKeys key, short version) {
            this.correlationId = correlationId;
            this.key = key;
            this.version = version;
        }
    }
}
