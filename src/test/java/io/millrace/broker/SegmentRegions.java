package io.millrace.broker;

import io.millrace.storage.LogSlice;

/**
 * For tests of front-ends: the file form of {@link FetchedRecords}, which only the broker creates in production, from
 * a slice the test read from a log of its own.
 */
public final class SegmentRegions {

    private SegmentRegions() {
    }

    public static FetchedRecords of(LogSlice slice) {
        return new SegmentRegion(slice);
    }
}
