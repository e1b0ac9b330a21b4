package io.millrace.protocol;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Starts, redirects or cancels partition reassignments (protocol version 5; Kafka's AlterPartitionReassignments). A
 * partition with replicas moves to exactly those brokers, the first its preferred leader; one without (null on the
 * wire) has its move in progress cancelled, going back to its replicas before the move. Cancels are applied first.
 * The broker checks every move before it stores any; answered by an {@link AlterReassignmentsResponse}.
 *
 * @param partitions not null, each partition at most once
 */
public record AlterReassignmentsRequest(List<Move> partitions) implements Request {

    public AlterReassignmentsRequest {
        partitions = Require.list(partitions, "partitions");
    }

    /**
     * One partition's new replicas, or empty to cancel its move.
     *
     * @param topic     not null
     * @param partition >= 0
     * @param replicas  broker ids, each at most once; empty for a cancel
     */
    public record Move(String topic, int partition, Optional<List<Integer>> replicas) {

        public Move {
            Objects.requireNonNull(topic, "topic");
            Require.nonNegative(partition, "partition");
            replicas = replicas.map(List::copyOf);
        }
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.ALTER_REASSIGNMENTS;
    }

    void write(WireWriter w) {
        w.count(partitions.size());
        for (Move m : partitions) {
            w.string(m.topic);
            w.int32(m.partition);
            if (m.replicas.isPresent()) {
                w.int32Array(m.replicas.get());
            } else {
                w.count(-1);
            }
        }
    }

    static AlterReassignmentsRequest read(WireReader r) {
        int n = r.count("partitions", 10);
        List<Move> moves = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String topic = r.string("topic");
            int at = r.offset();
            int partition = r.int32("partition");
            if (partition < 0) {
                throw r.malformed(at, "partition", "is negative: " + partition);
            }
            moves.add(new Move(topic, partition, r.nullableInt32Array("replicas")));
        }
        return new AlterReassignmentsRequest(moves);
    }
}
