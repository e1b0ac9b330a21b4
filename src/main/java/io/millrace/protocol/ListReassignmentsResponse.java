package io.millrace.protocol;

import java.util.List;
import java.util.Objects;

/** The partition reassignments in progress, by topic and partition. */
public record ListReassignmentsResponse(List<Reassignment> reassignments) implements Response {

    public ListReassignmentsResponse {
        reassignments = Require.list(reassignments, "reassignments");
    }

    /**
     * One partition's move.
     *
     * @param original the replicas when the move began (where a cancel takes it back)
     * @param target   where it goes
     * @param replicas its replicas now (target and original together while it moves)
     * @param isr      its in-sync replicas now
     * @param leader   its leader now, -1 none
     * @param phase    ADD, CATCH_UP, LEAD, DROP or DONE (see docs/ARCHITECTURE.md)
     */
    public record Reassignment(String topic, int partition, List<Integer> original, List<Integer> target,
                               List<Integer> replicas, List<Integer> isr, int leader, String phase) {

        public Reassignment {
            Objects.requireNonNull(topic, "topic");
            original = List.copyOf(original);
            target = List.copyOf(target);
            replicas = List.copyOf(replicas);
            isr = List.copyOf(isr);
            Objects.requireNonNull(phase, "phase");
        }
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.LIST_REASSIGNMENTS;
    }

    void write(WireWriter w) {
        w.count(reassignments.size());
        for (Reassignment m : reassignments) {
            w.string(m.topic);
            w.int32(m.partition);
            w.int32Array(m.original);
            w.int32Array(m.target);
            w.int32Array(m.replicas);
            w.int32Array(m.isr);
            w.int32(m.leader);
            w.string(m.phase);
        }
    }

    static ListReassignmentsResponse read(WireReader r) {
        int n = r.count("reassignments", 26);
        List<Reassignment> out = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Reassignment(r.string("topic"), r.int32("partition"), r.int32Array("original"),
                    r.int32Array("target"), r.int32Array("replicas"), r.int32Array("isr"), r.int32("leader"),
                    r.string("phase")));
        }
        return new ListReassignmentsResponse(out);
    }
}
