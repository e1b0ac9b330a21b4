package io.millrace.protocol;

import java.util.List;
import java.util.Objects;

/**
 * A group's state, members and, per partition, committed offset, high watermark and lag.
 *
 * @param strategy null while the group has no members
 */
public record DescribeGroupResponse(String groupId, String state, int generation, String strategy,
                                    List<Member> members, List<PartitionLag> partitions) implements Response {

    public DescribeGroupResponse {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(state, "state");
        members = Require.list(members, "members");
        partitions = Require.list(partitions, "partitions");
    }

    /** A member: ids, where it connects from, what it subscribes to and reads. */
    public record Member(String memberId, String clientId, String host, List<String> topics,
                         List<TopicPartitions> assignment) {

        public Member {
            Objects.requireNonNull(memberId, "memberId");
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(host, "host");
            topics = Require.list(topics, "topics");
            assignment = Require.list(assignment, "assignment");
        }
    }

    /**
     * One partition's progress; -1 stands for "unknown" in committed, highWatermark and lag.
     *
     * @param owner the member reading it, or null
     */
    public record PartitionLag(String topic, int partition, String owner, long committed, long highWatermark,
                               long lag) {

        public PartitionLag {
            Objects.requireNonNull(topic, "topic");
            Require.nonNegative(partition, "partition");
        }
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.DESCRIBE_GROUP;
    }

    void write(WireWriter w) {
        w.string(groupId);
        w.string(state);
        w.int32(generation);
        w.nullableString(strategy);
        w.count(members.size());
        for (Member m : members) {
            w.string(m.memberId);
            w.string(m.clientId);
            w.string(m.host);
            w.stringArray(m.topics);
            TopicPartitions.writeAll(w, m.assignment);
        }
        w.count(partitions.size());
        for (PartitionLag p : partitions) {
            w.string(p.topic);
            w.int32(p.partition);
            w.nullableString(p.owner);
            w.int64(p.committed);
            w.int64(p.highWatermark);
            w.int64(p.lag);
        }
    }

    static DescribeGroupResponse read(WireReader r) {
        String groupId = r.string("groupId");
        String state = r.string("state");
        int generation = r.int32("generation");
        String strategy = r.nullableString("strategy");
        int n = r.count("members", 14);
        List<Member> members = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            members.add(new Member(r.string("memberId"), r.string("clientId"), r.string("host"),
                    r.stringArray("topics"), TopicPartitions.readAll(r, "assignment")));
        }
        int k = r.count("partitions", 32);
        List<PartitionLag> partitions = new java.util.ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            partitions.add(new PartitionLag(r.string("topic"), r.int32("partition"), r.nullableString("owner"),
                    r.int64("committed"), r.int64("highWatermark"), r.int64("lag")));
        }
        return new DescribeGroupResponse(groupId, state, generation, strategy, members, partitions);
    }
}
