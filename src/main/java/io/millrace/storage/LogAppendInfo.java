package io.millrace.storage;

import java.util.OptionalLong;

/**
 * What an append wrote.
 *
 * @param firstOffset   offset of the first record of the batch
 * @param lastOffset    offset of its last record
 * @param recordCount   number of records
 * @param logAppendTime the broker time stamped on the batch under {@code LogAppendTime}, else empty
 * @param sizeInBytes   bytes written
 * @param duplicate     true when the batch was a retry of one already in the log: nothing was written and the
 *                      offsets are those of the first copy
 */
public record LogAppendInfo(long firstOffset, long lastOffset, int recordCount, OptionalLong logAppendTime,
                            int sizeInBytes, boolean duplicate) {
}
