package io.millrace.gateway.tcp;

import io.millrace.broker.BrokerDescription;
import io.millrace.broker.PartitionDescription;
import io.millrace.common.Acks;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.OffsetSpec;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.ApiKey;
import io.millrace.protocol.ListOffsetsRequest;
import io.millrace.protocol.MetadataResponse;
import io.millrace.protocol.ProduceRequest;
import io.millrace.protocol.SubscribeRequest;
import io.millrace.protocol.TopicDescription;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Translations between the broker API's types and the native protocol's messages. Stateless. */
final class ProtocolMapping {

    private static final Logger LOG = LoggerFactory.getLogger(ProtocolMapping.class);

    /** Metric names per operation, in the WebSocket gateway's style: "tcp.produce", "tcp.listOffsets", ... */
    private static final Map<ApiKey, String> OPERATIONS = new EnumMap<>(ApiKey.class);

    static {
        for (ApiKey key : ApiKey.values()) {
            StringBuilder name = new StringBuilder("tcp.");
            boolean upper = false;
            for (char c : key.name().toLowerCase(Locale.ROOT).toCharArray()) {
                if (c == '_') {
                    upper = true;
                } else {
                    name.append(upper ? Character.toUpperCase(c) : c);
                    upper = false;
                }
            }
            OPERATIONS.put(key, name.toString());
        }
    }

    private ProtocolMapping() {
    }

    /** The latency metric's operation name for requests of {@code key}. */
    static String operation(ApiKey key) {
        return OPERATIONS.get(key);
    }

    /**
     * What a client is told about a failure: the code and message of a {@link MillraceException}, else
     * {@code UNKNOWN} (and a log line, since that is a bug or an unexpected condition on this broker).
     */
    static ApiError error(Throwable failure) {
        if (failure instanceof AnsweredError answered) {
            return answered.error();
        }
        if (failure instanceof MillraceException e) {
            return ApiError.of(e);
        }
        LOG.warn("Unexpected failure answering a TCP request", failure);
        return new ApiError(ErrorCode.UNKNOWN, "Unexpected failure on the broker: " + failure);
    }

    /** A failure whose answer is already worked out (for example with a leader hint attached). */
    static final class AnsweredError extends MillraceException {

        private final transient ApiError error;

        AnsweredError(ApiError error) {
            super(error.code(), error.message());
            this.error = error;
        }

        ApiError error() {
            return error;
        }
    }

    static Acks acks(ProduceRequest.Acks acks) {
        return switch (acks) {
            case NONE -> Acks.NONE;
            case LEADER -> Acks.LEADER;
            case ALL -> Acks.ALL;
        };
    }

    static OffsetSpec offsetSpec(SubscribeRequest.StartPosition start) {
        return switch (start.kind()) {
            case EARLIEST -> OffsetSpec.EARLIEST;
            case LATEST -> OffsetSpec.LATEST;
            case OFFSET -> new OffsetSpec.AtOffset(start.value());
            case TIMESTAMP -> new OffsetSpec.AtTimestamp(start.value());
        };
    }

    /** The LIST_OFFSETS query timestamp (-2 earliest, -1 latest, else a time) as an offset spec. */
    static OffsetSpec offsetSpec(long timestamp) {
        if (timestamp == ListOffsetsRequest.EARLIEST_TIMESTAMP) {
            return OffsetSpec.EARLIEST;
        }
        if (timestamp == ListOffsetsRequest.LATEST_TIMESTAMP) {
            return OffsetSpec.LATEST;
        }
        return new OffsetSpec.AtTimestamp(timestamp);
    }

    static TopicDescription topic(io.millrace.broker.TopicDescription topic) {
        return new TopicDescription(topic.name(), topic.replicationFactor(), topic.config(),
                topic.partitions().stream().map(p -> new TopicDescription.PartitionDescription(p.partition(),
                        brokerId(p.leader()), p.leaderEpoch(), p.replicas(), p.isr(), p.logStartOffset(),
                        p.logEndOffset(), p.highWatermark(), p.sizeBytes())).toList());
    }

    static MetadataResponse.TopicMetadata topicMetadata(io.millrace.broker.TopicDescription topic) {
        List<MetadataResponse.PartitionMetadata> partitions = topic.partitions().stream()
                .map(ProtocolMapping::partitionMetadata).toList();
        return new MetadataResponse.TopicMetadata(topic.name(), Optional.empty(), partitions);
    }

    static MetadataResponse.TopicMetadata topicMetadataFailure(String name, Throwable failure) {
        return new MetadataResponse.TopicMetadata(name, Optional.of(error(failure)), List.of());
    }

    static MetadataResponse.Broker broker(BrokerDescription broker) {
        return new MetadataResponse.Broker(broker.id(), broker.host(), portOrNone(broker.tcpPort()),
                portOrNone(broker.httpPort()));
    }

    private static MetadataResponse.PartitionMetadata partitionMetadata(PartitionDescription p) {
        return new MetadataResponse.PartitionMetadata(p.partition(), brokerId(p.leader()), p.leaderEpoch(),
                p.replicas(), p.isr());
    }

    /** The broker API's -1 for "no broker" as the protocol's empty id. */
    private static OptionalInt brokerId(int id) {
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    private static int portOrNone(int port) {
        return port > 0 ? port : -1;
    }
}
