package io.millrace.partition;

import io.millrace.common.Time;

/**
 * The bound on what the replicas a broker is adding (a reassignment moving partitions onto it) copy from their
 * leaders: {@code replication.throttled.rate} bytes per second for all of them together, so that a move does not take
 * the bandwidth and disk its clients need. One per broker, shared by its partition verticles. A token bucket holding
 * at most one second's worth: a follower records what each fetch brought ({@link #record}) and, while the bucket is in
 * debt, waits {@link #delayMs} before its next fetch; each fetch asks for at most one second's worth
 * ({@link #fetchBytes}). Replicas in the in-sync set and followers not being added are never throttled.
 *
 * <p>Thread-safe: partition verticles on every event loop share it.
 */
public final class ReplicationThrottle {

    /** No bound: what a rate of 0 means. */
    public static final ReplicationThrottle UNLIMITED = new ReplicationThrottle(0, Time.SYSTEM);

    private final long bytesPerSecond;
    private final Time time;
    private long tokens;
    private long lastRefillNanos;

    /** @param bytesPerSecond {@code replication.throttled.rate}; 0 for no bound */
    public ReplicationThrottle(long bytesPerSecond, Time time) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("replication.throttled.rate must not be negative, was "
                    + bytesPerSecond);
        }
        this.bytesPerSecond = bytesPerSecond;
        this.time = time;
        this.tokens = bytesPerSecond;
        this.lastRefillNanos = time.nanoseconds();
    }

    public boolean limited() {
        return bytesPerSecond > 0;
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** The most a throttled fetch should ask for: {@code wanted}, capped at one second's worth. */
    public int fetchBytes(int wanted) {
        return limited() ? (int) Math.max(1, Math.min(wanted, bytesPerSecond)) : wanted;
    }

    /** A throttled fetch brought {@code bytes}. */
    public synchronized void record(long bytes) {
        if (limited()) {
            refill();
            tokens -= bytes;
        }
    }

    /** How long a throttled replica waits before its next fetch: 0 unless the bucket is in debt. */
    public synchronized long delayMs() {
        if (!limited()) {
            return 0;
        }
        refill();
        return tokens >= 0 ? 0 : Math.max(1, (-tokens * 1000 + bytesPerSecond - 1) / bytesPerSecond);
    }

    private void refill() {
        long now = time.nanoseconds();
        long elapsed = now - lastRefillNanos;
        if (elapsed >= 1_000_000_000L) {
            tokens = Math.min(bytesPerSecond, tokens + bytesPerSecond * (elapsed / 1_000_000_000L));
            lastRefillNanos = now - elapsed % 1_000_000_000L;
            elapsed = now - lastRefillNanos;
        }
        long earned = elapsed * bytesPerSecond / 1_000_000_000L;
        if (earned > 0) {
            tokens = Math.min(bytesPerSecond, tokens + earned);
            // Keep the remainder of a partial byte's time, so slow rates are not rounded down to nothing.
            lastRefillNanos = tokens == bytesPerSecond ? now : lastRefillNanos + earned * 1_000_000_000L / bytesPerSecond;
        }
    }
}
