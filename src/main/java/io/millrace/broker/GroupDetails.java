package io.millrace.broker;

import io.millrace.group.GroupDescription;
import io.millrace.group.PartitionLag;
import java.util.List;

/**
 * A consumer group as admin tools show it: its description (state, generation, members with client ids, hosts and
 * assignments, committed offsets) and, for every partition it has an offset for or a member owns, the lag
 * {@code highWatermark - committed}. Immutable.
 */
public record GroupDetails(GroupDescription description, List<PartitionLag> lag) {

    public GroupDetails {
        lag = List.copyOf(lag);
    }
}
