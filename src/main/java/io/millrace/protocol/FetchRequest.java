package io.millrace.protocol;

import io.millrace.common.LeaderEpoch;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads committed record batches from partitions of one topic, waiting up to {@code maxWaitMs} until at least
 * {@code minBytes} are available.
 *
 * @param maxWaitMs  the longest the broker holds the request when fewer than {@code minBytes} are available; >= 0
 * @param minBytes   answer as soon as this many bytes are available over all partitions; >= 0 (0 answers at once)
 * @param maxBytes   the most batch bytes in the response over all partitions; >= 0. The first batch of the first
 *                   partition with data is returned even if larger, so a consumer always makes progress.
 * @param topic      not null
 * @param partitions not null
 */
public record FetchRequest(int maxWaitMs, int minBytes, int maxBytes, String topic, List<PartitionFetch> partitions)
        implements Request {

    public FetchRequest {
        Require.nonNegative(maxWaitMs, "maxWaitMs");
        Require.nonNegative(minBytes, "minBytes");
        Require.nonNegative(maxBytes, "maxBytes");
        Objects.requireNonNull(topic, "topic");
        partitions = Require.list(partitions, "partitions");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.FETCH;
    }

    /**
     * Where to read one partition.
     *
     * @param partition          >= 0
     * @param currentLeaderEpoch the partition's leader epoch as the client's metadata has it, or
     *                           {@link LeaderEpoch#UNKNOWN} (-1) for no check; on the wire from protocol version 4
     * @param offset             the first offset wanted, >= 0; the first batch returned may start before it
     * @param partitionMaxBytes  the most batch bytes for this partition, >= 0 (same first-batch exception)
     */
    public record PartitionFetch(int partition, int currentLeaderEpoch, long offset, int partitionMaxBytes) {

        /** A fetch without a leader epoch: the partition does not check it. */
        public PartitionFetch(int partition, long offset, int partitionMaxBytes) {
            this(partition, LeaderEpoch.UNKNOWN, offset, partitionMaxBytes);
        }

        public PartitionFetch {
            Require.nonNegative(partition, "partition");
            LeaderEpoch.requireValid(currentLeaderEpoch, "currentLeaderEpoch");
            Require.nonNegative(offset, "offset");
            Require.nonNegative(partitionMaxBytes, "partitionMaxBytes");
        }
    }

    void write(WireWriter w) {
        w.int32(maxWaitMs);
        w.int32(minBytes);
        w.int32(maxBytes);
        w.string(topic);
        w.count(partitions.size());
        for (PartitionFetch p : partitions) {
            w.int32(p.partition());
            w.leaderEpoch(p.currentLeaderEpoch());
            w.int64(p.offset());
            w.int32(p.partitionMaxBytes());
        }
    }

    static FetchRequest read(WireReader r) {
        int maxWaitMs = r.int32("maxWaitMs");
        int minBytes = r.int32("minBytes");
        int maxBytes = r.int32("maxBytes");
        String topic = r.string("topic");
        int n = r.count("partitions", 16);
        List<PartitionFetch> partitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            partitions.add(new PartitionFetch(r.int32("partition"), r.leaderEpoch("currentLeaderEpoch"),
                    r.int64("offset"), r.int32("partitionMaxBytes")));
        }
        return new FetchRequest(maxWaitMs, minBytes, maxBytes, topic, partitions);
    }
}
