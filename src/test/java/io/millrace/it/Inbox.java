package io.millrace.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * What a test client received and has not looked at yet, in arrival order. {@link #await} takes the first item
 * that matches and leaves the others where they were, so a test can wait for an answer while pushes keep arriving
 * and still see those pushes in the order the peer sent them. Thread-safe: the client's reader thread adds, the test
 * thread takes; both hold the monitor, so an item that arrives while a taker looks is never put ahead of older ones.
 */
final class Inbox<T> {

    private final LinkedList<T> items = new LinkedList<>();
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

    synchronized void add(T item) {
        items.add(item);
        notifyAll();
    }

    /** Waits for the first item (received earlier or later) matching {@code match}, and removes it. */
    synchronized T await(Predicate<? super T> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int looked = 0;
        try {
            while (true) {
                // Items before `looked` did not match last time and have not changed since: only new ones are tested.
                Iterator<T> it = items.listIterator(looked);
                while (it.hasNext()) {
                    T next = it.next();
                    if (match.test(next)) {
                        it.remove();
                        return next;
                    }
                    looked++;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("No matching " + what + " within " + timeout + "; got " + items
                            + (closed.getAsBoolean() ? " and the broker closed the connection" : ""));
                }
                if (closed.getAsBoolean()) {
                    throw new AssertionError("The broker closed the connection; got " + items);
                }
                // Woken by add; the 50 ms bound notices a close, which adds nothing.
                long waitNanos = Math.min(left, 50_000_000L);
                wait(waitNanos / 1_000_000L, (int) (waitNanos % 1_000_000L));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Every item received and not yet taken, in order; they stay queued. */
    synchronized List<T> pending() {
        return new ArrayList<>(items);
    }

    /** Takes every item received so far. */
    synchronized List<T> drain() {
        List<T> out = new ArrayList<>(items);
        items.clear();
        return out;
    }

    synchronized boolean isEmpty() {
        return items.isEmpty();
    }
}
