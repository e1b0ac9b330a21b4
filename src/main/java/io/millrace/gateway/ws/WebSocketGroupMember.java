package io.millrace.gateway.ws;

import io.millrace.broker.Broker;
import io.millrace.broker.json.JsonMapping;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.OffsetSpec;
import io.millrace.common.TopicPartition;
import io.millrace.group.AssignmentStrategy;
import io.millrace.group.JoinRequest;
import io.millrace.group.JoinResult;
import io.millrace.group.OffsetAndMetadata;
import io.millrace.group.RebalanceProtocol;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A browser's membership of a consumer group, kept by the gateway for as long as the WebSocket lives: it joins for
 * the browser, heart-beats, rejoins when the group rebalances, starts and stops the partitions the group assigns
 * (through {@link Partitions}, which delivers them under the subscription's credit), tells the browser
 * {@code assigned} and {@code revoked}, commits delivered positions (on revocation, periodically with auto-commit,
 * on {@code commit}), and leaves when asked or when the socket closes.
 *
 * <h2>States</h2>
 * <pre>
 * from     event                                      does                                              to
 * JOINING  join answered                              revokes lost partitions (commit first), starts    MEMBER
 *                                                     gained ones from their committed offsets
 * JOINING  UNKNOWN_MEMBER_ID / retriable error        retries (new member id / after a pause)           JOINING
 * MEMBER   heartbeat REBALANCE_IN_PROGRESS            eager: revokes all (commit first) and rejoins;    JOINING
 *                                                     cooperative: rejoins, keeps reading
 * MEMBER   heartbeat ILLEGAL_GENERATION/UNKNOWN_MEMBER revokes all without commit, rejoins             JOINING
 * any      leaveGroup, socket closed                  commits (auto-commit), leaves                     LEFT
 * </pre>
 *
 * <p>Not thread-safe: everything runs on the socket's context, where broker futures complete too.
 */
final class WebSocketGroupMember {

    /** How the member's partitions are read and delivered; implemented by the socket. */
    interface Partitions {

        /** Starts delivering {@code tp} from {@code offset}. */
        void start(TopicPartition tp, long offset);

        /** Stops delivering {@code tp}. */
        void stop(TopicPartition tp);

        /** The next offset after the last record delivered to the browser, if any was. */
        java.util.OptionalLong delivered(TopicPartition tp);
    }

    private static final Comparator<TopicPartition> ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private final Vertx vertx;
    private final Broker broker;
    private final String subscriptionId;
    private final String groupId;
    private final Set<String> topics;
    private final AssignmentStrategy strategy;
    private final int sessionTimeoutMs;
    private final int rebalanceTimeoutMs;
    private final boolean autoCommit;
    private final OffsetSpec reset;
    private final String clientId;
    private final String host;
    private final Partitions partitions;
    private final Consumer<JsonObject> send;

    private String memberId = "";
    private int generation = -1;
    private boolean joining;
    private boolean revoking;
    private boolean left;
    private int failedJoins;
    private long timer = -1;
    private final Set<TopicPartition> owned = new TreeSet<>(ORDER);
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    WebSocketGroupMember(Vertx vertx, Broker broker, String subscriptionId, JsonObject request, String host,
                         Partitions partitions, Consumer<JsonObject> send) {
        this.vertx = vertx;
        this.broker = broker;
        this.subscriptionId = subscriptionId;
        this.groupId = JsonMapping.requireString(request, "group");
        Object list = request.getValue("topics");
        if (!(list instanceof JsonArray array) || array.isEmpty()) {
            throw JsonMapping.invalid("'topics' must be a non-empty array of topic names");
        }
        Set<String> names = new HashSet<>();
        for (Object t : array) {
            if (!(t instanceof String s)) {
                throw JsonMapping.invalid("'topics' must be a non-empty array of topic names");
            }
            names.add(s);
        }
        this.topics = Set.copyOf(names);
        this.strategy = JsonMapping.parseStrategy(JsonMapping.optionalString(request, "strategy", null));
        this.sessionTimeoutMs = JsonMapping.optionalInt(request, "sessionTimeoutMs").orElse(10_000);
        this.rebalanceTimeoutMs = JsonMapping.optionalInt(request, "rebalanceTimeoutMs").orElse(30_000);
        this.autoCommit = JsonMapping.optionalBoolean(request, "autoCommit", true);
        String resetName = JsonMapping.optionalString(request, "reset", "earliest");
        this.reset = switch (resetName) {
            case "earliest" -> OffsetSpec.EARLIEST;
            case "latest" -> OffsetSpec.LATEST;
            case "none" -> null;
            default -> throw JsonMapping.invalid("'reset' must be \"earliest\", \"latest\" or \"none\"");
        };
        this.clientId = JsonMapping.optionalString(request, "clientId", "browser");
        this.host = host;
        this.partitions = partitions;
        this.send = send;
    }

    String groupId() {
        return groupId;
    }

    /** Joins; completes with the first assignment (as the {@code assigned} message also tells). */
    Future<JsonObject> start() {
        timer = vertx.setPeriodic(Math.max(100, sessionTimeoutMs / 3), id -> tick());
        Promise<JsonObject> first = Promise.promise();
        join(first);
        return first.future();
    }

    /** Commits {@code offsets}, or the delivered positions of every owned partition when empty. */
    Future<Void> commit(Map<TopicPartition, Long> offsets) {
        if (memberId.isEmpty()) {
            return Future.failedFuture(new MillraceException(ErrorCode.REBALANCE_IN_PROGRESS,
                    "The browser is not a member yet; wait for 'assigned'"));
        }
        Map<TopicPartition, Long> chosen = offsets.isEmpty() ? deliveredPositions(owned) : offsets;
        return commitNow(chosen);
    }

    /** Commits (with auto-commit), stops every partition and leaves the group. Idempotent. */
    Future<Void> leave() {
        if (left) {
            return Future.succeededFuture();
        }
        left = true;
        vertx.cancelTimer(timer);
        Set<TopicPartition> all = new TreeSet<>(ORDER);
        all.addAll(owned);
        String member = memberId;
        return revoke(all, autoCommit).compose(v -> member.isEmpty() ? Future.<Void>succeededFuture()
                : broker.leaveGroup(groupId, member)).recover(e -> Future.succeededFuture());
    }

    // ------------------------------------------------------------------------------------------------ membership

    private void join(Promise<JsonObject> first) {
        if (left || joining) {
            return;
        }
        joining = true;
        broker.joinGroup(new JoinRequest(groupId, memberId, clientId, host, topics, sessionTimeoutMs,
                        rebalanceTimeoutMs, strategy))
                .onComplete(ar -> {
                    joining = false;
                    if (ar.succeeded()) {
                        failedJoins = 0;
                        joined(ar.result(), first);
                    } else {
                        joinFailed(ar.cause(), first);
                    }
                });
    }

    private void joined(JoinResult result, Promise<JsonObject> first) {
        memberId = result.memberId();
        if (left) {
            broker.leaveGroup(groupId, memberId);
            return;
        }
        generation = result.generation();
        Set<TopicPartition> assignment = result.partitions();
        Set<TopicPartition> lost = new TreeSet<>(ORDER);
        Set<TopicPartition> gained = new TreeSet<>(ORDER);
        owned.stream().filter(tp -> !assignment.contains(tp)).forEach(lost::add);
        assignment.stream().filter(tp -> !owned.contains(tp)).forEach(gained::add);
        revoke(lost, true)
                .compose(v -> {
                    if (result.mustRejoin()) {
                        join(null);
                    }
                    return startPartitions(gained);
                })
                .onComplete(ar -> {
                    if (ar.failed()) {
                        MillraceException e = JsonMapping.asMillrace(ar.cause());
                        send.accept(new JsonObject().put("op", "error").put("subscription", subscriptionId)
                                .put("error", JsonMapping.error(e.errorCode(), e.getMessage())));
                        if (first != null) {
                            first.tryFail(e);
                        }
                        return;
                    }
                    JsonObject assigned = new JsonObject().put("op", "assigned").put("subscription", subscriptionId)
                            .put("group", groupId).put("memberId", memberId).put("generation", generation)
                            .put("partitions", ar.result()).put("assignment", JsonMapping.assignment(
                                    result.assignment()));
                    send.accept(assigned);
                    if (first != null) {
                        first.tryComplete(assigned.copy().put("op", null));
                    }
                });
    }

    private void joinFailed(Throwable error, Promise<JsonObject> first) {
        ErrorCode code = JsonMapping.asMillrace(error).errorCode();
        if (code == ErrorCode.UNKNOWN_MEMBER_ID) {
            memberId = "";
        }
        boolean again = code == ErrorCode.UNKNOWN_MEMBER_ID || code == ErrorCode.REBALANCE_IN_PROGRESS
                || code == ErrorCode.ILLEGAL_GENERATION || code.retriable();
        if (!left && again && ++failedJoins <= 20) {
            vertx.setTimer(Math.min(2_000, 100L * failedJoins), id -> join(first));
            return;
        }
        if (first != null) {
            first.tryFail(error);
        } else {
            MillraceException e = JsonMapping.asMillrace(error);
            send.accept(new JsonObject().put("op", "error").put("subscription", subscriptionId)
                    .put("error", JsonMapping.error(e.errorCode(), e.getMessage())));
        }
    }

    private void tick() {
        if (left || joining || revoking || memberId.isEmpty()) {
            return;
        }
        broker.heartbeat(groupId, memberId, generation).onComplete(ar -> {
            if (ar.succeeded()) {
                if (autoCommit) {
                    commitNow(deliveredPositions(owned));
                }
                return;
            }
            ErrorCode code = JsonMapping.asMillrace(ar.cause()).errorCode();
            if (code == ErrorCode.REBALANCE_IN_PROGRESS) {
                rebalance();
            } else if (code == ErrorCode.ILLEGAL_GENERATION || code == ErrorCode.UNKNOWN_MEMBER_ID) {
                if (code == ErrorCode.UNKNOWN_MEMBER_ID) {
                    memberId = "";
                }
                generation = -1;
                revoking = true;
                revoke(ownedCopy(), false).onComplete(v -> {
                    revoking = false;
                    join(null);
                });
            }
        });
    }

    private void rebalance() {
        if (joining || revoking || left) {
            return;
        }
        if (strategy.protocol() == RebalanceProtocol.COOPERATIVE) {
            join(null);
            return;
        }
        revoking = true;
        revoke(ownedCopy(), true).onComplete(v -> {
            revoking = false;
            join(null);
        });
    }

    // ------------------------------------------------------------------------------------------------ partitions

    private Future<Void> revoke(Set<TopicPartition> lost, boolean commit) {
        if (lost.isEmpty()) {
            return Future.succeededFuture();
        }
        Map<TopicPartition, Long> positions = deliveredPositions(lost);
        lost.forEach(partitions::stop);
        owned.removeAll(lost);
        send.accept(new JsonObject().put("op", "revoked").put("subscription", subscriptionId).put("group", groupId)
                .put("partitions", partitionList(lost)));
        Future<Void> commits = commit ? commitNow(positions).recover(e -> Future.succeededFuture())
                : Future.succeededFuture();
        return commits.onComplete(v -> lost.forEach(committed::remove));
    }

    /** Starts every gained partition at its committed offset or the reset policy; answers where each starts. */
    private Future<JsonArray> startPartitions(Set<TopicPartition> gained) {
        if (gained.isEmpty()) {
            return Future.succeededFuture(new JsonArray());
        }
        return broker.fetchOffsets(groupId, gained).compose(found -> {
            List<Future<Long>> starts = new ArrayList<>();
            for (TopicPartition tp : gained) {
                OffsetAndMetadata c = found.get(tp);
                if (c != null) {
                    committed.put(tp, c.offset());
                    starts.add(Future.succeededFuture(c.offset()));
                } else if (reset == null) {
                    return Future.failedFuture(new MillraceException(ErrorCode.OFFSET_OUT_OF_RANGE, "Group "
                            + groupId + " has no committed offset for " + tp + " and the reset policy is none"));
                } else {
                    starts.add(broker.listOffset(tp, reset).map(r -> r.offset()));
                }
            }
            return Future.all(starts).map(all -> {
                JsonArray out = new JsonArray();
                int i = 0;
                for (TopicPartition tp : gained) {
                    long offset = starts.get(i++).result();
                    if (!left) {
                        owned.add(tp);
                        partitions.start(tp, offset);
                    }
                    out.add(new JsonObject().put("topic", tp.topic()).put("partition", tp.partition())
                            .put("offset", offset));
                }
                return out;
            });
        });
    }

    private Map<TopicPartition, Long> deliveredPositions(Set<TopicPartition> which) {
        Map<TopicPartition, Long> out = new HashMap<>();
        for (TopicPartition tp : which) {
            partitions.delivered(tp).ifPresent(next -> {
                if (next > committed.getOrDefault(tp, -1L)) {
                    out.put(tp, next);
                }
            });
        }
        return out;
    }

    private Future<Void> commitNow(Map<TopicPartition, Long> offsets) {
        if (offsets.isEmpty() || memberId.isEmpty()) {
            return Future.succeededFuture();
        }
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        offsets.forEach((tp, o) -> commit.put(tp, OffsetAndMetadata.of(o)));
        return broker.commitOffsets(groupId, memberId, generation, commit)
                .onSuccess(v -> offsets.forEach((tp, o) -> committed.merge(tp, o, Math::max)));
    }

    private Set<TopicPartition> ownedCopy() {
        Set<TopicPartition> copy = new TreeSet<>(ORDER);
        copy.addAll(owned);
        return copy;
    }

    private static JsonArray partitionList(Set<TopicPartition> tps) {
        JsonArray out = new JsonArray();
        tps.forEach(tp -> out.add(new JsonObject().put("topic", tp.topic()).put("partition", tp.partition())));
        return out;
    }
}
