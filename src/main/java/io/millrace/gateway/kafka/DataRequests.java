package io.millrace.gateway.kafka;

import io.millrace.broker.Broker;
import io.millrace.broker.FetchResult;
import io.millrace.broker.ResolvedOffset;
import io.millrace.common.Acks;
import io.millrace.common.LeaderEpoch;
import io.millrace.common.MillraceException;
import io.millrace.common.OffsetSpec;
import io.millrace.common.TopicPartition;
import io.millrace.record.RecordBatch;
import io.millrace.record.RecordBatches;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.requests.ListOffsetsRequest;

/**
 * Produce, Fetch, ListOffsets, DeleteRecords, OffsetForLeaderEpoch and InitProducerId, decoded into the broker API's
 * data calls. Every partition is answered on its own: a partition that fails carries its Kafka error, and the others
 * their results. Stateless apart from the broker it calls.
 */
final class DataRequests {

    private final Broker broker;

    DataRequests(Broker broker) {
        this.broker = broker;
    }

    // ---------------------------------------------------------------- Produce

    /**
     * Appends each partition's batch. Fails with {@link KafkaApis.Unanswerable} when acks is 0 and a partition was
     * refused, as the connection must then close.
     */
    Future<ProduceResponseData> produce(ProduceRequestData request) {
        Optional<Acks> acks = switch (request.acks()) {
            case 0 -> Optional.of(Acks.NONE);
            case 1 -> Optional.of(Acks.LEADER);
            case -1 -> Optional.of(Acks.ALL);
            default -> Optional.empty();
        };
        ProduceResponseData.TopicProduceResponseCollection topics =
                new ProduceResponseData.TopicProduceResponseCollection();
        List<Future<ProduceResponseData.PartitionProduceResponse>> results = new ArrayList<>();
        for (ProduceRequestData.TopicProduceData topic : request.topicData()) {
            ProduceResponseData.TopicProduceResponse answer = new ProduceResponseData.TopicProduceResponse()
                    .setName(topic.name());
            topics.add(answer);
            for (ProduceRequestData.PartitionProduceData partition : topic.partitionData()) {
                ProduceResponseData.PartitionProduceResponse result =
                        new ProduceResponseData.PartitionProduceResponse().setIndex(partition.index());
                answer.partitionResponses().add(result);
                if (request.transactionalId() != null) {
                    results.add(Future.succeededFuture(failed(result, Errors.UNSUPPORTED_VERSION,
                            "Transactions are not supported by Millrace; produce without transactional.id")));
                } else if (acks.isEmpty()) {
                    results.add(Future.succeededFuture(failed(result, Errors.INVALID_REQUIRED_ACKS,
                            "acks must be 0, 1 or -1 (all), not " + request.acks())));
                } else {
                    results.add(producePartition(new TopicPartition(topic.name(), partition.index()),
                            partition.records() instanceof MemoryRecords records ? records : null, acks.get(),
                            result));
                }
            }
        }
        return Future.all(results).compose(all -> {
            if (request.acks() == 0) {
                for (var result : results) {
                    if (result.result().errorCode() != Errors.NONE.code()) {
                        return Future.failedFuture(new KafkaApis.Unanswerable("a PRODUCE with acks 0 that failed: "
                                + result.result().errorMessage()));
                    }
                }
            }
            return Future.succeededFuture(new ProduceResponseData().setResponses(topics));
        });
    }

    /**
     * Appends one partition's records: exactly one batch, as Kafka requires from Produce version 3 on. The batch's
     * buffer is a slice of the request frame, which is this request's alone, so the broker assigns offsets in place.
     */
    private Future<ProduceResponseData.PartitionProduceResponse> producePartition(
            TopicPartition tp, MemoryRecords records, Acks acks, ProduceResponseData.PartitionProduceResponse result) {
        if (records == null) {
            return Future.succeededFuture(failed(result, Errors.CORRUPT_MESSAGE, "No records for " + tp));
        }
        List<RecordBatch> batches;
        try {
            batches = RecordBatches.split(records.buffer());
        } catch (MillraceException e) {
            return Future.succeededFuture(failed(result, KafkaErrors.of(e), e.getMessage()));
        }
        if (batches.size() != 1) {
            return Future.succeededFuture(failed(result, Errors.INVALID_RECORD, "A produce request must carry exactly"
                    + " one record batch per partition; " + tp + " has " + batches.size()));
        }
        return call(() -> broker.produce(tp, batches.get(0), acks, LeaderEpoch.UNKNOWN))
                .map(r -> result.setBaseOffset(r.baseOffset()).setLogAppendTimeMs(r.logAppendTime().orElse(-1))
                        .setLogStartOffset(r.logStartOffset()))
                .recover(e -> Future.succeededFuture(failed(result, KafkaErrors.of(e), KafkaErrors.message(e))));
    }

