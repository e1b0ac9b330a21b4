package io.millrace.protocol;

import io.millrace.common.LeaderEpoch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Appends record batches to partitions of one topic.
 *
 * @param acks       when the broker answers; with {@link Acks#NONE} it does not answer at all
 * @param timeoutMs  how long the broker may wait for replication with {@link Acks#ALL}; >= 0
 * @param topic      not null
 * @param partitions not null, no particular order; each carries its own batches
 */
public record ProduceRequest(Acks acks, int timeoutMs, String topic, List<PartitionData> partitions)
        implements Request {

    public ProduceRequest {
        Objects.requireNonNull(acks, "acks");
        Require.nonNegative(timeoutMs, "timeoutMs");
        Objects.requireNonNull(topic, "topic");
        partitions = Require.list(partitions, "partitions");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.PRODUCE;
    }

    /** False with {@link Acks#NONE}: the broker sends no response. */
    @Override
    public boolean expectsResponse() {
        return acks != Acks.NONE;
    }

    /**
     * How many replicas must have a batch before the broker answers, as the wire's {@code int8}.
     */
    public enum Acks {
        /** 0: the broker does not answer; the client learns of failures only by the connection closing. */
        NONE(0),
        /** 1: the leader has appended the batches. */
        LEADER(1),
        /** -1: every in-sync replica has the batches, and there are at least {@code min.insync.replicas}. */
        ALL(-1);

        private final byte code;

        Acks(int code) {
            this.code = (byte) code;
        }

        /** The value on the wire. */
        public byte code() {
            return code;
        }

        /** The acks with the given wire value. */
        public static Acks forCode(int code) {
            for (Acks a : values()) {
                if (a.code == code) {
                    return a;
                }
            }
            throw new IllegalArgumentException("acks must be 0, 1 or -1 (all), was " + code);
        }
    }

    /**
     * The batches for one partition.
     *
     * @param partition          >= 0
     * @param currentLeaderEpoch the partition's leader epoch as the client's metadata has it, or
     *                           {@link LeaderEpoch#UNKNOWN} (-1) for no check; on the wire from protocol version 4
     *                           (older connections send none: unknown). A replica in another epoch refuses the batches
     *                           without appending (FENCED_LEADER_EPOCH when this is older, NOT_LEADER when newer)
     * @param batches   one or more whole Kafka RecordBatch v2 batches back to back, from position to limit; sent as
     *                  they are. A decoded request holds a slice of the frame: the broker may assign offsets in
     *                  place. The accessor returns a duplicate, so reading it never moves this record's position.
     */
    public record PartitionData(int partition, int currentLeaderEpoch, ByteBuffer batches) {

        public PartitionData {
            Require.nonNegative(partition, "partition");
            LeaderEpoch.requireValid(currentLeaderEpoch, "currentLeaderEpoch");
            batches = Objects.requireNonNull(batches, "batches").slice();
        }

        /** Batches sent without a leader epoch: the partition does not check it. */
        public PartitionData(int partition, ByteBuffer batches) {
            this(partition, LeaderEpoch.UNKNOWN, batches);
        }

        @Override
        public ByteBuffer batches() {
            return batches.duplicate();
        }
    }

    void write(WireWriter w) {
        w.int8(acks.code());
        w.int32(timeoutMs);
        w.string(topic);
        w.count(partitions.size());
        for (PartitionData p : partitions) {
            w.int32(p.partition());
            w.leaderEpoch(p.currentLeaderEpoch());
            w.bytes(p.batches);
        }
    }

    static ProduceRequest read(WireReader r) {
        Acks acks = Acks.forCode(r.int8("acks"));
        int timeoutMs = r.int32("timeoutMs");
        String topic = r.string("topic");
        int n = r.count("partitions", 8);
        List<PartitionData> partitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            partitions.add(new PartitionData(r.int32("partition"), r.leaderEpoch("currentLeaderEpoch"),
                    r.bytes("batches")));
        }
        return new ProduceRequest(acks, timeoutMs, topic, partitions);
    }
}
