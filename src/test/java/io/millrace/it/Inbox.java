package io.millrace.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * What a test client received and has not looked at yet, in arrival order. {@link #await} takes the first item
 * that matches and leaves the others queued, so a test can wait for an answer while pushes keep arriving.
 * Thread-safe: the client's reader thread adds, the test thread takes.
 */
final class Inbox<T> {

    private final LinkedBlockingQueue<T> queue = new LinkedBlockingQueue<>();
    private final String what;
    private final BooleanSupplier closed;

    /**
     * @param what   how failures name an item ("message", "frame")
     * @param closed whether the peer closed the connection, so a wait for more can fail at once
     */
    Inbox(String what, BooleanSupplier closed) {
        this.what = what;
        this.closed = closed;
    }

    void add(T item) {
        queue.add(item);
    }

    /** Waits for the first item (received earlier or later) matching {@code match}, and removes it. */
    T await(Predicate<? super T> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<T> skipped = new ArrayList<>();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                T next = left <= 0 ? null : queue.poll(Math.min(left, 50_000_000), TimeUnit.NANOSECONDS);
                if (next == null) {
                    if (System.nanoTime() - deadline >= 0) {
                        throw new AssertionError("No matching " + what + " within " + timeout + "; got " + skipped
                                + (closed.getAsBoolean() ? " and the broker closed the connection" : ""));
                    }
                    if (closed.getAsBoolean() && queue.isEmpty()) {
                        throw new AssertionError("The broker closed the connection; got " + skipped);
                    }
                    continue;
                }
                if (match.test(next)) {
                    return next;
                }
                skipped.add(next);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            List<T> rest = new ArrayList<>();
            queue.drainTo(rest);
            queue.addAll(skipped);
            queue.addAll(rest);
        }
    }

    /** Every item received and not yet taken, in order; they stay queued. */
    List<T> pending() {
        return new ArrayList<>(queue);
    }

    /** Takes every item received so far. */
    List<T> drain() {
        List<T> out = new ArrayList<>();
        queue.drainTo(out);
        return out;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }
}
