package io.millrace.protocol;

import java.util.List;
import java.util.Objects;

/**
 * The member's place in the new generation.
 *
 * @param generation int32, the generation to send with heartbeats and commits
 * @param memberId   the member's id (a new member learns it here)
 * @param strategy   the group's strategy
 * @param mustRejoin true when revoked partitions wait for this member: commit them, then join again
 *                   (cooperative-sticky only)
 * @param assignment the partitions this member reads now
 * @param revoked    the partitions it owned before and no longer owns: stop reading and commit them
 */
public record JoinGroupResponse(int generation, String memberId, String strategy, boolean mustRejoin,
                                List<TopicPartitions> assignment, List<TopicPartitions> revoked)
        implements Response {

    public JoinGroupResponse {
        Objects.requireNonNull(memberId, "memberId");
        Objects.requireNonNull(strategy, "strategy");
        assignment = Require.list(assignment, "assignment");
        revoked = Require.list(revoked, "revoked");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.JOIN_GROUP;
    }

    void write(WireWriter w) {
        w.int32(generation);
        w.string(memberId);
        w.string(strategy);
        w.int8(mustRejoin ? 1 : 0);
        TopicPartitions.writeAll(w, assignment);
        TopicPartitions.writeAll(w, revoked);
    }

    static JoinGroupResponse read(WireReader r) {
        int generation = r.int32("generation");
        String memberId = r.string("memberId");
        String strategy = r.string("strategy");
        byte rejoin = r.int8("mustRejoin");
        if (rejoin != 0 && rejoin != 1) {
            throw new IllegalArgumentException("mustRejoin must be 0 or 1, was " + rejoin);
        }
        return new JoinGroupResponse(generation, memberId, strategy, rejoin == 1,
                TopicPartitions.readAll(r, "assignment"), TopicPartitions.readAll(r, "revoked"));
    }
}
