package io.millrace.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.EpochEndOffset;
import io.millrace.storage.LeaderEpochCache.EpochEntry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link LeaderEpochCache}: Kafka's assign rules, every branch of endOffsetFor, truncations, the checkpoint file. */
class LeaderEpochCacheTest {

    @TempDir
    Path dir;

    /** (1, 0), (3, 10), (6, 25): epochs 2, 4 and 5 led without writing anything. */
    private static LeaderEpochCache sample() {
        LeaderEpochCache cache = new LeaderEpochCache();
        cache.assign(1, 0);
        cache.assign(3, 10);
        cache.assign(6, 25);
        return cache;
    }

    @Test
    void endOffsetForAnEmptyCacheIsUndefined() {
        assertThat(new LeaderEpochCache().endOffsetFor(0, 100)).isEqualTo(EpochEndOffset.UNDEFINED);
        assertThat(new LeaderEpochCache().latestEpoch()).isEqualTo(-1);
    }

    @Test
    void endOffsetForAnEpochBelowTheFirstIsUndefined() {
        assertThat(sample().endOffsetFor(0, 40)).isEqualTo(EpochEndOffset.UNDEFINED);
        assertThat(sample().endOffsetFor(-1, 40)).isEqualTo(EpochEndOffset.UNDEFINED);
    }

    @Test
    void endOffsetForTheLatestEpochOrAboveIsTheLogEnd() {
        assertThat(sample().endOffsetFor(6, 40)).isEqualTo(new EpochEndOffset(6, 40));
        assertThat(sample().endOffsetFor(9, 40)).isEqualTo(new EpochEndOffset(6, 40));
    }

