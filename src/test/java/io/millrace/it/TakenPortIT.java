package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A broker that cannot bind one of its ports exits at once with status 1 and says which port, of which key, so that
 * an operator (or bin/local-cluster's log) knows what to change; the system's error alone names no port.
 */
class TakenPortIT {

    @ParameterizedTest
    @CsvSource({"http.port, HTTP", "tcp.port, the native TCP protocol", "kafka.port, the Kafka protocol"})
    void aTakenPortStopsStartUpWithAnErrorNamingIt(String key, String protocol, @TempDir Path dataDir)
            throws Exception {
        try (BrokerProcess broker = BrokerProcess.create("taken-" + key, dataDir.resolve("data"), Map.of());
             ServerSocket squatter = new ServerSocket()) {
            ToIntFunction<BrokerProcess> port = switch (key) {
                case "http.port" -> BrokerProcess::httpPort;
                case "tcp.port" -> BrokerProcess::tcpPort;
                default -> BrokerProcess::kafkaPort;
            };
            int taken = port.applyAsInt(broker);
            squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), taken));

            broker.spawn();

            assertThat(broker.awaitExit(Duration.ofSeconds(60))).isEqualTo(1);
            assertThat(Files.readString(broker.logFile())).contains("millrace: INVALID_CONFIG: Cannot listen for "
                    + protocol + " on 127.0.0.1:" + taken + " (" + key + ", listen.host): ")
                    .contains("Address already in use");
        }
    }
}
