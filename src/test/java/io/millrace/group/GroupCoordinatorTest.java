package io.millrace.group;

import static io.millrace.group.Fixtures.tp;
import static io.millrace.group.Fixtures.tps;
import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.common.ManualTime;
import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GroupCoordinatorTest {

    private static final String GROUP = "orders";
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 20_000;

    private final ManualTime time = new ManualTime();
    private final InMemoryOffsetStore store = new InMemoryOffsetStore().autoComplete(true);
    private final AtomicInteger ids = new AtomicInteger();
    private GroupCoordinator coordinator = coordinator(0);

    private GroupCoordinator coordinator(int initialDelayMs) {
        GroupCoordinator c = new GroupCoordinator(time, store, () -> String.valueOf(ids.incrementAndGet()),
                new GroupSettings(1_000, 60_000, initialDelayMs, 4, 100));
        c.partitionsChanged("t", 6);
        return c;
    }

    /** A consumer as a test drives it: it remembers its id, generation and every answer it got. */
    private final class Consumer {
        final String clientId;
        final AssignmentStrategy strategy;
        Set<String> topics = Set.of("t");
        String memberId = "";
        int generation = -1;
        Set<TopicPartition> owned = Set.of();
        final List<GroupResult<JoinResult>> results = new ArrayList<>();
        boolean joining;

        Consumer(String clientId, AssignmentStrategy strategy) {
            this.clientId = clientId;
            this.strategy = strategy;
        }

        Consumer join() {
            joining = true;
            coordinator.join(new JoinRequest(GROUP, memberId, clientId, "/10.0.0." + clientId.length(), topics,
                    SESSION_MS, REBALANCE_MS, strategy), result -> {
                        results.add(result);
                        joining = false;
                        if (result.succeeded()) {
                            memberId = result.value().memberId();
                            generation = result.value().generation();
                            owned = result.value().partitions();
                        }
                    });
            return this;
        }

        GroupResult<JoinResult> last() {
            return results.get(results.size() - 1);
        }

        GroupResult<Void> heartbeat() {
            return coordinator.heartbeat(GROUP, memberId, generation);
        }

        GroupResult<Void> commit(int generation, Map<TopicPartition, OffsetAndMetadata> offsets) {
            List<GroupResult<Void>> answer = new ArrayList<>();
            coordinator.commitOffsets(GROUP, memberId, generation, offsets, answer::add);
            assertThat(answer).as("answered at once (auto-completing store)").hasSize(1);
            return answer.get(0);
        }

        GroupResult<Void> commit(long offset) {
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            owned.forEach(tp -> offsets.put(tp, OffsetAndMetadata.of(offset)));
            return commit(generation, offsets);
        }
    }

    private Consumer consumer(String clientId, AssignmentStrategy strategy) {
        return new Consumer(clientId, strategy);
    }

    /** Heartbeats everyone and rejoins whoever is told to, as real consumers do, until the group is stable. */
    private void settle(Consumer... consumers) {
        for (int round = 0; round < 10; round++) {
            for (Consumer c : consumers) {
                if (c.joining) {
                    continue;
                }
                boolean mustRejoin = !c.results.isEmpty() && c.last().succeeded() && c.last().value().mustRejoin()
                        && c.last().value().generation() == c.generation && describe().generation() == c.generation;
                if (mustRejoin || c.heartbeat().error().orElse(null) == ErrorCode.REBALANCE_IN_PROGRESS) {
                    c.join();
                }
            }
            if (describe().state() == GroupState.STABLE && List.of(consumers).stream().noneMatch(c -> c.joining)) {
                return;
            }
        }
        throw new AssertionError("group did not settle: " + describe());
    }

    private GroupDescription describe() {
        return coordinator.describeGroup(GROUP).value();
    }

    private static void assertDisjointCover(Set<TopicPartition> all, Consumer... consumers) {
        Set<TopicPartition> seen = new HashSet<>();
        for (Consumer c : consumers) {
            for (TopicPartition tp : c.owned) {
                assertThat(seen.add(tp)).as("%s owned twice", tp).isTrue();
            }
        }
        assertThat(seen).isEqualTo(all);
    }

    private static Map<TopicPartition, OffsetAndMetadata> offsets(String spec) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (String entry : spec.split(",")) {
            String[] kv = entry.trim().split("=");
            offsets.put(tp(kv[0]), OffsetAndMetadata.of(Long.parseLong(kv[1])));
        }
        return offsets;
    }

    // -----------------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(AssignmentStrategy.class)
    void threeMembersOnSixPartitionsGetTwoDisjointEach(AssignmentStrategy strategy) {
        Consumer a = consumer("a", strategy).join();
        assertThat(a.last().value().partitions()).hasSize(6);
        Consumer b = consumer("b", strategy).join();
        Consumer c = consumer("c", strategy).join();
        settle(a, b, c);

        for (Consumer x : List.of(a, b, c)) {
            assertThat(x.owned).hasSize(2);
            assertThat(x.generation).isEqualTo(describe().generation());
        }
        assertDisjointCover(tps("t-0 t-1 t-2 t-3 t-4 t-5"), a, b, c);
        assertThat(describe().state()).isEqualTo(GroupState.STABLE);
    }

    @Test
    void theFirstRebalanceOfAnEmptyGroupWaitsForMoreMembers() {
        coordinator = coordinator(3_000);
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        time.sleep(1_000);
        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        Consumer c = consumer("c", AssignmentStrategy.RANGE).join();
        assertThat(coordinator.tick()).isFalse();
        assertThat(a.results).isEmpty();

        time.sleep(2_000);
        assertThat(coordinator.tick()).isTrue();
        for (Consumer x : List.of(a, b, c)) {
            assertThat(x.last().value().generation()).isEqualTo(1);
            assertThat(x.owned).hasSize(2);
        }
        assertThat(a.owned).isEqualTo(tps("t-0 t-1"));
        assertThat(a.memberId).isEqualTo("a-1");
    }

    @Test
    void heartbeatsTellMembersWhenToRejoin() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        assertThat(a.heartbeat().succeeded()).isTrue();
        assertThat(coordinator.heartbeat(GROUP, a.memberId, a.generation - 1).error())
                .contains(ErrorCode.ILLEGAL_GENERATION);
        assertThat(coordinator.heartbeat(GROUP, "nobody", a.generation).error()).contains(ErrorCode.UNKNOWN_MEMBER_ID);
        assertThat(coordinator.heartbeat("other", a.memberId, a.generation).error())
                .contains(ErrorCode.UNKNOWN_MEMBER_ID);
        assertThat(coordinator.heartbeat("", a.memberId, a.generation).error()).contains(ErrorCode.INVALID_GROUP_ID);

        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        assertThat(b.results).as("waits for a to rejoin").isEmpty();
        assertThat(describe().state()).isEqualTo(GroupState.PREPARING_REBALANCE);
        assertThat(a.heartbeat().error()).contains(ErrorCode.REBALANCE_IN_PROGRESS);
        a.join();
        assertThat(a.last().value().generation()).isEqualTo(2);
        assertThat(b.last().value().generation()).isEqualTo(2);
        assertThat(a.heartbeat().succeeded()).isTrue();
    }

    @Test
    void aKnownMemberRejoiningUnchangedGetsItsAssignmentWithoutARebalance() {
        Consumer a = consumer("a", AssignmentStrategy.ROUND_ROBIN).join();
        Consumer b = consumer("b", AssignmentStrategy.ROUND_ROBIN).join();
        settle(a, b);
        int generation = describe().generation();
        Set<TopicPartition> owned = b.owned;

        b.join();
        assertThat(b.last().value().generation()).isEqualTo(generation);
        assertThat(b.owned).isEqualTo(owned);
        assertThat(describe().state()).isEqualTo(GroupState.STABLE);

        b.topics = Set.of("t", "u");
        b.join();
        assertThat(describe().state()).as("a changed subscription rebalances")
                .isEqualTo(GroupState.PREPARING_REBALANCE);
    }

    @Test
    void aSilentMemberIsEvictedAfterItsSessionTimeout() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        settle(a, b);

        time.sleep(SESSION_MS - 1);
        assertThat(a.heartbeat().succeeded()).isTrue();
        assertThat(coordinator.tick()).isFalse();
        time.sleep(1);
        assertThat(coordinator.tick()).as("b is silent for its whole session").isTrue();
        assertThat(describe().members()).extracting(MemberDescription::memberId).containsExactly(a.memberId);
        assertThat(b.heartbeat().error()).contains(ErrorCode.UNKNOWN_MEMBER_ID);

        assertThat(a.heartbeat().error()).contains(ErrorCode.REBALANCE_IN_PROGRESS);
        a.join();
        assertThat(a.owned).hasSize(6);
    }

    @Test
    void membersThatDoNotRejoinInTimeAreRemoved() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        settle(a, b);

        Consumer c = consumer("c", AssignmentStrategy.RANGE).join();
        a.join();
        for (int waited = 0; waited < REBALANCE_MS - 5_000; waited += 5_000) {
            time.sleep(5_000);
            assertThat(b.heartbeat().error()).as("alive, but ignores the rebalance")
                    .contains(ErrorCode.REBALANCE_IN_PROGRESS);
            coordinator.tick();
        }
        assertThat(a.results).hasSize(2);
        time.sleep(5_000);
        assertThat(coordinator.tick()).isTrue();

        assertThat(b.heartbeat().error()).contains(ErrorCode.UNKNOWN_MEMBER_ID);
        assertThat(a.owned).hasSize(3);
        assertDisjointCover(tps("t-0 t-1 t-2 t-3 t-4 t-5"), a, c);
        assertThat(describe().state()).isEqualTo(GroupState.STABLE);
    }

    @Test
    void aMemberWaitingForTheRebalanceIsNotEvictedWhileItWaits() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        settle(a, b);
        consumer("c", AssignmentStrategy.RANGE).join();
        a.join();
        // b is slow to rejoin; a waits longer than its own session timeout, but we owe it an answer
        for (int waited = 0; waited < SESSION_MS + 2_000; waited += 2_000) {
            time.sleep(2_000);
            b.heartbeat();
            coordinator.tick();
        }
        assertThat(describe().members()).extracting(MemberDescription::clientId).contains("a");
        b.join();
        assertThat(a.last().value().partitions()).hasSize(2);
    }

    @Test
    void aMemberAskingForAnotherStrategyIsRefusedUntilTheGroupIsEmpty() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        Consumer b = consumer("b", AssignmentStrategy.COOPERATIVE_STICKY).join();
        assertThat(b.last().error()).contains(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
        assertThat(describe().state()).isEqualTo(GroupState.STABLE);

        assertThat(a.commit(1).succeeded()).isTrue(); // so that the empty group is kept, with its generation
        assertThat(coordinator.leave(GROUP, a.memberId).succeeded()).isTrue();
        assertThat(describe().state()).isEqualTo(GroupState.EMPTY);
        assertThat(describe().strategy()).isEmpty();
        b.join();
        assertThat(b.last().value().generation()).isEqualTo(3);
        assertThat(b.last().value().strategy()).isEqualTo(AssignmentStrategy.COOPERATIVE_STICKY);
    }

    @Test
    void leavingRebalancesTheRestAtOnce() {
        Consumer a = consumer("a", AssignmentStrategy.ROUND_ROBIN).join();
        Consumer b = consumer("b", AssignmentStrategy.ROUND_ROBIN).join();
        settle(a, b);

        assertThat(coordinator.leave(GROUP, b.memberId).succeeded()).isTrue();
        assertThat(coordinator.leave(GROUP, b.memberId).error()).contains(ErrorCode.UNKNOWN_MEMBER_ID);
        assertThat(a.heartbeat().error()).contains(ErrorCode.REBALANCE_IN_PROGRESS);
        a.join();
        assertThat(a.owned).hasSize(6);

        assertThat(coordinator.leave(GROUP, a.memberId).succeeded()).isTrue();
        assertThat(coordinator.listGroups()).as("nothing left to remember").isEmpty();
    }

    @Test
    void aJoinReplacedByANewerOneIsAnswered() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        settle(a, b);
        consumer("c", AssignmentStrategy.RANGE).join();
        a.join();
        a.join();
        assertThat(a.results.get(a.results.size() - 1).error()).contains(ErrorCode.REBALANCE_IN_PROGRESS);
        b.join();
        assertThat(a.last().value().partitions()).hasSize(2);
    }

    @Test
    void joinRequestsAreValidated() {
        List<GroupResult<JoinResult>> answers = new ArrayList<>();
        coordinator.join(new JoinRequest("", "", "a", "h", Set.of("t"), SESSION_MS, REBALANCE_MS,
                AssignmentStrategy.RANGE), answers::add);
        coordinator.join(new JoinRequest(GROUP, "", "a", "h", Set.of("t"), 999, REBALANCE_MS,
                AssignmentStrategy.RANGE), answers::add);
        coordinator.join(new JoinRequest(GROUP, "", "a", "h", Set.of("t"), SESSION_MS, 0,
                AssignmentStrategy.RANGE), answers::add);
        coordinator.join(new JoinRequest(GROUP, "a-77", "a", "h", Set.of("t"), SESSION_MS, REBALANCE_MS,
                AssignmentStrategy.RANGE), answers::add);
        assertThat(answers).extracting(r -> r.error().orElseThrow()).containsExactly(ErrorCode.INVALID_GROUP_ID,
                ErrorCode.INVALID_SESSION_TIMEOUT, ErrorCode.INVALID_REQUEST, ErrorCode.UNKNOWN_MEMBER_ID);
        assertThat(coordinator.listGroups()).isEmpty();

        List<Consumer> four = new ArrayList<>();
        for (String id : List.of("a", "b", "c", "d")) {
            four.add(consumer(id, AssignmentStrategy.RANGE).join());
        }
        settle(four.toArray(Consumer[]::new));
        Consumer fifth = consumer("e", AssignmentStrategy.RANGE).join();
        assertThat(fifth.last().error()).contains(ErrorCode.GROUP_MAX_SIZE_REACHED);
    }

    @Test
    void cooperativeStickyRevokesOnlyWhatMovesAndHandsItOverAGenerationLater() {
        Consumer a = consumer("a", AssignmentStrategy.COOPERATIVE_STICKY).join();
        Consumer b = consumer("b", AssignmentStrategy.COOPERATIVE_STICKY).join();
        settle(a, b);
        Set<TopicPartition> aBefore = a.owned;
        Set<TopicPartition> bBefore = b.owned;
        assertThat(aBefore).hasSize(3);

        Consumer c = consumer("c", AssignmentStrategy.COOPERATIVE_STICKY).join();
        a.join();
        b.join();
        JoinResult aResult = a.last().value();
        JoinResult bResult = b.last().value();
        assertThat(aResult.revokedPartitions()).hasSize(1);
        assertThat(bResult.revokedPartitions()).hasSize(1);
        assertThat(aResult.mustRejoin()).isTrue();
        assertThat(a.owned).hasSize(2).isSubsetOf(aBefore);
        assertThat(b.owned).hasSize(2).isSubsetOf(bBefore);
        assertThat(c.owned).as("waits for the revocations").isEmpty();
        assertThat(describe().state()).isEqualTo(GroupState.COMPLETING_REBALANCE);
        assertThat(c.heartbeat().succeeded()).isTrue();
        assertThat(a.heartbeat().error()).contains(ErrorCode.REBALANCE_IN_PROGRESS);
        assertThat(a.commit(7).succeeded()).as("commits in the hand-over generation").isTrue();

        settle(a, b, c);
        assertThat(a.owned).isEqualTo(aResult.partitions());
        assertThat(b.owned).isEqualTo(bResult.partitions());
        Set<TopicPartition> moved = Assignments.sortedSet(aResult.revokedPartitions());
        moved.addAll(bResult.revokedPartitions());
        assertThat(c.owned).isEqualTo(moved);
        assertThat(a.last().value().revokedPartitions()).isEmpty();
        assertDisjointCover(tps("t-0 t-1 t-2 t-3 t-4 t-5"), a, b, c);
    }

    @Test
    void revokingMembersThatNeverRejoinAreRemovedAtTheDeadline() {
        Consumer a = consumer("a", AssignmentStrategy.COOPERATIVE_STICKY).join();
        Consumer b = consumer("b", AssignmentStrategy.COOPERATIVE_STICKY).join();
        Consumer c = consumer("c", AssignmentStrategy.COOPERATIVE_STICKY).join();
        settle(a, b, c);
        Consumer d = consumer("d", AssignmentStrategy.COOPERATIVE_STICKY).join();
        a.join();
        b.join();
        c.join();
        assertThat(describe().state()).isEqualTo(GroupState.COMPLETING_REBALANCE);
        List<Consumer> revoking = List.of(a, b, c).stream().filter(x -> x.last().value().mustRejoin()).toList();
        List<Consumer> keeping = List.of(a, b, c).stream().filter(x -> !x.last().value().mustRejoin()).toList();
        assertThat(revoking).as("quotas 2, 2, 1, 1: one partition moves").hasSize(1);

        // the revoking member heartbeats but never confirms its revocation; the others carry on
        time.sleep(REBALANCE_MS - 1);
        List.of(a, b, c, d).forEach(Consumer::heartbeat);
        assertThat(coordinator.tick()).isFalse();
        time.sleep(1);
        assertThat(coordinator.tick()).isTrue();
        for (Consumer x : revoking) {
            assertThat(x.heartbeat().error()).contains(ErrorCode.UNKNOWN_MEMBER_ID);
        }
        settle(keeping.get(0), keeping.get(1), d);
        assertDisjointCover(tps("t-0 t-1 t-2 t-3 t-4 t-5"), keeping.get(0), keeping.get(1), d);
    }

    @Test
    void partitionsAddedToASubscribedTopicRebalance() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        assertThat(coordinator.partitionsChanged("t", 6)).isFalse();
        assertThat(coordinator.partitionsChanged("unrelated", 3)).isFalse();
        assertThat(coordinator.partitionsChanged("t", 8)).isTrue();
        assertThat(a.heartbeat().error()).contains(ErrorCode.REBALANCE_IN_PROGRESS);
        a.join();
        assertThat(a.owned).hasSize(8);

        a.topics = Set.of("t", "later");
        a.join();
        assertThat(a.last().value().assignment()).containsOnlyKeys("t");
        assertThat(coordinator.partitionsChanged("later", 2)).as("created after being subscribed").isTrue();
        a.join();
        assertThat(a.last().value().assignment()).containsEntry("later", List.of(0, 1));
    }

    @Test
    void commitsAreFencedByMembershipAndGeneration() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        settle(a, b);
        int generation = describe().generation();

        assertThat(a.commit(generation - 1, offsets("t-0=1")).error()).contains(ErrorCode.ILLEGAL_GENERATION);
        assertThat(a.commit(generation + 1, offsets("t-0=1")).error()).contains(ErrorCode.ILLEGAL_GENERATION);
        List<GroupResult<Void>> answers = new ArrayList<>();
        coordinator.commitOffsets(GROUP, "stranger", generation, offsets("t-0=1"), answers::add);
        coordinator.commitOffsets(GROUP, "", -1, offsets("t-0=1"), answers::add);
        coordinator.commitOffsets(GROUP, a.memberId, generation,
                Map.of(tp("t-0"), new OffsetAndMetadata(1, "x".repeat(101))), answers::add);
        assertThat(answers).extracting(r -> r.error().orElseThrow()).containsExactly(ErrorCode.UNKNOWN_MEMBER_ID,
                ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.OFFSET_METADATA_TOO_LARGE);
        assertThat(coordinator.fetchOffsets(GROUP)).isEmpty();

        // A rebalance starts: a member that has not rejoined yet makes its final commit; once rejoined, it waits.
        consumer("c", AssignmentStrategy.RANGE).join();
        assertThat(a.commit(10).succeeded()).isTrue();
        a.join();
        assertThat(a.commit(generation, offsets("t-0=11")).error()).contains(ErrorCode.REBALANCE_IN_PROGRESS);
        assertThat(coordinator.fetchOffsets(GROUP, List.of(tp("t-0")))).containsEntry(tp("t-0"),
                OffsetAndMetadata.of(10));
    }

    @Test
    void aConsumerWithoutMembershipMayCommitToAnEmptyGroup() {
        List<GroupResult<Void>> answers = new ArrayList<>();
        coordinator.commitOffsets("simple", "", -1, offsets("t-0=5, t-1=6"), answers::add);
        assertThat(answers).containsExactly(GroupResult.done());
        assertThat(coordinator.fetchOffsets("simple", List.of(tp("t-0"), tp("t-2"))))
                .containsExactly(Map.entry(tp("t-0"), OffsetAndMetadata.of(5)));
        assertThat(coordinator.listGroups()).containsExactly(
                new GroupListing("simple", GroupState.EMPTY, 0, java.util.Optional.empty()));
    }

    @Test
    void aCommitIsVisibleAndAcknowledgedOnlyWhenDurable() {
        store.autoComplete(false);
        List<GroupResult<Void>> answers = new ArrayList<>();
        coordinator.commitOffsets("simple", "", -1, offsets("t-0=5"), answers::add);
        coordinator.commitOffsets("simple", "", -1, offsets("t-0=6"), answers::add);
        assertThat(answers).isEmpty();
        assertThat(coordinator.fetchOffsets("simple")).isEmpty();

        store.completeNext();
        assertThat(answers).containsExactly(GroupResult.done());
        assertThat(coordinator.fetchOffsets("simple")).containsEntry(tp("t-0"), OffsetAndMetadata.of(5));

        store.failNext(ErrorCode.NOT_LEADER);
        assertThat(answers.get(1).error()).contains(ErrorCode.NOT_LEADER);
        assertThat(coordinator.fetchOffsets("simple")).as("a failed append changes nothing")
                .containsEntry(tp("t-0"), OffsetAndMetadata.of(5));
        assertThat(store.log()).hasSize(1);
    }

    @Test
    void aSuccessorStartsAtTheOffsetACrashedMemberCommitted() {
        Consumer a = consumer("a", AssignmentStrategy.COOPERATIVE_STICKY).join();
        Consumer b = consumer("b", AssignmentStrategy.COOPERATIVE_STICKY).join();
        settle(a, b);
        Set<TopicPartition> aOwned = a.owned;
        assertThat(a.commit(42).succeeded()).isTrue();

        // a crashes: no leave, no more heartbeats
        for (int i = 0; i < 4; i++) {
            time.sleep(SESSION_MS / 3);
            b.heartbeat();
            coordinator.tick();
        }
        assertThat(describe().members()).hasSize(1);
        settle(b);
        assertThat(b.owned).containsAll(aOwned);
        Map<TopicPartition, OffsetAndMetadata> start = coordinator.fetchOffsets(GROUP, aOwned);
        assertThat(start).hasSize(aOwned.size()).allSatisfy((tp, o) -> assertThat(o.offset()).isEqualTo(42));
    }

    @Test
    void describeShowsMembersOffsetsAndLag() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        settle(a, b);
        assertThat(a.commit(a.generation, offsets("t-0=40, t-1=0")).succeeded()).isTrue();
        assertThat(b.commit(b.generation, Map.of(tp("t-3"), new OffsetAndMetadata(7, "from b"))).succeeded())
                .isTrue();

        GroupDescription d = describe();
        assertThat(d.state()).isEqualTo(GroupState.STABLE);
        assertThat(d.generation()).isEqualTo(a.generation);
        assertThat(d.strategy()).contains(AssignmentStrategy.RANGE);
        assertThat(d.members()).extracting(MemberDescription::clientId).containsExactly("a", "b");
        assertThat(d.members().get(0).host()).isEqualTo("/10.0.0.1");
        assertThat(d.members().get(0).assignment()).isEqualTo(Map.of("t", List.of(0, 1, 2)));
        assertThat(d.offsets().get(tp("t-3"))).isEqualTo(new CommittedOffset(7, "from b", time.milliseconds()));

        Map<TopicPartition, Long> highWatermarks = Map.of(tp("t-0"), 50L, tp("t-1"), 0L, tp("t-3"), 9L, tp("t-4"), 3L);
        HighWatermarks lookup = p -> highWatermarks.containsKey(p) ? OptionalLong.of(highWatermarks.get(p))
                : OptionalLong.empty();
        List<PartitionLag> lag = d.lag(lookup);
        assertThat(lag).extracting(PartitionLag::partition).containsExactlyElementsOf(tps("t-0 t-1 t-2 t-3 t-4 t-5"));
        assertThat(lag.get(0)).isEqualTo(new PartitionLag(tp("t-0"), java.util.Optional.of(a.memberId),
                OptionalLong.of(40), OptionalLong.of(50), OptionalLong.of(10)));
        assertThat(lag.get(1).lag()).hasValue(0);
        assertThat(lag.get(2).lag()).as("no commit, no hw").isEmpty();
        assertThat(lag.get(3).lag()).hasValue(2);
        assertThat(lag.get(4).lag()).as("hw but no commit").isEmpty();
        for (PartitionLag p : lag) {
            if (p.lag().isPresent()) {
                assertThat(p.lag().getAsLong()).isEqualTo(p.highWatermark().getAsLong() - p.committed().getAsLong());
            }
        }

        assertThat(coordinator.listGroups()).containsExactly(new GroupListing(GROUP, GroupState.STABLE, 2,
                java.util.Optional.of(AssignmentStrategy.RANGE)));
        assertThat(coordinator.describeGroup("nope").error()).contains(ErrorCode.UNKNOWN_GROUP);
    }

    @Test
    void offsetsOfAGroupWithMembersCannotBeResetOrDeleted() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        a.commit(3);
        List<GroupResult<Void>> answers = new ArrayList<>();
        coordinator.resetOffsets(GROUP, Map.of(tp("t-0"), 0L), answers::add);
        coordinator.deleteGroup(GROUP, answers::add);
        coordinator.deleteGroup("nope", answers::add);
        assertThat(answers).extracting(r -> r.error().orElseThrow()).containsExactly(ErrorCode.GROUP_NOT_EMPTY,
                ErrorCode.GROUP_NOT_EMPTY, ErrorCode.UNKNOWN_GROUP);

        coordinator.leave(GROUP, a.memberId);
        answers.clear();
        coordinator.resetOffsets(GROUP, Map.of(tp("t-0"), 0L, tp("t-5"), 100L), answers::add);
        assertThat(answers).containsExactly(GroupResult.done());
        assertThat(coordinator.fetchOffsets(GROUP)).containsEntry(tp("t-0"), OffsetAndMetadata.of(0))
                .containsEntry(tp("t-1"), OffsetAndMetadata.of(3)).containsEntry(tp("t-5"), OffsetAndMetadata.of(100));
        assertThat(describe().state()).isEqualTo(GroupState.EMPTY);

        coordinator.deleteGroup(GROUP, answers::add);
        assertThat(answers).containsExactly(GroupResult.done(), GroupResult.done());
        assertThat(coordinator.fetchOffsets(GROUP)).isEmpty();
        assertThat(coordinator.listGroups()).isEmpty();
        assertThat(store.log().subList(store.log().size() - 6, store.log().size()))
                .allMatch(OffsetRecord::isTombstone);

        GroupCoordinator reloaded = coordinator(0);
        assertThat(reloaded.loadOffsets(store.log())).isZero();
        assertThat(reloaded.fetchOffsets(GROUP)).isEmpty();
    }

    @Test
    void deletedOffsetsDisappearWhenTheTombstonesAreDurableAndStayIfTheyFail() {
        coordinator.commitOffsets("simple", "", -1, offsets("t-0=5, t-1=6"), r -> { });
        store.autoComplete(false);
        coordinator.commitOffsets("simple", "", -1, offsets("t-2=7"), r -> { });
        List<GroupResult<Void>> deleted = new ArrayList<>();
        coordinator.deleteGroup("simple", deleted::add);
        coordinator.commitOffsets("simple", "", -1, offsets("t-1=60"), r -> { });

        store.completeNext(); // the commit of t-2, in flight during the delete
        assertThat(coordinator.fetchOffsets("simple")).as("not deleted until durable").hasSize(3);
        store.failNext(ErrorCode.STORAGE_ERROR); // the tombstones
        store.completeNext(); // the new commit of t-1
        assertThat(deleted).extracting(r -> r.error().orElseThrow()).containsExactly(ErrorCode.STORAGE_ERROR);

        GroupCoordinator reloaded = coordinator(0);
        reloaded.loadOffsets(store.log());
        assertThat(coordinator.fetchOffsets("simple")).isEqualTo(reloaded.fetchOffsets("simple"))
                .isEqualTo(Map.of(tp("t-0"), OffsetAndMetadata.of(5), tp("t-1"), OffsetAndMetadata.of(60),
                        tp("t-2"), OffsetAndMetadata.of(7)));

        coordinator.deleteGroup("simple", deleted::add);
        store.completeAll();
        assertThat(deleted.get(1)).isEqualTo(GroupResult.done());
        assertThat(coordinator.fetchOffsets("simple")).isEmpty();
        assertThat(coordinator.listGroups()).isEmpty();
    }

    @Test
    void aDeleteAlsoTombstonesCommitsInFlight() {
        store.autoComplete(false);
        coordinator.commitOffsets("simple", "", -1, offsets("t-0=5"), r -> { });
        coordinator.deleteGroup("simple", r -> { });
        store.completeAll();
        assertThat(coordinator.fetchOffsets("simple")).isEmpty();
        assertThat(OffsetsTopic.compact(store.log())).isEmpty();
    }

    @Test
    void loadingTheLogOrItsCompactionGivesTheSameOffsets() {
        coordinator.commitOffsets("g1", "", -1, offsets("t-0=1, t-1=1"), r -> { });
        coordinator.commitOffsets("g2", "", -1, offsets("t-0=2"), r -> { });
        coordinator.commitOffsets("g1", "", -1, offsets("t-0=3"), r -> { });
        coordinator.deleteGroup("g2", r -> { });
        coordinator.resetOffsets("g3", Map.of(tp("t-4"), 4L), r -> { });

        GroupCoordinator fromLog = coordinator(0);
        GroupCoordinator fromSnapshot = coordinator(0);
        assertThat(fromLog.loadOffsets(store.log())).isEqualTo(2);
        assertThat(fromSnapshot.loadOffsets(OffsetsTopic.compact(store.log()))).isEqualTo(2);
        assertThat(OffsetsTopic.compact(store.log())).hasSize(3);
        for (String g : List.of("g1", "g2", "g3")) {
            assertThat(fromLog.fetchOffsets(g)).isEqualTo(coordinator.fetchOffsets(g))
                    .isEqualTo(fromSnapshot.fetchOffsets(g));
        }
        assertThat(fromLog.fetchOffsets("g1")).isEqualTo(Map.of(tp("t-0"), OffsetAndMetadata.of(3),
                tp("t-1"), OffsetAndMetadata.of(1)));
        assertThat(fromLog.listGroups()).extracting(GroupListing::groupId).containsExactly("g1", "g3");
    }

    // -----------------------------------------------------------------------------------------------------------
    // Unloading: leadership of the offsets partition moved away

    @Test
    void unloadingAnswersEverythingWaitingNotCoordinatorAndForgetsTheGroup() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        settle(a, b);
        assertThat(a.commit(5).succeeded()).isTrue();
        coordinator.commitOffsets("other", "", -1, offsets("t-0=1"), r -> { });

        store.autoComplete(false);
        List<GroupResult<Void>> commits = new ArrayList<>();
        coordinator.commitOffsets(GROUP, a.memberId, a.generation, offsets("t-0=7"), commits::add);
        Consumer c = consumer("c", AssignmentStrategy.RANGE).join(); // a rebalance: c waits for a and b
        a.join(); // a waits too
        List<GroupResult<Void>> otherCommits = new ArrayList<>();
        coordinator.commitOffsets("other", "", -1, offsets("t-0=2"), otherCommits::add);
        assertThat(commits).isEmpty();
        assertThat(c.results).isEmpty();
        int answersToA = a.results.size();

        Set<String> unloaded = coordinator.unloadGroups(GROUP::equals);

        assertThat(unloaded).containsExactly(GROUP);
        assertThat(commits).extracting(r -> r.error().orElseThrow()).containsExactly(ErrorCode.NOT_COORDINATOR);
        assertThat(c.results).extracting(r -> r.error().orElseThrow()).containsExactly(ErrorCode.NOT_COORDINATOR);
        assertThat(a.results).hasSize(answersToA + 1);
        assertThat(a.last().error()).contains(ErrorCode.NOT_COORDINATOR);
        assertThat(coordinator.fetchOffsets(GROUP)).isEmpty();
        assertThat(coordinator.describeGroup(GROUP).error()).contains(ErrorCode.UNKNOWN_GROUP);
        assertThat(coordinator.listGroups()).extracting(GroupListing::groupId).containsExactly("other");
        assertThat(b.heartbeat().error()).contains(ErrorCode.UNKNOWN_MEMBER_ID);
        assertThat(otherCommits).as("other groups keep waiting").isEmpty();

        // The unloaded group's append completes late: answered once already, and it stays out of the cache.
        store.completeAll();
        assertThat(commits).hasSize(1);
        assertThat(otherCommits).containsExactly(GroupResult.done());
        assertThat(coordinator.fetchOffsets(GROUP)).isEmpty();
        assertThat(coordinator.fetchOffsets("other")).containsEntry(tp("t-0"), OffsetAndMetadata.of(2));
        assertThat(coordinator.listGroups()).extracting(GroupListing::groupId).containsExactly("other");
        coordinator.tick();
        time.sleep(REBALANCE_MS * 2L);
        assertThat(coordinator.tick()).as("nothing of the unloaded group is left to time out").isFalse();
        assertThat(c.results).hasSize(1);
    }

    @Test
    void aGroupLoadedAgainAfterAnUnloadIsWhatTheLogSaysWithNoFormerMembers() {
        Consumer a = consumer("a", AssignmentStrategy.RANGE).join();
        Consumer b = consumer("b", AssignmentStrategy.RANGE).join();
        settle(a, b);
        assertThat(a.commit(5).succeeded()).isTrue();
        store.autoComplete(false);
        List<GroupResult<Void>> late = new ArrayList<>();
        coordinator.commitOffsets(GROUP, b.memberId, b.generation, offsets("t-5=9"), late::add);
        coordinator.unloadGroups(GROUP::equals);
        store.completeAll(); // durable after all: a replay sees it
        assertThat(late).extracting(r -> r.error().orElseThrow()).containsExactly(ErrorCode.NOT_COORDINATOR);
        store.autoComplete(true);

        // Leadership returns: the partition is replayed from scratch.
        assertThat(coordinator.loadOffsets(store.log())).isEqualTo(1);
        GroupCoordinator replayed = coordinator(0);
        replayed.loadOffsets(store.log());
        assertThat(coordinator.fetchOffsets(GROUP)).isEqualTo(replayed.fetchOffsets(GROUP))
                .containsEntry(tp("t-0"), OffsetAndMetadata.of(5)).containsEntry(tp("t-5"), OffsetAndMetadata.of(9));
        assertThat(describe().members()).isEmpty();
        assertThat(describe().state()).isEqualTo(GroupState.EMPTY);

        // Former members are unknown and rejoin; none of them holds the new rebalance up.
        assertThat(a.heartbeat().error()).contains(ErrorCode.UNKNOWN_MEMBER_ID);
        a.join();
        assertThat(a.last().error()).contains(ErrorCode.UNKNOWN_MEMBER_ID);
        Consumer fresh = consumer("fresh", AssignmentStrategy.RANGE).join();
        assertThat(fresh.results).as("completes at once").hasSize(1);
        assertThat(fresh.last().value().partitions()).hasSize(6);
        assertThat(fresh.commit(fresh.generation, offsets("t-0=6")).succeeded()).isTrue();
        assertThat(coordinator.fetchOffsets(GROUP)).containsEntry(tp("t-0"), OffsetAndMetadata.of(6));
    }

    @Test
    void aLateCompletionOfAnUnloadedAppendLeavesTheReloadedGroupAlone() {
        coordinator.commitOffsets("simple", "", -1, offsets("t-0=1"), r -> { });
        store.autoComplete(false);
        List<GroupResult<Void>> answers = new ArrayList<>();
        coordinator.commitOffsets("simple", "", -1, offsets("t-0=2"), answers::add);
        coordinator.unloadGroups(id -> id.startsWith("s"));
        coordinator.loadOffsets(store.log()); // back, from the log as it is
        coordinator.commitOffsets("simple", "", -1, offsets("t-1=3"), answers::add);

        store.failNext(ErrorCode.NOT_LEADER); // the old append: it was answered already
        store.completeNext(); // the new one
        assertThat(answers).extracting(r -> r.error().orElse(null)).containsExactly(ErrorCode.NOT_COORDINATOR,
                null);
        assertThat(coordinator.fetchOffsets("simple")).isEqualTo(Map.of(tp("t-0"), OffsetAndMetadata.of(1),
                tp("t-1"), OffsetAndMetadata.of(3)));
        GroupCoordinator replayed = coordinator(0);
        replayed.loadOffsets(store.log());
        assertThat(coordinator.fetchOffsets("simple")).isEqualTo(replayed.fetchOffsets("simple"));

        // a delete after the reload tombstones what is in flight now, not what the unloaded append held
        coordinator.commitOffsets("simple", "", -1, offsets("t-2=4"), r -> { });
        coordinator.deleteGroup("simple", answers::add);
        store.completeAll();
        assertThat(answers.get(2)).isEqualTo(GroupResult.done());
        assertThat(coordinator.fetchOffsets("simple")).isEmpty();
        assertThat(OffsetsTopic.compact(store.log())).isEmpty();
    }

    @Test
    void completionsMayCallBackIntoTheCoordinator() {
        List<GroupResult<Void>> nested = new ArrayList<>();
        coordinator.join(new JoinRequest(GROUP, "", "a", "h", Set.of("t"), SESSION_MS, REBALANCE_MS,
                AssignmentStrategy.RANGE), joined -> {
                    JoinResult r = joined.value();
                    nested.add(coordinator.heartbeat(GROUP, r.memberId(), r.generation()));
                    coordinator.commitOffsets(GROUP, r.memberId(), r.generation(), offsets("t-0=9"), nested::add);
                });
        assertThat(nested).containsExactly(GroupResult.done(), GroupResult.done());
        assertThat(coordinator.fetchOffsets(GROUP)).containsEntry(tp("t-0"), OffsetAndMetadata.of(9));
    }
}
