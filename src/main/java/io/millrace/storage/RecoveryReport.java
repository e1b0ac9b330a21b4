package io.millrace.storage;

import java.util.List;

/**
 * What opening a log found and repaired, so that the broker can log it and tests can assert it.
 *
 * @param cleanShutdown     whether the log had been closed cleanly (then nothing was validated)
 * @param segmentsRecovered base offsets of the segments that were validated batch by batch
 * @param bytesTruncated    bytes cut from the log because they were not part of a valid batch
 * @param segmentsDeleted   base offsets of segments dropped because an earlier segment was cut or they did not follow
 *                          on from it
 */
public record RecoveryReport(boolean cleanShutdown, List<Long> segmentsRecovered, long bytesTruncated,
                             List<Long> segmentsDeleted) {

    public RecoveryReport {
        segmentsRecovered = List.copyOf(segmentsRecovered);
        segmentsDeleted = List.copyOf(segmentsDeleted);
    }

    /** True when recovery had to throw anything away. */
    public boolean lostData() {
        return bytesTruncated > 0 || !segmentsDeleted.isEmpty();
    }
}
