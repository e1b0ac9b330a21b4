package io.millrace.partition;

import io.millrace.common.EpochEndOffset;
import io.millrace.common.TopicPartition;
import io.millrace.partition.PartitionRequest.ReplicaFetch;
import io.millrace.partition.PartitionResponse.ReplicaData;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Carries replication messages between brokers over the clustered event bus: {@link ReplicaFetch} requests and
 * {@link ReplicaData} answers, whose record batches travel as the bytes they are on disk (never re-encoded). Inside
 * one broker the objects pass by reference, as with {@link LocalCodec}.
 *
 * <p>Layout (big-endian): a type byte, then for a fetch: topic (u16 length + UTF-8), partition i32, replica i32,
 * leader epoch i32, fetch offset i64, last fetched epoch i32, max bytes i32, max wait i64, high watermark i64; for
 * data: leader epoch i32, high watermark i64, log start i64, log end i64, diverging flag i8 [+ epoch i32 + end offset
 * i64], records i32 length + bytes.
 */
public final class ReplicationCodec implements MessageCodec<Object, Object> {

    public static final String NAME = "millrace.replication";
    private static final byte FETCH = 1;
    private static final byte DATA = 2;

    @Override
    public void encodeToWire(Buffer buffer, Object o) {
        if (o instanceof ReplicaFetch f) {
            byte[] topic = f.topicPartition().topic().getBytes(StandardCharsets.UTF_8);
            buffer.appendByte(FETCH).appendUnsignedShort(topic.length).appendBytes(topic)
                    .appendInt(f.topicPartition().partition()).appendInt(f.replicaId()).appendInt(f.leaderEpoch())
                    .appendLong(f.fetchOffset()).appendInt(f.lastFetchedEpoch()).appendInt(f.maxBytes())
                    .appendLong(f.maxWaitMs()).appendLong(f.highWatermark());
        } else if (o instanceof ReplicaData d) {
            buffer.appendByte(DATA).appendInt(d.leaderEpoch()).appendLong(d.highWatermark())
                    .appendLong(d.logStartOffset()).appendLong(d.logEndOffset());
            if (d.divergingEpoch().isPresent()) {
                buffer.appendByte((byte) 1).appendInt(d.divergingEpoch().get().epoch())
                        .appendLong(d.divergingEpoch().get().endOffset());
            } else {
                buffer.appendByte((byte) 0);
            }
            buffer.appendInt(d.records().length()).appendBuffer(d.records());
        } else {
            throw new IllegalArgumentException(NAME + " cannot carry " + o.getClass().getName());
        }
    }

    @Override
    public Object decodeFromWire(int pos, Buffer buffer) {
        byte type = buffer.getByte(pos++);
        if (type == FETCH) {
            int topicLength = buffer.getUnsignedShort(pos);
            pos += 2;
            String topic = buffer.getString(pos, pos + topicLength, "UTF-8");
            pos += topicLength;
            return new ReplicaFetch(new TopicPartition(topic, buffer.getInt(pos)), buffer.getInt(pos + 4),
                    buffer.getInt(pos + 8), buffer.getLong(pos + 12), buffer.getInt(pos + 20), buffer.getInt(pos + 24),
                    buffer.getLong(pos + 28), buffer.getLong(pos + 36));
        }
        if (type == DATA) {
            int leaderEpoch = buffer.getInt(pos);
            long highWatermark = buffer.getLong(pos + 4);
            long logStart = buffer.getLong(pos + 12);
            long logEnd = buffer.getLong(pos + 20);
            pos += 28;
            Optional<EpochEndOffset> diverging = Optional.empty();
            if (buffer.getByte(pos++) == 1) {
                diverging = Optional.of(new EpochEndOffset(buffer.getInt(pos), buffer.getLong(pos + 4)));
                pos += 12;
            }
            int length = buffer.getInt(pos);
            pos += 4;
            return new ReplicaData(leaderEpoch, highWatermark, logStart, logEnd, buffer.getBuffer(pos, pos + length),
                    diverging);
        }
        throw new IllegalArgumentException(NAME + ": unknown message type " + type);
    }

    @Override
    public Object transform(Object o) {
        return o;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }
}
