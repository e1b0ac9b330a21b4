package io.millrace.protocol;

import java.util.List;
import java.util.Objects;

/**
 * Partitions of one topic, as group messages carry assignments: {@code topic string, partitions int32[]}.
 *
 * @param topic      not null
 * @param partitions not null, each >= 0
 */
public record TopicPartitions(String topic, List<Integer> partitions) {

    public TopicPartitions {
        Objects.requireNonNull(topic, "topic");
        partitions = Require.list(partitions, "partitions");
        partitions.forEach(p -> Require.nonNegative(p, "partition"));
    }

    static void writeAll(WireWriter w, List<TopicPartitions> all) {
        w.count(all.size());
        for (TopicPartitions t : all) {
            w.string(t.topic);
            w.int32Array(t.partitions);
        }
    }

    static List<TopicPartitions> readAll(WireReader r, String field) {
        int n = r.count(field, 6);
        List<TopicPartitions> out = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new TopicPartitions(r.string("topic"), r.int32Array("partitions")));
        }
        return out;
    }
}