    private static ProduceResponseData.PartitionProduceResponse failed(
            ProduceResponseData.PartitionProduceResponse result, Errors error, String message) {
        return result.setErrorCode(error.code()).setErrorMessage(message).setBaseOffset(-1);
    }

    // ---------------------------------------------------------------- Fetch

    /** One partition of a fetch: where to read, and, once read, its answer. */
    private static final class PartitionRead {
        final TopicPartition tp;
        final FetchRequestData.FetchPartition request;
        final FetchResponseData.PartitionData answer;
        /** What was read: whole committed batches (segment region or memory); null before the read or on error. */
        FetchResult result;

        PartitionRead(TopicPartition tp, FetchRequestData.FetchPartition request,
                      FetchResponseData.PartitionData answer) {
            this.tp = tp;
            this.request = request;
            this.answer = answer;
        }

        int bytes() {
            return result == null ? 0 : result.records().sizeInBytes();
        }

        boolean waitsForData() {
            return answer.errorCode() == Errors.NONE.code() && bytes() == 0;
        }
    }

    /**
     * Reads every partition at once without waiting; if that brought fewer than {@code minBytes} and the client
     * allows a wait, long-polls the partitions that had nothing for the rest of {@code maxWaitMs} (each partition
     * answers as soon as it has a committed batch), and answers when the first of them brings data or all have run
     * out. Partitions then go into the response in request order while they fit in {@code maxBytes}; the first with
     * data always does, as in Kafka. The records are the batches the broker returned, which the connection sends as
     * they are (segment regions from their files); a partition whose segment changed since the read (retention
     * deleted it) is answered without records, so the client reads it again. No fetch sessions: the answer's session
     * id is 0, so clients send full fetches.
     */
    Future<FetchResponseData> fetch(FetchRequestData request) {
        List<PartitionRead> reads = new ArrayList<>();
        FetchResponseData response = new FetchResponseData().setErrorCode(Errors.NONE.code()).setSessionId(0);
        for (FetchRequestData.FetchTopic topic : request.topics()) {
            FetchResponseData.FetchableTopicResponse answer = new FetchResponseData.FetchableTopicResponse()
                    .setTopic(topic.topic()).setTopicId(topic.topicId());
            response.responses().add(answer);
            for (FetchRequestData.FetchPartition partition : topic.partitions()) {
                FetchResponseData.PartitionData data = new FetchResponseData.PartitionData()
                        .setPartitionIndex(partition.partition());
                answer.partitions().add(data);
                reads.add(new PartitionRead(new TopicPartition(topic.topic(), partition.partition()), partition,
                        data));
            }
        }
        long deadline = System.nanoTime() + request.maxWaitMs() * 1_000_000L;
        return readAll(reads, request.maxBytes(), 0, false).compose(v -> {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            List<PartitionRead> empty = reads.stream().filter(PartitionRead::waitsForData).toList();
            if (bytes(reads) >= request.minBytes() || left <= 0 || empty.isEmpty()) {
                return Future.succeededFuture();
            }
            return readAll(empty, request.maxBytes(), left, true);
        }).map(v -> {
            long total = 0;
            for (PartitionRead read : reads) {
                int size = read.bytes();
                boolean include = size > 0 && (total == 0 || total + size <= request.maxBytes())
                        && read.result.records().isStillValid(size);
                total += include ? size : 0;
                read.answer.setRecords(include ? new BrokerRecords(read.result.records()) : MemoryRecords.EMPTY);
            }
            return response;
        });
    }

    private static long bytes(List<PartitionRead> reads) {
        return reads.stream().mapToLong(PartitionRead::bytes).sum();
    }

