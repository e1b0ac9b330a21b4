package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a member gets when its join completes: its id, the generation it now belongs to, and its partitions.
 * Immutable.
 *
 * @param generation  the generation to send with heartbeats and commits
 * @param memberId    the member's id (new members learn theirs here)
 * @param strategy    the group's strategy
 * @param assignment  topic → partitions this member reads in this generation
 * @param revoked     topic → partitions it owned in the previous generation and no longer owns. Under the
 *                    {@linkplain RebalanceProtocol#EAGER eager} protocol the member already gave them up before
 *                    rejoining, so this is informational; under the cooperative one it must stop reading them and
 *                    commit their offsets now
 * @param mustRejoin  true when some of the revoked partitions are withheld for another member until this member
 *                    confirms the revocation: it must commit, then join again (cooperative protocol only)
 */
public record JoinResult(int generation, String memberId, AssignmentStrategy strategy,
                         Map<String, List<Integer>> assignment, Map<String, List<Integer>> revoked,
                         boolean mustRejoin) {

    public JoinResult {
        Objects.requireNonNull(memberId, "memberId");
        Objects.requireNonNull(strategy, "strategy");
        assignment = Assignments.byTopic(Assignments.flatten(assignment));
        revoked = Assignments.byTopic(Assignments.flatten(revoked));
    }

    /** The assignment as a sorted set of partitions. */
    public Set<TopicPartition> partitions() {
        return Assignments.flatten(assignment);
    }

    /** The revoked partitions as a sorted set. */
    public Set<TopicPartition> revokedPartitions() {
        return Assignments.flatten(revoked);
    }
}
