package io.millrace.group;

import java.util.Optional;

/**
 * One line of a group listing. Immutable.
 *
 * @param strategy empty while the group has no members
 */
public record GroupListing(String groupId, GroupState state, int memberCount, Optional<AssignmentStrategy> strategy) {
}
