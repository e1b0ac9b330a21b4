package io.millrace.broker;

import java.util.List;

/**
 * A partition's reassignment in progress: where it came from and goes, and where it stands now.
 *
 * @param phase    the controller's step: {@code ADD} (new replicas about to be added), {@code CATCH_UP} (new replicas
 *                 copying the log; {@code adding} names those not in sync yet), {@code LEAD} (leadership moving to a
 *                 target replica), {@code DROP} (old replicas about to go), {@code DONE}
 * @param adding   target replicas not in the in-sync set yet
 * @param removing current replicas that are not in the target
 */
public record MoveProgress(String topic, int partition, List<Integer> original, List<Integer> target,
                           List<Integer> replicas, List<Integer> isr, int leader, String phase,
                           List<Integer> adding, List<Integer> removing) {

    public MoveProgress {
        original = List.copyOf(original);
        target = List.copyOf(target);
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
        adding = List.copyOf(adding);
        removing = List.copyOf(removing);
    }
}
