package io.millrace.common;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for the brokers and ZooKeepers that tests and the load-test harness start on this machine. A port the
 * kernel chooses for a listener ({@code new ServerSocket(0)}) comes from the ephemeral range, where an outgoing
 * connection can take it between the check and the server's bind: the tests' clients and the harness's 1,000 to
 * 10,000 WebSockets open many, and both a CI run and a load-test run lost a broker to "Address already in use" that
 * way. Ports below the range are never handed to outgoing connections.
 */
public final class LoopbackPorts {

    /** How many ports below the ephemeral range are tried. */
    private static final int SPAN = 10_000;
    /** Every port {@link #free()} returned: a port is never given to two servers, even if the first is down. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private LoopbackPorts() {
    }

    /** A loopback port free now, below the kernel's ephemeral range, and not returned before by this JVM. */
    public static int free() {
        // Where ephemeral ports start below 11,024 (not Linux's default) the span overlaps them: correct, racier.
        int below = Math.max(ephemeralRange()[0], 1024 + SPAN);
        int first = ThreadLocalRandom.current().nextInt(SPAN);
        for (int i = 0; i < SPAN; i++) {
            int port = below - SPAN + (first + i) % SPAN;
            if (!HANDED_OUT.add(port)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
                return port;
            } catch (IOException inUse) {
                // taken by another process: try the next
            }
        }
        throw new IllegalStateException("No free port in " + (below - SPAN) + "-" + (below - 1));
    }

    /** The kernel's ephemeral port range, first and last; Linux's default when it cannot be read. */
    public static int[] ephemeralRange() {
        try {
            // readAllLines, not readString: a sysctl file claims a size that readString takes at its word.
            String[] range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim()
                    .split("\\s+");
            return new int[] {Integer.parseInt(range[0]), Integer.parseInt(range[1])};
        } catch (IOException | RuntimeException unknown) {
            return new int[] {32_768, 60_999};
        }
    }
}
