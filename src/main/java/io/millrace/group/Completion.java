package io.millrace.group;

/**
 * Receives the outcome of an operation that finishes later: a join that waits for the rebalance, an offset commit that
 * waits for the durable append. Called exactly once.
 *
 * <p>Threading: the {@link GroupCoordinator} calls it on its owner thread, after the coordinator's state is
 * consistent again, so a completion may call back into the coordinator. An {@link OffsetStore} must call the
 * completions it is given on that same owner thread (a Vert.x host hops back onto the coordinator's context).
 *
 * @param <T> the value of a successful outcome ({@link Void} when there is none)
 */
@FunctionalInterface
public interface Completion<T> {

    void complete(GroupResult<T> result);
}
