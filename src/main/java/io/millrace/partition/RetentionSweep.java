package io.millrace.partition;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies retention to every partition of a broker every {@code log.retention.check.interval.ms}, from one
 * broker-wide timer: a timer per partition would wake each of 20,000 partitions on its own and, started together,
 * fire together.
 *
 * <p>A sweep visits the partitions one after another: it asks the next partition
 * ({@link PartitionVerticle#applyRetention}) only once the previous one has answered. An event loop so never holds
 * more than one partition's retention queued by the sweep, and the requests of every other partition interleave with
 * it: a sweep of 20,000 partitions is a relay of 20,000 short tasks, not one long turn of an event loop. A sweep still
 * running when the next is due is not doubled: the next one starts at the following tick.
 *
 * <p>Thread-safe: {@link #start} and {@link #stop} come from the owner's context, a sweep's steps run on the
 * partitions' contexts, one at a time.
 */
public final class RetentionSweep {

    private static final Logger LOG = LoggerFactory.getLogger(RetentionSweep.class);

    private final Vertx vertx;
    private final long intervalMs;
    private final Supplier<List<PartitionVerticle>> partitions;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile boolean stopped;
    private long timer = -1;

    /**
     * @param intervalMs how often a sweep starts ({@code log.retention.check.interval.ms})
     * @param partitions the partitions that are up on this broker now, asked at the start of every sweep
     */
    public RetentionSweep(Vertx vertx, long intervalMs, Supplier<List<PartitionVerticle>> partitions) {
        this.vertx = vertx;
        this.intervalMs = intervalMs;
        this.partitions = partitions;
    }

    /** Starts a sweep every interval from now on. */
    public void start() {
        timer = vertx.setPeriodic(intervalMs, id -> sweep());
    }

    /** No sweep starts from now on, and a running one asks no further partition. */
    public void stop() {
        stopped = true;
        vertx.cancelTimer(timer);
    }

    /**
     * Applies retention to every partition up now, one after another; completes with the number visited, 0 when a
     * sweep is already running (it covers them) or the sweep is stopped.
     */
    public Future<Integer> sweep() {
        if (stopped || !sweeping.compareAndSet(false, true)) {
            return Future.succeededFuture(0);
        }
        long startedNanos = System.nanoTime();
        List<PartitionVerticle> all = partitions.get();
        Promise<Integer> done = Promise.promise();
        visit(all.iterator(), 0, done);
        return done.future().onComplete(visited -> {
            sweeping.set(false);
            LOG.debug("Retention sweep visited {} of {} partitions in {} ms", visited.result(), all.size(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos));
        });
    }

    /**
     * Asks the remaining partitions in turn. A partition that answered before its callback was attached (its event
     * loop was quicker than this thread) is followed in this loop rather than by a nested call, so the stack stays
     * flat.
     */
    private void visit(Iterator<PartitionVerticle> remaining, int visitedBefore, Promise<Integer> done) {
        int visited = visitedBefore;
        while (!stopped && remaining.hasNext()) {
            Future<Void> applied = remaining.next().applyRetention();
            visited++;
            if (!applied.isComplete()) {
                int soFar = visited;
                applied.onComplete(ignored -> visit(remaining, soFar, done));
                return;
            }
        }
        done.complete(visited);
    }
}
