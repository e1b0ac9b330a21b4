package io.millrace.gateway.tcp;

import io.millrace.broker.Broker;
import io.millrace.broker.BrokerDescription;
import io.millrace.broker.BrokerMetrics;
import io.millrace.broker.FetchResult;
import io.millrace.broker.FetchedRecords;
import io.millrace.broker.NewTopic;
import io.millrace.broker.ProduceResult;
import io.millrace.broker.ResolvedOffset;
import io.millrace.common.Acks;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.gateway.framing.FrameReader;
import io.millrace.protocol.AddPartitionsRequest;
import io.millrace.protocol.AddPartitionsResponse;
import io.millrace.protocol.AlterReassignmentsRequest;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.ApiKey;
import io.millrace.protocol.CreateTopicRequest;
import io.millrace.protocol.CreateTopicResponse;
import io.millrace.protocol.CreditRequest;
import io.millrace.protocol.DeleteTopicRequest;
import io.millrace.protocol.DeleteTopicResponse;
import io.millrace.protocol.DescribeTopicRequest;
import io.millrace.protocol.DescribeTopicResponse;
import io.millrace.protocol.ErrorResponse;
import io.millrace.protocol.FetchRequest;
import io.millrace.protocol.FetchResponse;
import io.millrace.protocol.Frame;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.FrameHeader;
import io.millrace.protocol.FrameTooLargeException;
import io.millrace.protocol.HandshakeRequest;
import io.millrace.protocol.HandshakeResponse;
import io.millrace.protocol.InitProducerIdResponse;
import io.millrace.protocol.ListOffsetsRequest;
import io.millrace.protocol.ListOffsetsResponse;
import io.millrace.protocol.ListTopicsResponse;
import io.millrace.protocol.MetadataRequest;
import io.millrace.protocol.MetadataResponse;
import io.millrace.protocol.ProduceRequest;
import io.millrace.protocol.ProduceResponse;
import io.millrace.protocol.Request;
import io.millrace.protocol.Response;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.SubscribeResponse;
import io.millrace.protocol.UnsubscribeRequest;
import io.millrace.protocol.UnsubscribeResponse;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetSocket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's connection to the TCP gateway: reads frames of the native protocol ({@link FrameCodec},
 * docs/PROTOCOL.md), calls the {@link Broker}, and writes responses and PUSH frames back.
 *
 * <h2>States</h2>
 * <pre>
 * from               event                                        does                                          to
 * AWAITING_HANDSHAKE HANDSHAKE, versions overlap                  answers version and limits                    OPEN
 * AWAITING_HANDSHAKE HANDSHAKE, no common version                 answers UNSUPPORTED_VERSION, closes           CLOSING
 * AWAITING_HANDSHAKE any other request                            answers INVALID_REQUEST, closes               CLOSING
 * AWAITING_HANDSHAKE no HANDSHAKE within tcp.handshake.timeout.ms closes, no answer                            CLOSING
 * OPEN               a request                                    calls the broker; answers when the call       OPEN
 *                                                                 completes, so answers may overtake each other
 * OPEN               the call fails, or a second HANDSHAKE        answers with the error code                   OPEN
 * both               size field below 6 (negative included)       answers INVALID_REQUEST under apiKey 0 and    CLOSING
 *                                                                 correlation id 0 (there is no header), closes
 * both               size field above tcp.max.frame.bytes         reads the frame's 6 header bytes only,        CLOSING
 *                                                                 answers FRAME_TOO_LARGE under them, closes
 * both               a frame that does not decode                 answers INVALID_REQUEST under its apiKey and  CLOSING
 *                                                                 correlation id (even an unknown key), closes
 * both               a frame still incomplete                     answers REQUEST_TIMED_OUT under apiKey 0 and  CLOSING
 *                    tcp.request.read.timeout.ms after its first  correlation id 0, closes
 *                    byte, while the connection is being read
 * both               PRODUCE acks 0 refused before it is appended closes, no answer (the only signal acks 0    CLOSING
 *                                                                 has)
 * both               the stream ends inside a frame, the peer     releases everything                           CLOSING
 *                    closes, the idle timeout, the broker stops,
 *                    a file region cannot be sent
 * CLOSING            anything                                     ignored; answers still pending are dropped    CLOSING
 * </pre>
 * "both" is AWAITING_HANDSHAKE or OPEN. CLOSING is final: subscriptions are cancelled on entry and the socket
 * closes once the last answer is flushed. A frame refused for its size is the one exception to "ignored": the
 * connection is already CLOSING but still reads that frame's header, for at most {@code tcp.handshake.timeout.ms};
 * after that it answers under apiKey 0 and correlation id 0. The stream cannot be resynchronised after a bad frame,
 * so every framing error closes.
 *
 * <h2>Framing</h2>
 * A {@link FrameReader} alternates between the 4-byte size field and the {@code size} bytes after it, copying each
 * byte of the socket's chunks once, into an array of exactly the frame's size. The size is checked with
 * {@link FrameCodec#checkFrameSize} before the reader is asked for the body, so an oversized frame is never buffered;
 * a body is at most {@code tcp.max.frame.bytes}. Each body is an array of its own: it is decoded in place, produced
 * batches stay slices of it and the partition assigns their offsets there.
 *
 * <h2>Back-pressure</h2>
 * The connection stops reading (pauses the reader, which pauses the socket) while {@code tcp.max.inflight.requests}
 * requests are unanswered or its output is {@link FrameOutput#blocked() blocked}, and reads on when both clear: a
 * client over the limit is slowed down, not refused, and one that does not read its answers stops being read.
 * CREDIT is never counted; PRODUCE with acks 0 counts until the broker has taken it.
 *
 * <p>Not thread-safe: everything runs on the event loop that accepted the socket, where the broker also completes
 * its futures.
 */
final class TcpConnection {

    private static final Logger LOG = LoggerFactory.getLogger(TcpConnection.class);

    /** The connection's protocol state; see the class comment. */
    enum State { AWAITING_HANDSHAKE, OPEN, CLOSING }

    /** What the reader is reading next. */
    private enum Reading { SIZE, BODY, REFUSED_HEADER }

    private final NetSocket socket;
    private final Broker broker;
    private final BrokerMetrics metrics;
    private final TcpSettings settings;
    private final Vertx vertx;
    private final FrameOutput output;
    private final FrameReader reader;
    private final LeaderHints hints;
    /** Open subscriptions by id; one that is still resolving its start offset is here too. */
    private final Map<Integer, PushSubscription> subscriptions = new HashMap<>();
    private State state = State.AWAITING_HANDSHAKE;
    private Reading reading = Reading.SIZE;
    private ApiError refusal;
    /** The handshake deadline, then (when refusing an oversized frame) the deadline for its header; -1 when none. */
    private long timer = -1;
    /** The deadline of the frame being read ({@code tcp.request.read.timeout.ms}); -1 between frames. */
    private long frameDeadline = -1;
    private int inFlight;
    private boolean readingPaused;
    private String clientId = "";
    /** The protocol version the handshake negotiated. */
    private int version = FrameCodec.MIN_VERSION;

    TcpConnection(NetSocket socket, Broker broker, BrokerMetrics metrics, TcpSettings settings, Vertx vertx) {
        this.socket = socket;
        this.broker = broker;
        this.metrics = metrics;
        this.settings = settings;
        this.vertx = vertx;
        this.output = new FrameOutput(socket, this::onWritable, this::onOutputBroken);
        this.reader = new FrameReader(socket, FrameCodec.SIZE_PREFIX_BYTES, this::onRecord, this::onEnd);
        this.hints = new LeaderHints(broker);
    }

    /** Starts reading and the handshake deadline. */
    void start() {
        socket.exceptionHandler(e -> LOG.debug("TCP connection from {} failed", socket.remoteAddress(), e));
        reader.recordStartHandler(this::onRecordStart);
        reader.start();
        socket.drainHandler(v -> onWritable());
        timer = vertx.setTimer(settings.handshakeTimeoutMs(), id -> {
            timer = -1;
            if (state == State.AWAITING_HANDSHAKE) {
                LOG.debug("No handshake from {} within {} ms; closing", socket.remoteAddress(),
                        settings.handshakeTimeoutMs());
                closeNow();
            }
        });
    }

    /** The socket closed, whoever closed it: releases the subscriptions and timers. */
    void closed() {
        enterClosing();
        cancelTimer(); // a refusal may still be waiting for its frame's header
    }

    // ---------------------------------------------------------------- framing

    private void onRecord(ByteBuffer record) {
        try {
            switch (reading) {
                case SIZE -> onSize(record);
                case BODY -> onBody(record);
                case REFUSED_HEADER -> onRefusedHeader(record);
            }
        } catch (RuntimeException e) {
            // A bug here or in a synchronous broker path must cost this connection, not the event loop's next task.
            LOG.error("Unexpected failure on the TCP connection from {}; closing it", socket.remoteAddress(), e);
            closeNow();
        }
    }

    /**
     * The first byte of a size field or body is in: a frame's first byte starts its read deadline. Without it a client
     * sending a byte now and then would hold the connection forever, since the idle timeout never fires.
     */
    private void onRecordStart() {
        if (reading == Reading.SIZE && state != State.CLOSING) {
            frameDeadline = vertx.setTimer(settings.requestReadTimeoutMs(), id -> onFrameDeadline());
        }
    }

    private void onFrameDeadline() {
        frameDeadline = -1;
        if (readingPaused) {
            // This side stopped reading (back-pressure), so the missing bytes may be ours to read: wait another term.
            frameDeadline = vertx.setTimer(settings.requestReadTimeoutMs(), id -> onFrameDeadline());
            return;
        }
        refuse((short) 0, 0, new ApiError(ErrorCode.REQUEST_TIMED_OUT, "A frame did not arrive whole within "
                + settings.requestReadTimeoutMs() + " ms of its first byte (tcp.request.read.timeout.ms); closing"));
    }

    private void onSize(ByteBuffer record) {
        if (state == State.CLOSING) {
            return;
        }
        int size = record.getInt(0);
        try {
            FrameCodec.checkFrameSize(size, settings.maxFrameBytes());
        } catch (FrameTooLargeException e) {
            refuseAfterHeader(ApiError.of(e));
            return;
        } catch (MillraceException e) {
            refuse((short) 0, 0, ApiError.of(e));
            return;
        }
        reading = Reading.BODY;
        reader.fixedSizeMode(size);
    }

    private void onBody(ByteBuffer record) {
        cancelFrameDeadline();
        reading = Reading.SIZE;
        reader.fixedSizeMode(FrameCodec.SIZE_PREFIX_BYTES);
        if (state == State.CLOSING) {
            return;
        }
        // The reader hands out each record in an array of its own, so its memory is this frame's alone: decode it in
        // place (batches stay slices of it, and the broker may assign offsets into them).
        onFrame(record);
    }

    private void refuseAfterHeader(ApiError error) {
        enterClosing();
        refusal = error;
        reading = Reading.REFUSED_HEADER;
        reader.fixedSizeMode(FrameCodec.HEADER_BYTES);
        timer = vertx.setTimer(settings.handshakeTimeoutMs(), id -> {
            timer = -1;
            if (reading == Reading.REFUSED_HEADER) {
                finishRefusal((short) 0, 0);
            }
        });
    }

    private void onRefusedHeader(ByteBuffer record) {
        FrameHeader header = FrameCodec.readHeader(record);
        finishRefusal(header.apiKey(), header.correlationId());
    }

    /** The peer ended the stream; {@code unfinished} bytes of a size field, body or refused header were read. */
    private void onEnd(int unfinished) {
        if (unfinished == 0) {
            return; // between frames: the socket's close, which follows, releases everything
        }
        if (reading == Reading.REFUSED_HEADER) {
            finishRefusal((short) 0, 0);
        } else if (state != State.CLOSING) {
            closeNow(); // the stream ended inside a frame: nothing to answer
        }
    }

    private void finishRefusal(short apiKey, int correlationId) {
        reading = Reading.SIZE;
        cancelTimer();
        LOG.debug("Refusing a frame from {}: {}", socket.remoteAddress(), refusal.message());
        output.write(FrameCodec.encodeErrorResponse(apiKey, correlationId, refusal));
        socket.close();
    }

    private void onFrame(ByteBuffer frame) {
        Frame<Request> decoded;
        try {
            // In the connection's version; before the handshake the oldest (HANDSHAKE reads alike in every version).
            decoded = FrameCodec.decodeRequest(frame, version);
        } catch (MillraceException e) {
            FrameHeader header = FrameCodec.readHeader(frame);
            refuse(header.apiKey(), header.correlationId(), ApiError.of(e));
            return;
        }
        int correlationId = decoded.correlationId();
        Request request = decoded.message();
        if (state == State.OPEN) {
            dispatch(correlationId, request);
        } else if (request instanceof HandshakeRequest handshake) {
            handshake(correlationId, handshake);
        } else {
            refuse(request.apiKey().id(), correlationId, new ApiError(ErrorCode.INVALID_REQUEST, "The first frame on a"
                    + " connection must be a HANDSHAKE, not " + request.apiKey() + "; see docs/PROTOCOL.md"));
        }
    }

    // ---------------------------------------------------------------- requests

    private void handshake(int correlationId, HandshakeRequest handshake) {
        int version;
        try {
            version = FrameCodec.negotiateVersion(handshake);
        } catch (MillraceException e) {
            refuse(ApiKey.HANDSHAKE.id(), correlationId, ApiError.of(e));
            return;
        }
        cancelTimer();
        state = State.OPEN;
        clientId = handshake.clientId();
        this.version = version;
        send(correlationId, new HandshakeResponse(version, broker.brokerId(), settings.maxFrameBytes(),
                settings.maxInFlightRequests()));
    }

    private void dispatch(int correlationId, Request request) {
        switch (request.apiKey()) {
            case PRODUCE -> produce(correlationId, (ProduceRequest) request);
            case FETCH -> fetch(correlationId, (FetchRequest) request);
            case SUBSCRIBE -> subscribe(correlationId, (SubscribeRequest) request);
            case CREDIT -> credit((CreditRequest) request);
            default -> respond(correlationId, request.apiKey(), true, () -> answer(request).map(Response.class::cast),
                    response -> send(correlationId, response));
        }
    }

    /**
     * The call behind a request answered by a single response message. Exhaustive on purpose: a new API key does not
     * compile until this gateway answers it.
     */
    private Future<? extends Response> answer(Request request) {
        return switch (request.apiKey()) {
            case HANDSHAKE -> Future.failedFuture(new MillraceException(ErrorCode.INVALID_REQUEST,
                    "This connection has already completed its handshake"));
            case METADATA -> metadata((MetadataRequest) request);
            case LIST_OFFSETS -> listOffsets((ListOffsetsRequest) request);
            case UNSUBSCRIBE -> unsubscribe((UnsubscribeRequest) request);
            case CREATE_TOPIC -> createTopic((CreateTopicRequest) request);
            case DELETE_TOPIC -> broker.deleteTopic(((DeleteTopicRequest) request).name())
                    .map(v -> new DeleteTopicResponse());
            case DESCRIBE_TOPIC -> broker.describeTopic(((DescribeTopicRequest) request).name())
                    .map(t -> new DescribeTopicResponse(ProtocolMapping.topic(t)));
            case LIST_TOPICS -> broker.listTopics().map(ListTopicsResponse::new);
            case ADD_PARTITIONS -> {
                AddPartitionsRequest add = (AddPartitionsRequest) request;
                yield broker.addPartitions(add.name(), add.totalPartitions())
                        .map(t -> new AddPartitionsResponse(ProtocolMapping.topic(t)));
            }
            case INIT_PRODUCER_ID -> broker.initProducerId()
                    .map(id -> new InitProducerIdResponse(id.producerId(), id.epoch()));
            case PRODUCE, FETCH, SUBSCRIBE, CREDIT -> throw new IllegalStateException(request.apiKey()
                    + " has its own path in dispatch");
            case PUSH -> throw new IllegalStateException("unreachable: the codec refuses PUSH from clients");
            case JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, COMMIT_OFFSETS, FETCH_OFFSETS, LIST_GROUPS, DESCRIBE_GROUP,
                 RESET_OFFSETS, DELETE_GROUP -> request.apiKey().sinceVersion() > version ? tooNew(request)
                    : GroupRequests.answer(broker, request, socket.remoteAddress().host());
            case ALTER_REASSIGNMENTS, LIST_REASSIGNMENTS -> request.apiKey().sinceVersion() > version ? tooNew(request)
                    : request instanceof AlterReassignmentsRequest alter
                    ? ReassignmentRequests.alter(broker.reassignments(), alter)
                    : ReassignmentRequests.list(broker.reassignments());
        };
    }

    /** The answer to a request of a key newer than the version this connection negotiated. */
    private Future<Response> tooNew(Request request) {
        return Future.failedFuture(new MillraceException(ErrorCode.UNSUPPORTED_VERSION, request.apiKey()
                + " needs protocol version " + request.apiKey().sinceVersion() + "; this connection negotiated"
                + " version " + version));
    }

    /**
     * Runs a request: counts it in flight until {@code call}'s future completes, records its latency, then writes
     * the answer with {@code answer} or, on failure, an error response, unless the connection is closing by then.
     * {@code call} may throw instead of returning a failed future.
     *
     * @param answered false for PRODUCE with acks 0: nothing is written, and a failure closes the connection
     */
    private <T> void respond(int correlationId, ApiKey key, boolean answered, Supplier<Future<T>> call,
                             Consumer<T> answer) {
        long start = System.nanoTime();
        inFlight++;
        maybePauseReading();
        Future<T> result;
        try {
            result = call.get();
        } catch (RuntimeException e) {
            result = Future.failedFuture(e);
        }
        result.onComplete(r -> {
            metrics.requestLatency(ProtocolMapping.operation(key), System.nanoTime() - start);
            inFlight--;
            try {
                if (state == State.CLOSING) {
                    return;
                }
                if (r.succeeded()) {
                    answer.accept(r.result());
                } else if (answered) {
                    send(correlationId, new ErrorResponse(key, ProtocolMapping.error(r.cause())));
                } else {
                    LOG.debug("Closing the connection from {}: {} failed and has no answer to carry the error",
                            socket.remoteAddress(), key, r.cause());
                    closeNow();
                }
            } catch (RuntimeException e) {
                LOG.error("Cannot answer {} on the connection from {}; closing it", key, socket.remoteAddress(), e);
                closeNow();
            } finally {
                maybeResumeReading();
            }
        });
    }

    private Future<MetadataResponse> metadata(MetadataRequest request) {
        Future<List<String>> names = request.topics().map(Future::succeededFuture).orElseGet(broker::listTopics);
        Future<List<BrokerDescription>> brokers = broker.brokers();
        Future<List<MetadataResponse.TopicMetadata>> topics = names.compose(list -> {
            List<Future<MetadataResponse.TopicMetadata>> each = list.stream().map(name -> broker.describeTopic(name)
                    .map(ProtocolMapping::topicMetadata)
                    .otherwise(e -> ProtocolMapping.topicMetadataFailure(name, e))).toList();
            return Future.all(each).map(all -> each.stream().map(Future::result).toList());
        });
        return Future.all(brokers, topics).map(all -> {
            List<BrokerDescription> known = brokers.result();
            OptionalInt controller = known.stream().filter(BrokerDescription::controller)
                    .mapToInt(BrokerDescription::id).findFirst();
            return new MetadataResponse(known.stream().filter(BrokerDescription::alive).map(ProtocolMapping::broker)
                    .toList(), controller, topics.result());
        });
    }

    private void produce(int correlationId, ProduceRequest request) {
        Acks acks = ProtocolMapping.acks(request.acks());
        respond(correlationId, ApiKey.PRODUCE, request.expectsResponse(), () -> {
            List<Future<ProduceResponse.PartitionResult>> results = new ArrayList<>();
            for (ProduceRequest.PartitionData data : request.partitions()) {
                results.add(producePartition(request.topic(), data, acks));
            }
            return Future.all(results).compose(all -> {
                List<ProduceResponse.PartitionResult> each = results.stream().map(Future::result).toList();
                Optional<ApiError> refused = each.stream().flatMap(p -> p.error().stream()).findFirst();
                if (acks == Acks.NONE && refused.isPresent()) {
                    return Future.failedFuture(refused.get().toException());
                }
                return Future.succeededFuture(new ProduceResponse(each));
            });
        }, response -> {
            if (request.expectsResponse()) {
                send(correlationId, response);
            }
        });
    }

    /**
     * Appends one partition's batches in order, each after the previous one is appended, so they keep their order
     * even when the first call has to wait (auto-creating the topic). Several batches are all checked (whole batches,
     * CRCs) before the first is appended, so corrupt bytes never leave part of a request appended; a failure the
     * partition reports later (a batch too large, leadership lost) does leave the batches before it appended, and
     * the error message says how many. One batch is checked by the partition only, as every produce is.
     */
    private Future<ProduceResponse.PartitionResult> producePartition(String topic, ProduceRequest.PartitionData data,
                                                                      Acks acks) {
        int partition = data.partition();
        List<RecordBatch> batches;
        try {
            batches = RecordBatches.split(data.batches());
            if (batches.isEmpty()) {
                throw new MillraceException(ErrorCode.INVALID_REQUEST, "No record batch for partition " + partition);
            }
            if (batches.size() > 1) {
                batches.forEach(RecordBatch::ensureValid);
            }
        } catch (MillraceException e) {
            return Future.succeededFuture(ProduceResponse.PartitionResult.failure(partition, ApiError.of(e)));
        }
        TopicPartition tp = new TopicPartition(topic, partition);
        int epoch = data.currentLeaderEpoch();
        int[] appended = {0};
        Future<ProduceResult> first = broker.produce(tp, batches.get(0), acks, epoch).onSuccess(r -> appended[0]++);
        Future<ProduceResult> last = first;
        for (RecordBatch batch : batches.subList(1, batches.size())) {
            last = last.compose(r -> broker.produce(tp, batch, acks, epoch)).onSuccess(r -> appended[0]++);
        }
        return last.map(r -> ProduceResponse.PartitionResult.success(partition, first.result().baseOffset(),
                        r.logAppendTime(), r.logStartOffset()))
                .recover(e -> {
                    ApiError error = ProtocolMapping.error(e);
                    if (appended[0] > 0) {
                        error = new ApiError(error.code(), error.message() + " (batch " + (appended[0] + 1) + " of "
                                + batches.size() + "; the " + appended[0] + " before it were appended)");
                    }
                    return hints.attach(error, tp).map(hinted -> ProduceResponse.PartitionResult.failure(partition,
                            hinted));
                });
    }

    private void fetch(int correlationId, FetchRequest request) {
        respond(correlationId, ApiKey.FETCH, true, () -> {
            // Each partition of a FETCH may wait at its partition; a partition listed many times would let one
            // request take every waiting slot of that partition from other clients.
            long distinct = request.partitions().stream().mapToInt(FetchRequest.PartitionFetch::partition).distinct()
                    .count();
            if (distinct != request.partitions().size()) {
                throw new MillraceException(ErrorCode.INVALID_REQUEST, "A FETCH lists a partition more than once");
            }
            return LongPollFetch.run(broker, hints, request);
        }, outcomes -> writeFetchResponse(correlationId, request, outcomes));
    }

    /**
     * Writes a FETCH response as headers from the heap and batches from the segment files (or from memory, for batches
     * another broker sent). Partitions are taken in request order while they fit in {@code maxBytes}; the first with
     * data always does. A partition that does not fit, or whose segment went away since the read, is answered without
     * batches, so the client reads it again.
     */
    private void writeFetchResponse(int correlationId, FetchRequest request, List<LongPollFetch.Outcome> outcomes) {
        List<FetchResponse.PartitionHeader> headers = new ArrayList<>(outcomes.size());
        List<FetchedRecords> batches = new ArrayList<>(outcomes.size());
        long total = 0;
        for (LongPollFetch.Outcome outcome : outcomes) {
            if (outcome.result().isEmpty()) {
                headers.add(new FetchResponse.PartitionHeader(outcome.partition(), outcome.error(), -1, -1, 0));
                batches.add(null);
                continue;
            }
            FetchResult result = outcome.result().get();
            FetchedRecords records = result.records();
            int size = records.sizeInBytes();
            boolean include = size > 0 && (total == 0 || total + size <= request.maxBytes())
                    && FrameOutput.readable(records, size);
            if (include) {
                total += size;
            }
            headers.add(new FetchResponse.PartitionHeader(outcome.partition(), Optional.empty(),
                    result.highWatermark(), result.logStartOffset(), include ? size : 0));
            batches.add(include ? records : null);
        }
        List<ByteBuffer> buffers = FrameCodec.encodeFetchResponseHeaders(correlationId, headers, version);
        output.write(buffers.get(0));
        for (int i = 0; i < headers.size(); i++) {
            output.write(buffers.get(i + 1));
            if (batches.get(i) != null) {
                output.sendBatches(batches.get(i), headers.get(i).batchesLength());
            }
        }
        maybePauseReading();
    }

    private Future<ListOffsetsResponse> listOffsets(ListOffsetsRequest request) {
        List<Future<ListOffsetsResponse.PartitionOffset>> results = new ArrayList<>();
        for (ListOffsetsRequest.PartitionQuery query : request.partitions()) {
            int partition = query.partition();
            TopicPartition tp = new TopicPartition(request.topic(), partition);
            boolean byTime = query.timestamp() >= 0;
            Future<ResolvedOffset> found;
            try {
                found = broker.listOffset(tp, ProtocolMapping.offsetSpec(query.timestamp()),
                        query.currentLeaderEpoch());
            } catch (RuntimeException e) {
                found = Future.failedFuture(e);
            }
            results.add(found.map(r -> {
                if (!byTime) {
                    return new ListOffsetsResponse.PartitionOffset(partition, Optional.empty(),
                            OptionalLong.of(r.offset()), OptionalLong.empty());
                }
                // The broker answers a time with no record that recent by the log end and timestamp -1; the
                // protocol says "none" (as Kafka does).
                return r.timestamp() < 0
                        ? new ListOffsetsResponse.PartitionOffset(partition, Optional.empty(), OptionalLong.empty(),
                        OptionalLong.empty())
                        : new ListOffsetsResponse.PartitionOffset(partition, Optional.empty(),
                        OptionalLong.of(r.offset()), OptionalLong.of(r.timestamp()));
            }).recover(e -> hints.attach(ProtocolMapping.error(e), tp)
                    .map(error -> ListOffsetsResponse.PartitionOffset.failure(partition, error))));
        }
        return Future.all(results).map(all -> new ListOffsetsResponse(results.stream().map(Future::result).toList()));
    }

    /**
     * Opens a subscription under the request's correlation id: registered at once (so CREDIT and UNSUBSCRIBE find
     * it while its start offset is resolved), answered with the start offset, started after the answer is queued so
     * that no PUSH overtakes it.
     */
    private void subscribe(int correlationId, SubscribeRequest request) {
        PushSubscription[] opened = new PushSubscription[1];
        respond(correlationId, ApiKey.SUBSCRIBE, true, () -> {
            if (subscriptions.containsKey(correlationId)) {
                throw new MillraceException(ErrorCode.INVALID_REQUEST, "Correlation id " + correlationId
                        + " already names an open subscription on this connection; use a fresh id");
            }
            if (subscriptions.size() >= settings.maxSubscriptions()) {
                throw new MillraceException(ErrorCode.BROKER_OVERLOADED, "This connection has "
                        + subscriptions.size() + " subscriptions open (tcp.max.subscriptions); close some first");
            }
            TopicPartition tp = new TopicPartition(request.topic(), request.partition());
            Future<ResolvedOffset> start = broker.listOffset(tp, ProtocolMapping.offsetSpec(request.start()),
                    request.currentLeaderEpoch());
            PushSubscription subscription = new PushSubscription(correlationId, tp, request.currentLeaderEpoch(),
                    request.initialCredits(), request.maxBytesPerPush(), output, hints, version, this::forget);
            subscriptions.put(correlationId, subscription);
            opened[0] = subscription;
            return start.onFailure(e -> forget(subscription)).map(ResolvedOffset::offset)
                    .recover(e -> hints.attach(ProtocolMapping.error(e), tp)
                            .compose(error -> Future.failedFuture(new ProtocolMapping.AnsweredError(error))));
        }, startOffset -> {
            send(correlationId, new SubscribeResponse(startOffset));
            opened[0].start(broker, startOffset);
        });
    }

    private void forget(PushSubscription subscription) {
        subscriptions.remove(subscription.id(), subscription);
    }

    private void credit(CreditRequest request) {
        PushSubscription subscription = subscriptions.get(request.subscriptionId());
        if (subscription != null) {
            subscription.credit(request.credits());
        }
    }

    private Future<UnsubscribeResponse> unsubscribe(UnsubscribeRequest request) {
        PushSubscription subscription = subscriptions.remove(request.subscriptionId());
        if (subscription != null) {
            subscription.cancel();
        }
        return Future.succeededFuture(new UnsubscribeResponse());
    }

    private Future<CreateTopicResponse> createTopic(CreateTopicRequest request) {
        return broker.createTopic(new NewTopic(request.name(), OptionalInt.of(request.partitions()),
                        OptionalInt.of(request.replicationFactor()), request.config()))
                .map(t -> new CreateTopicResponse(ProtocolMapping.topic(t)));
    }

    // ---------------------------------------------------------------- output and life cycle

    private void send(int correlationId, Response response) {
        output.write(FrameCodec.encode(correlationId, response, version));
        maybePauseReading();
    }

    /** Answers a frame that ends the connection, then closes once the answer is flushed. */
    private void refuse(short apiKey, int correlationId, ApiError error) {
        if (state == State.CLOSING) {
            return;
        }
        LOG.debug("Closing the TCP connection from {} (client '{}'): {} {}", socket.remoteAddress(), clientId,
                error.code(), error.message());
        enterClosing();
        output.write(FrameCodec.encodeErrorResponse(apiKey, correlationId, error));
        socket.close();
    }

    private void closeNow() {
        enterClosing();
        socket.close();
    }

    private void onOutputBroken(Throwable cause) {
        if (state != State.CLOSING) {
            LOG.warn("Cannot send record batches to {} ({}); closing the connection, whose stream is now cut short",
                    socket.remoteAddress(), cause.toString());
            closeNow();
        }
    }

    private void enterClosing() {
        if (state == State.CLOSING) {
            return;
        }
        state = State.CLOSING;
        cancelTimer();
        cancelFrameDeadline();
        subscriptions.values().forEach(PushSubscription::cancel);
        subscriptions.clear();
        if (readingPaused) {
            // Keep draining the socket: closing with unread bytes makes the kernel reset the connection, which can
            // destroy the error answer before the client reads it.
            readingPaused = false;
            reader.resume();
        }
    }

    private void cancelFrameDeadline() {
        if (frameDeadline != -1) {
            vertx.cancelTimer(frameDeadline);
            frameDeadline = -1;
        }
    }

    private void cancelTimer() {
        if (timer != -1) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    private void onWritable() {
        maybeResumeReading();
        if (state == State.OPEN) {
            new ArrayList<>(subscriptions.values()).forEach(PushSubscription::resume);
        }
    }

    private void maybePauseReading() {
        if (!readingPaused && state != State.CLOSING
                && (inFlight >= settings.maxInFlightRequests() || output.blocked())) {
            readingPaused = true;
            reader.pause();
        }
    }

    private void maybeResumeReading() {
        if (readingPaused && inFlight < settings.maxInFlightRequests() && !output.blocked()) {
            readingPaused = false;
            reader.resume();
        }
    }
}
