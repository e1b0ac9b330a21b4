package io.millrace.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's duties. Every broker runs one; only the broker holding the controller node in ZooKeeper (see
 * {@link MetadataStore#electController}) acts, and another takes over when it dies.
 *
 * <p>The controller keeps every partition led by a live in-sync replica. Whenever the live brokers, the partitions'
 * states or the controller itself change, it looks at every partition ({@link #decide}): a partition whose leader
 * died gets the first live in-sync replica (in replica order) as leader, with the leader epoch bumped so the old
 * leader is fenced; dead brokers leave in-sync sets at once (so {@code acks=all} learns quickly that too few
 * replicas are left); a partition with no live in-sync replica goes offline (leader -1) and comes back when one
 * returns, unless {@code unclean.leader.election.enable} lets any live replica lead (losing what it did not copy).
 * Every change is a conditional update of the partition's node, so it never overwrites a leader's concurrent in-sync
 * set change; a lost race simply shows up as another change and is looked at again.
 *
 * <p>Preferred leaders: every {@code leader.imbalance.check.interval.ms} (and on demand), leadership moves back to
 * each partition's first replica when it is alive and in sync, so leaders spread again after a broker returns.
 *
 * <p>Reassignments: a partition with a move in progress ({@link Reassignment}, stored next to its state) is taken
 * one step further at each pass that finds nothing to elect for it, so a controller that takes over mid-move resumes
 * it from ZooKeeper alone.
 *
 * <p>All state lives on this verticle's context; ZooKeeper events hop onto it.
 */
public final class ClusterController extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterController.class);

    private final int brokerId;
    private final MetadataStore store;
    private final boolean uncleanLeaderElection;
    private final boolean autoLeaderRebalance;
    private final long leaderImbalanceCheckMs;
    private final BrokerLiveness liveness;
    private final ControllerMetrics metrics;

    private boolean active;
    private boolean reconciling;
    private boolean reconcileAgain;
    private long rebalanceTimer = -1;
    private final AtomicBoolean passQueued = new AtomicBoolean();
    /** Written on this verticle's context only; volatile for {@link #partitionsExamined()}. */
    private volatile long partitionsExamined;

    /**
     * @param liveness which registered brokers are really up (ZooKeeper sessions, sharpened by faster signals)
     */
    public ClusterController(int brokerId, MetadataStore store, boolean uncleanLeaderElection,
                             boolean autoLeaderRebalance, long leaderImbalanceCheckMs, BrokerLiveness liveness,
                             ControllerMetrics metrics) {
        this.brokerId = brokerId;
        this.store = store;
        this.uncleanLeaderElection = uncleanLeaderElection;
        this.autoLeaderRebalance = autoLeaderRebalance;
        this.leaderImbalanceCheckMs = leaderImbalanceCheckMs;
        this.liveness = liveness;
        this.metrics = metrics;
    }

    /** Which brokers count as alive; whoever provides it calls {@link #changed} when the answer may change. */
    public interface BrokerLiveness {
        Set<Integer> liveBrokers();
    }

    /** What the controller counts, for /metrics. */
    public interface ControllerMetrics {
        void leaderElection(boolean unclean);

        void controllerChange(boolean active);

        ControllerMetrics NONE = new ControllerMetrics() {
            @Override
            public void leaderElection(boolean unclean) {
            }

            @Override
            public void controllerChange(boolean active) {
            }
        };
    }

    @Override
    public Future<?> start() {
        store.onControllerChange(id -> context.runOnContext(v -> controllerChanged(id)));
        Future<Void> topics = store.watchTopics(name -> changed());
        Future<Void> brokers = store.watchLiveBrokers(this::changed);
        if (autoLeaderRebalance) {
            rebalanceTimer = vertx.setPeriodic(leaderImbalanceCheckMs, id -> electPreferredLeaders());
        }
        return Future.all(topics, brokers).onSuccess(v -> context.runOnContext(x ->
                controllerChanged(store.cachedController())));
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(rebalanceTimer);
        active = false;
        return Future.succeededFuture();
    }

    /**
     * Something the controller decides on may have changed (any thread). Creating or deleting a topic of N partitions
     * fires N watch events; a pass that finds nothing to write ends at once, so one pass per event would read all N
     * partitions N times on this verticle's event loop. A change that arrives while a pass is already queued is left
     * to that pass, which reads the cache when it runs.
     */
    public void changed() {
        if (context != null && passQueued.compareAndSet(false, true)) {
            context.runOnContext(v -> {
                passQueued.set(false);
                scheduleReconcile();
            });
        }
    }

    public boolean isActive() {
        return active;
    }

    /** The brokers the controller counts as alive (registered, and not found dead by a faster signal). */
    public Set<Integer> liveBrokers() {
        return liveness.liveBrokers();
    }

    private void controllerChanged(int controllerId) {
        boolean nowActive = controllerId == brokerId;
        if (nowActive != active) {
            active = nowActive;
            metrics.controllerChange(nowActive);
            if (nowActive) {
                LOG.info("Broker {} is the controller: checking every partition's leader", brokerId);
            }
        }
        scheduleReconcile();
    }

    /** Runs one pass at a time; changes that arrive during a pass trigger one more pass after it. */
    private void scheduleReconcile() {
        if (!active) {
            return;
        }
        if (reconciling) {
            reconcileAgain = true;
            return;
        }
        reconciling = true;
        reconcile().onComplete(ar -> {
            reconciling = false;
            if (ar.failed()) {
                LOG.warn("Controller pass failed: {}", ar.cause().toString());
            }
            if (reconcileAgain) {
                reconcileAgain = false;
                scheduleReconcile();
            }
        });
    }

    /** How many partition states the controller's passes have looked at so far, all passes together (any thread). */
    long partitionsExamined() {
        return partitionsExamined;
    }

    private Future<Void> reconcile() {
        Set<Integer> live = liveness.liveBrokers();
        List<Future<?>> writes = new ArrayList<>();
        Map<TopicPartition, Reassignment> moves = new HashMap<>();
        for (Reassignment move : store.cachedReassignments()) {
            moves.put(new TopicPartition(move.topic(), move.partition()), move);
        }
        for (String name : store.cachedTopicNames()) {
            Optional<TopicMetadata> topic = store.cachedTopic(name);
            if (topic.isEmpty()) {
                continue;
            }
            partitionsExamined += topic.get().partitionCount();
            for (PartitionAssignment p : topic.get().partitions()) {
                if (p.version() < 0) {
                    continue;
                }
                Optional<PartitionAssignment> election = decide(p, live, uncleanLeaderElection);
                Reassignment move = moves.get(topic.get().topicPartition(p.partition()));
                if (election.isPresent()) {
                    writes.add(write(name, p, election.get()));
                } else if (move != null) {
                    writes.add(step(move, p, live));
                }
            }
        }
        return Future.join(writes).mapEmpty();
    }

    /**
     * Takes a partition's move one step further ({@link Reassignment#next}): the write lands, its watch event brings
     * the next pass, which takes the next step. A lost race (the leader changed the in-sync set meanwhile) is decided
     * again in that pass too.
     */
    private Future<?> step(Reassignment move, PartitionAssignment p, Set<Integer> live) {
        Reassignment.Step step = move.next(p, live);
        Future<Boolean> written = step.write().isEmpty() ? Future.succeededFuture(true)
                : store.updatePartition(move.topic(), step.write().get()).map(w -> {
                    w.ifPresent(next -> LOG.info("{}-{}: reassignment to {}: {} (replicas {} -> {}, leader {} -> {}, "
                                    + "epoch {})", move.topic(), p.partition(), move.target(), step.phase(),
                            p.replicas(), next.replicas(), p.leader(), next.leader(), next.leaderEpoch()));
                    if (w.isPresent() && w.get().leader() != p.leader()) {
                        metrics.leaderElection(false);
                    }
                    return w.isPresent();
                });
        return written.compose(ok -> ok && step.finished() ? store.deleteReassignment(move).onSuccess(deleted -> {
            if (deleted) {
                LOG.info("{}-{}: reassignment done, replicas {}", move.topic(), p.partition(), move.target());
            }
        }) : Future.succeededFuture(ok));
    }

    /**
     * What the controller changes about one partition, given the live brokers: pure, so it is tested on its own.
     */
    static Optional<PartitionAssignment> decide(PartitionAssignment p, Set<Integer> live, boolean unclean) {
        List<Integer> liveIsr = p.isr().stream().filter(live::contains).toList();
        if (p.hasLeader() && live.contains(p.leader())) {
            return liveIsr.size() < p.isr().size() ? Optional.of(p.withIsr(liveIsr)) : Optional.empty();
        }
        Optional<Integer> inSync = p.replicas().stream().filter(liveIsr::contains).findFirst();
        if (inSync.isPresent()) {
            return Optional.of(p.withLeader(inSync.get(), p.leaderEpoch() + 1, liveIsr));
        }
        if (unclean) {
            Optional<Integer> anyLive = p.replicas().stream().filter(live::contains).findFirst();
            if (anyLive.isPresent()) {
                return Optional.of(p.withLeader(anyLive.get(), p.leaderEpoch() + 1, List.of(anyLive.get())));
            }
        }
        if (p.hasLeader()) {
            // Offline: keep the in-sync set, so the first of them to come back leads with everything committed.
            return Optional.of(p.withLeader(PartitionAssignment.NO_LEADER, p.leaderEpoch() + 1, p.isr()));
        }
        return Optional.empty();
    }

    /** The preferred-leader move for one partition, if its first replica is alive, in sync and not leading. */
    static Optional<PartitionAssignment> preferred(PartitionAssignment p, Set<Integer> live) {
        if (p.replicas().isEmpty() || p.version() < 0) {
            return Optional.empty();
        }
        int preferred = p.replicas().get(0);
        if (p.leader() == preferred || !live.contains(preferred) || !p.isr().contains(preferred)) {
            return Optional.empty();
        }
        return Optional.of(p.withLeader(preferred, p.leaderEpoch() + 1, p.isr()));
    }

    /**
     * Moves leadership back to preferred replicas where possible; completes with the number of partitions moved.
     * On a broker that is not the controller it does nothing (0).
     */
    public Future<Integer> electPreferredLeaders() {
        Promise<Integer> done = Promise.promise();
        context.runOnContext(v -> {
            if (!active) {
                done.complete(0);
                return;
            }
            Set<Integer> live = liveness.liveBrokers();
            List<Future<Boolean>> moves = new ArrayList<>();
            for (String name : store.cachedTopicNames()) {
                store.cachedTopic(name).ifPresent(topic -> topic.partitions().forEach(p -> preferred(p, live)
                        .ifPresent(next -> moves.add(write(name, p, next)))));
            }
            Future.join(moves).onComplete(ar -> done.complete((int) moves.stream()
                    .filter(f -> f.succeeded() && f.result()).count()));
        });
        return done.future();
    }

    private Future<Boolean> write(String topic, PartitionAssignment before, PartitionAssignment next) {
        return store.updatePartition(topic, next).map(written -> {
            if (written.isEmpty()) {
                return false;
            }
            if (next.leader() != before.leader()) {
                boolean unclean = next.hasLeader() && !before.isr().contains(next.leader());
                if (next.hasLeader()) {
                    metrics.leaderElection(unclean);
                }
                LOG.info("{}-{}: leader {} -> {} in epoch {}, in sync {}{}", topic, next.partition(),
                        before.leader(), next.leader(), next.leaderEpoch(), next.isr(),
                        unclean ? " (unclean: records it did not copy are lost)" : "");
            } else {
                LOG.info("{}-{}: in-sync replicas {} -> {} (dead brokers removed)", topic, next.partition(),
                        before.isr(), next.isr());
            }
            return true;
        });
    }
}
