package io.millrace.client;

import reactor.core.publisher.Mono;

/**
 * A record read as a member of a consumer group, with the means to mark it processed. Acknowledging a record makes
 * the position after it the partition's next commit (auto-commit, revocation, or {@link #commit()}); committing
 * commits it now. Offsets are committed per partition, so acknowledging a record also covers the records before it.
 */
public interface GroupRecord {

    ConsumerRecord record();

    /** Marks this record (and every earlier one of its partition) processed; cheap, no network. */
    void acknowledge();

    /**
     * Acknowledges this record and commits, completing when the commit is durable on the broker. Fails with
     * ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID when the partition has moved to another member meanwhile.
     */
    Mono<Void> commit();
}
