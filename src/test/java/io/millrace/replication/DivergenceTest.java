package io.millrace.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.EpochEndOffset;
import io.millrace.replication.Divergence.FetchCheck;
import io.millrace.replication.Divergence.Truncation;
import org.junit.jupiter.api.Test;

class DivergenceTest {

    // ---- leader side ----

    @Test
    void aFetchBelowTheLeadersLogStartIsOutOfRangeWhateverTheEpochs() {
        InMemoryEpochCache leader = InMemoryEpochCache.of(20, 5, 10);
        assertThat(Divergence.check(leader, 3, 4, 10, 20)).isEqualTo(new FetchCheck.OutOfRange(10));
        assertThat(Divergence.check(leader, -1, 4, 10, 20)).isEqualTo(new FetchCheck.OutOfRange(10));
    }

    @Test
    void anEmptyFollowerIsOkAnywhereInTheLeadersLogAndOutOfRangeBeyondIt() {
        InMemoryEpochCache leader = InMemoryEpochCache.of(20, 0, 0, 2, 8);
        assertThat(Divergence.check(leader, -1, 0, 0, 20)).isInstanceOf(FetchCheck.Ok.class);
        assertThat(Divergence.check(leader, -1, 20, 0, 20)).isInstanceOf(FetchCheck.Ok.class);
        assertThat(Divergence.check(leader, -1, 21, 0, 20)).isEqualTo(new FetchCheck.OutOfRange(0));
    }

    @Test
    void aFollowerWithinAnEpochTheLeaderHoldsAsFarIsOk() {
        InMemoryEpochCache leader = InMemoryEpochCache.of(12, 1, 0, 2, 5);
        assertThat(Divergence.check(leader, 2, 12, 0, 12)).isInstanceOf(FetchCheck.Ok.class);
        assertThat(Divergence.check(leader, 2, 7, 0, 12)).isInstanceOf(FetchCheck.Ok.class);
        // An older epoch that the leader ended exactly where the follower's log ends.
        assertThat(Divergence.check(leader, 1, 5, 0, 12)).isInstanceOf(FetchCheck.Ok.class);
        assertThat(Divergence.check(leader, 1, 3, 0, 12)).isInstanceOf(FetchCheck.Ok.class);
    }

    @Test
    void aFollowerWithMoreOfAnEpochThanTheLeaderDiverges() {
        InMemoryEpochCache leader = InMemoryEpochCache.of(12, 1, 0, 2, 5);
        assertThat(Divergence.check(leader, 1, 7, 0, 12))
                .isEqualTo(new FetchCheck.Diverging(new EpochEndOffset(1, 5)));
    }

    @Test
    void aFollowerInAnEpochTheLeaderNeverSawDivergesAtTheLeadersFloorEpoch() {
        InMemoryEpochCache leader = InMemoryEpochCache.of(12, 1, 0, 3, 5);
        assertThat(Divergence.check(leader, 2, 6, 0, 12))
                .isEqualTo(new FetchCheck.Diverging(new EpochEndOffset(1, 5)));
    }

    @Test
    void aFollowerEpochBelowAllTheLeadersEpochsDivergesUndefined() {
        InMemoryEpochCache leader = InMemoryEpochCache.of(4, 3, 0);
        assertThat(Divergence.check(leader, 2, 2, 0, 4)).isEqualTo(new FetchCheck.Diverging(EpochEndOffset.UNDEFINED));
    }

    // ---- follower side ----

    @Test
    void sharingTheLeadersEpochTruncatesToTheShorterEndOfIt() {
        InMemoryEpochCache follower = InMemoryEpochCache.of(9, 1, 0, 2, 4);
        assertThat(Divergence.truncation(follower, new EpochEndOffset(2, 6), 9)).isEqualTo(new Truncation(6, true));
        // The leader's end of the follower's older epoch 1 lies beyond where the follower ends it.
        assertThat(Divergence.truncation(follower, new EpochEndOffset(1, 7), 9)).isEqualTo(new Truncation(4, true));
    }

    @Test
    void notKnowingTheLeadersEpochTruncatesToTheFollowersFloorEpochEndAndAsksAgain() {
        InMemoryEpochCache follower = InMemoryEpochCache.of(9, 1, 0, 3, 4);
        assertThat(Divergence.truncation(follower, new EpochEndOffset(2, 6), 9)).isEqualTo(new Truncation(4, false));
    }

    @Test
    void noEpochInCommonTruncatesEverything() {
        assertThat(Divergence.truncation(InMemoryEpochCache.of(5, 4, 0), EpochEndOffset.UNDEFINED, 5))
                .isEqualTo(new Truncation(0, true));
        assertThat(Divergence.truncation(InMemoryEpochCache.of(5, 4, 0), new EpochEndOffset(2, 3), 5))
                .isEqualTo(new Truncation(0, true));
    }

