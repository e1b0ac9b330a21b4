package io.millrace.group;

import io.millrace.common.TopicPartition;
import java.util.Objects;
import java.util.Set;

/**
 * What an {@link Assignor} knows about one member: the topics it subscribes to and the partitions it owns in the
 * current generation (empty for a new member, and ignored by eager assignors). Immutable.
 */
public record MemberSubscription(Set<String> topics, Set<TopicPartition> owned) {

    public MemberSubscription {
        topics = Set.copyOf(Objects.requireNonNull(topics, "topics"));
        owned = Set.copyOf(Objects.requireNonNull(owned, "owned"));
    }

    /** A member that owns nothing yet. */
    public static MemberSubscription of(Set<String> topics) {
        return new MemberSubscription(topics, Set.of());
    }
}
