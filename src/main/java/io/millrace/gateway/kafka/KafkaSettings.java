package io.millrace.gateway.kafka;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;

/**
 * Limits of the Kafka listener (see docs/OPERATIONS.md). Checked when built, so a bad value stops the start-up with a
 * message naming its key.
 *
 * @param maxRequestBytes  largest size field of a Kafka request accepted ({@code socket.request.max.bytes})
 * @param autoCreateTopics whether Metadata creates the unknown topics a client asks for with
 *                         {@code allowAutoTopicCreation}, as Kafka does ({@code auto.create.topics.enable}): a Kafka
 *                         producer asks Metadata for its topic before it produces
 * @param maxInFlightProduceRequests most Produce requests of one connection the broker works on at once
 *                         ({@code kafka.max.inflight.produce.requests}): after a Produce the connection reads on while
 *                         fewer than this are unanswered, so a producer's pipelined requests (Kafka's
 *                         {@code max.in.flight.requests.per.connection}, 5 by default) overlap their appends and
 *                         replication instead of waiting in the socket
 */
public record KafkaSettings(int maxRequestBytes, boolean autoCreateTopics, int maxInFlightProduceRequests) {

    /** apiKey, apiVersion and correlationId: the least a request must hold to be answered at all. */
    static final int MIN_REQUEST_BYTES = 8;

    public KafkaSettings {
        if (maxRequestBytes < MIN_REQUEST_BYTES) {
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "Config key socket.request.max.bytes must be at"
                    + " least " + MIN_REQUEST_BYTES + ", was " + maxRequestBytes);
        }
        if (maxInFlightProduceRequests < 1) {
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "Config key kafka.max.inflight.produce.requests must"
                    + " be at least 1, was " + maxInFlightProduceRequests);
        }
    }
}
