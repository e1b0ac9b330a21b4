package io.millrace.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LoopbackPortsTest {

    @Test
    void portsAreBindableBelowTheEphemeralRangeAndNeverRepeated() throws Exception {
        int[] ephemeral = LoopbackPorts.ephemeralRange();
        assertThat(ephemeral[0]).isPositive().isLessThanOrEqualTo(ephemeral[1]);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int port = LoopbackPorts.free();
            assertThat(port).isGreaterThan(1023);
            if (ephemeral[0] >= 11_024) {
                assertThat(port).isLessThan(ephemeral[0]);
            }
            assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
        }
        int port = LoopbackPorts.free();
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            assertThat(server.getLocalPort()).isEqualTo(port);
        }
    }

    @Test
    void runsAreConsecutiveFreeAndShareNoPortWithEachOtherOrSinglePorts() throws Exception {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int single = LoopbackPorts.free();
            assertThat(seen.add(single)).as("port %d handed out twice", single).isTrue();
            int start = LoopbackPorts.freeRun(10);
            for (int port = start; port < start + 10; port++) {
                assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
            }
        }
        int start = LoopbackPorts.freeRun(3);
        List<ServerSocket> servers = new ArrayList<>();
        try {
            for (int port = start; port < start + 3; port++) {
                ServerSocket server = new ServerSocket();
                servers.add(server);
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            }
        } finally {
            for (ServerSocket server : servers) {
                server.close();
            }
        }
    }
}
