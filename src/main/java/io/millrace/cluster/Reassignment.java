package io.millrace.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A partition's move to other replicas, in progress. It lives in ZooKeeper next to the partition's state, in
 * {@code /millrace/topics/<name>/reassignments/<p>} as {@code {"version":1, "original":[...], "target":[...]}}, so a
 * controller that takes over mid-move resumes it from there; the node is deleted when the move is done.
 * {@code original} is the replica list when the move began (a cancel moves back to it); {@code target} is where the
 * partition goes, its first replica the preferred leader. {@code version} is the node's ZooKeeper version (-1 when not
 * read from ZooKeeper).
 *
 * <p>The controller drives a move through these steps, one conditional write of the partition's state per step, each
 * decided from ZooKeeper alone by {@link #next} (Kafka's reassignment, with its replica sets: RS the current
 * replicas, TRS the target, ORS the original; adding = TRS - ORS, removing = ORS - TRS):
 * <pre>
 *  state                                   condition                         write (same leader epoch unless noted)
 *  ADD       RS lacks a target replica     -                                 RS := TRS + (RS - TRS); ISR unchanged
 *  CATCH UP  RS ⊇ TRS                      some target replica not in ISR    nothing: the added replicas fetch; the
 *                                                                            leader adds each to the ISR once caught up
 *  LEAD      TRS ⊆ ISR                     leader ∉ TRS, or TRS[0] could     leader := TRS[0] (or the first live
 *                                          lead and does not                 in-sync target replica), epoch + 1
 *  DROP      TRS ⊆ ISR, leader ok          RS ≠ TRS                          RS := TRS, ISR := ISR ∩ TRS; then the
 *                                                                            node is deleted
 *  DONE      RS = TRS                      -                                 the node is deleted
 * </pre>
 * A replica dropped from RS stops on its broker, which deletes its log. While the partition has no leader nothing
 * moves (the controller elects one first). A cancel rewrites the node with {@code target := original}: the same steps
 * then take the partition back, dropping the replicas that were being added. Immutable.
 */
public record Reassignment(String topic, int partition, List<Integer> original, List<Integer> target, int version) {

    public Reassignment {
        original = List.copyOf(original);
        target = List.copyOf(target);
    }

    /** Which step a partition is at. */
    public enum Phase { ADD, CATCH_UP, LEAD, DROP, DONE }

    /** What the controller does next: write {@code state} (if present); {@code finished} deletes the node after it. */
    public record Step(Phase phase, Optional<PartitionAssignment> write, boolean finished) {
    }

    /** The move back to where the partition was: what a cancel stores. */
    public Reassignment cancelled() {
        return new Reassignment(topic, partition, original, original, version);
    }

    /** The replicas being added (in the target, not in the original), in target order. */
    public List<Integer> adding() {
        return target.stream().filter(b -> !original.contains(b)).toList();
    }

    /** The replicas being removed (in the original, not in the target). */
    public List<Integer> removing() {
        return original.stream().filter(b -> !target.contains(b)).toList();
    }

    /** Where {@code p} stands in this move, given the live brokers. */
    public Phase phase(PartitionAssignment p, Set<Integer> live) {
        if (p.replicas().equals(target)) {
            return Phase.DONE;
        }
        if (!p.replicas().containsAll(target)) {
            return Phase.ADD;
        }
        if (!p.isr().containsAll(target)) {
            return Phase.CATCH_UP;
        }
        return p.hasLeader() && p.leader() == leaderFor(p, live) ? Phase.DROP : Phase.LEAD;
    }

    /**
     * The next step for partition state {@code p} given the live brokers. Pure: the controller's state machine, tested
     * on its own. Nothing moves while the partition has no leader or its state node is not read yet.
     */
    public Step next(PartitionAssignment p, Set<Integer> live) {
        Phase phase = phase(p, live);
        if (phase == Phase.DONE) {
            return new Step(phase, Optional.empty(), true);
        }
        if (p.version() < 0 || !p.hasLeader()) {
            return new Step(phase, Optional.empty(), false);
        }
        return switch (phase) {
            case ADD -> {
                List<Integer> replicas = new ArrayList<>(target);
                p.replicas().stream().filter(b -> !target.contains(b)).forEach(replicas::add);
                yield new Step(phase, Optional.of(p.withReplicas(replicas, p.isr())), false);
            }
            case CATCH_UP -> new Step(phase, Optional.empty(), false);
            case LEAD -> {
                int leader = leaderFor(p, live);
                yield leader < 0 || leader == p.leader() ? new Step(phase, Optional.empty(), false)
                        : new Step(phase, Optional.of(p.withLeader(leader, p.leaderEpoch() + 1, p.isr())), false);
            }
            case DROP -> {
                List<Integer> isr = target.stream().filter(p.isr()::contains).toList();
                yield new Step(phase, Optional.of(p.withReplicas(target, isr)), true);
            }
            case DONE -> throw new IllegalStateException("handled above");
        };
    }

    /**
     * The leader the partition should have before the old replicas go: the target's first replica when it is alive
     * and in sync, else the current leader if it is a target replica, else the first live in-sync target replica;
     * -1 when none can lead.
     */
    private int leaderFor(PartitionAssignment p, Set<Integer> live) {
        int preferred = target.get(0);
        if (live.contains(preferred) && p.isr().contains(preferred)) {
            return preferred;
        }
        if (p.hasLeader() && target.contains(p.leader())) {
            return p.leader();
        }
        return target.stream().filter(b -> live.contains(b) && p.isr().contains(b)).findFirst().orElse(-1);
    }

    /** Whether {@code replicas} is usable as a target: non-empty and without repeats. */
    static boolean distinct(List<Integer> replicas) {
        return !replicas.isEmpty() && new LinkedHashSet<>(replicas).size() == replicas.size();
    }

    JsonObject toJson() {
        return new JsonObject().put("version", 1).put("original", new JsonArray(original))
                .put("target", new JsonArray(target));
    }

    static Reassignment fromJson(String topic, int partition, JsonObject json, int version) {
        return new Reassignment(topic, partition, ints(json.getJsonArray("original")),
                ints(json.getJsonArray("target")), version);
    }

    private static List<Integer> ints(JsonArray array) {
        return array.stream().map(o -> ((Number) o).intValue()).toList();
    }
}
