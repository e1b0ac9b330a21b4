package io.millrace.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.millrace.common.ErrorCode;
import io.millrace.common.ManualTime;
import io.millrace.common.TopicPartition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A seeded, deterministic simulation of consumer groups: a fake clock, an in-memory offsets log whose appends
 * complete late (or fail), and simulated consumers that behave as real ones do (eager members commit and give up
 * everything before rejoining; cooperative members keep their partitions, and commit and rejoin after a revocation).
 * Random steps: members join, heartbeat, consume and commit, leave, crash silently (and later commit as zombies),
 * partitions are added, a consumer commits without membership, an operator resets or deletes offsets, the
 * coordinator fails over and reloads the log, leadership of the offsets partition moves away (the groups are
 * unloaded) and comes back (the same coordinator reloads the log). After every step the invariants below are checked; a failing seed
 * replays exactly.
 *
 * <ul>
 *   <li>no partition is owned by two members in one generation, nor (cooperative) by one member in a generation and
 *   another in the next while the first is still in the group; consumers that are members never own a partition at
 *   the same moment;</li>
 *   <li>when a group is stable every subscribed partition has exactly one owner, and with identical subscriptions the
 *   load is balanced (3 members on 6 partitions: 2 each);</li>
 *   <li>cooperative-sticky revokes only partitions that move, and the fewest possible;</li>
 *   <li>every commit is accepted or refused exactly as membership and generation say (stale generations refused);</li>
 *   <li>committed offsets are what the acknowledged commits say, before and after failover, and a member that gets a
 *   partition (from a crashed, evicted or departed owner) starts exactly at its last acknowledged commit;</li>
 *   <li>describe's lag is high watermark minus committed offset.</li>
 * </ul>
 */
class GroupSimulationTest {

    private static final Map<String, AtomicLong> SEEN = new TreeMap<>();

