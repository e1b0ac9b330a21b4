package io.millrace.common;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
    /**
     * Every port handed out (a port is never given to two servers, even if the first is down) or found taken. Guarded
     * by the class's lock.
     */
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private LoopbackPorts() {
    }

    /** A loopback port free now, below the kernel's ephemeral range, and not returned before by this JVM. */
    public static int free() {
        return freeRun(1);
    }

    /**
     * The first of {@code count} consecutive loopback ports that are all free now, below the kernel's ephemeral range,
     * and none returned before by this JVM: for scripts that number ports from a base, such as bin/local-cluster.
     */
    public static synchronized int freeRun(int count) {
        // Where ephemeral ports start below 11,024 (not Linux's default) the span overlaps them: correct, racier.
        int below = Math.max(ephemeralRange()[0], 1024 + SPAN);
        int starts = SPAN - count + 1;
        int first = ThreadLocalRandom.current().nextInt(starts);
        for (int i = 0; i < starts; i++) {
            int start = below - SPAN + (first + i) % starts;
            if (bindable(start, count)) {
                for (int port = start; port < start + count; port++) {
                    HANDED_OUT.add(port);
                }
                return start;
            }
        }
        throw new IllegalStateException("No " + count + " consecutive free ports in " + (below - SPAN) + "-"
                + (below - 1));
    }

    /** Whether every port of the run is unused by this JVM's earlier answers and can be bound now. */
    private static boolean bindable(int start, int count) {
        for (int port = start; port < start + count; port++) {
            if (HANDED_OUT.contains(port)) {
                return false;
            }
        }
        List<ServerSocket> held = new ArrayList<>();
        int port = start;
        try {
            for (; port < start + count; port++) {
                ServerSocket socket = new ServerSocket();
                held.add(socket);
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            }
            return true;
        } catch (IOException inUse) {
            HANDED_OUT.add(port); // taken by another process: never offered again
            return false;
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
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
