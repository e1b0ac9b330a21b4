package io.millrace.gateway.tcp;

import io.millrace.broker.Broker;
import io.millrace.broker.FetchResult;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.FetchRequest;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Runs one FETCH against the broker: every partition in parallel, each a long-poll {@link Broker#fetch}, and
 * completes with one {@link Outcome} per partition in request order. It never fails: a partition that cannot be read
 * carries its error.
 *
 * <p>When it answers. {@code maxWaitMs} 0 or {@code minBytes} 0: at once, with what is there. One partition: a single
 * long poll, which the partition answers as soon as it has any committed batch (the broker has no byte threshold
 * within a partition). Several partitions: first a read of each that does not wait; if that brought fewer than
 * {@code minBytes}, the partitions that had nothing are long-polled for the rest of {@code maxWaitMs}, and the fetch
 * completes as soon as the bytes seen reach {@code minBytes} or every poll has come back. A poll still waiting then
 * is left to run out in the partition and its result is dropped; it holds a file region, not data.
 *
 * <p>Not thread-safe: created and completed on the connection's event loop (broker results complete there).
 */
final class LongPollFetch {

    /**
     * One partition's part of the answer.
     *
     * @param partition the partition asked for
     * @param error     why it could not be read, or empty
     * @param result    what was read: whole committed batches as a file region (possibly empty), with the offsets to
     *                  report; empty on error
     */
    record Outcome(int partition, Optional<ApiError> error, Optional<FetchResult> result) {
    }

    private final Broker broker;
    private final LeaderHints hints;
    private final FetchRequest request;
    private final Outcome[] outcomes;
    private final Promise<List<Outcome>> done = Promise.promise();
    private final long startNanos = System.nanoTime();
    private long bytes;

    private LongPollFetch(Broker broker, LeaderHints hints, FetchRequest request) {
        this.broker = broker;
        this.hints = hints;
        this.request = request;
        this.outcomes = new Outcome[request.partitions().size()];
    }

    /** Starts the fetch; the future completes on the caller's context. */
    static Future<List<Outcome>> run(Broker broker, LeaderHints hints, FetchRequest request) {
        LongPollFetch fetch = new LongPollFetch(broker, hints, request);
        fetch.start();
        return fetch.done.future();
    }

    private void start() {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < outcomes.length; i++) {
            all.add(i);
        }
        boolean mayWait = request.maxWaitMs() > 0 && request.minBytes() > 0;
        if (all.isEmpty()) {
            finish();
        } else if (all.size() == 1 || !mayWait) {
            poll(all, mayWait ? request.maxWaitMs() : 0, false, this::finish);
        } else {
            poll(all, 0, false, this::waitForMore);
        }
    }

    /** After the first, non-waiting read of several partitions. */
    private void waitForMore() {
        long left = request.maxWaitMs() - (System.nanoTime() - startNanos) / 1_000_000;
        List<Integer> empty = new ArrayList<>();
        for (int i = 0; i < outcomes.length; i++) {
            Outcome o = outcomes[i];
            if (o.result().isPresent() && o.result().get().records().isEmpty()) {
                empty.add(i);
            }
        }
        if (bytes >= request.minBytes() || left <= 0 || empty.isEmpty()) {
            finish();
        } else {
            poll(empty, left, true, this::finish);
        }
    }

    /**
     * Fetches the partitions at {@code indexes} with up to {@code waitMs} of waiting each, then runs {@code then} once
     * they have all answered, or as soon as {@code minBytes} are in when {@code early}.
     */
    private void poll(List<Integer> indexes, long waitMs, boolean early, Runnable then) {
        int[] waiting = {indexes.size()};
        boolean[] moved = {false};
        for (int i : indexes) {
            FetchRequest.PartitionFetch p = request.partitions().get(i);
            TopicPartition tp = new TopicPartition(request.topic(), p.partition());
            int maxBytes = Math.min(p.partitionMaxBytes(), request.maxBytes());
            Future<FetchResult> fetched = fetch(tp, p.offset(), maxBytes, waitMs, p.currentLeaderEpoch());
            fetched.transform(result -> outcome(tp, result)).onSuccess(outcome -> {
                if (moved[0] || done.future().isComplete()) {
                    return;
                }
                outcomes[i] = outcome;
                if (outcome.result().isPresent()) {
                    bytes += outcome.result().get().records().sizeInBytes();
                }
                waiting[0]--;
                if (waiting[0] == 0 || early && bytes >= request.minBytes()) {
                    moved[0] = true;
                    then.run();
                }
            });
        }
    }

    private Future<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, long waitMs, int leaderEpoch) {
        try {
            return broker.fetch(tp, offset, maxBytes, waitMs, leaderEpoch);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }

    /** The outcome of one partition's fetch; a NOT_LEADER gets the current leader attached first. */
    private Future<Outcome> outcome(TopicPartition tp, AsyncResult<FetchResult> result) {
        if (result.succeeded()) {
            return Future.succeededFuture(new Outcome(tp.partition(), Optional.empty(), Optional.of(result.result())));
        }
        return hints.attach(ProtocolMapping.error(result.cause()), tp)
                .map(error -> new Outcome(tp.partition(), Optional.of(error), Optional.empty()));
    }

    private void finish() {
        done.tryComplete(Arrays.asList(outcomes));
    }
}
