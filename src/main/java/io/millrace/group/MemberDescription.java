package io.millrace.group;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A member as admin tools see it. Immutable.
 *
 * @param assignment topic → partitions it owns in the current generation
 */
public record MemberDescription(String memberId, String clientId, String host, Set<String> topics,
                                Map<String, List<Integer>> assignment) {

    public MemberDescription {
        topics = Set.copyOf(topics);
        assignment = Assignments.byTopic(Assignments.flatten(assignment));
    }
}
