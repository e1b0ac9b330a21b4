package io.millrace.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The controller's reassignment state machine, one step at a time, from what ZooKeeper holds. */
class ReassignmentTest {

    private static final Set<Integer> ALL = Set.of(1, 2, 3, 4);
    /** Partition 0 on 1,2,3 led by 1 moves to 4,2,3: 4 is added, leads, and 1 goes. */
    private static final Reassignment MOVE = new Reassignment("t", 0, List.of(1, 2, 3), List.of(4, 2, 3), 5);

    private static PartitionAssignment state(List<Integer> replicas, int leader, int epoch, List<Integer> isr) {
        return new PartitionAssignment(0, replicas, leader, epoch, isr, 9);
    }

    @Test
    void aMoveRunsAddCatchUpLeadDropInThatOrderAndEndsOnTheTarget() {
        PartitionAssignment p = state(List.of(1, 2, 3), 1, 3, List.of(1, 2, 3));

        Reassignment.Step add = MOVE.next(p, ALL);
        assertThat(add.phase()).isEqualTo(Reassignment.Phase.ADD);
        p = add.write().orElseThrow();
        assertThat(p.replicas()).as("target first, then the replicas leaving").containsExactly(4, 2, 3, 1);
        assertThat(p.isr()).containsExactly(1, 2, 3);
        assertThat(p.leader()).isEqualTo(1);
        assertThat(p.leaderEpoch()).as("no leader change for clients to follow").isEqualTo(3);
        assertThat(p.version()).as("conditional on the version read").isEqualTo(9);
        assertThat(add.finished()).isFalse();

        Reassignment.Step wait = MOVE.next(p, ALL);
        assertThat(wait.phase()).isEqualTo(Reassignment.Phase.CATCH_UP);
        assertThat(wait.write()).as("the leader adds 4 to the ISR once it has caught up").isEmpty();

        p = p.withIsr(List.of(4, 2, 3, 1));
        Reassignment.Step lead = MOVE.next(p, ALL);
        assertThat(lead.phase()).isEqualTo(Reassignment.Phase.LEAD);
        p = lead.write().orElseThrow();
        assertThat(p.leader()).isEqualTo(4);
        assertThat(p.leaderEpoch()).as("a new leader fences the old one").isEqualTo(4);

        Reassignment.Step drop = MOVE.next(p, ALL);
        assertThat(drop.phase()).isEqualTo(Reassignment.Phase.DROP);
        assertThat(drop.finished()).isTrue();
        p = drop.write().orElseThrow();
        assertThat(p.replicas()).containsExactly(4, 2, 3);
        assertThat(p.isr()).containsExactly(4, 2, 3);
        assertThat(p.leaderEpoch()).isEqualTo(4);

        Reassignment.Step done = MOVE.next(p, ALL);
        assertThat(done.phase()).isEqualTo(Reassignment.Phase.DONE);
        assertThat(done.write()).isEmpty();
        assertThat(done.finished()).as("a controller that died before deleting the node finishes it").isTrue();
    }

    @Test
    void aLeaderThatStaysInTheTargetKeepsLeadingWhenTheTargetsFirstCannotLead() {
        Reassignment move = new Reassignment("t", 0, List.of(1, 2), List.of(3, 1), 0);
        PartitionAssignment p = state(List.of(3, 1, 2), 1, 2, List.of(1, 2, 3));
        assertThat(move.next(p, Set.of(1, 2)).phase()).as("3 is dead: 1 keeps leading")
                .isEqualTo(Reassignment.Phase.DROP);
        assertThat(move.next(p, Set.of(1, 2, 3)).write().orElseThrow().leader())
                .as("3 alive and in sync: the preferred leader takes over first").isEqualTo(3);
    }

    @Test
    void nothingMovesWithoutALeaderOrBeforeTheStateIsRead() {
        PartitionAssignment offline = state(List.of(1, 2, 3), PartitionAssignment.NO_LEADER, 3, List.of(1));
        assertThat(MOVE.next(offline, ALL).write()).isEmpty();
        PartitionAssignment unread = new PartitionAssignment(0, List.of(1, 2, 3), 1, 3, List.of(1), -1);
        assertThat(MOVE.next(unread, ALL).write()).isEmpty();
    }

    @Test
    void noTargetReplicaCanLeadSoTheMoveWaits() {
        Reassignment move = new Reassignment("t", 0, List.of(1), List.of(2), 0);
        PartitionAssignment p = state(List.of(2, 1), 1, 1, List.of(1, 2));
        Reassignment.Step step = move.next(p, Set.of(1));
        assertThat(step.phase()).isEqualTo(Reassignment.Phase.LEAD);
        assertThat(step.write()).as("2 is in the ISR but dead").isEmpty();
    }

    @Test
    void aCancelTakesThePartitionBackAndDropsTheReplicasBeingAdded() {
        PartitionAssignment p = state(List.of(4, 2, 3, 1), 1, 3, List.of(2, 3, 1));
        Reassignment cancel = MOVE.cancelled();
        assertThat(cancel.target()).containsExactly(1, 2, 3);
        assertThat(cancel.original()).containsExactly(1, 2, 3);
        Reassignment.Step step = cancel.next(p, ALL);
        assertThat(step.phase()).isEqualTo(Reassignment.Phase.DROP);
        PartitionAssignment back = step.write().orElseThrow();
        assertThat(back.replicas()).containsExactly(1, 2, 3);
        assertThat(back.isr()).containsExactly(1, 2, 3);
        assertThat(back.leader()).isEqualTo(1);
    }

    @Test
    void addingAndRemovingAreTheDifferencesOfTargetAndOriginal() {
        assertThat(MOVE.adding()).containsExactly(4);
        assertThat(MOVE.removing()).containsExactly(1);
    }

    @Test
    void theZooKeeperNodeRoundTrips() {
        Reassignment read = Reassignment.fromJson("t", 0, MOVE.toJson(), 5);
        assertThat(read).isEqualTo(MOVE);
    }
}
