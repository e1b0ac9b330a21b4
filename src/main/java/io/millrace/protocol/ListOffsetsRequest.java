package io.millrace.protocol;

import io.millrace.common.LeaderEpoch;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Looks up offsets by time in partitions of one topic: the earliest offset, the latest, or the first offset whose
 * record timestamp is at or after a given time.
 *
 * @param topic      not null
 * @param partitions not null
 */
public record ListOffsetsRequest(String topic, List<PartitionQuery> partitions) implements Request {

    /** The query timestamp asking for the log start offset. */
    public static final long EARLIEST_TIMESTAMP = -2L;
    /** The query timestamp asking for the high watermark: the offset the next committed record will get. */
    public static final long LATEST_TIMESTAMP = -1L;

    public ListOffsetsRequest {
        Objects.requireNonNull(topic, "topic");
        partitions = Require.list(partitions, "partitions");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_OFFSETS;
    }

    /**
     * One partition's query.
     *
     * @param partition          >= 0
     * @param currentLeaderEpoch the partition's leader epoch as the client's metadata has it, or
     *                           {@link LeaderEpoch#UNKNOWN} (-1) for no check; on the wire from protocol version 4
     * @param timestamp          {@link #EARLIEST_TIMESTAMP}, {@link #LATEST_TIMESTAMP}, or milliseconds since the
     *                           epoch (>= 0): the first offset whose timestamp is at or after it
     */
    public record PartitionQuery(int partition, int currentLeaderEpoch, long timestamp) {

        /** A query without a leader epoch: the partition does not check it. */
        public PartitionQuery(int partition, long timestamp) {
            this(partition, LeaderEpoch.UNKNOWN, timestamp);
        }

        public PartitionQuery {
            Require.nonNegative(partition, "partition");
            LeaderEpoch.requireValid(currentLeaderEpoch, "currentLeaderEpoch");
            if (timestamp < EARLIEST_TIMESTAMP) {
                throw new IllegalArgumentException("timestamp must be -2 (earliest), -1 (latest) or >= 0, was "
                        + timestamp);
            }
        }
    }

    void write(WireWriter w) {
        w.string(topic);
        w.count(partitions.size());
        for (PartitionQuery p : partitions) {
            w.int32(p.partition());
            w.leaderEpoch(p.currentLeaderEpoch());
            w.int64(p.timestamp());
        }
    }

    static ListOffsetsRequest read(WireReader r) {
        String topic = r.string("topic");
        int n = r.count("partitions", 12);
        List<PartitionQuery> partitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            partitions.add(new PartitionQuery(r.int32("partition"), r.leaderEpoch("currentLeaderEpoch"),
                    r.int64("timestamp")));
        }
        return new ListOffsetsRequest(topic, partitions);
    }
}