    static LongStream seeds() {
        return LongStream.range(0, 200);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void invariantsHoldUnderChurn(long seed) {
        new Simulation(seed).run(500);
    }

    /** The simulation must actually reach the situations the invariants are about. */
    @AfterAll
    static void everyScenarioWasExercised() {
        System.out.println("simulation coverage: " + SEEN);
        for (String scenario : List.of("stable 3 members on 6 partitions", "cooperative hand-over",
                "member evicted after crash", "successor started at a crashed owner's commit",
                "slow revocation got a member removed",
                "stale generation refused", "non-member commit refused", "commit refused while rejoining",
                "final commit before rejoining accepted", "rebalance timeout removed a member", "failover",
                "leadership moved away and back", "waiting commit answered not coordinator",
                "partitions added", "simple consumer commit", "offsets deleted", "offsets reset",
                "store failure", "inconsistent protocol refused", "lag checked")) {
            assertThat(SEEN.getOrDefault(scenario, new AtomicLong()).get()).as(scenario).isPositive();
        }
    }

    private static void seen(String scenario) {
        SEEN.computeIfAbsent(scenario, s -> new AtomicLong()).incrementAndGet();
    }

    private enum Phase { IDLE, JOINING, ACTIVE, REVOKING, CRASHED, GONE }

    private static final class Simulation {

        final long seed;
        final Random random;
        final ManualTime time = new ManualTime();
        final InMemoryOffsetStore store = new InMemoryOffsetStore();
        final AtomicLong memberIds = new AtomicLong();
        final GroupSettings settings;
        final Map<String, Integer> counts = new TreeMap<>();
        final Map<TopicPartition, Long> highWatermarks = new HashMap<>();
        final Map<String, AssignmentStrategy> strategies = new TreeMap<>();
        final Map<String, Set<String>> sharedTopics = new TreeMap<>();
        final boolean identicalSubscriptions;
        final List<Client> clients = new ArrayList<>();
        /** The model: what acknowledged commits say each group's committed offset is. */
        final Map<String, Map<TopicPartition, Long>> acked = new TreeMap<>();
        /** Generations seen in join results since the last failover: group → generation → member → partitions. */
        final Map<String, TreeMap<Integer, Generation>> history = new TreeMap<>();
        /** Member ids with a join in flight (the coordinator refuses their commits during a rebalance). */
        final Set<String> pendingJoins = new HashSet<>();
        /** Partitions a crashed client owned, to notice successors. */
        final Map<String, Set<TopicPartition>> ownedByCrashed = new TreeMap<>();
        GroupCoordinator coordinator;
        /** While the coordinator unloads: what was waiting is answered NOT_COORDINATOR. */
        boolean unloading;
        int step;

        /** One generation as its members learned it. */
        static final class Generation {
            final Map<String, Set<TopicPartition>> assignments = new TreeMap<>();
            final Map<String, Set<String>> topics = new TreeMap<>();
            final Map<String, Set<TopicPartition>> revoked = new TreeMap<>();
            Map<String, Integer> counts;
            boolean checked;
        }

        Simulation(long seed) {
            this.seed = seed;
            this.random = new Random(seed);
            this.settings = new GroupSettings(1_000, 60_000, random.nextBoolean() ? 0 : 1_500, 100, 64);
            counts.put("t0", seed % 2 == 0 ? 6 : 2 + random.nextInt(7));
            counts.put("t1", 1 + random.nextInt(4));
            AssignmentStrategy[] all = AssignmentStrategy.values();
            strategies.put("g0", all[(int) (seed % all.length)]);
            strategies.put("g1", all[random.nextInt(all.length)]);
            sharedTopics.put("g0", Set.of("t0"));
            sharedTopics.put("g1", Set.of("t0", "t1"));
            identicalSubscriptions = random.nextInt(3) != 0;
            coordinator = newCoordinator();
        }

        GroupCoordinator newCoordinator() {
            GroupCoordinator c = new GroupCoordinator(time, store, () -> String.valueOf(memberIds.incrementAndGet()),
                    settings);
            counts.forEach(c::partitionsChanged);
            return c;
        }

        void run(int steps) {
            for (step = 0; step < steps; step++) {
                try {
                    time.sleep(random.nextInt(400));
                    produce();
                    heartbeats();
                    joinIdle();
                    act();
                    coordinator.tick();
                    completeAppends();
                    checkInvariants();
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("seed " + seed + ", step " + step + ": " + e, e);
                }
            }
        }

        // -------------------------------------------------------------------------------------------------------
        // Simulated consumers

        final class Client {
            final String clientId;
            final String group;
            final AssignmentStrategy strategy;
            final Set<String> topics;
            final int sessionMs = 3_000 + random.nextInt(5_000);
            final int rebalanceMs = 4_000 + random.nextInt(8_000);
            String memberId = "";
            int generation = -1;
            Phase phase = Phase.IDLE;
            final TreeMap<TopicPartition, Long> positions = new TreeMap<>(Assignments.ORDER);
            long nextHeartbeat;
            int epoch;
            /** Busy until this step: heart-beats, but ignores rebalances (a consumer stuck in its processing). */
            int stalledUntil = -1;
            /**
             * Whether, since it last (re)gained membership, it was ever slow to rejoin (stalled, or waiting for a
             * commit before rejoining) or lived through a failover. Only such a member may lose its membership.
             */
            boolean excused;
            /** Revoked, committed, and will rejoin as soon as it is no longer stalled. */
            boolean rejoinWhenFree;

            Client(String clientId, String group, AssignmentStrategy strategy, Set<String> topics) {
                this.clientId = clientId;
                this.group = group;
                this.strategy = strategy;
                this.topics = topics;
            }

            boolean live() {
                return phase != Phase.CRASHED && phase != Phase.GONE;
            }

            void join() {
                phase = Phase.JOINING;
                int at = epoch;
                String asked = memberId;
                if (!asked.isEmpty()) {
                    pendingJoins.add(asked);
                }
                coordinator.join(new JoinRequest(group, memberId, clientId, "host-" + clientId, topics, sessionMs,
                        rebalanceMs, strategy), result -> {
                            pendingJoins.remove(asked);
                            if (at == epoch) {
                                onJoin(result);
                            } else if (result.succeeded()) {
                                record(this, result.value()); // a crashed member still got a generation
                            }
                        });
            }

            void onJoin(GroupResult<JoinResult> result) {
                if (!result.succeeded()) {
                    assertThat(result.error()).as("join of %s", clientId).contains(ErrorCode.UNKNOWN_MEMBER_ID);
                    assertThat(excused).as("a responsive member (%s) lost its membership", clientId).isTrue();
                    reset(false);
                    return;
                }
                JoinResult r = result.value();
                record(this, r);
                memberId = r.memberId();
                generation = r.generation();
                nextHeartbeat = time.milliseconds() + sessionMs / 4;
                Map<TopicPartition, OffsetAndMetadata> finalCommit = new TreeMap<>(Assignments.ORDER);
                for (TopicPartition tp : r.revokedPartitions()) {
                    Long position = positions.remove(tp);
                    if (position != null && r.mustRejoin()) {
                        finalCommit.put(tp, OffsetAndMetadata.of(position));
                    }
                }
                if (strategy.protocol() == RebalanceProtocol.EAGER) {
                    assertThat(positions).as("eager members rejoin empty-handed").isEmpty();
                }
                for (TopicPartition tp : r.partitions()) {
                    if (!positions.containsKey(tp)) {
                        positions.put(tp, startingOffset(tp));
                    }
                }
                assertThat(positions.keySet()).isEqualTo(r.partitions());
                phase = Phase.ACTIVE;
                if (r.mustRejoin()) {
                    revokeThenRejoin(finalCommit);
                }
            }

            /** Where a newly assigned partition starts: the last acknowledged commit, exactly. */
            long startingOffset(TopicPartition tp) {
                Map<TopicPartition, OffsetAndMetadata> fetched = coordinator.fetchOffsets(group, List.of(tp));
                Long expected = acked.getOrDefault(group, Map.of()).get(tp);
                if (expected == null) {
                    assertThat(fetched).as("%s has no commit", tp).isEmpty();
                    return 0;
                }
                assertThat(fetched.get(tp)).as("start of %s for %s", tp, clientId).isNotNull();
                assertThat(fetched.get(tp).offset()).as("start of %s for %s", tp, clientId).isEqualTo(expected);
                if (ownedByCrashed.containsKey(group) && ownedByCrashed.get(group).remove(tp)) {
                    seen("successor started at a crashed owner's commit");
                }
                return expected;
            }

            /**
             * Commits what it gives up, waits for the answer, then rejoins (Kafka's onPartitionsRevoked). Now and then
             * the revocation is slow (a long onPartitionsRevoked), past the group's deadline.
             */
            void revokeThenRejoin(Map<TopicPartition, OffsetAndMetadata> finalCommit) {
                if (random.nextInt(10) == 0) {
                    stalledUntil = step + 20 + random.nextInt(60);
                }
                if (finalCommit.isEmpty() && step >= stalledUntil) {
                    join();
                    return;
                }
                phase = Phase.REVOKING;
                excused = true;
                if (finalCommit.isEmpty()) {
                    rejoinWhenFree = true;
                    return;
                }
                int at = epoch;
                commit(generation, finalCommit, r -> {
                    if (at == epoch && phase == Phase.REVOKING) {
                        if (step < stalledUntil) {
                            rejoinWhenFree = true;
                        } else {
                            join();
                        }
                    }
                });
            }

            void heartbeat() {
                if (rejoinWhenFree && phase == Phase.REVOKING && step >= stalledUntil) {
                    rejoinWhenFree = false;
                    join();
                    return;
                }
                if (!(phase == Phase.ACTIVE || phase == Phase.REVOKING) || time.milliseconds() < nextHeartbeat) {
                    return;
                }
                nextHeartbeat = time.milliseconds() + sessionMs / 4;
                GroupResult<Void> r = coordinator.heartbeat(group, memberId, generation);
                if (r.succeeded() || phase == Phase.REVOKING && r.error().get() == ErrorCode.REBALANCE_IN_PROGRESS) {
                    return;
                }
                switch (r.error().get()) {
                    case REBALANCE_IN_PROGRESS -> {
                        if (step < stalledUntil) {
                            return; // keeps reading; the rebalance waits for it, up to its timeout
                        }
                        if (strategy.protocol() == RebalanceProtocol.EAGER) {
                            Map<TopicPartition, OffsetAndMetadata> all = new TreeMap<>(Assignments.ORDER);
                            positions.forEach((tp, pos) -> all.put(tp, OffsetAndMetadata.of(pos)));
                            positions.clear();
                            revokeThenRejoin(all);
                        } else {
                            join();
                        }
                    }
                    case UNKNOWN_MEMBER_ID -> {
                        assertThat(excused).as("a responsive member (%s) lost its membership", clientId).isTrue();
                        if (rejoinWhenFree) {
                            seen("slow revocation got a member removed");
                        } else if (stalledUntil >= 0) {
                            seen("rebalance timeout removed a member");
                        }
                        reset(false);
                    }
                    case ILLEGAL_GENERATION -> {
                        assertThat(excused).as("a responsive member (%s) missed a generation", clientId).isTrue();
                        reset(true);
                    }
                    default -> throw new AssertionError("heartbeat of " + clientId + ": " + r);
                }
            }

            /** Lost its membership: drop everything and join again. */
            void reset(boolean keepMemberId) {
                epoch++;
                positions.clear();
                generation = -1;
                stalledUntil = -1;
                excused = false;
                rejoinWhenFree = false;
                if (!keepMemberId) {
                    memberId = "";
                }
                phase = Phase.IDLE;
            }

            void consumeAndCommit() {
                // a reset may have put the position past the end; then there is nothing to read yet
                positions.replaceAll((tp, pos) -> pos
                        + random.nextInt((int) Math.max(0, highWatermarks.get(tp) - pos) + 1));
                Map<TopicPartition, OffsetAndMetadata> offsets = new TreeMap<>(Assignments.ORDER);
                positions.forEach((tp, pos) -> offsets.put(tp, new OffsetAndMetadata(pos, clientId)));
                commit(generation, offsets, r -> { });
            }

            void commit(int generation, Map<TopicPartition, OffsetAndMetadata> offsets,
                        Completion<Void> then) {
                Simulation.this.commit(group, memberId, generation, offsets, then);
            }
        }

        /** Commits and checks that the coordinator accepts or refuses it exactly as membership says. */
        void commit(String group, String memberId, int generation, Map<TopicPartition, OffsetAndMetadata> offsets,
                    Completion<Void> then) {
            Optional<ErrorCode> expected = expectedCommitAnswer(group, memberId, generation);
            boolean[] answered = {false};
            coordinator.commitOffsets(group, memberId, generation, offsets, r -> {
                answered[0] = true;
                if (expected.isPresent()) {
                    assertThat(r.error()).as("commit of %s gen %d to %s", memberId, generation, group)
                            .isEqualTo(expected);
                    switch (expected.get()) {
                        case ILLEGAL_GENERATION -> seen("stale generation refused");
                        case UNKNOWN_MEMBER_ID -> seen("non-member commit refused");
                        case REBALANCE_IN_PROGRESS -> seen("commit refused while rejoining");
                        default -> { }
                    }
                } else if (r.succeeded()) {
                    Map<TopicPartition, Long> model =
                            acked.computeIfAbsent(group, g -> new TreeMap<>(Assignments.ORDER));
                    offsets.forEach((tp, o) -> model.put(tp, o.offset()));
                } else if (unloading) {
                    assertThat(r.error()).as("commit in flight during an unload").contains(ErrorCode.NOT_COORDINATOR);
                    seen("waiting commit answered not coordinator");
                } else {
                    assertThat(r.error()).as("only injected store failures").contains(ErrorCode.STORAGE_ERROR);
                }
                then.complete(r);
            });
            if (expected.isPresent()) {
                assertThat(answered[0]).as("refusals are answered at once").isTrue();
            }
        }

        Optional<ErrorCode> expectedCommitAnswer(String group, String memberId, int generation) {
            GroupResult<GroupDescription> described = coordinator.describeGroup(group);
            Optional<GroupDescription> d = described.succeeded() ? Optional.of(described.value()) : Optional.empty();
            boolean hasMembers = d.isPresent() && !d.get().members().isEmpty();
            if (generation < 0 && memberId.isEmpty()) {
                return hasMembers ? Optional.of(ErrorCode.UNKNOWN_MEMBER_ID) : Optional.empty();
            }
            if (d.isEmpty() || d.get().members().stream().noneMatch(m -> m.memberId().equals(memberId))) {
                return Optional.of(ErrorCode.UNKNOWN_MEMBER_ID);
            }
            if (generation != d.get().generation()) {
                return Optional.of(ErrorCode.ILLEGAL_GENERATION);
            }
            if (d.get().state() == GroupState.PREPARING_REBALANCE) {
                if (pendingJoins.contains(memberId)) {
                    return Optional.of(ErrorCode.REBALANCE_IN_PROGRESS);
                }
                seen("final commit before rejoining accepted");
            }
            return Optional.empty();
        }

        void record(Client client, JoinResult r) {
            assertThat(r.memberId()).startsWith(client.clientId + "-");
            Generation g = history.computeIfAbsent(client.group, k -> new TreeMap<>())
                    .computeIfAbsent(r.generation(), k -> new Generation());
            Set<TopicPartition> previous = g.assignments.putIfAbsent(r.memberId(), r.partitions());
            if (previous != null) {
                assertThat(r.partitions()).as("same generation, same assignment").isEqualTo(previous);
                assertThat(r.revokedPartitions()).isEmpty();
                return;
            }
            g.revoked.put(r.memberId(), r.revokedPartitions());
            g.topics.put(r.memberId(), client.topics);
            g.counts = Map.copyOf(counts);
        }

        // -------------------------------------------------------------------------------------------------------
        // Steps

        void produce() {
            counts.forEach((topic, n) -> {
                for (int p = 0; p < n; p++) {
                    TopicPartition tp = new TopicPartition(topic, p);
                    highWatermarks.merge(tp, (long) random.nextInt(3), Long::sum);
                }
            });
        }

        void heartbeats() {
            for (Client c : new ArrayList<>(clients)) {
                if (c.live()) {
                    c.heartbeat();
                }
            }
        }

        void joinIdle() {
            for (Client c : new ArrayList<>(clients)) {
                if (c.phase == Phase.IDLE) {
                    c.join();
                }
            }
        }

        void act() {
            int dice = random.nextInt(100);
            if (dice < 10) {
                newClient();
            } else if (dice < 35) {
                pick(Phase.ACTIVE).ifPresent(Client::consumeAndCommit);
            } else if (dice < 39) {
                pick(Phase.ACTIVE).ifPresent(this::leave);
            } else if (dice < 43) {
                pick(Phase.ACTIVE, Phase.JOINING, Phase.REVOKING).ifPresent(this::crash);
            } else if (dice < 46) {
                addPartitions();
            } else if (dice < 51) {
                pick(Phase.ACTIVE).ifPresent(c -> c.commit(c.generation - 1, someOffsets(c), r -> { }));
            } else if (dice < 55) {
                pick(Phase.CRASHED).ifPresent(c -> c.commit(c.generation, someOffsets(c), r -> { }));
            } else if (dice < 58) {
                pick(Phase.JOINING).filter(c -> !c.memberId.isEmpty())
                        .ifPresent(c -> c.commit(c.generation, someOffsets(c), r -> { }));
            } else if (dice < 63) {
                simpleCommit();
            } else if (dice < 66) {
                admin();
            } else if (dice < 68) {
                wrongStrategy();
            } else if (dice < 69) {
                failover();
            } else if (dice < 71) {
                pick(Phase.ACTIVE).ifPresent(c -> {
                    c.stalledUntil = step + 20 + random.nextInt(60);
                    c.excused = true;
                });
            } else if (dice < 72) {
                leadershipMovesAwayAndBack();
            }
        }

        Optional<Client> pick(Phase... phases) {
            List<Client> candidates = clients.stream().filter(c -> List.of(phases).contains(c.phase)).toList();
            return candidates.isEmpty() ? Optional.empty()
                    : Optional.of(candidates.get(random.nextInt(candidates.size())));
        }

        Map<TopicPartition, OffsetAndMetadata> someOffsets(Client c) {
            Map<TopicPartition, OffsetAndMetadata> offsets = new TreeMap<>(Assignments.ORDER);
            TopicPartition tp = new TopicPartition("t0", random.nextInt(counts.get("t0")));
            offsets.put(tp, OffsetAndMetadata.of(c.positions.getOrDefault(tp, 0L)));
            return offsets;
        }

        void newClient() {
            String group = random.nextBoolean() ? "g0" : "g1";
            if (clients.stream().filter(c -> c.group.equals(group) && c.live()).count() >= 5) {
                return;
            }
            Set<String> topics = sharedTopics.get(group);
            if (!identicalSubscriptions) {
                topics = random.nextBoolean() ? Set.of("t0") : random.nextBoolean() ? Set.of("t1") : Set.of("t0", "t1");
            }
            Client c = new Client("c" + clients.size(), group, strategies.get(group), topics);
            clients.add(c);
            c.join();
        }

        void leave(Client c) {
            Map<TopicPartition, OffsetAndMetadata> offsets = new TreeMap<>(Assignments.ORDER);
            c.positions.forEach((tp, pos) -> offsets.put(tp, OffsetAndMetadata.of(pos)));
            if (!offsets.isEmpty()) {
                c.commit(c.generation, offsets, r -> { });
            }
            // after a failover it may not know yet that it is no longer a member
            GroupResult<GroupDescription> d = coordinator.describeGroup(c.group);
            boolean member = d.succeeded()
                    && d.value().members().stream().anyMatch(m -> m.memberId().equals(c.memberId));
            GroupResult<Void> left = coordinator.leave(c.group, c.memberId);
            assertThat(left.error()).as("%s leaves", c.clientId)
                    .isEqualTo(member ? Optional.empty() : Optional.of(ErrorCode.UNKNOWN_MEMBER_ID));
            c.epoch++;
            c.phase = Phase.GONE;
            c.positions.clear();
        }

        void crash(Client c) {
            c.epoch++;
            c.phase = Phase.CRASHED;
            ownedByCrashed.computeIfAbsent(c.group, g -> new HashSet<>()).addAll(c.positions.keySet());
        }

        void addPartitions() {
            String topic = random.nextBoolean() ? "t0" : "t1";
            if (counts.get(topic) >= 12) {
                return;
            }
            int n = counts.get(topic) + 1 + random.nextInt(2);
            counts.put(topic, n);
            coordinator.partitionsChanged(topic, n);
            seen("partitions added");
        }

        void simpleCommit() {
            TopicPartition tp = new TopicPartition("t1", random.nextInt(counts.get("t1")));
            commit("s", "", -1, Map.of(tp, OffsetAndMetadata.of(random.nextInt(1000))), r -> {
                if (r.succeeded()) {
                    seen("simple consumer commit");
                }
            });
        }

        /** An operator resets or deletes offsets: allowed only while the group has no members. */
        void admin() {
            String group = List.of("s", "g0", "g1").get(random.nextInt(3));
            GroupResult<GroupDescription> d = coordinator.describeGroup(group);
            boolean empty = !d.succeeded() || d.value().members().isEmpty();
            if (random.nextBoolean()) {
                TopicPartition tp = new TopicPartition("t0", random.nextInt(counts.get("t0")));
                long offset = random.nextInt(50);
                coordinator.resetOffsets(group, Map.of(tp, offset), r -> {
                    if (!empty) {
                        assertThat(r.error()).contains(ErrorCode.GROUP_NOT_EMPTY);
                    } else if (r.succeeded()) {
                        acked.computeIfAbsent(group, g -> new TreeMap<>(Assignments.ORDER)).put(tp, offset);
                        seen("offsets reset");
                    }
                });
            } else {
                coordinator.deleteGroup(group, r -> {
                    if (!d.succeeded()) {
                        assertThat(r.error()).contains(ErrorCode.UNKNOWN_GROUP);
                    } else if (!empty) {
                        assertThat(r.error()).contains(ErrorCode.GROUP_NOT_EMPTY);
                    } else if (r.succeeded()) {
                        acked.remove(group);
                        seen("offsets deleted");
                    }
                });
            }
        }

        void wrongStrategy() {
            String group = random.nextBoolean() ? "g0" : "g1";
            GroupResult<GroupDescription> d = coordinator.describeGroup(group);
            if (!d.succeeded() || d.value().members().isEmpty()) {
                return;
            }
            AssignmentStrategy other = AssignmentStrategy.values()[(strategies.get(group).ordinal() + 1) % 3];
            List<GroupResult<JoinResult>> answer = new ArrayList<>();
            coordinator.join(new JoinRequest(group, "", "intruder", "h", Set.of("t0"), 5_000, 5_000, other),
                    answer::add);
            assertThat(answer).hasSize(1);
            assertThat(answer.get(0).error()).contains(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
            seen("inconsistent protocol refused");
        }

        /** The coordinator's broker dies: appends in flight are lost, a new coordinator loads the log. */
        void failover() {
            store.dropPending();
            coordinator = newCoordinator();
            List<OffsetRecord> log = random.nextBoolean() ? store.log() : OffsetsTopic.compact(store.log());
            coordinator.loadOffsets(log);
            pendingJoins.clear();
            history.clear();
            for (Client c : clients) {
                c.excused = true;
                if (c.phase == Phase.JOINING || c.phase == Phase.REVOKING) {
                    c.reset(false); // their requests died with the old coordinator
                }
            }
            seen("failover");
        }

        /**
         * Leadership of the offsets partition moves to another broker and back: the coordinator unloads every group
         * (the simulation has one offsets partition), the deposed leader fails the appends in flight, and the same
         * coordinator replays the log when leadership returns. Joining members' requests are answered
         * NOT_COORDINATOR, after which they rejoin from scratch (as after a failover).
         */
        void leadershipMovesAwayAndBack() {
            for (Client c : clients) {
                c.excused = true;
                if (c.phase == Phase.JOINING || c.phase == Phase.REVOKING) {
                    c.reset(false);
                }
            }
            unloading = true;
            coordinator.unloadGroups(group -> true);
            unloading = false;
            assertThat(coordinator.listGroups()).isEmpty();
            while (store.failNext(ErrorCode.NOT_LEADER)) {
                // answered already: the coordinator ignores these completions
            }
            List<OffsetRecord> log = random.nextBoolean() ? store.log() : OffsetsTopic.compact(store.log());
            coordinator.loadOffsets(log);
            pendingJoins.clear();
            history.clear();
            seen("leadership moved away and back");
        }

        void completeAppends() {
            if (random.nextInt(5) == 0) {
                return;
            }
            int n = random.nextInt(store.pendingCount() + 1);
            for (int i = 0; i < n; i++) {
                if (random.nextInt(33) == 0) {
                    store.failNext(ErrorCode.STORAGE_ERROR);
                    seen("store failure");
                } else {
                    store.completeNext();
                }
            }
        }

        // -------------------------------------------------------------------------------------------------------
        // Invariants

        void checkInvariants() {
            for (String group : List.of("g0", "g1", "s")) {
                Map<TopicPartition, Long> model = acked.getOrDefault(group, Map.of());
                Map<TopicPartition, Long> cached = new TreeMap<>(Assignments.ORDER);
                coordinator.fetchOffsets(group).forEach((tp, o) -> cached.put(tp, o.offset()));
                assertThat(cached).as("committed offsets of %s", group).isEqualTo(model);
            }
            for (String group : List.of("g0", "g1")) {
                GroupResult<GroupDescription> d = coordinator.describeGroup(group);
                if (d.succeeded()) {
                    checkGroup(d.value());
                }
                // a generation's results all arrive when it forms, so every recorded one is complete
                history.getOrDefault(group, new TreeMap<>()).forEach((gen, g) -> {
                    if (!g.checked) {
                        checkGeneration(group, gen, g);
                        g.checked = true;
                    }
                });
            }
        }

        void checkGroup(GroupDescription d) {
            Map<TopicPartition, String> owners = new HashMap<>();
            for (MemberDescription m : d.members()) {
                for (TopicPartition tp : Assignments.flatten(m.assignment())) {
                    assertThat(owners.put(tp, m.memberId())).as("%s owned twice in generation %d", tp,
                            d.generation()).isNull();
                    assertThat(m.topics()).contains(tp.topic());
                    assertThat(tp.partition()).isLessThan(counts.get(tp.topic()));
                }
            }
            Set<String> topics = new TreeSet<>();
            d.members().forEach(m -> topics.addAll(m.topics()));
            Set<TopicPartition> subscribed = Assignments.sortedSet();
            topics.forEach(t -> subscribed.addAll(Assignments.partitions(t, counts.get(t))));
            if (d.state() == GroupState.STABLE) {
                assertThat(Assignments.sortedSet(owners.keySet())).as("stable: every partition owned")
                        .isEqualTo(subscribed);
                checkBalance(d);
            }
            if (d.state() == GroupState.COMPLETING_REBALANCE) {
                seen("cooperative hand-over");
            }

            // consumers that are members never hold the same partition at the same moment
            Map<TopicPartition, String> held = new HashMap<>();
            Set<String> memberIds = new HashSet<>();
            d.members().forEach(m -> memberIds.add(m.memberId()));
            for (Client c : clients) {
                if (c.live() && c.phase != Phase.IDLE && memberIds.contains(c.memberId)) {
                    assertThat(c.generation).isEqualTo(d.generation());
                    Set<TopicPartition> assigned = d.members().stream().filter(m -> m.memberId().equals(c.memberId))
                            .map(m -> Assignments.flatten(m.assignment())).findFirst().orElseThrow();
                    assertThat(assigned).containsAll(c.positions.keySet());
                    for (TopicPartition tp : c.positions.keySet()) {
                        assertThat(held.put(tp, c.clientId)).as("%s held by two consumers", tp).isNull();
                    }
                }
            }
            for (Client c : clients) {
                if (c.phase == Phase.CRASHED && !c.memberId.isEmpty() && !memberIds.contains(c.memberId)
                        && c.group.equals(d.groupId()) && c.epoch >= 0) {
                    seen("member evicted after crash");
                    c.epoch = Integer.MIN_VALUE; // count each eviction once
                }
            }

            // lag = high watermark - committed
            for (PartitionLag lag : d.lag(tp -> highWatermarks.containsKey(tp)
                    ? OptionalLong.of(highWatermarks.get(tp)) : OptionalLong.empty())) {
                Long committed = acked.getOrDefault(d.groupId(), Map.of()).get(lag.partition());
                assertThat(lag.committed().isPresent()).isEqualTo(committed != null);
                if (committed != null) {
                    assertThat(lag.lag()).hasValue(highWatermarks.get(lag.partition()) - committed);
                    seen("lag checked");
                }
            }
        }

        void checkBalance(GroupDescription d) {
            Set<Set<String>> subscriptions = new HashSet<>();
            d.members().forEach(m -> subscriptions.add(m.topics()));
            if (subscriptions.size() != 1) {
                return;
            }
            List<Set<TopicPartition>> loads = d.members().stream().map(m -> Assignments.flatten(m.assignment()))
                    .toList();
            if (d.strategy().orElseThrow() == AssignmentStrategy.RANGE) {
                for (String topic : subscriptions.iterator().next()) {
                    List<Long> perTopic = loads.stream()
                            .map(l -> l.stream().filter(tp -> tp.topic().equals(topic)).count()).toList();
                    assertThat(perTopic.stream().mapToLong(Long::longValue).max().orElseThrow()
                            - perTopic.stream().mapToLong(Long::longValue).min().orElseThrow()).isLessThanOrEqualTo(1);
                }
            } else {
                int max = loads.stream().mapToInt(Set::size).max().orElseThrow();
                int min = loads.stream().mapToInt(Set::size).min().orElseThrow();
                assertThat(max - min).as("balanced").isLessThanOrEqualTo(1);
            }
            if (loads.size() == 3 && subscriptions.iterator().next().equals(Set.of("t0")) && counts.get("t0") == 6) {
                assertThat(loads).allSatisfy(l -> assertThat(l).hasSize(2));
                seen("stable 3 members on 6 partitions");
            }
        }

        /** Checks a generation against the one before it (as its members learned them). */
        void checkGeneration(String group, int generation, Generation g) {
            Generation previous = history.get(group).get(generation - 1);
            if (previous == null) {
                return;
            }
            if (strategies.get(group).protocol() != RebalanceProtocol.COOPERATIVE) {
                return;
            }
            // cooperative: a partition never goes straight from one member to another that both stay
            Map<TopicPartition, String> before = new HashMap<>();
            previous.assignments.forEach((m, tps) -> tps.forEach(tp -> before.put(tp, m)));
            g.assignments.forEach((m, tps) -> {
                for (TopicPartition tp : tps) {
                    String old = before.get(tp);
                    if (old != null && !old.equals(m)) {
                        assertThat(g.assignments).as("%s moved from %s to %s in one generation", tp, old, m)
                                .doesNotContainKey(old);
                    }
                }
            });
            // only what moves is revoked: a revoked partition that is still valid is withheld from everyone
            Set<TopicPartition> assigned = Assignments.sortedSet();
            g.assignments.values().forEach(assigned::addAll);
            g.revoked.forEach((m, tps) -> {
                assertThat(tps).isEqualTo(minus(previous.assignments.getOrDefault(m, Set.of()), g.assignments.get(m)));
                for (TopicPartition tp : tps) {
                    if (g.topics.get(m).contains(tp.topic()) && tp.partition() < g.counts.get(tp.topic())) {
                        assertThat(assigned).as("revoked %s is withheld", tp).doesNotContain(tp);
                    }
                }
            });
            // and the fewest partitions possible are revoked
            if (new HashSet<>(g.topics.values()).size() == 1) {
                Map<String, MemberSubscription> input = new TreeMap<>();
                g.assignments.keySet().forEach(m -> input.put(m, new MemberSubscription(g.topics.get(m),
                        previous.assignments.getOrDefault(m, Set.of()))));
                int revoked = g.revoked.values().stream().mapToInt(tps -> (int) tps.stream()
                        .filter(tp -> g.topics.values().iterator().next().contains(tp.topic())
                                && tp.partition() < g.counts.get(tp.topic())).count()).sum();
                assertThat(revoked).as("fewest revocations").isEqualTo(
                        CooperativeStickyAssignorTest.minimalRevocations(input, g.counts));
            }
        }

        static Set<TopicPartition> minus(Set<TopicPartition> a, Set<TopicPartition> b) {
            Set<TopicPartition> result = Assignments.sortedSet(a);
            result.removeAll(b);
            return result;
        }
    }
}