    /**
     * Fetches {@code reads} with up to {@code waitMs} of waiting each; completes when all have answered, or, with
     * {@code firstData}, as soon as one brings records. A poll still waiting then runs out in its partition and its
     * answer is dropped.
     */
    private Future<Void> readAll(List<PartitionRead> reads, int maxBytes, long waitMs, boolean firstData) {
        Promise<Void> done = Promise.promise();
        int[] waiting = {reads.size()};
        for (PartitionRead read : reads) {
            int partitionMaxBytes = Math.max(1, Math.min(read.request.partitionMaxBytes(), maxBytes));
            call(() -> broker.fetch(read.tp, read.request.fetchOffset(), partitionMaxBytes, waitMs,
                    read.request.currentLeaderEpoch())).onComplete(result -> {
                        if (done.future().isComplete()) {
                            return;
                        }
                        record(read, result.succeeded() ? result.result() : null, result.cause());
                        waiting[0]--;
                        if (waiting[0] == 0 || firstData && !read.waitsForData()) {
                            done.tryComplete();
                        }
                    });
        }
        if (reads.isEmpty()) {
            done.tryComplete();
        }
        return done.future();
    }

    private static void record(PartitionRead read, FetchResult result, Throwable failure) {
        read.result = result;
        if (failure != null) {
            read.answer.setErrorCode(KafkaErrors.of(failure).code()).setHighWatermark(-1).setLastStableOffset(-1)
                    .setLogStartOffset(-1);
            return;
        }
        // No transactions, so the last stable offset is the high watermark.
        read.answer.setErrorCode(Errors.NONE.code()).setHighWatermark(result.highWatermark())
                .setLastStableOffset(result.highWatermark()).setLogStartOffset(result.logStartOffset());
    }

    // ---------------------------------------------------------------- ListOffsets

    /**
     * Earliest (-2, and -4, the earliest local offset, the same here without tiered storage), latest (-1, the high
     * watermark) and by timestamp. Max timestamp (-3) and the tiered-storage specs are answered UNSUPPORTED_VERSION
     * per partition.
     */
    Future<ListOffsetsResponseData> listOffsets(ListOffsetsRequestData request) {
        ListOffsetsResponseData response = new ListOffsetsResponseData();
        List<Future<?>> results = new ArrayList<>();
        for (ListOffsetsRequestData.ListOffsetsTopic topic : request.topics()) {
            ListOffsetsResponseData.ListOffsetsTopicResponse answer =
                    new ListOffsetsResponseData.ListOffsetsTopicResponse().setName(topic.name());
            response.topics().add(answer);
            for (ListOffsetsRequestData.ListOffsetsPartition partition : topic.partitions()) {
                ListOffsetsResponseData.ListOffsetsPartitionResponse result =
                        new ListOffsetsResponseData.ListOffsetsPartitionResponse()
                                .setPartitionIndex(partition.partitionIndex()).setOffset(-1).setTimestamp(-1);
                answer.partitions().add(result);
                results.add(listOffset(new TopicPartition(topic.name(), partition.partitionIndex()), partition,
                        result));
            }
        }
        return Future.all(results).map(all -> response);
    }

    private Future<ListOffsetsResponseData.ListOffsetsPartitionResponse> listOffset(
            TopicPartition tp, ListOffsetsRequestData.ListOffsetsPartition partition,
            ListOffsetsResponseData.ListOffsetsPartitionResponse result) {
        long timestamp = partition.timestamp();
        OffsetSpec spec;
        if (timestamp == ListOffsetsRequest.EARLIEST_TIMESTAMP
                || timestamp == ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP) {
            spec = OffsetSpec.EARLIEST;
        } else if (timestamp == ListOffsetsRequest.LATEST_TIMESTAMP) {
            spec = OffsetSpec.LATEST;
        } else if (timestamp >= 0) {
            spec = new OffsetSpec.AtTimestamp(timestamp);
        } else {
            return Future.succeededFuture(result.setErrorCode(Errors.UNSUPPORTED_VERSION.code()));
        }
        boolean byTime = timestamp >= 0;
        Future<ResolvedOffset> found = call(() -> broker.listOffset(tp, spec, partition.currentLeaderEpoch()));
        return found.map(r -> {
            if (!byTime) {
                return result.setOffset(r.offset());
            }
            // No record that recent: the broker says log end and timestamp -1, Kafka says offset -1.
            return r.timestamp() < 0 ? result : result.setOffset(r.offset()).setTimestamp(r.timestamp());
        }).recover(e -> Future.succeededFuture(result.setErrorCode(KafkaErrors.of(e).code())));
    }

