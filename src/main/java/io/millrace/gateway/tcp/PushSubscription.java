package io.millrace.gateway.tcp;

import io.millrace.broker.Broker;
import io.millrace.broker.FetchResult;
import io.millrace.broker.FetchedRecords;
import io.millrace.broker.Subscription;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.FrameCodec;
import io.millrace.protocol.Push;
import java.io.IOException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SUBSCRIBE of a connection: a broker {@link Subscription} whose data goes out as PUSH frames, the batches sent
 * straight from the segment file (or from memory, when the broker got them from another broker).
 *
 * <p>Credits count records, as docs/PROTOCOL.md says: a batch joins a push only while the balance is at least 1,
 * and its record count is then taken off, so the balance may end up to one batch below zero and the client gets at
 * most one batch beyond what it granted. Offsets are dense (the log refuses batches whose record count is not their
 * offset span), so a push of the leading batches that start below {@code firstOffset + balance} is exactly that,
 * and the offsets it spans are the records it holds. When the balance covers everything a fetch brought, that goes
 * out as one push without looking inside; otherwise {@link FetchedRecords#leadingBatchesBelow} finds where the credit
 * runs out (a header or two), and the rest is left for the broker to fetch again when credit returns.
 *
 * <p>Nothing is pushed while the connection's output is {@link FrameOutput#blocked() blocked}; the connection calls
 * {@link #resume()} when it drains. The broker subscription then holds at most one fetch, so a slow client costs one
 * fetch's batches per subscription, never a queue.
 *
 * <p>Not thread-safe: the connection's event loop creates it, and the broker runs the subscription there.
 */
final class PushSubscription implements Subscription.Handler {

    private static final Logger LOG = LoggerFactory.getLogger(PushSubscription.class);

    private final int id;
    private final TopicPartition tp;
    /** The SUBSCRIBE's currentLeaderEpoch; every fetch carries it, so a leader change ends the subscription. */
    private final int leaderEpoch;
    private final int maxBytesPerPush;
    private final FrameOutput output;
    private final LeaderHints hints;
    private final int version;
    private final Consumer<PushSubscription> onEnd;
    /** Records the client may still be sent; may be negative by up to one batch. Capped at Integer.MAX_VALUE. */
    private long credits;
    /** Empty until the start offset is resolved and the SUBSCRIBE answered. */
    private Subscription subscription;
    private boolean closed;
    /** Set by {@link #cancel()}: the client unsubscribed or the connection closes, so no PUSH may follow. */
    private boolean cancelled;
    /** Set when the last fetch was repeated because its segment had gone; a second miss ends the subscription. */
    private boolean refetched;

    /**
     * @param onEnd called once when the broker ends the subscription (after the error PUSH is queued), so the
     *              connection forgets it; not called for {@link #cancel()}
     * @param hints   attaches the current leader to a NOT_LEADER or FENCED_LEADER_EPOCH that ends the subscription
     * @param version the connection's protocol version, for the error PUSH's layout
     */
    PushSubscription(int id, TopicPartition tp, int leaderEpoch, int initialCredits, int maxBytesPerPush,
                     FrameOutput output, LeaderHints hints, int version, Consumer<PushSubscription> onEnd) {
        this.id = id;
        this.tp = tp;
        this.leaderEpoch = leaderEpoch;
        this.credits = initialCredits;
        this.maxBytesPerPush = maxBytesPerPush;
        this.output = output;
        this.hints = hints;
        this.version = version;
        this.onEnd = onEnd;
    }

    /** The subscription id: the SUBSCRIBE's correlation id, carried by every PUSH. */
    int id() {
        return id;
    }

    TopicPartition topicPartition() {
        return tp;
    }

    /** Starts reading at {@code startOffset}, once the SUBSCRIBE response is queued. Does nothing if cancelled. */
    void start(Broker broker, long startOffset) {
        if (closed) {
            return;
        }
        subscription = broker.subscribe(tp, startOffset, maxBytesPerPush, leaderEpoch, this);
        resume();
    }

    /** Adds credit (records, > 0); the balance stops at {@link Integer#MAX_VALUE}. */
    void credit(int records) {
        credits = Math.min(Integer.MAX_VALUE, credits + records);
        resume();
    }

    /**
     * Lets the broker fetch again if there is credit and room in the output: after a CREDIT, after a drain, or after
     * a push that the output refused (a broker subscription whose handler took nothing waits for a request before it
     * fetches again).
     */
    void resume() {
        if (subscription != null && !closed && credits >= 1 && !output.blocked()) {
            subscription.request(Math.max(0, credits - subscription.demand()));
        }
    }

    /** Stops for good: no handler call and no PUSH follow. */
    void cancel() {
        cancelled = true;
        stopFetching();
    }

    private void stopFetching() {
        boolean wasClosed = closed;
        closed = true;
        if (subscription != null && !wasClosed) {
            subscription.cancel();
        }
    }

    @Override
    public long onData(FetchResult result, long position) {
        if (closed || credits < 1 || output.blocked()) {
            return position;
        }
        FetchedRecords push;
        try {
            // The batches the balance allows: at least one, since the balance is at least 1.
            push = result.records().leadingBatchesBelow(result.records().firstOffset() + credits);
        } catch (IOException | RuntimeException e) {
            if (!FrameOutput.readable(result.records(), result.records().sizeInBytes())) {
                return fetchAgainOnce(position);
            }
            LOG.warn("Cannot read batch headers of {} for subscription {}", tp, id, e);
            end(new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot read " + tp + " at offset " + position
                    + ": " + e.getMessage() + "; subscribe again"));
            return position;
        }
        if (!FrameOutput.readable(push, push.sizeInBytes())) {
            return fetchAgainOnce(position);
        }
        refetched = false;
        output.write(FrameCodec.encodePushHeader(id, tp.topic(), tp.partition(), result.highWatermark(),
                push.sizeInBytes()));
        output.sendBatches(push, push.sizeInBytes());
        // Offsets are dense, so the offsets a push spans are the records it holds.
        credits -= push.nextOffset() - push.firstOffset();
        return push.nextOffset();
    }

    /**
     * Retention deleted (or a new leader truncated) the segment after the read: fetch once more, which fails with
     * OFFSET_OUT_OF_RANGE if the offset is gone, or reads from the current segments. A second miss in a row ends
     * the subscription.
     */
    private long fetchAgainOnce(long position) {
        if (refetched) {
            end(new MillraceException(ErrorCode.STORAGE_ERROR, "The segment holding offset " + position + " of "
                    + tp + " was deleted or cut while being read; subscribe again"));
        } else {
            refetched = true;
            subscription.seek(position);
        }
        return position;
    }

    @Override
    public void onError(MillraceException error) {
        end(error);
    }

    /**
     * Ends the subscription with an error PUSH. The connection forgets it only once that push is queued, so an
     * UNSUBSCRIBE meanwhile still finds it, and its answer is the last word: no PUSH after it.
     */
    private void end(MillraceException error) {
        if (closed) {
            return;
        }
        stopFetching();
        hints.attach(ApiError.of(error), tp).onComplete(hinted -> {
            if (cancelled) {
                return;
            }
            ApiError answer = hinted.succeeded() ? hinted.result() : ApiError.of(error);
            output.write(FrameCodec.encode(id, Push.failure(tp.topic(), tp.partition(), answer), version));
            onEnd.accept(this);
        });
    }

}
