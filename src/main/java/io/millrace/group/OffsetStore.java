package io.millrace.group;

import java.util.List;

/**
 * Where the coordinator makes offset commits durable: in the broker, an append to the group's partition of
 * {@value OffsetsTopic#NAME} (see {@link OffsetsTopic#partitionFor}) with {@code acks=all}; in tests, a list.
 *
 * <p>Contract:
 * <ul>
 *   <li>all records of one call belong to one group, so they fall in one partition of the offsets topic and are
 *   written as one batch: all or none;</li>
 *   <li>{@code done} is called exactly once, with success only when every record is durable (replayed by a later
 *   {@link GroupCoordinator#loadOffsets}), or with a failure whose code the client will see
 *   ({@code NOT_LEADER}, {@code STORAGE_ERROR}, {@code REQUEST_TIMED_OUT}, ...);</li>
 *   <li>appends complete in the order they were made: the coordinator applies each to its cache when it completes,
 *   and the same order is what a reload replays, so the cache and the log never disagree;</li>
 *   <li>{@code done} runs on the coordinator's owner thread (it may also run before {@code append} returns).</li>
 * </ul>
 */
public interface OffsetStore {

    void append(List<OffsetRecord> records, Completion<Void> done);
}
