package io.millrace.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The outcome of a {@link ProduceRequest}, per partition.
 *
 * @param partitions one result per partition of the request
 */
public record ProduceResponse(List<PartitionResult> partitions) implements Response {

    public ProduceResponse {
        partitions = Require.list(partitions, "partitions");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.PRODUCE;
    }

    /**
     * One partition's outcome.
     *
     * @param partition      >= 0
     * @param error          why the batches were not appended, or empty on success
     * @param baseOffset     the offset of the first appended record; -1 on error
     * @param logAppendTime  the broker's append time if the topic uses log-append time, else empty (-1 on the wire)
     * @param logStartOffset the partition's log start offset after the append; -1 on error
     */
    public record PartitionResult(int partition, Optional<ApiError> error, long baseOffset,
                                  OptionalLong logAppendTime, long logStartOffset) {

        public PartitionResult {
            Require.nonNegative(partition, "partition");
            Objects.requireNonNull(error, "error");
            Objects.requireNonNull(logAppendTime, "logAppendTime");
            logAppendTime.ifPresent(t -> Require.nonNegative(t, "logAppendTime"));
        }

        /** A successful append. */
        public static PartitionResult success(int partition, long baseOffset, OptionalLong logAppendTime,
                long logStartOffset) {
            return new PartitionResult(partition, Optional.empty(), baseOffset, logAppendTime, logStartOffset);
        }

        /** A failed append. */
        public static PartitionResult failure(int partition, ApiError error) {
            return new PartitionResult(partition, Optional.of(error), -1L, OptionalLong.empty(), -1L);
        }
    }

    void write(WireWriter w) {
        w.count(partitions.size());
        for (PartitionResult p : partitions) {
            w.int32(p.partition());
            w.error(p.error());
            w.int64(p.baseOffset());
            w.int64(p.logAppendTime().orElse(-1L));
            w.int64(p.logStartOffset());
        }
    }

    static ProduceResponse read(WireReader r) {
        int n = r.count("partitions", 32);
        List<PartitionResult> partitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int partition = r.int32("partition");
            Optional<ApiError> error = r.error("error");
            long baseOffset = r.int64("baseOffset");
            long logAppendTime = r.int64("logAppendTime");
            partitions.add(new PartitionResult(partition, error, baseOffset,
                    logAppendTime == -1 ? OptionalLong.empty() : OptionalLong.of(logAppendTime),
                    r.int64("logStartOffset")));
        }
        return new ProduceResponse(partitions);
    }
}