    // ---------------------------------------------------------------- DeleteRecords

    /**
     * Moves each partition's log start offset to the offset asked for (-1: the high watermark) and answers the new
     * start as its low watermark. The leader answers once its own log moved; followers follow from their next fetch
     * (Kafka's leader waits for every replica, which only changes when a follower's copy goes too).
     */
    Future<DeleteRecordsResponseData> deleteRecords(DeleteRecordsRequestData request) {
        DeleteRecordsResponseData response = new DeleteRecordsResponseData();
        List<Future<?>> results = new ArrayList<>();
        for (DeleteRecordsRequestData.DeleteRecordsTopic topic : request.topics()) {
            DeleteRecordsResponseData.DeleteRecordsTopicResult answer =
                    new DeleteRecordsResponseData.DeleteRecordsTopicResult().setName(topic.name());
            response.topics().add(answer);
            for (DeleteRecordsRequestData.DeleteRecordsPartition partition : topic.partitions()) {
                DeleteRecordsResponseData.DeleteRecordsPartitionResult result =
                        new DeleteRecordsResponseData.DeleteRecordsPartitionResult()
                                .setPartitionIndex(partition.partitionIndex()).setLowWatermark(-1);
                answer.partitions().add(result);
                TopicPartition tp = new TopicPartition(topic.name(), partition.partitionIndex());
                results.add(call(() -> broker.deleteRecords(tp, partition.offset()))
                        .map(result::setLowWatermark)
                        .recover(e -> Future.succeededFuture(result.setErrorCode(KafkaErrors.of(e).code()))));
            }
        }
        return Future.all(results).map(all -> response);
    }

    // ---------------------------------------------------------------- OffsetForLeaderEpoch

    /**
     * Where each asked leader epoch ended in the partition leader's log, which a consumer compares with its position
     * after a leader change to detect truncation. Every request is answered as a client's (Millrace followers
     * replicate through their own fetch), so only the leader answers; an epoch the log does not know is -1 with end
     * offset -1, which the consumer treats as truncation and resolves with its offset reset policy.
     */
    Future<OffsetForLeaderEpochResponseData> offsetForLeaderEpoch(OffsetForLeaderEpochRequestData request) {
        OffsetForLeaderEpochResponseData response = new OffsetForLeaderEpochResponseData();
        List<Future<?>> results = new ArrayList<>();
        for (OffsetForLeaderEpochRequestData.OffsetForLeaderTopic topic : request.topics()) {
            OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult answer =
                    new OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult().setTopic(topic.topic());
            response.topics().add(answer);
            for (OffsetForLeaderEpochRequestData.OffsetForLeaderPartition partition : topic.partitions()) {
                OffsetForLeaderEpochResponseData.EpochEndOffset result =
                        new OffsetForLeaderEpochResponseData.EpochEndOffset().setPartition(partition.partition());
                answer.partitions().add(result);
                TopicPartition tp = new TopicPartition(topic.topic(), partition.partition());
                results.add(call(() -> broker.endOffsetForEpoch(tp, partition.leaderEpoch(),
                                partition.currentLeaderEpoch()))
                        .map(end -> result.setLeaderEpoch(end.epoch()).setEndOffset(end.endOffset()))
                        .recover(e -> Future.succeededFuture(result.setErrorCode(KafkaErrors.of(e).code()))));
            }
        }
        return Future.all(results).map(all -> response);
    }

    // ---------------------------------------------------------------- InitProducerId

    /** A new idempotent-producer id; transactional ids are refused, as transactions are not supported. */
    Future<InitProducerIdResponseData> initProducerId(InitProducerIdRequestData request) {
        if (request.transactionalId() != null) {
            return Future.succeededFuture(new InitProducerIdResponseData()
                    .setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setProducerId(-1).setProducerEpoch((short) -1));
        }
        return call(broker::initProducerId)
                .map(id -> new InitProducerIdResponseData().setProducerId(id.producerId())
                        .setProducerEpoch(id.epoch()))
                .recover(e -> Future.succeededFuture(new InitProducerIdResponseData()
                        .setErrorCode(KafkaErrors.of(e).code()).setProducerId(-1).setProducerEpoch((short) -1)));
    }

    /** A broker call that may also throw instead of failing its future. */
    static <T> Future<T> call(Supplier<Future<T>> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }
}
