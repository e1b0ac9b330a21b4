package io.millrace.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.millrace.partition.PartitionStats;
import io.millrace.partition.PartitionVerticle;
import java.util.function.Supplier;

/**
 * Replication's own metrics at {@code /metrics}: {@code millrace_under_replicated_partitions} (partitions led here
 * with fewer in-sync replicas than replicas), {@code millrace_offline_partitions} (partitions without a leader, as
 * this broker's metadata shows them), {@code millrace_follower_lag_max_records} (the largest lag of a follower behind
 * a leader here), {@code millrace_isr_shrinks_total} and {@code _expands_total}, {@code
 * millrace_leader_elections_total} (by this broker as controller, tagged clean/unclean), {@code
 * millrace_controller_changes_total} and {@code millrace_controller_active} (1 on the controller). Thread-safe.
 */
public final class ReplicationMetrics implements ClusterController.ControllerMetrics {

    private final Counter isrShrinks;
    private final Counter isrExpands;
    private final Counter cleanElections;
    private final Counter uncleanElections;
    private final Counter controllerChanges;
    private volatile boolean controllerActive;

    public ReplicationMetrics(MeterRegistry registry, ReplicaManager replicas) {
        isrShrinks = Counter.builder("millrace.isr.shrinks").register(registry);
        isrExpands = Counter.builder("millrace.isr.expands").register(registry);
        cleanElections = Counter.builder("millrace.leader.elections").tag("kind", "clean").register(registry);
        uncleanElections = Counter.builder("millrace.leader.elections").tag("kind", "unclean").register(registry);
        controllerChanges = Counter.builder("millrace.controller.changes").register(registry);
        gauge(registry, "millrace.under.replicated.partitions", () -> replicas.localPartitions().stream()
                .map(PartitionVerticle::stats).filter(PartitionStats::underReplicated).count());
        gauge(registry, "millrace.offline.partitions", replicas::offlinePartitionCount);
        gauge(registry, "millrace.follower.lag.max.records", () -> replicas.localPartitions().stream()
                .mapToLong(p -> p.stats().maxFollowerLag()).max().orElse(0));
        gauge(registry, "millrace.controller.active", () -> controllerActive ? 1 : 0);
    }

    private static void gauge(MeterRegistry registry, String name, Supplier<Number> value) {
        Gauge.builder(name, value).register(registry);
    }

    /** A leader stored a new in-sync set of {@code after} replicas, having had {@code before}. */
    public void isrChanged(int before, int after) {
        if (after < before) {
            isrShrinks.increment();
        } else if (after > before) {
            isrExpands.increment();
        }
    }

    @Override
    public void leaderElection(boolean unclean) {
        (unclean ? uncleanElections : cleanElections).increment();
    }

    @Override
    public void controllerChange(boolean active) {
        controllerActive = active;
        controllerChanges.increment();
    }
}
