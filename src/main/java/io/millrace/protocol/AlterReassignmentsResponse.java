package io.millrace.protocol;

import java.util.List;

/**
 * What an {@link AlterReassignmentsRequest} did: the moves it started or redirected (a partition already on its
 * target replicas is left out), and how many moves it cancelled.
 *
 * @param started   not null
 * @param cancelled >= 0
 */
public record AlterReassignmentsResponse(List<Started> started, int cancelled) implements Response {

    public AlterReassignmentsResponse {
        started = Require.list(started, "started");
        Require.nonNegative(cancelled, "cancelled");
    }

    /** A move now in progress: {@code partition} of {@code topic} is going to {@code replicas}. */
    public record Started(String topic, int partition, List<Integer> replicas) {

        public Started {
            java.util.Objects.requireNonNull(topic, "topic");
            replicas = List.copyOf(replicas);
        }
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.ALTER_REASSIGNMENTS;
    }

    void write(WireWriter w) {
        w.count(started.size());
        for (Started s : started) {
            w.string(s.topic);
            w.int32(s.partition);
            w.int32Array(s.replicas);
        }
        w.int32(cancelled);
    }

    static AlterReassignmentsResponse read(WireReader r) {
        int n = r.count("started", 10);
        List<Started> started = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            started.add(new Started(r.string("topic"), r.int32("partition"), r.int32Array("replicas")));
        }
        int at = r.offset();
        int cancelled = r.int32("cancelled");
        if (cancelled < 0) {
            throw r.malformed(at, "cancelled", "is negative: " + cancelled);
        }
        return new AlterReassignmentsResponse(started, cancelled);
    }
}
