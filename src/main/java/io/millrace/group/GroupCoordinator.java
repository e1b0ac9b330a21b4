package io.millrace.group;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Time;
import io.millrace.common.TopicPartition;
import io.millrace.group.GroupPhase.CompletingRebalance;
import io.millrace.group.GroupPhase.PreparingRebalance;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The group coordinator: membership, rebalancing, server-side assignment and committed offsets of many consumer
 * groups. The broker decides who reads what; members join, heartbeat, commit and leave.
 *
 * <p><b>Threading.</b> Not thread-safe. One owner thread (in the broker, the coordinator verticle's context) makes
 * every call, including {@link #tick()} and the completions handed to the {@link OffsetStore}. {@link Completion}s
 * given to this class are called on that thread, after the coordinator's state is consistent again (possibly before
 * the call that caused them returns), so they may call back into it. Time comes from the injected {@link Time} and
 * nothing here schedules anything: the owner calls {@link #tick()} periodically (every few hundred milliseconds is
 * plenty; session and rebalance timeouts are seconds). So a test drives it as a deterministic simulation.
 *
 * <p><b>Protocol.</b> A member joins with its subscription; the join completes when the rebalance it triggers does,
 * with the member's id, the new generation and its partitions ({@link JoinResult}). A rebalance waits, up to the
 * longest rebalance timeout of the members, for every known member to rejoin (members learn of it through
 * {@code REBALANCE_IN_PROGRESS} on heartbeat); members that do not rejoin in time are removed. A member whose
 * heartbeats stop for its session timeout is removed too, which starts a rebalance. The generation grows by one at
 * every completed rebalance and fences members that missed one: their heartbeats and commits are refused.
 *
 * <p><b>States</b> ({@link GroupState}; {@link GroupPhase} holds each state's data):
 * <pre>
 * from                  to                    when
 * Empty                 PreparingRebalance    a member joins (an empty group's first rebalance waits the initial
 *                                             rebalance delay for more members)
 * Empty                 Dead                  deleteGroup; or nothing is left in it (no offsets, no appends in
 *                                             flight), and the coordinator forgets it
 * any but Dead          Dead                  unloadGroups: this coordinator stops coordinating the group (leadership
 *                                             of its offsets partition moved away)
 * PreparingRebalance    Stable                every member has rejoined (or the deadline removed the rest) and the new
 *                                             generation gives every subscribed partition an owner
 * PreparingRebalance    CompletingRebalance   same, but the cooperative generation withholds partitions that are
 *                                             moving, until their old owners have rejoined
 * PreparingRebalance    Empty                 the rebalance completes without members (all left or were evicted)
 * CompletingRebalance   PreparingRebalance    a revoking member rejoins (the follow-up rebalance); a member joins,
 *                                             changes its subscription, leaves or is evicted; partitions of a
 *                                             subscribed topic change; the deadline passes (revoking members that
 *                                             have not rejoined are removed)
 * Stable                PreparingRebalance    a member joins, changes its subscription, leaves or is evicted;
 *                                             partitions of a subscribed topic change
 * Dead                  -                     final; a new group with the same id starts from Empty
 * </pre>
 * Apache Kafka's CompletingRebalance waits for the group leader's SyncGroup; with the assignment computed here there
 * is no sync step, so the state is used for what is still incomplete here: a cooperative hand-over.
 *
 * <p>What each state answers a member of the current generation:
 * <pre>
 * state                join (known member, same topics)    heartbeat               commitOffsets
 * PreparingRebalance   waits for the rebalance             REBALANCE_IN_PROGRESS   accepted until the member has
 *                                                                                  rejoined; then REBALANCE_IN_PROGRESS
 * CompletingRebalance  current assignment at once; from a  OK; a revoking member   accepted
 *                      revoking member: next rebalance     REBALANCE_IN_PROGRESS
 * Stable               current assignment at once          OK                      accepted
 * </pre>
 * A commit before the member has rejoined is accepted during a rebalance because it is the final commit an eager
 * member makes when it gives its partitions up (Kafka's {@code onPartitionsRevoked}); refusing it would re-deliver
 * everything since its previous commit. Once a member has rejoined it waits for its new generation, so its commits
 * wait too. A stale generation is {@code ILLEGAL_GENERATION}, a non-member {@code UNKNOWN_MEMBER_ID} in every state.
 * A group with no members also takes commits with generation -1 and an empty member id, from consumers that only
 * commit and fetch offsets (as Kafka allows).
 *
 * <p><b>Offsets.</b> Every change of committed offsets (commit, reset, delete) is an append to the
 * {@link OffsetStore}; its records enter the cache (what {@link #fetchOffsets} answers) and it is acknowledged only
 * when the append completes, and appends complete in order, so the cache is always exactly what a replay of the
 * durable log ({@link #loadOffsets}) gives. Group membership is not stored: after a failover members get
 * {@code UNKNOWN_MEMBER_ID}, rejoin, and resume from the committed offsets.
 *
 * <p><b>Unloading.</b> When leadership of an offsets partition moves away, the host calls {@link #unloadGroups} for
 * that partition's groups: they are forgotten entirely (membership, cached offsets, appends in flight) and everything
 * waiting on them is answered {@code NOT_COORDINATOR}, which clients answer by finding the new coordinator. So the
 * invariant reads: for every group the coordinator holds, the cache is what a replay of the durable log gives. An
 * unloaded group's append that completes later is ignored; if it became durable, a later {@link #loadOffsets} of the
 * partition replays it like any other record. A group whose partition comes back is loaded from scratch, with no
 * members: none of its former members can hold up the next rebalance.
 *
 * <p>One coordinator may hold the groups of several partitions of {@value OffsetsTopic#NAME}; leadership of each moves
 * on its own: the host unloads the groups of a partition it no longer leads and loads those of one it comes to lead.
 */
public final class GroupCoordinator {

    /** Longest group id accepted. */
    public static final int MAX_GROUP_ID_CHARS = 255;

    private final Time time;
    private final OffsetStore store;
    private final Supplier<String> memberIdSuffixes;
    private final GroupSettings settings;
    /** Sorted by id, so that tick() processes groups in a reproducible order. */
    private final TreeMap<String, ConsumerGroup> groups = new TreeMap<>();
    private final TreeMap<String, Integer> partitionCounts = new TreeMap<>();
    private final OffsetCache offsets = new OffsetCache();
    /** Appends handed to the store and not completed yet, oldest first; unloading a group removes its own. */
    private final Set<PendingAppend> pendingAppends = new LinkedHashSet<>();
    private final ArrayDeque<Runnable> callbacks = new ArrayDeque<>();
    private boolean draining;

    /**
     * @param time             the clock for sessions, rebalance deadlines and commit timestamps
     * @param store            where commits are made durable
     * @param memberIdSuffixes makes the unique part of a new member's id ({@code clientId + "-" + suffix}); a random
     *                         UUID in the broker, a counter in tests
     * @param settings         limits and delays
     */
    public GroupCoordinator(Time time, OffsetStore store, Supplier<String> memberIdSuffixes, GroupSettings settings) {
        this.time = Objects.requireNonNull(time, "time");
        this.store = Objects.requireNonNull(store, "store");
        this.memberIdSuffixes = Objects.requireNonNull(memberIdSuffixes, "memberIdSuffixes");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Membership

    /**
     * A member joins or rejoins. {@code done} receives the member's generation and assignment when the rebalance
     * completes, or at once when nothing has to change (a known member with the same subscription while the group is
     * stable). Errors: {@code INVALID_GROUP_ID}, {@code INVALID_SESSION_TIMEOUT}, {@code INVALID_REQUEST} (rebalance
     * timeout not positive), {@code UNKNOWN_MEMBER_ID} (a member id the group does not know: rejoin with an empty
     * one), {@code INCONSISTENT_GROUP_PROTOCOL}, {@code GROUP_MAX_SIZE_REACHED}, and {@code REBALANCE_IN_PROGRESS}
     * for an earlier join of the same member that this one replaces.
     *
     * <p>A new member is in the group as soon as it joins: if it never receives its id (connection lost), it is
     * evicted when its session times out.
     */
    public void join(JoinRequest request, Completion<JoinResult> done) {
        Objects.requireNonNull(done, "done");
        try {
            doJoin(request, done);
        } finally {
            drain();
        }
    }

    private void doJoin(JoinRequest request, Completion<JoinResult> done) {
        Optional<GroupResult<JoinResult>> invalid = validate(request);
        if (invalid.isPresent()) {
            later(done, invalid.get());
            return;
        }
        long now = time.milliseconds();
        ConsumerGroup group = groups.get(request.groupId());
        boolean newMember = request.memberId().isEmpty();
        if (group == null) {
            if (!newMember) {
                later(done, GroupResult.failed(ErrorCode.UNKNOWN_MEMBER_ID, "Group " + request.groupId()
                        + " has no member " + request.memberId()));
                return;
            }
            group = new ConsumerGroup(request.groupId());
            groups.put(group.groupId, group);
        }
        if (group.hasMembers() && group.strategy().orElseThrow() != request.strategy()) {
            later(done, GroupResult.failed(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "Group " + group.groupId
                    + " uses " + group.strategy().orElseThrow() + ", not " + request.strategy()));
            return;
        }
        if (newMember) {
            if (group.members.size() >= settings.maxGroupSize()) {
                later(done, GroupResult.failed(ErrorCode.GROUP_MAX_SIZE_REACHED, "Group " + group.groupId + " has "
                        + group.members.size() + " members, the most allowed"));
                return;
            }
            Member member = new Member(newMemberId(group, request.clientId()), request, now);
            group.add(member, request.strategy());
            if (!group.is(GroupState.PREPARING_REBALANCE)) {
                prepareRebalance(group);
            }
            awaitRebalance(group, member, done);
            return;
        }
        Member member = group.members.get(request.memberId());
        if (member == null) {
            later(done, GroupResult.failed(ErrorCode.UNKNOWN_MEMBER_ID, "Group " + group.groupId + " has no member "
                    + request.memberId()));
            return;
        }
        boolean sameTopics = member.topics.equals(request.topics());
        member.update(request, now);
        boolean revoking = group.phase() instanceof CompletingRebalance c
                && c.awaitingRevocation().contains(member.memberId);
        if (sameTopics && !revoking && (group.is(GroupState.STABLE) || group.is(GroupState.COMPLETING_REBALANCE))) {
            // A retried join (its answer was lost) or a member re-checking: nothing changes, so no rebalance.
            later(done, GroupResult.ok(joinResult(group, member, Set.of(), false)));
            return;
        }
        if (!group.is(GroupState.PREPARING_REBALANCE)) {
            prepareRebalance(group);
        }
        awaitRebalance(group, member, done);
    }

    private Optional<GroupResult<JoinResult>> validate(JoinRequest request) {
        Optional<GroupResult<JoinResult>> badId = invalidGroupId(request.groupId());
        if (badId.isPresent()) {
            return badId;
        }
        if (request.sessionTimeoutMs() < settings.minSessionTimeoutMs()
                || request.sessionTimeoutMs() > settings.maxSessionTimeoutMs()) {
            return Optional.of(GroupResult.failed(ErrorCode.INVALID_SESSION_TIMEOUT, "Session timeout "
                    + request.sessionTimeoutMs() + " ms is outside " + settings.minSessionTimeoutMs() + ".."
                    + settings.maxSessionTimeoutMs() + " ms"));
        }
        if (request.rebalanceTimeoutMs() <= 0) {
            return Optional.of(GroupResult.failed(ErrorCode.INVALID_REQUEST, "Rebalance timeout must be > 0, was "
                    + request.rebalanceTimeoutMs()));
        }
        return Optional.empty();
    }

    private String newMemberId(ConsumerGroup group, String clientId) {
        String id;
        do {
            id = clientId + "-" + memberIdSuffixes.get();
        } while (group.members.containsKey(id));
        return id;
    }

    /** Parks a join until the rebalance completes; an older join of the same member is answered and dropped. */
    private void awaitRebalance(ConsumerGroup group, Member member, Completion<JoinResult> done) {
        PreparingRebalance preparing = (PreparingRebalance) group.phase();
        Completion<JoinResult> replaced = preparing.joined().put(member.memberId, done);
        if (replaced != null) {
            later(replaced, GroupResult.failed(ErrorCode.REBALANCE_IN_PROGRESS, "Replaced by a newer join of member "
                    + member.memberId));
        }
        maybeCompleteRebalance(group);
    }

    /**
     * A member's heartbeat: keeps its session alive and tells it whether to rejoin. Errors:
     * {@code UNKNOWN_MEMBER_ID}, {@code ILLEGAL_GENERATION}, {@code REBALANCE_IN_PROGRESS} (rejoin),
     * {@code INVALID_GROUP_ID}.
     */
    public GroupResult<Void> heartbeat(String groupId, String memberId, int generation) {
        try {
            Optional<GroupResult<Void>> badId = invalidGroupId(groupId);
            if (badId.isPresent()) {
                return badId.get();
            }
            ConsumerGroup group = groups.get(groupId);
            Member member = group == null ? null : group.members.get(memberId);
            if (member == null) {
                return GroupResult.failed(ErrorCode.UNKNOWN_MEMBER_ID, "Group " + groupId + " has no member "
                        + memberId);
            }
            if (generation != group.generation()) {
                return illegalGeneration(group, generation);
            }
            member.lastHeardMs = time.milliseconds();
            if (group.is(GroupState.PREPARING_REBALANCE)) {
                return GroupResult.failed(ErrorCode.REBALANCE_IN_PROGRESS, "Group " + groupId + " is rebalancing");
            }
            if (group.phase() instanceof CompletingRebalance c && c.awaitingRevocation().contains(memberId)) {
                return GroupResult.failed(ErrorCode.REBALANCE_IN_PROGRESS, "Member " + memberId
                        + " must rejoin after revoking its partitions");
            }
            return GroupResult.done();
        } finally {
            drain();
        }
    }

    /**
     * A member leaves on purpose (after committing); the others rebalance at once instead of after its session
     * timeout. Errors: {@code UNKNOWN_MEMBER_ID}, {@code INVALID_GROUP_ID}.
     */
    public GroupResult<Void> leave(String groupId, String memberId) {
        try {
            Optional<GroupResult<Void>> badId = invalidGroupId(groupId);
            if (badId.isPresent()) {
                return badId.get();
            }
            ConsumerGroup group = groups.get(groupId);
            if (group == null || !group.members.containsKey(memberId)) {
                return GroupResult.failed(ErrorCode.UNKNOWN_MEMBER_ID, "Group " + groupId + " has no member "
                        + memberId);
            }
            removeMember(group, memberId, "left the group");
            membersRemoved(group);
            return GroupResult.done();
        } finally {
            drain();
        }
    }

    /**
     * A topic's partition count changed (created, partitions added, or deleted: 0). The host reports every topic once
     * at start-up and then every change; a topic never reported has no partitions, so its subscribers get none of it
     * until it is. Groups subscribed to the topic rebalance.
     *
     * @return whether any group started a rebalance
     */
    public boolean partitionsChanged(String topic, int partitionCount) {
        Objects.requireNonNull(topic, "topic");
        if (partitionCount < 0) {
            throw new IllegalArgumentException("partitionCount must be >= 0, was " + partitionCount);
        }
        try {
            Integer old = partitionCount == 0 ? partitionCounts.remove(topic)
                    : partitionCounts.put(topic, partitionCount);
            if ((old == null ? 0 : old) == partitionCount) {
                return false;
            }
            boolean rebalanced = false;
            for (ConsumerGroup group : groups.values()) {
                // a group already rebalancing reads the new count when it completes
                if ((group.is(GroupState.STABLE) || group.is(GroupState.COMPLETING_REBALANCE))
                        && group.members.values().stream().anyMatch(m -> m.topics.contains(topic))) {
                    prepareRebalance(group);
                    rebalanced = true;
                }
            }
            return rebalanced;
        } finally {
            drain();
        }
    }

    /**
     * Acts on the passage of time: evicts members whose session expired, completes rebalances whose deadline passed
     * (removing the members that did not rejoin) or whose initial delay ended, and ends cooperative hand-overs that
     * waited too long.
     *
     * @return whether any group changed
     */
    public boolean tick() {
        try {
            long now = time.milliseconds();
            boolean changed = false;
            for (ConsumerGroup group : new ArrayList<>(groups.values())) {
                changed |= maybeExpireSessions(group, now);
                changed |= maybeExpireRebalance(group, now);
                changed |= maybeCompleteRebalance(group);
            }
            return changed;
        } finally {
            drain();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The state machine

    private void prepareRebalance(ConsumerGroup group) {
        long now = time.milliseconds();
        boolean fromEmpty = group.is(GroupState.EMPTY);
        long deadline = now + maxRebalanceTimeout(group);
        long notBefore = fromEmpty ? Math.min(now + settings.initialRebalanceDelayMs(), deadline) : now;
        group.transitionTo(new PreparingRebalance(deadline, notBefore));
    }

    /** Completes the rebalance when every member has rejoined and the initial delay is over; says whether it did. */
    private boolean maybeCompleteRebalance(ConsumerGroup group) {
        if (!(group.phase() instanceof PreparingRebalance preparing)
                || time.milliseconds() < preparing.notBeforeMs()
                || !preparing.joined().keySet().containsAll(group.members.keySet())) {
            return false;
        }
        completeRebalance(group, preparing);
        return true;
    }

    /** Evicts members whose session expired, except those waiting for this rebalance; says whether it did. */
    private boolean maybeExpireSessions(ConsumerGroup group, long now) {
        Set<String> waiting = group.phase() instanceof PreparingRebalance p ? p.joined().keySet() : Set.of();
        List<String> expired = new ArrayList<>();
        for (Member member : group.members.values()) {
            if (!waiting.contains(member.memberId) && member.sessionExpired(now)) {
                expired.add(member.memberId);
            }
        }
        if (expired.isEmpty()) {
            return false;
        }
        expired.forEach(id -> removeMember(group, id, "session timed out"));
        membersRemoved(group);
        return true;
    }

    /** Ends a rebalance or a cooperative hand-over whose deadline passed, removing the late; says whether it did. */
    private boolean maybeExpireRebalance(ConsumerGroup group, long now) {
        if (group.phase() instanceof PreparingRebalance preparing && now >= preparing.deadlineMs()) {
            for (String id : new ArrayList<>(group.members.keySet())) {
                if (!preparing.joined().containsKey(id)) {
                    removeMember(group, id, "did not rejoin within the rebalance timeout");
                }
            }
            completeRebalance(group, preparing);
            return true;
        }
        if (group.phase() instanceof CompletingRebalance completing && now >= completing.deadlineMs()) {
            completing.awaitingRevocation().forEach(id -> removeMember(group, id, "did not confirm its revocation"));
            prepareRebalance(group);
            maybeCompleteRebalance(group);
            return true;
        }
        return false;
    }

    private void removeMember(ConsumerGroup group, String memberId, String why) {
        group.members.remove(memberId);
        if (group.phase() instanceof PreparingRebalance preparing) {
            Completion<JoinResult> waiting = preparing.joined().remove(memberId);
            if (waiting != null) {
                later(waiting, GroupResult.failed(ErrorCode.UNKNOWN_MEMBER_ID, "Member " + memberId + " " + why));
            }
        }
    }

    /** After members were removed: the rest rebalance (or the running rebalance may now be complete). */
    private void membersRemoved(ConsumerGroup group) {
        if (group.is(GroupState.STABLE) || group.is(GroupState.COMPLETING_REBALANCE)) {
            prepareRebalance(group);
        }
        maybeCompleteRebalance(group);
    }

    /** Forms the next generation from the members that rejoined and answers their joins. */
    private void completeRebalance(ConsumerGroup group, PreparingRebalance preparing) {
        long now = time.milliseconds();
        group.nextGeneration();
        if (group.members.isEmpty()) {
            group.transitionTo(GroupPhase.EMPTY);
            maybeForget(group);
            return;
        }
        AssignmentStrategy strategy = group.strategy().orElseThrow();
        Map<String, MemberSubscription> subscriptions = new TreeMap<>();
        group.members.forEach((id, m) -> subscriptions.put(id, m.subscription()));
        Map<String, Integer> counts = Collections.unmodifiableMap(partitionCounts);
        Map<String, Set<TopicPartition>> next = strategy.assignor().assign(subscriptions, counts);
        Set<TopicPartition> withheld = checkAssignment(strategy, subscriptions, counts, next);

        Set<String> awaiting = new TreeSet<>();
        List<Member> members = new ArrayList<>(group.members.values());
        Map<String, Set<TopicPartition>> revoked = new TreeMap<>();
        for (Member member : members) {
            Set<TopicPartition> lost = Assignments.sortedSet(member.assignment);
            lost.removeAll(next.get(member.memberId));
            revoked.put(member.memberId, lost);
            if (lost.stream().anyMatch(withheld::contains)) {
                awaiting.add(member.memberId);
            }
            member.assignment = Collections.unmodifiableSet(Assignments.sortedSet(next.get(member.memberId)));
            member.lastHeardMs = now; // the session restarts with the new generation
        }
        if (withheld.isEmpty()) {
            group.transitionTo(GroupPhase.STABLE);
        } else {
            group.transitionTo(new CompletingRebalance(now + maxRebalanceTimeout(group), awaiting));
        }
        for (Member member : members) {
            JoinResult result = joinResult(group, member, revoked.get(member.memberId),
                    awaiting.contains(member.memberId));
            later(preparing.joined().get(member.memberId), GroupResult.ok(result));
        }
    }

    /**
     * Holds an assignor to its contract (a broken one must not hand a partition to two members); returns the valid
     * partitions the generation withholds, which only a cooperative assignor may do, and only for partitions some
     * member still owns.
     */
    private static Set<TopicPartition> checkAssignment(AssignmentStrategy strategy,
                                                       Map<String, MemberSubscription> subscriptions,
                                                       Map<String, Integer> counts,
                                                       Map<String, Set<TopicPartition>> next) {
        if (!next.keySet().equals(subscriptions.keySet())) {
            throw new IllegalStateException(strategy + " assigned to " + next.keySet() + ", members are "
                    + subscriptions.keySet());
        }
        Set<TopicPartition> assigned = Assignments.sortedSet();
        next.forEach((id, partitions) -> {
            for (TopicPartition tp : partitions) {
                if (!subscriptions.get(id).topics().contains(tp.topic())
                        || tp.partition() >= counts.getOrDefault(tp.topic(), 0)) {
                    throw new IllegalStateException(strategy + " gave " + id + " partition " + tp
                            + " it cannot read");
                }
                if (!assigned.add(tp)) {
                    throw new IllegalStateException(strategy + " gave " + tp + " to two members");
                }
            }
        });
        Set<TopicPartition> owned = Assignments.sortedSet();
        subscriptions.values().forEach(s -> owned.addAll(s.owned()));
        Set<TopicPartition> withheld = Assignments.sortedSet();
        for (String topic : subscribedTopics(subscriptions)) {
            for (TopicPartition tp : Assignments.partitions(topic, counts.getOrDefault(topic, 0))) {
                if (!assigned.contains(tp)) {
                    if (strategy.protocol() == RebalanceProtocol.EAGER || !owned.contains(tp)) {
                        throw new IllegalStateException(strategy + " left " + tp + " unassigned");
                    }
                    withheld.add(tp);
                }
            }
        }
        return withheld;
    }

    private static Set<String> subscribedTopics(Map<String, MemberSubscription> subscriptions) {
        Set<String> topics = new TreeSet<>();
        subscriptions.values().forEach(s -> topics.addAll(s.topics()));
        return topics;
    }

    private static int maxRebalanceTimeout(ConsumerGroup group) {
        int max = 0;
        for (Member member : group.members.values()) {
            max = Math.max(max, member.rebalanceTimeoutMs);
        }
        return max;
    }

    private static JoinResult joinResult(ConsumerGroup group, Member member, Set<TopicPartition> revoked,
                                         boolean mustRejoin) {
        return new JoinResult(group.generation(), member.memberId, group.strategy().orElseThrow(),
                Assignments.byTopic(member.assignment), Assignments.byTopic(revoked), mustRejoin);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Offsets

    /**
     * Commits offsets for a group. {@code done} succeeds once the commit is durable; until then {@link #fetchOffsets}
     * does not show it. Refusals: {@code UNKNOWN_MEMBER_ID} (not a member; or generation -1 without member id while
     * the group has members), {@code ILLEGAL_GENERATION} (stale generation), {@code REBALANCE_IN_PROGRESS} (the
     * member has already rejoined the running rebalance), {@code OFFSET_METADATA_TOO_LARGE},
     * {@code INVALID_GROUP_ID}; and whatever the store fails with. A commit is all or nothing. Like Kafka, the
     * coordinator does not check that the member owns the partitions: the generation is the fence.
     *
     * @param memberId   the member's id; empty, with generation -1, for a consumer that uses no group membership
     * @param generation the member's generation, or -1
     */
    public void commitOffsets(String groupId, String memberId, int generation,
                              Map<TopicPartition, OffsetAndMetadata> offsets, Completion<Void> done) {
        Objects.requireNonNull(memberId, "memberId");
        Objects.requireNonNull(offsets, "offsets");
        Objects.requireNonNull(done, "done");
        try {
            Optional<GroupResult<Void>> refused = checkCommit(groupId, memberId, generation, offsets);
            if (refused.isPresent()) {
                later(done, refused.get());
                return;
            }
            appendCommits(groupId, offsets, done);
        } finally {
            drain();
        }
    }

    private Optional<GroupResult<Void>> checkCommit(String groupId, String memberId, int generation,
                                                    Map<TopicPartition, OffsetAndMetadata> offsets) {
        Optional<GroupResult<Void>> badId = invalidGroupId(groupId);
        if (badId.isPresent()) {
            return badId;
        }
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
            if (e.getValue().metadata().length() > settings.maxMetadataChars()) {
                return Optional.of(GroupResult.failed(ErrorCode.OFFSET_METADATA_TOO_LARGE, "Metadata for "
                        + e.getKey() + " has " + e.getValue().metadata().length() + " characters, more than "
                        + settings.maxMetadataChars()));
            }
        }
        ConsumerGroup group = groups.get(groupId);
        if (generation < 0 && memberId.isEmpty()) {
            if (group != null && group.hasMembers()) {
                return Optional.of(GroupResult.failed(ErrorCode.UNKNOWN_MEMBER_ID, "Group " + groupId
                        + " has members; a commit without member id and generation is taken only from an empty group"));
            }
            return Optional.empty();
        }
        Member member = group == null ? null : group.members.get(memberId);
        if (member == null) {
            return Optional.of(GroupResult.failed(ErrorCode.UNKNOWN_MEMBER_ID, "Group " + groupId
                    + " has no member " + memberId));
        }
        if (generation != group.generation()) {
            return Optional.of(illegalGeneration(group, generation));
        }
        if (group.phase() instanceof PreparingRebalance p && p.joined().containsKey(memberId)) {
            return Optional.of(GroupResult.failed(ErrorCode.REBALANCE_IN_PROGRESS, "Member " + memberId
                    + " has rejoined; commit with the generation its join returns"));
        }
        return Optional.empty();
    }

    /**
     * The group's committed offsets for {@code partitions}; a partition without a commit is absent (the consumer
     * then applies its reset policy: earliest, latest or none). Sorted by partition.
     */
    public Map<TopicPartition, OffsetAndMetadata> fetchOffsets(String groupId, Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> found = new TreeMap<>(Assignments.ORDER);
        Map<TopicPartition, CommittedOffset> committed = offsets.offsets(groupId);
        for (TopicPartition tp : partitions) {
            CommittedOffset c = committed.get(tp);
            if (c != null) {
                found.put(tp, c.toOffsetAndMetadata());
            }
        }
        return Collections.unmodifiableMap(found);
    }

    /** All committed offsets of the group, sorted by partition. */
    public Map<TopicPartition, OffsetAndMetadata> fetchOffsets(String groupId) {
        return fetchOffsets(groupId, offsets.offsets(groupId).keySet());
    }

    /**
     * Replays records of the offsets topic into the cache, in log order: last write per key wins, a tombstone
     * deletes. Meant for groups the coordinator does not hold: at start-up, or when taking over an offsets partition
     * (if it held that partition's groups before, it has {@linkplain #unloadGroups unloaded} them since). A host
     * answers the groups' requests only after it returns. The records may be the raw log or its
     * {@link OffsetsTopic#compact compaction}: both load the same state.
     *
     * @return how many groups hold committed offsets afterwards
     */
    public int loadOffsets(Iterable<OffsetRecord> records) {
        try {
            records.forEach(offsets::apply);
            for (ConsumerGroup group : new ArrayList<>(groups.values())) {
                maybeForget(group);
            }
            return offsets.groupIds().size();
        } finally {
            drain();
        }
    }

    /** Writes commits (sorted, one record per partition) to the offset store; an empty map completes at once. */
    private void appendCommits(String groupId, Map<TopicPartition, OffsetAndMetadata> offsets,
                               Completion<Void> done) {
        if (offsets.isEmpty()) {
            later(done, GroupResult.done());
            return;
        }
        long now = time.milliseconds();
        List<OffsetRecord> records = new ArrayList<>();
        Assignments.sortedSet(offsets.keySet()).forEach(tp -> records.add(OffsetRecord.commit(groupId, tp,
                new CommittedOffset(offsets.get(tp).offset(), offsets.get(tp).metadata(), now))));
        append(groupId, records, done);
    }

    /** Appends records of one group; they enter the cache when durable (unless the group was unloaded meanwhile). */
    private void append(String groupId, List<OffsetRecord> records, Completion<Void> done) {
        // Counted before the call: the store may complete before append() returns.
        PendingAppend pending = new PendingAppend(groupId, List.copyOf(records), done);
        pendingAppends.add(pending);
        offsets.startAppend(pending.records);
        store.append(pending.records, result -> {
            try {
                if (!pendingAppends.remove(pending)) {
                    // Its group was unloaded, which answered it and forgot its in-flight count: the cache holds
                    // nothing of that group, and a later load replays the log, this append included if it is there.
                    return;
                }
                offsets.endAppend(pending.records);
                if (result.succeeded()) {
                    pending.records.forEach(offsets::apply);
                }
                later(done, result);
                ConsumerGroup group = groups.get(groupId);
                if (group != null) {
                    maybeForget(group);
                }
            } finally {
                drain();
            }
        });
    }

    /** An append handed to the store: identity matters (two appends may hold equal records). */
    private static final class PendingAppend {
        final String groupId;
        final List<OffsetRecord> records;
        final Completion<Void> done;

        PendingAppend(String groupId, List<OffsetRecord> records, Completion<Void> done) {
            this.groupId = groupId;
            this.records = records;
            this.done = done;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Leadership

    /**
     * Stops coordinating the groups {@code groupIds} accepts (in the broker: those of an offsets partition whose
     * leadership moved away). Each such group goes to Dead and is forgotten: its members, its cached offsets and its
     * appends in flight. Everything waiting on it is answered {@code NOT_COORDINATOR} (retriable: the client finds
     * the new coordinator): joins waiting for a rebalance, and commits, resets and deletes whose append has not
     * completed. Such an append may still become durable; its completion is then ignored here, and the record is
     * replayed by whichever coordinator loads the partition, this one included when leadership returns.
     *
     * <p>The host reloads a group ({@link #loadOffsets}) only from a log that appends made before the unload can no
     * longer change. In the broker they went to the partition leader of an older epoch, which fails them when it is
     * deposed and never writes in that epoch again, and the reload reads up to the new epoch's committed start.
     *
     * @return the ids of the groups unloaded (with membership, offsets or appends in flight), sorted
     */
    public Set<String> unloadGroups(Predicate<String> groupIds) {
        Objects.requireNonNull(groupIds, "groupIds");
        try {
            Set<String> unloaded = new TreeSet<>();
            for (ConsumerGroup group : new ArrayList<>(groups.values())) {
                if (!groupIds.test(group.groupId)) {
                    continue;
                }
                if (group.phase() instanceof PreparingRebalance preparing) {
                    preparing.joined().values().forEach(waiting -> later(waiting, notCoordinator(group.groupId)));
                }
                group.members.clear();
                group.transitionTo(GroupPhase.DEAD);
                groups.remove(group.groupId);
                unloaded.add(group.groupId);
            }
            for (PendingAppend pending : new ArrayList<>(pendingAppends)) {
                if (groupIds.test(pending.groupId)) {
                    pendingAppends.remove(pending);
                    later(pending.done, notCoordinator(pending.groupId));
                    unloaded.add(pending.groupId);
                }
            }
            unloaded.addAll(offsets.unload(groupIds));
            return Collections.unmodifiableSet(unloaded);
        } finally {
            drain();
        }
    }

    private static <T> GroupResult<T> notCoordinator(String groupId) {
        return GroupResult.failed(ErrorCode.NOT_COORDINATOR, "This broker no longer coordinates group " + groupId
                + " (leadership of its offsets partition moved); find the coordinator again");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Admin

    /** Every group this coordinator holds, sorted by id. */
    public List<GroupListing> listGroups() {
        Set<String> ids = new TreeSet<>(groups.keySet());
        ids.addAll(offsets.groupIds());
        List<GroupListing> list = new ArrayList<>();
        for (String id : ids) {
            ConsumerGroup group = groups.get(id);
            list.add(group == null ? new GroupListing(id, GroupState.EMPTY, 0, Optional.empty())
                    : new GroupListing(id, group.state(), group.members.size(), group.strategy()));
        }
        return List.copyOf(list);
    }

    /** A snapshot of one group. Errors: {@code UNKNOWN_GROUP}, {@code INVALID_GROUP_ID}. */
    public GroupResult<GroupDescription> describeGroup(String groupId) {
        Optional<GroupResult<GroupDescription>> badId = invalidGroupId(groupId);
        if (badId.isPresent()) {
            return badId.get();
        }
        ConsumerGroup group = groups.get(groupId);
        if (group == null && !offsets.holds(groupId)) {
            return GroupResult.failed(ErrorCode.UNKNOWN_GROUP, "No group " + groupId);
        }
        if (group == null) {
            // known only by its offsets (a consumer without membership, or loaded from the log)
            return GroupResult.ok(new GroupDescription(groupId, GroupState.EMPTY, 0, Optional.empty(), List.of(),
                    offsets.offsets(groupId)));
        }
        List<MemberDescription> members = new ArrayList<>();
        group.members.values().forEach(m -> members.add(m.describe()));
        return GroupResult.ok(new GroupDescription(groupId, group.state(), group.generation(), group.strategy(),
                members, offsets.offsets(groupId)));
    }

    /**
     * Sets committed offsets of a group that has no members (an operator rewinding or skipping ahead); creates the
     * group if needed. Errors: {@code GROUP_NOT_EMPTY}, {@code INVALID_REQUEST} (negative offset),
     * {@code INVALID_GROUP_ID}, and whatever the store fails with.
     */
    public void resetOffsets(String groupId, Map<TopicPartition, Long> offsets, Completion<Void> done) {
        Objects.requireNonNull(offsets, "offsets");
        Objects.requireNonNull(done, "done");
        try {
            Optional<GroupResult<Void>> badId = invalidGroupId(groupId);
            if (badId.isPresent()) {
                later(done, badId.get());
                return;
            }
            ConsumerGroup existing = groups.get(groupId);
            if (existing != null && existing.hasMembers()) {
                later(done, GroupResult.failed(ErrorCode.GROUP_NOT_EMPTY, "Group " + groupId + " has "
                        + existing.members.size() + " members; offsets can be reset only while it has none"));
                return;
            }
            for (Map.Entry<TopicPartition, Long> e : offsets.entrySet()) {
                if (e.getValue() < 0) {
                    later(done, GroupResult.failed(ErrorCode.INVALID_REQUEST, "Offset " + e.getValue() + " for "
                            + e.getKey() + " is negative"));
                    return;
                }
            }
            Map<TopicPartition, OffsetAndMetadata> commits = new java.util.HashMap<>();
            offsets.forEach((tp, offset) -> commits.put(tp, new OffsetAndMetadata(offset, "")));
            appendCommits(groupId, commits, done);
        } finally {
            drain();
        }
    }

    /**
     * Deletes a group that has no members, with its committed offsets: tombstones in the offsets topic for every
     * partition it has an offset for or a commit in flight. The group's membership is forgotten at once (a new group
     * with the same id may start); its offsets disappear, like any change of offsets, when the tombstones are durable,
     * which is when {@code done} succeeds. If they fail, the offsets stay, as in the log, and the delete can be
     * retried. Errors: {@code UNKNOWN_GROUP}, {@code GROUP_NOT_EMPTY}, {@code INVALID_GROUP_ID}.
     */
    public void deleteGroup(String groupId, Completion<Void> done) {
        Objects.requireNonNull(done, "done");
        try {
            Optional<GroupResult<Void>> badId = invalidGroupId(groupId);
            if (badId.isPresent()) {
                later(done, badId.get());
                return;
            }
            ConsumerGroup group = groups.get(groupId);
            if (group == null && !offsets.holds(groupId)) {
                later(done, GroupResult.failed(ErrorCode.UNKNOWN_GROUP, "No group " + groupId));
                return;
            }
            if (group != null && group.hasMembers()) {
                later(done, GroupResult.failed(ErrorCode.GROUP_NOT_EMPTY, "Group " + groupId + " has "
                        + group.members.size() + " members"));
                return;
            }
            if (group != null) {
                group.transitionTo(GroupPhase.DEAD);
                groups.remove(groupId);
            }
            Set<TopicPartition> keys = Assignments.sortedSet(offsets.offsets(groupId).keySet());
            keys.addAll(offsets.inFlight(groupId));
            if (keys.isEmpty()) {
                later(done, GroupResult.done());
                return;
            }
            List<OffsetRecord> tombstones = new ArrayList<>();
            keys.forEach(tp -> tombstones.add(OffsetRecord.tombstone(groupId, tp)));
            append(groupId, tombstones, done);
        } finally {
            drain();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /**
     * Forgets the membership of a group with no members, no offsets and nothing in flight, so that such groups do not
     * pile up. (An empty group with offsets is kept, so that describe still shows its last generation.)
     */
    private void maybeForget(ConsumerGroup group) {
        if (group.is(GroupState.EMPTY) && !offsets.holds(group.groupId) && groups.get(group.groupId) == group) {
            group.transitionTo(GroupPhase.DEAD);
            groups.remove(group.groupId);
        }
    }

    private static <T> GroupResult<T> illegalGeneration(ConsumerGroup group, int generation) {
        return GroupResult.failed(ErrorCode.ILLEGAL_GENERATION, "Generation " + generation + " of group "
                + group.groupId + " is stale; the current one is " + group.generation());
    }

    /**
     * Refuses, with {@code INVALID_GROUP_ID}, a group id this coordinator would refuse; lets a front door check an id
     * before it routes the request anywhere.
     */
    public static void validateGroupId(String groupId) {
        if (!isValidGroupId(groupId)) {
            throw new MillraceException(ErrorCode.INVALID_GROUP_ID, groupIdRule());
        }
    }

    private static boolean isValidGroupId(String groupId) {
        return groupId != null && !groupId.isEmpty() && groupId.length() <= MAX_GROUP_ID_CHARS;
    }

    private static String groupIdRule() {
        return "Group id must have 1-" + MAX_GROUP_ID_CHARS + " characters";
    }

    private static <T> Optional<GroupResult<T>> invalidGroupId(String groupId) {
        if (!isValidGroupId(groupId)) {
            return Optional.of(GroupResult.failed(ErrorCode.INVALID_GROUP_ID, groupIdRule()));
        }
        return Optional.empty();
    }

    private <T> void later(Completion<T> done, GroupResult<T> result) {
        callbacks.add(() -> done.complete(result));
    }

    /**
     * Runs queued completions once the state is consistent. A completion that calls back into the coordinator only
     * queues more (they run in this same loop, in order), so nothing is re-entered half-way. A completion that throws
     * does not stop the others; the first failure is rethrown at the end.
     */
    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        Throwable first = null;
        try {
            Runnable next;
            while ((next = callbacks.poll()) != null) {
                try {
                    next.run();
                } catch (RuntimeException | Error e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
        } finally {
            draining = false;
        }
        if (first instanceof RuntimeException e) {
            throw e;
        }
        if (first instanceof Error e) {
            throw e;
        }
    }
}
