package io.millrace.broker;

import java.util.List;
import java.util.Optional;

/**
 * Whether the broker can serve: connected to ZooKeeper, every partition it owns up, and its data directory writable.
 * {@link #status()} is {@code "ready"}; {@code "degraded"} while the data directory is full or read-only (reads and
 * health are served, produces are refused with a retriable error, and partitions that cannot open are retried);
 * {@code "unavailable"} when ZooKeeper is out of reach or partitions are down for another reason.
 *
 * <p>Partitions being opened (a topic just created, a replica just moved here) do not make a running broker
 * unavailable: it serves every other partition meanwhile, and a load balancer must not drop it whenever a topic is
 * created. Start-up is covered apart: the front-ends listen only once every partition held at start is open.
 *
 * @param partitionsDown    partitions this broker should own whose verticle is not running nor being opened (failed to
 *                          open, waiting for the next attempt), and the group coordinator while it starts
 * @param partitionsOpening partitions whose verticle is being opened now
 */
public record Health(boolean zookeeperConnected, int localPartitions, List<String> partitionsDown,
                     List<String> partitionsOpening, Storage storage) {

    /**
     * The data directory's state.
     *
     * @param status     {@code "ok"}, {@code "full"}, {@code "read-only"} or {@code "failing"}
     * @param reason     why writes are refused, empty when {@code status} is {@code "ok"}
     * @param partitions the local partitions whose writes are refused (all of them, as they share the directory)
     */
    public record Storage(String status, String directory, Optional<String> reason, List<String> partitions) {

        public boolean writable() {
            return reason.isEmpty();
        }
    }

    public boolean ready() {
        return zookeeperConnected && partitionsDown.isEmpty() && storage.writable();
    }

    public String status() {
        if (!zookeeperConnected || (!partitionsDown.isEmpty() && storage.writable())) {
            return "unavailable";
        }
        return storage.writable() ? "ready" : "degraded";
    }
}
