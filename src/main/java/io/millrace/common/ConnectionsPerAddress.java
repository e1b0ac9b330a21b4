package io.millrace.common;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Open connections per client address, held within a maximum: what a front-end's {@code *.max.connections.per.ip}
 * counts. An address with no open connection takes no memory.
 *
 * <p>Thread-safe: a front-end's servers run on several event loops and share one instance.
 */
public final class ConnectionsPerAddress {

    private final int max;
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();

    /** @param max most connections one address may have open at once, at least 1 */
    public ConnectionsPerAddress(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("A per-address connection limit must be at least 1, not " + max);
        }
        this.max = max;
    }

    public int max() {
        return max;
    }

    /**
     * Counts one more connection from {@code address}, unless it already has {@link #max()} open.
     *
     * @return whether the connection was counted; only then must {@link #closed} be called for it
     */
    public boolean tryOpen(String address) {
        boolean[] counted = {false};
        open.compute(address, (a, count) -> {
            int n = count == null ? 0 : count;
            if (n >= max) {
                return count;
            }
            counted[0] = true;
            return n + 1;
        });
        return counted[0];
    }

    /** A connection that {@link #tryOpen} counted has closed. */
    public void closed(String address) {
        open.computeIfPresent(address, (a, count) -> count <= 1 ? null : count - 1);
    }
}
