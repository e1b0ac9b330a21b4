package io.millrace.replication;

import io.millrace.common.EpochEndOffset;

/**
 * Divergence detection and truncation decisions between a follower's log and its leader's (Kafka's KIP-101,
 * KIP-279 and the fetch-time check of KIP-595), as pure functions over each side's leader-epoch cache.
 *
 * <p>The leader answers every follower fetch with {@link #check}: the follower says where its log ends
 * ({@code fetchOffset}) and the latest epoch it holds ({@code lastFetchedEpoch}); if the leader's log ends that
 * epoch earlier, or does not know it, the logs have diverged and the leader answers with where its own log ends
 * that epoch instead of records. The follower then truncates with {@link #truncation} and fetches again with its
 * new log end and latest epoch; each round strictly lowers its latest epoch or ends the divergence, so it
 * terminates.
 *
 * <p>Why epochs and not the high watermark: a follower that truncated to its (possibly stale) high watermark could
 * drop records the leader had already committed, and two replicas that both failed could each keep a different
 * record at the same offset. A record is identified by (offset, epoch): only one leader ever wrote in an epoch, so
 * two logs holding the same epoch at an offset hold the same records up to it.
 *
 * <p>{@code EpochLookup.endOffsetFor} follows the shared semantics of {@link EpochEndOffset} in the replication
 * plan: {@code UNDEFINED} when the cache is empty or the epoch is below the first cached one; (latest, log end) at
 * or above the latest; otherwise (floor epoch, start offset of the next cached epoch). Two consequences for the
 * storage side, as in Kafka's {@code UnifiedLog.truncateTo}: truncating the log to an offset also drops the cache
 * entries starting at or above it, even when the log itself is already that short (a deposed leader may have
 * cached an epoch it wrote nothing in); and truncating below the log start empties the log entirely.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Divergence {

    private Divergence() {
    }

    /** A replica's leader-epoch cache, asked where an epoch ended (see the class comment for the semantics). */
    @FunctionalInterface
    public interface EpochLookup {
        EpochEndOffset endOffsetFor(int epoch);
    }

    /** The leader's answer to a follower fetch, before any records are read. */
    public sealed interface FetchCheck permits FetchCheck.Ok, FetchCheck.Diverging, FetchCheck.OutOfRange {

        /** The follower's log matches the leader's up to {@code fetchOffset}: send records from there. */
        record Ok() implements FetchCheck {
        }

        /**
         * The follower holds records the leader does not: answer {@code leaderEnd} (where the leader's log ends the
         * follower's last epoch, possibly {@link EpochEndOffset#UNDEFINED}) and no records.
         */
        record Diverging(EpochEndOffset leaderEnd) implements FetchCheck {
        }

        /**
         * The fetch offset is outside the leader's log: the follower truncates its log fully and restarts it
         * empty at {@code leaderLogStart}.
         */
        record OutOfRange(long leaderLogStart) implements FetchCheck {
        }
    }

    /** Where the follower truncates after a {@link FetchCheck.Diverging} answer. */
    public record Truncation(long offset, boolean complete) {
    }

    private static final FetchCheck OK = new FetchCheck.Ok();

    /**
     * Leader side: what to answer a follower that fetches at {@code fetchOffset} with {@code lastFetchedEpoch}.
     * The caller has already checked the follower's current leader epoch against its own (FENCED_LEADER_EPOCH /
     * NOT_LEADER).
     * <ol>
     *   <li>{@code fetchOffset < leaderLogStart}: {@link FetchCheck.OutOfRange}, whatever the epochs say (Kafka
     *       checks this before divergence too).</li>
     *   <li>{@code lastFetchedEpoch < 0} (the follower's log and cache are empty): {@link FetchCheck.Ok} when
     *       {@code fetchOffset <= leaderLogEnd}, else {@link FetchCheck.OutOfRange} (Kafka's log read refuses an
     *       offset beyond the log end the same way).</li>
     *   <li>{@code e = leaderEpochs.endOffsetFor(lastFetchedEpoch)}: {@link FetchCheck.Diverging}{@code (e)} if
     *       {@code e} is undefined, {@code e.epoch() < lastFetchedEpoch} (the leader never saw that epoch), or
     *       {@code e.endOffset() < fetchOffset} (the follower has more of that epoch than the leader). Kafka
     *       answers OFFSET_OUT_OF_RANGE for an undefined {@code e}; the plan answers diverging, and
     *       {@link #truncation} handles it.</li>
     *   <li>Otherwise {@link FetchCheck.Ok}.</li>
     * </ol>
     */
    public static FetchCheck check(EpochLookup leaderEpochs, int lastFetchedEpoch, long fetchOffset,
                                   long leaderLogStart, long leaderLogEnd) {
        if (fetchOffset < leaderLogStart) {
            return new FetchCheck.OutOfRange(leaderLogStart);
        }
        if (lastFetchedEpoch >= 0) {
            EpochEndOffset leaderEnd = leaderEpochs.endOffsetFor(lastFetchedEpoch);
            if (leaderEnd.isUndefined() || leaderEnd.endOffset() < 0) {
                return new FetchCheck.Diverging(EpochEndOffset.UNDEFINED);
            }
            if (leaderEnd.epoch() < lastFetchedEpoch || leaderEnd.endOffset() < fetchOffset) {
                return new FetchCheck.Diverging(leaderEnd);
            }
        }
        // With a matching epoch the end offset bounds fetchOffset by the log end already; this guards the rest.
        if (fetchOffset > leaderLogEnd) {
            return new FetchCheck.OutOfRange(leaderLogStart);
        }
        return OK;
    }

    /**
     * Follower side: where to truncate on a {@link FetchCheck.Diverging}{@code (leaderEnd)} answer, and whether
     * that ends the divergence or the follower must fetch again (with its new log end and latest epoch) to refine
     * it. Kafka's {@code AbstractFetcherThread.getOffsetTruncationState}, with {@code f =
     * followerEpochs.endOffsetFor(leaderEnd.epoch())}:
     * <ul>
     *   <li>{@code f.epoch() == leaderEnd.epoch()}: both logs hold that epoch; they agree up to where the shorter
     *       one ends it: {@code min(f.endOffset(), leaderEnd.endOffset(), followerLogEnd)}, complete.</li>
     *   <li>{@code f.epoch() < leaderEnd.epoch()}: the follower never saw the leader's epoch; everything it wrote
     *       after its own floor epoch is in epochs the leader does not hold: {@code min(f.endOffset(),
     *       followerLogEnd)}, not complete.</li>
     *   <li>{@code leaderEnd} undefined, or {@code f} undefined: the two logs share no epoch at or below the
     *       follower's last one, so none of the follower's records can be in the leader's log: {@code 0}, complete
     *       (the whole log goes; the next fetch at 0 is {@link FetchCheck.OutOfRange} if the leader's log starts
     *       later). Kafka's cache answers {@code f} differently below its first epoch ((requested epoch, first
     *       start offset)), which gives the same result when the log starts at 0; the plan's rule
     *       {@code min(leaderEnd.endOffset(), followerLogEnd)} here would keep divergent records after a double
     *       failure in which a replica led an epoch from an empty log, so it is not used.</li>
     * </ul>
     * Use it only on the answer to a fetch whose offset and last epoch are still the follower's log end and latest
     * epoch (drop stale answers, as Kafka drops a response whose fetch offset no longer matches).
     */
    public static Truncation truncation(EpochLookup followerEpochs, EpochEndOffset leaderEnd, long followerLogEnd) {
        if (leaderEnd.isUndefined() || leaderEnd.endOffset() < 0) {
            return new Truncation(0, true);
        }
        EpochEndOffset followerEnd = followerEpochs.endOffsetFor(leaderEnd.epoch());
        if (followerEnd.isUndefined() || followerEnd.endOffset() < 0) {
            return new Truncation(0, true);
        }
        if (followerEnd.epoch() == leaderEnd.epoch()) {
            long offset = Math.min(Math.min(followerEnd.endOffset(), leaderEnd.endOffset()), followerLogEnd);
            return new Truncation(offset, true);
        }
        return new Truncation(Math.min(followerEnd.endOffset(), followerLogEnd), false);
    }
}
