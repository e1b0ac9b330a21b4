package io.millrace.broker;

import io.millrace.common.MillraceException;

/**
 * A live read of one partition with flow control: data is fetched only while the subscriber has demand, one fetch
 * at a time, so the broker holds at most one fetch's worth of data for a subscriber however slow it is.
 *
 * <p>Demand is counted in records (offsets). A handler may take only part of what it is given (to stay within a
 * client's credit) by returning an earlier position; the rest is fetched again when demand returns.
 *
 * <p>Not thread-safe: use it from the context that created it.
 */
public interface Subscription {

    /** Adds {@code records} to the demand. */
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
