package io.millrace.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The offsets a {@link ListOffsetsRequest} looked up, per partition.
 *
 * @param partitions one entry per partition of the request
 */
public record ListOffsetsResponse(List<PartitionOffset> partitions) implements Response {

    public ListOffsetsResponse {
        partitions = Require.list(partitions, "partitions");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_OFFSETS;
    }

    /**
     * One partition's answer.
     *
     * @param partition >= 0
     * @param error     why the lookup failed, or empty
     * @param offset    the offset found; empty on error or when no record has a timestamp at or after the one asked
     *                  for (-1 on the wire)
     * @param timestamp the timestamp of the record at {@code offset} for a timestamp query; empty for earliest and
     *                  latest queries and when {@code offset} is empty (-1 on the wire)
     */
    public record PartitionOffset(int partition, Optional<ApiError> error, OptionalLong offset,
                                  OptionalLong timestamp) {

        public PartitionOffset {
            Require.nonNegative(partition, "partition");
            Objects.requireNonNull(error, "error");
            Objects.requireNonNull(offset, "offset");
            offset.ifPresent(o -> Require.nonNegative(o, "offset"));
            Objects.requireNonNull(timestamp, "timestamp");
            timestamp.ifPresent(t -> Require.nonNegative(t, "timestamp"));
        }

        /** A failed lookup. */
        public static PartitionOffset failure(int partition, ApiError error) {
            return new PartitionOffset(partition, Optional.of(error), OptionalLong.empty(), OptionalLong.empty());
        }
    }

    void write(WireWriter w) {
        w.count(partitions.size());
        for (PartitionOffset p : partitions) {
            w.int32(p.partition());
            w.error(p.error());
            w.int64(p.offset().orElse(-1L));
            w.int64(p.timestamp().orElse(-1L));
        }
    }

    static ListOffsetsResponse read(WireReader r) {
        int n = r.count("partitions", 24);
        List<PartitionOffset> partitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            partitions.add(new PartitionOffset(r.int32("partition"), r.error("error"),
                    optional(r.int64("offset")), optional(r.int64("timestamp"))));
        }
        return new ListOffsetsResponse(partitions);
    }

    private static OptionalLong optional(long value) {
        return value == -1 ? OptionalLong.empty() : OptionalLong.of(value);
    }
}
