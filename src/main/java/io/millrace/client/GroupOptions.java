package io.millrace.client;

import io.millrace.common.TopicPartition;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * How a {@link io.millrace.client.Consumer} takes part in a consumer group. Immutable: {@code with} methods return
 * changed copies.
 *
 * @param strategy           "range", "roundrobin" or "cooperative-sticky" (every member of a group must agree)
 * @param sessionTimeout     the broker evicts the member after this long without a heartbeat
 * @param heartbeatInterval  how often the member heart-beats (well under the session timeout)
 * @param rebalanceTimeout   how long a rebalance waits for this member to rejoin
 * @param autoCommitInterval how often delivered positions are committed; {@link Duration#ZERO} for manual commits
 *                           only ({@link GroupRecord#commit()})
 * @param resetPolicy        where a partition without a committed offset starts
 * @param onAssigned         called with the partitions this member starts reading (after each rebalance)
 * @param onRevoked          called with the partitions it stops reading, before their positions are committed
 */
public record GroupOptions(String strategy, Duration sessionTimeout, Duration heartbeatInterval,
                           Duration rebalanceTimeout, Duration autoCommitInterval, ResetPolicy resetPolicy,
                           Consumer<Collection<TopicPartition>> onAssigned,
                           Consumer<Collection<TopicPartition>> onRevoked) {

    /** Where a partition without a committed offset starts. */
    public enum ResetPolicy {
        /** The oldest record still in the log. */
        EARLIEST,
        /** Only records produced after the member starts reading. */
        LATEST,
        /** Fail the stream with an error. */
        NONE
    }

    public GroupOptions {
        Objects.requireNonNull(strategy, "strategy");
        Objects.requireNonNull(sessionTimeout, "sessionTimeout");
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
        Objects.requireNonNull(rebalanceTimeout, "rebalanceTimeout");
        Objects.requireNonNull(autoCommitInterval, "autoCommitInterval");
        Objects.requireNonNull(resetPolicy, "resetPolicy");
        Objects.requireNonNull(onAssigned, "onAssigned");
        Objects.requireNonNull(onRevoked, "onRevoked");
    }

    /** Range assignment, 10 s sessions, 1 s heartbeats, 30 s rebalances, auto-commit every 1 s, earliest. */
    public static GroupOptions defaults() {
        return new GroupOptions("range", Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofSeconds(30),
                Duration.ofSeconds(1), ResetPolicy.EARLIEST, tps -> { }, tps -> { });
    }

    public GroupOptions withStrategy(String strategy) {
        return new GroupOptions(strategy, sessionTimeout, heartbeatInterval, rebalanceTimeout, autoCommitInterval,
                resetPolicy, onAssigned, onRevoked);
    }

    public GroupOptions withSessionTimeout(Duration sessionTimeout, Duration heartbeatInterval) {
        return new GroupOptions(strategy, sessionTimeout, heartbeatInterval, rebalanceTimeout, autoCommitInterval,
                resetPolicy, onAssigned, onRevoked);
    }

    public GroupOptions withRebalanceTimeout(Duration rebalanceTimeout) {
        return new GroupOptions(strategy, sessionTimeout, heartbeatInterval, rebalanceTimeout, autoCommitInterval,
                resetPolicy, onAssigned, onRevoked);
    }

    /** Auto-commit every {@code interval}; {@link Duration#ZERO} turns it off (manual commits). */
    public GroupOptions withAutoCommit(Duration interval) {
        return new GroupOptions(strategy, sessionTimeout, heartbeatInterval, rebalanceTimeout, interval,
                resetPolicy, onAssigned, onRevoked);
    }

    public GroupOptions withResetPolicy(ResetPolicy resetPolicy) {
        return new GroupOptions(strategy, sessionTimeout, heartbeatInterval, rebalanceTimeout, autoCommitInterval,
                resetPolicy, onAssigned, onRevoked);
    }

    /** Rebalance callbacks; they run on a client thread and must not block. */
    public GroupOptions withRebalanceListener(Consumer<Collection<TopicPartition>> onAssigned,
                                              Consumer<Collection<TopicPartition>> onRevoked) {
        return new GroupOptions(strategy, sessionTimeout, heartbeatInterval, rebalanceTimeout, autoCommitInterval,
                resetPolicy, onAssigned, onRevoked);
    }

    boolean autoCommit() {
        return !autoCommitInterval.isZero() && !autoCommitInterval.isNegative();
    }
}
