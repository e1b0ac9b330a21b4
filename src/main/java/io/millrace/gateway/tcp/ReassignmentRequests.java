package io.millrace.gateway.tcp;

import io.millrace.broker.MoveProgress;
import io.millrace.broker.PartitionMove;
import io.millrace.broker.Reassignments;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.AlterReassignmentsRequest;
import io.millrace.protocol.AlterReassignmentsResponse;
import io.millrace.protocol.ListReassignmentsResponse;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/** The reassignment requests of protocol version 5: maps each to {@link Reassignments}. */
final class ReassignmentRequests {

    private ReassignmentRequests() {
    }

    /** Cancels first, then starts the moves; an empty cancel list cancels nothing (unlike the REST call). */
    static Future<AlterReassignmentsResponse> alter(Reassignments reassignments, AlterReassignmentsRequest request) {
        List<TopicPartition> cancels = new ArrayList<>();
        List<PartitionMove> moves = new ArrayList<>();
        for (AlterReassignmentsRequest.Move m : request.partitions()) {
            if (m.replicas().isPresent()) {
                moves.add(new PartitionMove(m.topic(), m.partition(), m.replicas().get()));
            } else {
                cancels.add(new TopicPartition(m.topic(), m.partition()));
            }
        }
        Future<Integer> cancelled = cancels.isEmpty() ? Future.succeededFuture(0) : reassignments.cancel(cancels);
        return cancelled.compose(n -> reassignments.reassign(moves).map(started -> new AlterReassignmentsResponse(
                started.stream().map(s -> new AlterReassignmentsResponse.Started(s.topic(), s.partition(),
                        s.replicas())).toList(), n)));
    }

    static Future<ListReassignmentsResponse> list(Reassignments reassignments) {
        return reassignments.reassignments().map(moves -> new ListReassignmentsResponse(moves.stream()
                .map(ReassignmentRequests::progress).toList()));
    }

    private static ListReassignmentsResponse.Reassignment progress(MoveProgress m) {
        return new ListReassignmentsResponse.Reassignment(m.topic(), m.partition(), m.original(), m.target(),
                m.replicas(), m.isr(), m.leader(), m.phase());
    }
}
