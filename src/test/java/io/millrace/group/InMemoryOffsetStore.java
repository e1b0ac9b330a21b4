package io.millrace.group;

import io.millrace.common.ErrorCode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An {@link OffsetStore} for tests: appends wait in a queue until the test completes (or fails) them, in order, and
 * completed appends form the durable log. In {@code autoComplete} mode every append completes at once, inside
 * {@code append}. Not thread-safe, like the coordinator it serves.
 */
final class InMemoryOffsetStore implements OffsetStore {

    private record Pending(List<OffsetRecord> records, Completion<Void> done) {
    }

    private final List<OffsetRecord> log = new ArrayList<>();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean autoComplete;

    InMemoryOffsetStore autoComplete(boolean on) {
        this.autoComplete = on;
        return this;
    }

    @Override
    public void append(List<OffsetRecord> records, Completion<Void> done) {
        pending.add(new Pending(List.copyOf(records), done));
        if (autoComplete) {
            completeAll();
        }
    }

    /** Makes the oldest pending append durable; returns false if there was none. */
    boolean completeNext() {
        Pending next = pending.poll();
        if (next == null) {
            return false;
        }
        log.addAll(next.records());
        next.done().complete(GroupResult.done());
        return true;
    }

    /** Fails the oldest pending append (nothing reaches the log); returns false if there was none. */
    boolean failNext(ErrorCode code) {
        Pending next = pending.poll();
        if (next == null) {
            return false;
        }
        next.done().complete(GroupResult.failed(code, "injected failure"));
        return true;
    }

    void completeAll() {
        while (completeNext()) {
            // each completion may queue more appends; they complete too
        }
    }

    /** Forgets pending appends without completing them, as a coordinator that crashed before they were written. */
    void dropPending() {
        pending.clear();
    }

    int pendingCount() {
        return pending.size();
    }

    /** The durable records, in log order. */
    List<OffsetRecord> log() {
        return Collections.unmodifiableList(log);
    }
}
