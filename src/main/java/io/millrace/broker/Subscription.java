package io.millrace.broker;

import io.millrace.common.MillraceException;

/**
 * A live read of one partition with flow control: data is fetched only while the subscriber has demand, one fetch
 * at a time, so the broker holds at most one fetch's worth of data for a subscriber however slow it is.
 *
 * <p>Demand is counted in records (offsets). A handler may take only part of what it is given (to stay within a
 * client's credit) by returning an earlier position; the subscription then waits until {@link #request} is called
 * again (with more demand, or with 0 when the subscriber can take what it already asked for, e.g. after its output
 * drained).
 *
 * <p>Not thread-safe: use it from the context that created it.
 */
public interface Subscription {

    /**
     * Adds {@code records} (0 or more) to the demand and, if there is demand and no fetch in flight, fetches: so
     * {@code request(0)} resumes a subscription whose handler last took nothing.
     */
    void request(long records);

    /** Continues from {@code offset} (the next fetch starts there; an in-flight one is discarded). */
    void seek(long offset);

    /** The offset the next fetch starts from. */
    long position();

    long demand();

    /** Stops fetching; no handler call follows. */
    void cancel();

    /** Receives a subscription's data. */
    interface Handler {

        /**
         * Takes fetched batches; {@code position} is the offset the subscriber wants next (the first batch may start
         * before it). Returns the offset to continue from: {@link FetchResult#nextOffset()} when everything was
         * taken, or less.
         */
        long onData(FetchResult result, long position);

        /** The subscription stopped because of {@code error} (e.g. OFFSET_OUT_OF_RANGE after retention). */
        void onError(MillraceException error);
    }
}
