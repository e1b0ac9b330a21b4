package io.millrace.partition;

import io.millrace.common.TopicPartition;
import io.vertx.core.Future;
import java.util.Optional;

/**
 * Where a leader records a change of its in-sync set: the cluster's metadata store, with a conditional update on
 * {@code next.version()}. Completes with the stored state and its new version, or empty when the state changed
 * meanwhile (a controller moved leadership or changed the set): the leader then waits for the new state.
 */
@FunctionalInterface
public interface IsrWriter {

    Future<Optional<ReplicaAssignment>> write(TopicPartition tp, ReplicaAssignment next);
}