    @Test
    void endOffsetForACachedEpochIsTheNextEpochsStart() {
        assertThat(sample().endOffsetFor(1, 40)).isEqualTo(new EpochEndOffset(1, 10));
        assertThat(sample().endOffsetFor(3, 40)).isEqualTo(new EpochEndOffset(3, 25));
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 5})
    void endOffsetForAnUncachedEpochIsThatOfTheFloorEpoch(int requested) {
        assertThat(sample().endOffsetFor(requested, 40)).isEqualTo(new EpochEndOffset(3, 25));
        assertThat(sample().endOffsetFor(2, 40)).isEqualTo(new EpochEndOffset(1, 10));
    }

    @Test
    void assignIgnoresTheLatestEpochAgainAndOlderEpochs() {
        LeaderEpochCache cache = sample();
        assertThat(cache.assign(6, 30)).isFalse();
        assertThat(cache.assign(6, 25)).isFalse();
        assertThat(cache.assign(2, 30)).isFalse();
        assertThat(cache.entries()).containsExactly(new EpochEntry(1, 0), new EpochEntry(3, 10),
                new EpochEntry(6, 25));
    }

    @Test
    void assignOfANewEpochBelowLaterStartsDropsThoseEntries() {
        LeaderEpochCache cache = sample();
        assertThat(cache.assign(7, 10)).isTrue();
        assertThat(cache.entries()).containsExactly(new EpochEntry(1, 0), new EpochEntry(7, 10));
        assertThat(cache.latestEpoch()).isEqualTo(7);
    }

    @Test
    void assignOfTheLatestEpochAtAnEarlierStartMovesIt() {
        LeaderEpochCache cache = sample();
        assertThat(cache.assign(6, 20)).isTrue();
        assertThat(cache.entries()).containsExactly(new EpochEntry(1, 0), new EpochEntry(3, 10),
                new EpochEntry(6, 20));
    }

    @Test
    void assignAtTheSameStartReplacesAnEpochThatWroteNothing() {
        LeaderEpochCache cache = sample();
        assertThat(cache.assign(8, 25)).isTrue();
        assertThat(cache.entries()).containsExactly(new EpochEntry(1, 0), new EpochEntry(3, 10),
                new EpochEntry(8, 25));
    }

    @Test
    void assignRefusesNegativeValues() {
        assertThatThrownBy(() -> new LeaderEpochCache().assign(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LeaderEpochCache().assign(0, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void epochForOffsetIsTheLastEntryStartingAtOrBelowIt() {
        LeaderEpochCache cache = sample();
        assertThat(cache.epochForOffset(0)).isEqualTo(OptionalInt.of(1));
        assertThat(cache.epochForOffset(24)).isEqualTo(OptionalInt.of(3));
        assertThat(cache.epochForOffset(25)).isEqualTo(OptionalInt.of(6));
        LeaderEpochCache late = new LeaderEpochCache();
        late.assign(2, 5);
        assertThat(late.epochForOffset(4)).isEmpty();
    }

    @Test
    void truncateFromEndRemovesEntriesStartingAtOrAfterTheEnd() {
        LeaderEpochCache cache = sample();
        assertThat(cache.truncateFromEnd(30)).isFalse();
        assertThat(cache.truncateFromEnd(25)).isTrue();
        assertThat(cache.entries()).containsExactly(new EpochEntry(1, 0), new EpochEntry(3, 10));
        assertThat(cache.endOffsetFor(3, 25)).isEqualTo(new EpochEndOffset(3, 25));
        assertThat(cache.truncateFromEnd(0)).isTrue();
        assertThat(cache.entries()).isEmpty();
    }

    @Test
    void truncateFromStartMovesTheLastEntryBelowUpToTheNewStart() {
        LeaderEpochCache cache = sample();
        assertThat(cache.truncateFromStart(0)).isFalse();
        assertThat(cache.truncateFromStart(12)).isTrue();
        assertThat(cache.entries()).containsExactly(new EpochEntry(3, 12), new EpochEntry(6, 25));
        assertThat(cache.truncateFromStart(25)).isTrue();
        assertThat(cache.entries()).containsExactly(new EpochEntry(6, 25));
        assertThat(cache.truncateFromStart(40)).isTrue();
        assertThat(cache.entries()).containsExactly(new EpochEntry(6, 40));
    }

    @Test
    void everyChangeIsCheckpointedAndLoadsBack() throws Exception {
        LeaderEpochCache cache = LeaderEpochCache.rebuilt(dir, List.of());
        cache.assign(2, 0);
        cache.assign(5, 17);
        assertThat(Files.readString(dir.resolve(LeaderEpochCache.FILE))).isEqualTo("0\n2\n2 0\n5 17\n");
        cache.truncateFromStart(3);
        assertThat(LeaderEpochCache.load(dir).orElseThrow().entries())
                .containsExactly(new EpochEntry(2, 3), new EpochEntry(5, 17));
        cache.clear();
        assertThat(LeaderEpochCache.load(dir).orElseThrow().entries()).isEmpty();
    }

    @Test
    void rebuiltKeepsTheFirstBatchOfEachLargerEpochAndSkipsUnstampedOnes() {
        LeaderEpochCache cache = LeaderEpochCache.rebuilt(dir, List.of(new EpochEntry(-1, 0), new EpochEntry(0, 3),
                new EpochEntry(0, 5), new EpochEntry(2, 9), new EpochEntry(2, 12), new EpochEntry(4, 20)));
        assertThat(cache.entries()).containsExactly(new EpochEntry(0, 3), new EpochEntry(2, 9),
                new EpochEntry(4, 20));
        assertThat(LeaderEpochCache.load(dir).orElseThrow().entries()).isEqualTo(cache.entries());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1\n0\n", "0\n2\n1 0\n", "0\n1\n1 x\n", "0\n2\n3 0\n2 5\n", "0\n2\n1 5\n2 4\n",
        "0\n1\n-1 0\n"})
    void anUnreadableOrInconsistentCheckpointIsNotLoaded(String content) throws Exception {
        Files.writeString(dir.resolve(LeaderEpochCache.FILE), content, StandardCharsets.UTF_8);
        assertThat(LeaderEpochCache.load(dir)).isEmpty();
    }

    @Test
    void aMissingCheckpointIsNotLoaded() {
        assertThat(LeaderEpochCache.load(dir)).isEmpty();
    }
}
