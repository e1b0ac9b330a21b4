package io.millrace.broker;

import io.vertx.core.Future;

/**
 * A fetch in flight that its reader may withdraw: a subscription that is cancelled or sought elsewhere calls
 * {@link #withdraw()}, so its long-poll stops holding one of the partition's {@code partition.max.fetch.waiters}
 * slots until {@code fetch.max.wait.ms} runs out. Withdrawing completes {@link #result()} with no records (or not at
 * all when the fetch is shared with other readers that still wait); call it at most once, before the result is used.
 */
record PendingFetch(Future<FetchResult> result, Runnable withdrawal) {

    void withdraw() {
        withdrawal.run();
    }
}