    // ---- both sides, until the follower fetches records ----

    /** KIP-101 scenario 1: a restarted follower whose high watermark lags keeps the committed records it holds. */
    @Test
    void aRestartedFollowerWithAStaleHighWatermarkTruncatesNothing() {
        InMemoryLog leader = InMemoryLog.withEpochs(0, 0);
        InMemoryLog follower = InMemoryLog.withEpochs(0, 0);
        assertThat(converge(leader, follower)).isEqualTo(0);
        assertThat(follower.logEnd()).isEqualTo(2);
    }

    /**
     * KIP-101 scenario 2, the double failure: A led epoch 0 and wrote m1 and m2, B copied only m1; both crashed, B
     * came back first, led epoch 1 and wrote m3 at offset 1. A returns as a follower: without epochs it would keep
     * m2 at offset 1 while B has m3 there. With them, A drops m2 and copies m3.
     */
    @Test
    void theDoubleFailureOfKip101EndsWithIdenticalLogs() {
        InMemoryLog a = InMemoryLog.withEpochs(0, 0);
        InMemoryLog b = InMemoryLog.withEpochs(0);
        b.assignEpochStart(1);
        b.append(new InMemoryLog.Entry(1, 1, 3333));

        assertThat(Divergence.check(b.epochs(), a.latestEpoch(), a.logEnd(), 0, b.logEnd()))
                .isEqualTo(new FetchCheck.Diverging(new EpochEndOffset(0, 1)));
        assertThat(converge(b, a)).isEqualTo(1);
        assertThat(a.entries()).isEqualTo(b.entries());
        assertThat(a.epochs().entries()).isEqualTo(b.epochs().entries());
    }

    /** KIP-279: leaders changed faster than the follower followed; it needs several rounds to find the point. */
    @Test
    void severalQuickLeaderChangesTakeSeveralRounds() {
        InMemoryLog follower = InMemoryLog.withEpochs(0, 0, 1, 1, 3, 3);
        InMemoryLog leader = InMemoryLog.withEpochs(0, 0, 2, 2, 2, 4, 4, 4);
        assertThat(converge(leader, follower)).isEqualTo(2);
        assertThat(follower.entries()).isEqualTo(leader.entries());
    }

    /**
     * A replica that led an epoch from an empty log and wrote in it, then lost leadership to a replica holding
     * uncommitted records of an older epoch, shares no epoch with its new leader: it must drop everything. (The
     * rule "no such epoch here → min(leader end, log end)" would keep its records at offsets 0 and 1 while the
     * leader has others there, and never converge.)
     */
    @Test
    void aLeaderOfAnEpochStartedEmptyDropsEverythingForALeaderWithOlderRecords() {
        InMemoryLog formerLeader = new InMemoryLog();
        formerLeader.assignEpochStart(6);
        formerLeader.append(new InMemoryLog.Entry(0, 6, 60));
        formerLeader.append(new InMemoryLog.Entry(1, 6, 61));
        InMemoryLog newLeader = InMemoryLog.withEpochs(5, 5, 5);
        newLeader.assignEpochStart(7);

        assertThat(converge(newLeader, formerLeader)).isEqualTo(1);
        assertThat(formerLeader.entries()).isEqualTo(newLeader.entries());
    }

    /** A deposed leader cached its epoch but wrote nothing in it: the cache entry goes, the records stay. */
    @Test
    void anEmptyEpochAtTheEndOfTheLogIsDroppedWithoutLosingRecords() {
        InMemoryLog deposed = InMemoryLog.withEpochs(1, 1, 1);
        deposed.assignEpochStart(2);
        InMemoryLog leader = InMemoryLog.withEpochs(1, 1, 1, 3);

        assertThat(converge(leader, deposed)).isEqualTo(1);
        assertThat(deposed.entries()).isEqualTo(leader.entries());
    }

    /** Fetches, truncating on divergence, until the follower is Ok; copies the rest; returns the rounds taken. */
    private static int converge(InMemoryLog leader, InMemoryLog follower) {
        for (int rounds = 0; rounds < 20; rounds++) {
            FetchCheck check = Divergence.check(leader.epochs(), follower.latestEpoch(), follower.logEnd(), 0,
                    leader.logEnd());
            if (check instanceof FetchCheck.Ok) {
                for (long offset = follower.logEnd(); offset < leader.logEnd(); offset++) {
                    follower.append(leader.at(offset));
                }
                return rounds;
            }
            EpochEndOffset leaderEnd = ((FetchCheck.Diverging) check).leaderEnd();
            Truncation truncation = Divergence.truncation(follower.epochs(), leaderEnd, follower.logEnd());
            follower.truncateTo(truncation.offset());
        }
        throw new AssertionError("No convergence: leader " + leader + ", follower " + follower);
    }
}
