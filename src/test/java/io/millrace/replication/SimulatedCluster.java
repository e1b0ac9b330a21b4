package io.millrace.replication;

import io.millrace.common.EpochEndOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * A deterministic model of one replicated partition driven by {@link LeaderState} and {@link Divergence}: replicas
 * with in-memory logs and epoch caches, a controller that keeps (leader, epoch, ISR, version) with conditional
 * updates, and a network that delays, reorders and drops messages. Everything random comes from one seeded
 * {@link Random}, so a seed replays exactly.
 *
 * <p>Faults: process crashes at random steps (the log, its epoch cache and the high-watermark checkpoint survive;
 * role, fetch state, pending acknowledgements and connections do not), restarts, fetch timeouts that leave
 * duplicate requests in flight, lost fetch messages, time jumps that make followers lag. Every message is tied to
 * the incarnation of its receiver and of its sender's connection: a restart closes connections, so nothing sent to
 * an earlier incarnation arrives.
 *
 * <p>Invariants, checked after every step ({@link #checkInvariants}): every acknowledged {@code acks=all} record is
 * at its offset with its value in the current leader's log and in every ISR member's log; any two replicas' logs
 * agree below the smaller of their high watermarks; no high watermark moves back; no follower truncates below its
 * high watermark. {@link #healAndQuiesce} then restarts everyone, stops faults and checks that all logs end
 * identical with the ISR complete.
 */
final class SimulatedCluster {

    static final int MIN_INSYNC_REPLICAS = 2;
    private static final int CONTROLLER = -1;
    private static final int NO_LEADER = -1;

    /** One seed's shape. */
    record Config(int replicaCount, long lagTimeMaxMs, int steps, int crashPercentTenths, int restartPercentTenths,
                  boolean controllerRemovesCrashedFollowers, boolean lazyHighWatermarkCheckpoint,
                  boolean initialIsrIsEveryone, int maxBatch) {

        static Config random(Random random) {
            return new Config(
                    random.nextInt(4) == 0 ? 5 : 3,
                    20 + random.nextInt(100),
                    200 + random.nextInt(400),
                    // A third of the seeds crash rarely, so that long healthy stretches acknowledge many records.
                    random.nextInt(3) == 0 ? 1 + random.nextInt(5) : 5 + random.nextInt(40),
                    10 + random.nextInt(60),
                    random.nextBoolean(),
                    random.nextBoolean(),
                    random.nextBoolean(),
                    1 + random.nextInt(5));
        }
    }

    /** Thrown when an invariant breaks; the message says which and where. */
    static final class InvariantViolation extends RuntimeException {
        InvariantViolation(String message) {
            super(message);
        }
    }

    // ---- messages ----

    private sealed interface Message permits FetchRequest, FetchResponse, AlterIsr, AlterIsrResponse, LeaderAndIsr {
        int to();

        int toIncarnation();
    }

    private record FetchRequest(int to, int toIncarnation, int from, int fromIncarnation, int epoch, long fetchOffset,
                                int lastFetchedEpoch) implements Message {
    }

    private sealed interface FetchResult permits Records, DivergingEpoch, OutOfRange, FetchError {
    }

    private record Records(List<InMemoryLog.Entry> entries, long highWatermark) implements FetchResult {
    }

    private record DivergingEpoch(EpochEndOffset leaderEnd) implements FetchResult {
    }

    private record OutOfRange(long leaderLogStart) implements FetchResult {
    }

    private record FetchError(String error) implements FetchResult {
    }

    private record FetchResponse(int to, int toIncarnation, int from, int epoch, long fetchOffset,
                                 int lastFetchedEpoch, FetchResult result) implements Message {
    }

    private record AlterIsr(int from, int fromIncarnation, int epoch, int version, Set<Integer> isr, long proposalId)
            implements Message {
        @Override
        public int to() {
            return CONTROLLER;
        }

        @Override
        public int toIncarnation() {
            return 0;
        }
    }

    private record AlterIsrResponse(int to, int toIncarnation, int epoch, long proposalId, boolean accepted,
                                    int version, Set<Integer> isr) implements Message {
    }

    private record LeaderAndIsr(int to, int toIncarnation, int leader, int epoch, Set<Integer> isr, int version)
            implements Message {
    }

    private record PendingAck(long offset, long value) {
    }

    // ---- replicas and controller ----

    private final class Replica {
        final int id;
        final InMemoryLog log = new InMemoryLog();
        long highWatermarkCheckpoint;
        boolean alive = true;
        int incarnation;

        long highWatermark;
        long highWatermarkSeen;
        int knownLeader = NO_LEADER;
        int knownEpoch = -1;
        int knownVersion = -1;
        LeaderState leaderState;
        long pendingProposalId;
        boolean fetchInFlight;
        long fetchSentAt;
        final List<PendingAck> pendingAcks = new ArrayList<>();

        Replica(int id) {
            this.id = id;
        }

        /** The high watermark that survives a crash. */
        long durableHighWatermark() {
            return alive || !config.lazyHighWatermarkCheckpoint() ? highWatermark : highWatermarkCheckpoint;
        }

        void forgetVolatileState() {
            knownLeader = NO_LEADER;
            knownEpoch = -1;
            knownVersion = -1;
            leaderState = null;
            pendingProposalId = 0;
            fetchInFlight = false;
            pendingAcks.clear();
        }
    }

    private final long seed;
    private final Random random;
    private final Config config;
    private final List<Integer> replicaIds = new ArrayList<>();
    private final Map<Integer, Replica> replicas = new TreeMap<>();
    private final List<Message> network = new ArrayList<>();
    private final TreeMap<Long, Long> acknowledged = new TreeMap<>();
    private final Deque<String> trace;

    private int controllerLeader;
    private int controllerEpoch;
    private int controllerVersion;
    private Set<Integer> controllerIsr;

    private long now;
    private long nextValue = 1;
    private long nextProposalId = 1;
    private int step;
    private boolean faultsEnabled = true;
    private int leaderElections;
    private int isrChanges;

    SimulatedCluster(long seed, boolean tracing) {
        this.seed = seed;
        this.random = new Random(seed);
        this.config = Config.random(random);
        this.trace = tracing ? new ArrayDeque<>() : null;
        for (int id = 1; id <= config.replicaCount(); id++) {
            replicaIds.add(id);
            replicas.put(id, new Replica(id));
        }
        controllerLeader = replicaIds.get(random.nextInt(replicaIds.size()));
        controllerEpoch = 0;
        controllerVersion = 0;
        controllerIsr = config.initialIsrIsEveryone() ? ordered(replicaIds) : Set.of(controllerLeader);
        log("start " + config + " leader " + controllerLeader + " isr " + controllerIsr);
        broadcastLeaderAndIsr();
    }

    Config config() {
        return config;
    }

    int acknowledgedCount() {
        return acknowledged.size();
    }

    int leaderElections() {
        return leaderElections;
    }

    int isrChanges() {
        return isrChanges;
    }

    String trace() {
        return trace == null ? "(rerun with tracing)" : String.join("\n", trace);
    }

    /** Runs the configured number of random steps, checking the invariants after each. */
    void run() {
        for (step = 0; step < config.steps(); step++) {
            randomStep();
            checkInvariants();
        }
    }

    // ---- the random steps ----

    private void randomStep() {
        now += random.nextInt(4);
        int dice = random.nextInt(1000);
        if (dice < 400) {
            deliverRandomMessage();
        } else if (dice < 600) {
            randomFollower().ifPresent(this::sendFetch);
        } else if (dice < 720) {
            currentLeaderState().ifPresent(leader -> produce(leader, random.nextInt(5) != 0));
        } else if (dice < 780) {
            currentLeaderState().ifPresent(this::maybeShrinkIsr);
        } else if (dice < 800) {
            now += random.nextLong(config.lagTimeMaxMs() * 2);
        } else if (dice < 840) {
            randomFollower().ifPresent(follower -> follower.fetchInFlight = false);
        } else if (dice < 860) {
            dropRandomFetchMessage();
        } else if (dice < 900) {
            checkpointRandomHighWatermark();
        } else if (dice < 900 + config.crashPercentTenths()) {
            if (faultsEnabled) {
                crashRandomReplica();
            }
        } else if (dice < 900 + config.crashPercentTenths() + config.restartPercentTenths()) {
            restartRandomReplica();
        }
    }

    private Optional<Replica> randomFollower() {
        List<Replica> followers = new ArrayList<>();
        for (Replica replica : replicas.values()) {
            if (replica.alive && replica.leaderState == null && replica.knownLeader != NO_LEADER
                    && replica.knownLeader != replica.id) {
                followers.add(replica);
            }
        }
        return followers.isEmpty() ? Optional.empty() : Optional.of(followers.get(random.nextInt(followers.size())));
    }

    private Optional<Replica> currentLeaderState() {
        for (Replica replica : replicas.values()) {
            if (replica.alive && replica.leaderState != null) {
                return Optional.of(replica);
            }
        }
        return Optional.empty();
    }

    private void deliverRandomMessage() {
        if (!network.isEmpty()) {
            deliver(network.remove(random.nextInt(network.size())));
        }
    }

    private void dropRandomFetchMessage() {
        if (!faultsEnabled || network.isEmpty()) {
            return;
        }
        int index = random.nextInt(network.size());
        if (network.get(index) instanceof FetchRequest || network.get(index) instanceof FetchResponse) {
            log("drop " + network.remove(index));
        }
    }

    private void checkpointRandomHighWatermark() {
        Replica replica = replicas.get(replicaIds.get(random.nextInt(replicaIds.size())));
        if (replica.alive) {
            if (replica.highWatermark < replica.highWatermarkCheckpoint) {
                throw violation("replica " + replica.id + " checkpoints high watermark " + replica.highWatermark
                        + " below its checkpoint " + replica.highWatermarkCheckpoint);
            }
            replica.highWatermarkCheckpoint = replica.highWatermark;
        }
    }

    private void crashRandomReplica() {
        List<Replica> live = replicas.values().stream().filter(r -> r.alive).toList();
        if (live.isEmpty()) {
            return;
        }
        crash(live.get(random.nextInt(live.size())));
    }

    private void restartRandomReplica() {
        List<Replica> dead = replicas.values().stream().filter(r -> !r.alive).toList();
        if (!dead.isEmpty()) {
            restart(dead.get(random.nextInt(dead.size())));
        }
    }

    // ---- replica behaviour ----

    private void produce(Replica leader, boolean acksAll) {
        LeaderState state = leader.leaderState;
        if (acksAll && state.isr().size() < MIN_INSYNC_REPLICAS) {
            log("produce to " + leader.id + " refused: NOT_ENOUGH_REPLICAS, isr " + state.isr());
            return;
        }
        long value = nextValue++;
        long offset = leader.log.logEnd();
        leader.log.append(new InMemoryLog.Entry(offset, leader.knownEpoch, value));
        log("produce " + (acksAll ? "acks=all" : "acks=1") + " value " + value + " at " + offset + " on leader "
                + leader.id + " epoch " + leader.knownEpoch);
        if (acksAll) {
            leader.pendingAcks.add(new PendingAck(offset, value));
        }
        if (state.updateLeaderEnd(leader.log.logEnd(), now)) {
            onLeaderHighWatermarkMoved(leader);
        }
    }

    private void onLeaderHighWatermarkMoved(Replica leader) {
        LeaderState state = leader.leaderState;
        leader.highWatermark = state.highWatermark();
        var pending = leader.pendingAcks.iterator();
        while (pending.hasNext()) {
            PendingAck ack = pending.next();
            if (ack.offset() < state.highWatermark()) {
                pending.remove();
                if (state.maximalIsr().size() >= MIN_INSYNC_REPLICAS) {
                    Long earlier = acknowledged.put(ack.offset(), ack.value());
                    if (earlier != null) {
                        throw violation("offset " + ack.offset() + " acknowledged twice: value " + earlier
                                + " and then " + ack.value());
                    }
                    log("ack value " + ack.value() + " at " + ack.offset() + " (hw " + state.highWatermark()
                            + ", maximal isr " + state.maximalIsr() + ")");
                } else {
                    log("ack value " + ack.value() + " failed: NOT_ENOUGH_REPLICAS_AFTER_APPEND");
                }
            }
        }
    }

    private void maybeShrinkIsr(Replica leader) {
        leader.leaderState.maybeShrinkIsr(now).ifPresent(shrunk -> propose(leader, shrunk));
    }

    private void propose(Replica leader, Set<Integer> isr) {
        leader.leaderState.proposeIsr(isr);
        leader.pendingProposalId = nextProposalId++;
        log("leader " + leader.id + " proposes isr " + isr + " at version " + leader.knownVersion);
        send(new AlterIsr(leader.id, leader.incarnation, leader.knownEpoch, leader.knownVersion, isr,
                leader.pendingProposalId));
    }

    private void sendFetch(Replica follower) {
        // A fetch unanswered for half the lag time has timed out (its answer may still come: a duplicate).
        if (follower.fetchInFlight && now - follower.fetchSentAt < config.lagTimeMaxMs() / 2) {
            return;
        }
        follower.fetchInFlight = true;
        follower.fetchSentAt = now;
        Replica leader = replicas.get(follower.knownLeader);
        send(new FetchRequest(leader.id, leader.incarnation, follower.id, follower.incarnation, follower.knownEpoch,
                follower.log.logEnd(), follower.log.latestEpoch()));
    }

    private void deliver(Message message) {
        if (message.to() == CONTROLLER) {
            controllerReceives((AlterIsr) message);
            return;
        }
        Replica receiver = replicas.get(message.to());
        if (!receiver.alive || receiver.incarnation != message.toIncarnation()) {
            return;
        }
        // Java 17: no pattern matching in switch yet.
        if (message instanceof FetchRequest request) {
            leaderReceives(receiver, request);
        } else if (message instanceof FetchResponse response) {
            followerReceives(receiver, response);
        } else if (message instanceof AlterIsrResponse response) {
            leaderReceives(receiver, response);
        } else if (message instanceof LeaderAndIsr update) {
            replicaReceives(receiver, update);
        }
    }

    private void leaderReceives(Replica leader, FetchRequest request) {
        Replica follower = replicas.get(request.from());
        if (!follower.alive || follower.incarnation != request.fromIncarnation()) {
            return;  // the connection closed with the follower's process
        }
        FetchResult result;
        if (leader.leaderState == null || request.epoch() > leader.knownEpoch) {
            result = new FetchError("NOT_LEADER");
        } else if (request.epoch() < leader.knownEpoch) {
            result = new FetchError("FENCED_LEADER_EPOCH");
        } else {
            Divergence.FetchCheck check = Divergence.check(leader.log.epochs(), request.lastFetchedEpoch(),
                    request.fetchOffset(), 0, leader.log.logEnd());
            if (check instanceof Divergence.FetchCheck.Diverging diverging) {
                result = new DivergingEpoch(diverging.leaderEnd());
            } else if (check instanceof Divergence.FetchCheck.OutOfRange outOfRange) {
                result = new OutOfRange(outOfRange.leaderLogStart());
            } else {
                LeaderState state = leader.leaderState;
                LeaderState.FollowerFetch fetch = state.onFollowerFetch(follower.id, request.fetchOffset(), now);
                if (fetch.highWatermarkMoved()) {
                    onLeaderHighWatermarkMoved(leader);
                }
                fetch.isrToPropose().ifPresent(expanded -> propose(leader, expanded));
                long end = Math.min(leader.log.logEnd(), request.fetchOffset() + 1 + random.nextInt(
                        config.maxBatch()));
                List<InMemoryLog.Entry> entries = new ArrayList<>(
                        leader.log.entries().subList((int) request.fetchOffset(), (int) end));
                result = new Records(entries, state.highWatermark());
            }
        }
        send(new FetchResponse(follower.id, request.fromIncarnation(), leader.id, request.epoch(),
                request.fetchOffset(), request.lastFetchedEpoch(), result));
    }

    private void followerReceives(Replica follower, FetchResponse response) {
        if (follower.leaderState != null || response.epoch() != follower.knownEpoch
                || response.from() != follower.knownLeader) {
            log("follower " + follower.id + " ignores a response of epoch " + response.epoch() + " (knows "
                    + follower.knownEpoch + ")");
            return;
        }
        follower.fetchInFlight = false;
        if (response.fetchOffset() != follower.log.logEnd()
                || response.lastFetchedEpoch() != follower.log.latestEpoch()) {
            return;  // answers a fetch made before the log last changed: a duplicate or a reordered answer
        }
        FetchResult result = response.result();
        if (result instanceof Records records) {
            for (InMemoryLog.Entry entry : records.entries()) {
                follower.log.append(entry);
            }
            // A follower learns the high watermark as min(leader's, own log end) and never lowers it: a new
            // leader's may lag, but what lies below this replica's is committed and no leader drops it.
            long highWatermark = Math.min(records.highWatermark(), follower.log.logEnd());
            follower.highWatermark = Math.max(follower.highWatermark, highWatermark);
        } else if (result instanceof DivergingEpoch diverging) {
            Divergence.Truncation truncation = Divergence.truncation(follower.log.epochs(),
                    diverging.leaderEnd(), follower.log.logEnd());
            log("follower " + follower.id + " diverges from " + response.from() + " at "
                    + diverging.leaderEnd() + ": truncates " + follower.log + " to " + truncation);
            truncate(follower, truncation.offset());
        } else if (result instanceof OutOfRange outOfRange) {
            // Every log here starts at 0, so only a wrong answer can be out of range.
            throw violation("follower " + follower.id + " fetched out of range at " + response.fetchOffset()
                    + " from a log starting at " + outOfRange.leaderLogStart());
        } else if (result instanceof FetchError error) {
            log("follower " + follower.id + " fetch error " + error.error());
        }
    }

    private void truncate(Replica follower, long offset) {
        if (offset < follower.highWatermark) {
            throw violation("follower " + follower.id + " truncates to " + offset + " below its high watermark "
                    + follower.highWatermark);
        }
        follower.log.truncateTo(offset);
    }

    private void leaderReceives(Replica leader, AlterIsrResponse response) {
        if (leader.leaderState == null || response.epoch() != leader.knownEpoch
                || response.proposalId() != leader.pendingProposalId) {
            return;
        }
        leader.pendingProposalId = 0;
        if (response.accepted() && response.version() > leader.knownVersion) {
            applyIsr(leader, response.isr(), response.version());
            return;
        }
        log("leader " + leader.id + " isr proposal rejected; controller has " + response.isr() + " v"
                + response.version());
        leader.leaderState.abortIsrProposal();
        if (leader.leaderState.highWatermark() != leader.highWatermark) {
            onLeaderHighWatermarkMoved(leader);
        }
    }

    private void applyIsr(Replica leader, Set<Integer> isr, int version) {
        leader.knownVersion = version;
        if (leader.leaderState.applyIsr(isr, now)) {
            onLeaderHighWatermarkMoved(leader);
        }
    }

    private void replicaReceives(Replica replica, LeaderAndIsr update) {
        if (update.epoch() < replica.knownEpoch
                || (update.epoch() == replica.knownEpoch && update.version() <= replica.knownVersion)) {
            return;
        }
        boolean newEpoch = update.epoch() > replica.knownEpoch;
        if (!newEpoch) {
            replica.knownVersion = update.version();
            if (replica.leaderState != null) {
                replica.pendingProposalId = 0;
                applyIsr(replica, update.isr(), update.version());
            }
            return;
        }
        for (PendingAck ack : replica.pendingAcks) {
            log("ack value " + ack.value() + " failed: NOT_LEADER");
        }
        replica.pendingAcks.clear();
        replica.leaderState = null;
        replica.pendingProposalId = 0;
        replica.fetchInFlight = false;
        replica.knownEpoch = update.epoch();
        replica.knownVersion = update.version();
        replica.knownLeader = update.leader();
        if (update.leader() == replica.id) {
            replica.log.assignEpochStart(update.epoch());
            replica.leaderState = new LeaderState(replica.id, update.epoch(), replicaIds, update.isr(),
                    replica.log.logEnd(), replica.highWatermark, config.lagTimeMaxMs(), now);
            replica.highWatermark = replica.leaderState.highWatermark();
            log("replica " + replica.id + " leads epoch " + update.epoch() + " isr " + update.isr() + " log "
                    + replica.log + " hw " + replica.highWatermark);
        }
    }

    // ---- controller ----

    private void controllerReceives(AlterIsr request) {
        boolean accepted = request.from() == controllerLeader && request.epoch() == controllerEpoch
                && request.version() == controllerVersion;
        for (int member : request.isr()) {
            // KIP-841: a replica that is not alive cannot join the ISR.
            if (!controllerIsr.contains(member) && !replicas.get(member).alive) {
                accepted = false;
            }
        }
        if (accepted) {
            controllerIsr = ordered(request.isr());
            controllerVersion++;
            isrChanges++;
            log("controller: isr " + controllerIsr + " v" + controllerVersion + " (proposed by " + request.from()
                    + ")");
            broadcastLeaderAndIsr();
        }
        send(new AlterIsrResponse(request.from(), request.fromIncarnation(), request.epoch(), request.proposalId(),
                accepted, controllerVersion, controllerIsr));
    }

    private void crash(Replica replica) {
        log("crash " + replica.id + " log " + replica.log + " hw " + replica.highWatermark);
        replica.alive = false;
        replica.forgetVolatileState();
        if (replica.id == controllerLeader) {
            electLeader();
        } else if (config.controllerRemovesCrashedFollowers() && controllerLeader != NO_LEADER
                && controllerIsr.contains(replica.id)) {
            Set<Integer> isr = new LinkedHashSet<>(controllerIsr);
            isr.remove(replica.id);
            controllerIsr = ordered(isr);
            controllerVersion++;
            isrChanges++;
            log("controller: removes crashed " + replica.id + ", isr " + controllerIsr + " v" + controllerVersion);
            broadcastLeaderAndIsr();
        }
    }

    private void restart(Replica replica) {
        replica.alive = true;
        replica.incarnation++;
        replica.forgetVolatileState();
        if (config.lazyHighWatermarkCheckpoint()) {
            replica.highWatermark = Math.min(replica.highWatermarkCheckpoint, replica.log.logEnd());
        }
        replica.highWatermarkSeen = replica.highWatermark;
        log("restart " + replica.id + " log " + replica.log + " hw " + replica.highWatermark);
        if (controllerLeader == NO_LEADER && controllerIsr.contains(replica.id)) {
            electLeader();
        } else {
            send(new LeaderAndIsr(replica.id, replica.incarnation, controllerLeader, controllerEpoch, controllerIsr,
                    controllerVersion));
        }
    }

    /** Elects a live ISR member (no unclean election) and bumps the epoch; offline (and still bumped) if none. */
    private void electLeader() {
        List<Integer> candidates = new ArrayList<>();
        for (int member : controllerIsr) {
            if (replicas.get(member).alive) {
                candidates.add(member);
            }
        }
        controllerEpoch++;
        controllerVersion++;
        if (candidates.isEmpty()) {
            controllerLeader = NO_LEADER;
            log("controller: partition offline, epoch " + controllerEpoch + ", isr " + controllerIsr);
        } else {
            controllerLeader = candidates.get(random.nextInt(candidates.size()));
            controllerIsr = ordered(candidates);
            leaderElections++;
            log("controller: elects " + controllerLeader + " epoch " + controllerEpoch + " isr " + controllerIsr);
        }
        broadcastLeaderAndIsr();
    }

    private void broadcastLeaderAndIsr() {
        for (Replica replica : replicas.values()) {
            if (replica.alive) {
                send(new LeaderAndIsr(replica.id, replica.incarnation, controllerLeader, controllerEpoch,
                        controllerIsr, controllerVersion));
            }
        }
    }

    private void send(Message message) {
        network.add(message);
    }

    // ---- invariants ----

    /** Throws {@link InvariantViolation} if any invariant of the class comment is broken now. */
    void checkInvariants() {
        for (Replica replica : replicas.values()) {
            if (replica.highWatermark > replica.log.logEnd()) {
                throw violation("replica " + replica.id + " high watermark " + replica.highWatermark
                        + " above its log end " + replica.log.logEnd());
            }
            if (replica.alive) {
                if (replica.highWatermark < replica.highWatermarkSeen) {
                    throw violation("replica " + replica.id + " high watermark moved back from "
                            + replica.highWatermarkSeen + " to " + replica.highWatermark);
                }
                replica.highWatermarkSeen = replica.highWatermark;
            }
            if (replica.highWatermarkCheckpoint > replica.log.logEnd()) {
                throw violation("replica " + replica.id + " checkpointed high watermark above its log end");
            }
        }
        if (controllerLeader != NO_LEADER) {
            checkHoldsAcknowledged(replicas.get(controllerLeader), "the leader");
        }
        for (int member : controllerIsr) {
            checkHoldsAcknowledged(replicas.get(member), "ISR member");
        }
        List<Replica> all = new ArrayList<>(replicas.values());
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                Replica a = all.get(i);
                Replica b = all.get(j);
                long agreed = Math.min(a.durableHighWatermark(), b.durableHighWatermark());
                for (long offset = 0; offset < agreed; offset++) {
                    if (!a.log.at(offset).equals(b.log.at(offset))) {
                        throw violation("replicas " + a.id + " and " + b.id + " differ at " + offset
                                + " below their high watermarks: " + a.log.at(offset) + " vs " + b.log.at(offset));
                    }
                }
            }
        }
    }

    private void checkHoldsAcknowledged(Replica replica, String role) {
        for (Map.Entry<Long, Long> ack : acknowledged.entrySet()) {
            long offset = ack.getKey();
            if (offset >= replica.log.logEnd() || replica.log.at(offset).value() != ack.getValue()) {
                throw violation(role + " " + replica.id + " lost acknowledged value " + ack.getValue() + " at "
                        + offset + ": log " + replica.log);
            }
        }
    }

    // ---- healing ----

    /**
     * Restarts every crashed replica, stops all faults and lets the cluster run until every replica is in the ISR
     * and holds the leader's log with the high watermark at its end; then checks that all logs are identical.
     */
    void healAndQuiesce() {
        faultsEnabled = false;
        log("heal");
        for (Replica replica : replicas.values()) {
            if (!replica.alive) {
                restart(replica);
            }
        }
        for (int round = 0; round < 5_000; round++) {
            step++;
            now += 1 + random.nextInt(3);
            while (!network.isEmpty()) {
                deliverRandomMessage();
                checkInvariants();
            }
            if (converged()) {
                checkIdentical();
                return;
            }
            for (Replica replica : replicas.values()) {
                if (replica.knownLeader != NO_LEADER && replica.leaderState == null) {
                    replica.fetchInFlight = false;
                    sendFetch(replica);
                }
            }
            currentLeaderState().ifPresent(this::maybeShrinkIsr);
        }
        throw violation("did not converge after healing: controller leader " + controllerLeader + " epoch "
                + controllerEpoch + " isr " + controllerIsr + describeReplicas());
    }

    private boolean converged() {
        if (controllerLeader == NO_LEADER || !network.isEmpty()
                || controllerIsr.size() != replicaIds.size()) {
            return false;
        }
        Replica leader = replicas.get(controllerLeader);
        if (leader.leaderState == null || leader.leaderState.isrUpdatePending()) {
            return false;
        }
        for (Replica replica : replicas.values()) {
            if (replica.log.logEnd() != leader.log.logEnd() || replica.highWatermark != leader.log.logEnd()) {
                return false;
            }
        }
        return true;
    }

    private void checkIdentical() {
        Replica leader = replicas.get(controllerLeader);
        for (Replica replica : replicas.values()) {
            if (!replica.log.entries().equals(leader.log.entries())) {
                throw violation("after healing replica " + replica.id + " differs from leader " + leader.id + ": "
                        + replica.log + " vs " + leader.log);
            }
        }
        checkHoldsAcknowledged(leader, "the healed leader");
    }

    private String describeReplicas() {
        StringBuilder text = new StringBuilder();
        for (Replica replica : replicas.values()) {
            text.append("\n  replica ").append(replica.id).append(replica.alive ? "" : " (dead)")
                    .append(" leader? ").append(replica.leaderState != null)
                    .append(" knows leader ").append(replica.knownLeader).append(" epoch ").append(replica.knownEpoch)
                    .append(" v").append(replica.knownVersion)
                    .append(" hw ").append(replica.highWatermark).append(" log ").append(replica.log);
            if (replica.leaderState != null) {
                text.append(" isr ").append(replica.leaderState.isr()).append(" pending ")
                        .append(replica.leaderState.pendingIsr()).append(" ends ")
                        .append(replica.leaderState.followerEnds());
            }
        }
        return text.toString();
    }

    private InvariantViolation violation(String what) {
        return new InvariantViolation("seed " + seed + ", step " + step + ", time " + now + ": " + what
                + describeReplicas() + "\n  controller leader " + controllerLeader + " epoch " + controllerEpoch
                + " isr " + controllerIsr + " v" + controllerVersion + "\n  acknowledged " + acknowledged);
    }

    private void log(String event) {
        if (trace != null) {
            trace.addLast(step + " @" + now + ": " + event);
            if (trace.size() > 400) {
                trace.removeFirst();
            }
        }
    }

    private Set<Integer> ordered(Iterable<Integer> members) {
        Set<Integer> wanted = new LinkedHashSet<>();
        members.forEach(wanted::add);
        Set<Integer> inOrder = new LinkedHashSet<>();
        for (int id : replicaIds) {
            if (wanted.contains(id)) {
                inOrder.add(id);
            }
        }
        return java.util.Collections.unmodifiableSet(inOrder);
    }
}
