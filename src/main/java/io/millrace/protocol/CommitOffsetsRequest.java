package io.millrace.protocol;

import java.util.List;
import java.util.Objects;

/**
 * Commits offsets for a group, all or nothing. Answered by an empty {@link GroupAckResponse} once the commit is
 * durable, or ILLEGAL_GENERATION (stale generation), UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS.
 *
 * @param memberId   the member's id; "" with generation -1 for a consumer without membership (group must be empty)
 * @param generation the member's generation, or -1
 * @param offsets    not null
 */
public record CommitOffsetsRequest(String groupId, String memberId, int generation, List<PartitionOffset> offsets)
        implements Request {

    public CommitOffsetsRequest {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(memberId, "memberId");
        offsets = Require.list(offsets, "offsets");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.COMMIT_OFFSETS;
    }

    /**
     * One partition's offset: the next offset to read.
     *
     * @param metadata free text kept with the offset, not null
     */
    public record PartitionOffset(String topic, int partition, long offset, String metadata) {

        public PartitionOffset {
            Objects.requireNonNull(topic, "topic");
            Require.nonNegative(partition, "partition");
            Require.nonNegative(offset, "offset");
            Objects.requireNonNull(metadata, "metadata");
        }

        void write(WireWriter w) {
            w.string(topic);
            w.int32(partition);
            w.int64(offset);
            w.string(metadata);
        }

        static PartitionOffset read(WireReader r) {
            return new PartitionOffset(r.string("topic"), r.int32("partition"), r.int64("offset"),
                    r.string("metadata"));
        }

        static void writeAll(WireWriter w, List<PartitionOffset> all) {
            w.count(all.size());
            all.forEach(o -> o.write(w));
        }

        static List<PartitionOffset> readAll(WireReader r, String field) {
            int n = r.count(field, 16);
            List<PartitionOffset> out = new java.util.ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(read(r));
            }
            return out;
        }
    }

    void write(WireWriter w) {
        w.string(groupId);
        w.string(memberId);
        w.int32(generation);
        PartitionOffset.writeAll(w, offsets);
    }

    static CommitOffsetsRequest read(WireReader r) {
        return new CommitOffsetsRequest(r.string("groupId"), r.string("memberId"), r.int32("generation"),
                PartitionOffset.readAll(r, "offsets"));
    }
}
