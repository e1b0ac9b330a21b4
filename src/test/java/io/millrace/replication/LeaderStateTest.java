package io.millrace.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LeaderStateTest {

    private static final long LAG_MAX = 10_000;
    private static final List<Integer> REPLICAS = List.of(1, 2, 3);

    private static LeaderState leader(Set<Integer> isr, long leaderEnd, long highWatermark) {
        return new LeaderState(1, 4, REPLICAS, isr, leaderEnd, highWatermark, LAG_MAX, 0);
    }

    // ---- high watermark ----

    @Test
    void aLoneLeaderCommitsWhatItWrites() {
        LeaderState state = new LeaderState(1, 3, List.of(1), Set.of(1), 10, 10, LAG_MAX, 0);
        assertThat(state.highWatermark()).isEqualTo(10);
        assertThat(state.updateLeaderEnd(15, 1)).isTrue();
        assertThat(state.highWatermark()).isEqualTo(15);
        assertThat(state.updateLeaderEnd(15, 2)).isFalse();
        assertThat(state.isr()).containsExactly(1);
        assertThat(state.leaderEpoch()).isEqualTo(3);
    }

    @Test
    void theInheritedHighWatermarkIsClampedToTheLogAndALoneLeaderCommitsItsLogAtOnce() {
        assertThat(leader(Set.of(1, 2), 5, 9).highWatermark()).isEqualTo(5);
        assertThat(leader(Set.of(1, 2), 9, 5).highWatermark()).isEqualTo(5);
        assertThat(leader(Set.of(1), 9, 5).highWatermark()).isEqualTo(9);
    }

    @Test
    void theHighWatermarkIsTheSmallestEndInTheIsrAndWaitsForFollowersNotYetHeardFrom() {
        LeaderState state = leader(Set.of(1, 2, 3), 10, 4);
        assertThat(state.onFollowerFetch(2, 8, 1).highWatermarkMoved()).isFalse();
        assertThat(state.highWatermark()).isEqualTo(4);
        assertThat(state.onFollowerFetch(3, 6, 1).highWatermarkMoved()).isTrue();
        assertThat(state.highWatermark()).isEqualTo(6);
        assertThat(state.onFollowerFetch(3, 10, 2).highWatermarkMoved()).isTrue();
        assertThat(state.highWatermark()).isEqualTo(8);
        assertThat(state.followerEnds()).containsExactly(Map.entry(2, 8L), Map.entry(3, 10L));
    }

    @Test
    void onlyAnInSyncFollowerBehindTheLogEndCanBeDroppedSoOnlyThenIsACheckDue() {
        LeaderState state = leader(Set.of(1, 2), 10, 0);
        assertThat(state.inSyncFollowerBehind()).as("not heard from yet").isTrue();
        state.onFollowerFetch(2, 10, 1);
        assertThat(state.inSyncFollowerBehind()).isFalse();
        assertThat(state.maybeShrinkIsr(LAG_MAX * 5)).as("idle and caught up: stays").isEmpty();
        state.onFollowerFetch(3, 0, 1);
        assertThat(state.inSyncFollowerBehind()).as("replica 3 is not in sync").isFalse();
        state.updateLeaderEnd(11, 2);
        assertThat(state.inSyncFollowerBehind()).isTrue();
        assertThat(new LeaderState(1, 3, List.of(1), Set.of(1), 10, 10, LAG_MAX, 0).inSyncFollowerBehind()).isFalse();
    }

    @Test
    void aFollowerOutsideTheIsrDoesNotHoldTheHighWatermark() {
        LeaderState state = leader(Set.of(1, 2), 10, 0);
        state.onFollowerFetch(2, 10, 1);
        assertThat(state.highWatermark()).isEqualTo(10);
        assertThat(state.followerEnd(3)).isEqualTo(-1);
        assertThat(state.followerEnd(7)).isEqualTo(-1);
    }

    @Test
    void theHighWatermarkNeverMovesBack() {
        LeaderState state = leader(Set.of(1, 2), 10, 0);
        state.onFollowerFetch(2, 10, 1);
        assertThat(state.highWatermark()).isEqualTo(10);
        // The follower restarted and truncated a tail it had not got from this leader; and the controller added a
        // member that has not fetched yet.
        assertThat(state.onFollowerFetch(2, 7, 2).highWatermarkMoved()).isFalse();
        assertThat(state.applyIsr(Set.of(1, 2, 3), 3)).isFalse();
        assertThat(state.highWatermark()).isEqualTo(10);
    }

    // ---- maximal ISR ----

    @Test
    void aPendingShrinkStillWaitsForTheLeavingMember() {
        LeaderState state = leader(Set.of(1, 2, 3), 10, 0);
        state.onFollowerFetch(2, 10, 1);
        state.onFollowerFetch(3, 3, 1);
        assertThat(state.highWatermark()).isEqualTo(3);

        Optional<Set<Integer>> shrink = state.maybeShrinkIsr(LAG_MAX + 1);
        assertThat(shrink).contains(Set.of(1, 2));
        state.proposeIsr(shrink.orElseThrow());
        assertThat(state.isrUpdatePending()).isTrue();
        assertThat(state.isr()).containsExactly(1, 2, 3);
        assertThat(state.maximalIsr()).containsExactly(1, 2, 3);
        assertThat(state.updateLeaderEnd(12, LAG_MAX + 2)).isFalse();
        assertThat(state.highWatermark()).isEqualTo(3);

        assertThat(state.applyIsr(Set.of(1, 2), LAG_MAX + 3)).isTrue();
        assertThat(state.isrUpdatePending()).isFalse();
        assertThat(state.highWatermark()).isEqualTo(10);
    }

    @Test
    void aPendingExpansionCountsTheJoiningMemberAtOnce() {
        LeaderState state = leader(Set.of(1, 2), 10, 0);
        state.onFollowerFetch(2, 10, 1);
        LeaderState.FollowerFetch fetch = state.onFollowerFetch(3, 10, 1);
        assertThat(fetch.isrToPropose()).contains(Set.of(1, 2, 3));
        state.proposeIsr(fetch.isrToPropose().orElseThrow());
        assertThat(state.isr()).containsExactly(1, 2);
        assertThat(state.maximalIsr()).containsExactly(1, 2, 3);

        state.updateLeaderEnd(15, 2);
        state.onFollowerFetch(2, 15, 3);
        assertThat(state.highWatermark()).as("held by the joining member at 10").isEqualTo(10);

        state.abortIsrProposal();
        assertThat(state.maximalIsr()).containsExactly(1, 2);
        assertThat(state.highWatermark()).isEqualTo(15);
    }

    /** Seed 1526 of the simulation, reduced. */
    @Test
    void aFollowerBelowTheHighWatermarkItsFetchMovesIsNotProposed() {
        LeaderState state = leader(Set.of(1, 2), 2, 0);
        state.onFollowerFetch(3, 2, 1);
        state.proposeIsr(Set.of(1, 2, 3));
        state.updateLeaderEnd(5, 2);
        state.onFollowerFetch(2, 5, 3);
        assertThat(state.highWatermark()).as("held by joining 3").isEqualTo(2);
        state.abortIsrProposal();
        assertThat(state.highWatermark()).isEqualTo(5);
        // Follower 3 (restarted) fetches at 2 again: it is below the high watermark and must not join.
        assertThat(state.onFollowerFetch(3, 2, 4).isrToPropose()).isEmpty();
        assertThatThrownBy(() -> state.proposeIsr(Set.of(1, 2, 3))).isInstanceOf(IllegalStateException.class);
        assertThat(state.onFollowerFetch(3, 5, 5).isrToPropose()).contains(Set.of(1, 2, 3));
    }

    @Test
    void theControllersIsrReplacesAPendingProposal() {
        LeaderState state = leader(Set.of(1, 2, 3), 10, 0);
        state.proposeIsr(Set.of(1, 2));
        assertThat(state.maybeShrinkIsr(LAG_MAX * 5)).isEmpty();
        state.applyIsr(Set.of(1, 3), 5);
        assertThat(state.isr()).containsExactly(1, 3);
        assertThat(state.isrUpdatePending()).isFalse();
    }

    // ---- lag ----

    @Test
    void aFollowerAtTheLeadersEndIsNeverOutOfSyncHoweverLongItIsQuiet() {
        LeaderState state = leader(Set.of(1, 2, 3), 10, 0);
        state.onFollowerFetch(2, 10, 0);
        state.onFollowerFetch(3, 10, 0);
        assertThat(state.maybeShrinkIsr(LAG_MAX * 100)).isEmpty();
    }

    @Test
    void aFollowerThatStopsFetchingLeavesTheLagTimeAfterItsLastCaughtUpFetch() {
        LeaderState state = leader(Set.of(1, 2, 3), 10, 0);
        state.onFollowerFetch(2, 10, 0);
        state.onFollowerFetch(3, 10, 100);
        state.updateLeaderEnd(11, 500);
        state.onFollowerFetch(2, 11, 600);
        assertThat(state.maybeShrinkIsr(100 + LAG_MAX)).isEmpty();
        assertThat(state.maybeShrinkIsr(100 + LAG_MAX + 1)).contains(Set.of(1, 2));
    }

    @Test
    void aLongQuietFollowerLeavesRightAfterTheNextAppend() {
        LeaderState state = leader(Set.of(1, 2), 10, 0);
        state.onFollowerFetch(2, 10, 0);
        assertThat(state.maybeShrinkIsr(100_000)).as("at the leader's end").isEmpty();
        state.updateLeaderEnd(11, 100_000);
        assertThat(state.maybeShrinkIsr(100_001)).contains(Set.of(1));
    }

    @Test
    void aFollowerReachingTheLeaderEndOfItsPreviousFetchWasCaughtUpAtThatFetch() {
        LeaderState state = leader(Set.of(1, 2), 10, 0);
        state.updateLeaderEnd(20, 0);
        state.onFollowerFetch(2, 12, 1_000);  // behind: leader end 20 noted at 1000
        state.updateLeaderEnd(30, 1_500);
        state.onFollowerFetch(2, 20, 5_000);  // reaches 20: caught up as of 1000, not 5000
        assertThat(state.maybeShrinkIsr(1_000 + LAG_MAX)).isEmpty();
        assertThat(state.maybeShrinkIsr(1_000 + LAG_MAX + 1)).contains(Set.of(1));
    }

    @Test
    void aFollowerFallingFurtherBehindEveryFetchIsNotCaughtUp() {
        LeaderState state = leader(Set.of(1, 2), 10, 0);
        state.updateLeaderEnd(20, 1);  // follower 2 never fetched: caught up only as of the election at 0
        state.onFollowerFetch(2, 12, 1_000);
        state.updateLeaderEnd(40, 1_500);
        state.onFollowerFetch(2, 18, 5_000);
        assertThat(state.maybeShrinkIsr(LAG_MAX)).isEmpty();
        assertThat(state.maybeShrinkIsr(LAG_MAX + 1)).contains(Set.of(1));
    }

    @Test
    void aFollowerThatJustCatchesUpStaysIn() {
        LeaderState state = leader(Set.of(1, 2), 10, 0);
        for (long now = 1_000; now < 100_000; now += 1_000) {
            state.updateLeaderEnd(state.leaderEnd() + 5, now);
            state.onFollowerFetch(2, state.leaderEnd(), now + 10);
            assertThat(state.maybeShrinkIsr(now + 20)).isEmpty();
        }
    }

    @Test
    void noShrinkIsProposedWhileAChangeIsInFlight() {
        LeaderState state = leader(Set.of(1, 2, 3), 10, 0);
        state.updateLeaderEnd(12, 1);
        state.proposeIsr(Set.of(1, 2, 3));
        assertThat(state.maybeShrinkIsr(LAG_MAX * 2)).isEmpty();
        state.applyIsr(Set.of(1, 2, 3), 2);
        assertThat(state.maybeShrinkIsr(LAG_MAX * 2)).contains(Set.of(1));
    }

    // ---- expansion ----

    @Test
    void aReplicaRejoinsOnlyAtTheHighWatermarkAndTheEpochStart() {
        LeaderState state = leader(Set.of(1, 2), 10, 6);   // this epoch starts at 10; the inherited HW lags at 6
        assertThat(state.onFollowerFetch(3, 5, 1).isrToPropose()).as("below the HW").isEmpty();
        assertThat(state.onFollowerFetch(3, 8, 2).isrToPropose()).as("below the epoch start").isEmpty();
        assertThat(state.onFollowerFetch(3, 10, 3).isrToPropose()).contains(Set.of(1, 2, 3));

        state.onFollowerFetch(2, 10, 4);
        state.updateLeaderEnd(20, 5);
        state.onFollowerFetch(2, 16, 6);
        assertThat(state.highWatermark()).isEqualTo(16);
        assertThat(state.onFollowerFetch(3, 15, 7).isrToPropose()).as("below the HW").isEmpty();
        assertThat(state.onFollowerFetch(3, 16, 8).isrToPropose()).contains(Set.of(1, 2, 3));
    }

    @Test
    void noExpansionIsProposedWhileAChangeIsInFlightOrForAMember() {
        LeaderState state = leader(Set.of(1, 2), 10, 10);
        state.proposeIsr(Set.of(1));
        assertThat(state.onFollowerFetch(3, 10, 1).isrToPropose()).isEmpty();
        state.applyIsr(Set.of(1), 2);
        assertThat(state.onFollowerFetch(3, 10, 3).isrToPropose()).contains(Set.of(1, 3));
        state.applyIsr(Set.of(1, 3), 4);
        assertThat(state.onFollowerFetch(3, 10, 5).isrToPropose()).isEmpty();
    }

    @Test
    void aMemberTheControllerAddsIsCaughtUpAsOfThen() {
        LeaderState state = leader(Set.of(1), 10, 10);
        state.updateLeaderEnd(11, 1);
        state.applyIsr(Set.of(1, 2), 5_000);
        assertThat(state.maybeShrinkIsr(5_000 + LAG_MAX)).isEmpty();
        assertThat(state.maybeShrinkIsr(5_000 + LAG_MAX + 1)).contains(Set.of(1));
    }

    // ---- contract ----

    @Test
    void misuseIsRefused() {
        LeaderState state = leader(Set.of(1, 2), 10, 10);
        assertThatThrownBy(() -> state.updateLeaderEnd(9, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> state.onFollowerFetch(2, 11, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> state.onFollowerFetch(1, 5, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> state.onFollowerFetch(9, 5, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> state.proposeIsr(Set.of(2))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> state.proposeIsr(Set.of(1, 9))).isInstanceOf(IllegalArgumentException.class);
        state.proposeIsr(Set.of(1));
        assertThatThrownBy(() -> state.proposeIsr(Set.of(1, 2))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new LeaderState(4, 1, REPLICAS, Set.of(4), 0, 0, LAG_MAX, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---- replicas changed within an epoch (reassignment) ----

    @Test
    void anAddedReplicaIsServedAndJoinsTheIsrOnlyOnceCaughtUp() {
        LeaderState state = leader(Set.of(1, 2), 10, 0);
        state.onFollowerFetch(2, 10, 1);
        assertThat(state.highWatermark()).isEqualTo(10);
        assertThatThrownBy(() -> state.onFollowerFetch(4, 0, 1)).isInstanceOf(IllegalArgumentException.class);

        assertThat(state.applyReplicas(List.of(4, 1, 2, 3), Set.of(1, 2), 2)).isFalse();
        assertThat(state.replicas()).containsExactly(4, 1, 2, 3);
        LeaderState.FollowerFetch behind = state.onFollowerFetch(4, 5, 3);
        assertThat(behind.isrToPropose()).as("below the high watermark").isEmpty();
        assertThat(state.highWatermark()).as("an added replica outside the ISR holds nothing back").isEqualTo(10);
        LeaderState.FollowerFetch caughtUp = state.onFollowerFetch(4, 10, 4);
        assertThat(caughtUp.isrToPropose()).hasValue(Set.of(4, 1, 2));
    }

    @Test
    void aDroppedReplicaIsForgottenAndNoLongerHoldsTheHighWatermark() {
        LeaderState state = leader(Set.of(1, 2, 3), 10, 0);
        state.onFollowerFetch(2, 10, 1);
        assertThat(state.highWatermark()).as("3 has not fetched").isEqualTo(0);
        state.proposeIsr(Set.of(1, 2));
        assertThat(state.applyReplicas(List.of(1, 2), Set.of(1, 2), 2)).isTrue();
        assertThat(state.highWatermark()).isEqualTo(10);
        assertThat(state.isrUpdatePending()).as("a proposal against the old state is void").isFalse();
        assertThat(state.followerEnds()).containsOnlyKeys(2);
        assertThatThrownBy(() -> state.onFollowerFetch(3, 10, 3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> state.applyReplicas(List.of(2, 3), Set.of(2), 4))
                .as("the leader cannot be dropped within its epoch").isInstanceOf(IllegalArgumentException.class);
    }
}
