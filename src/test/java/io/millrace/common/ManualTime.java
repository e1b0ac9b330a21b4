package io.millrace.common;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test says so. Thread-safe. */
public final class ManualTime implements Time {

    private final AtomicLong millis;
    private final AtomicLong nanos = new AtomicLong();

    public ManualTime(long startMillis) {
        this.millis = new AtomicLong(startMillis);
    }

    public ManualTime() {
        this(1_700_000_000_000L);
    }

    @Override
    public long milliseconds() {
        return millis.get();
    }

    @Override
    public long nanoseconds() {
        return nanos.get();
    }

    public void sleep(long ms) {
        millis.addAndGet(ms);
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    }
}
