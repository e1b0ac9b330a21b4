package io.millrace.loadtests.broker;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Millrace broker started as the README starts one: {@code bin/millrace start} with loopback ports and a fresh
 * data folder; ready when {@code GET /health} answers 200. {@code bin/millrace} execs the JVM, so the PID is the
 * broker's own.
 */
final class MillraceBroker extends BrokerUnderTest {

    private final Path home;
    private final String javaOpts;
    private final List<String> settings;
    private final int httpPort = freePort();
    private final int tcpPort = freePort();
    private final int kafkaPort = freePort();
    private final int zookeeperPort = freePort();

    MillraceBroker(Path home, Path dataDir, Path logFile, String javaOpts) {
        this(home, dataDir, logFile, javaOpts, List.of());
    }

    /** With further {@code --set key=value} settings, e.g. WebSocket limits a scenario needs raised. */
    MillraceBroker(Path home, Path dataDir, Path logFile, String javaOpts, List<String> settings) {
        super(dataDir, logFile);
        this.home = home;
        this.javaOpts = javaOpts;
        this.settings = settings;
    }

    @Override
    String system() {
        return "millrace";
    }

    int httpPort() {
        return httpPort;
    }

    int tcpPort() {
        return tcpPort;
    }

    @Override
    void start() throws Exception {
        Files.createDirectories(dataDir);
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/millrace").toString(), "start",
                "--data-dir", dataDir.toString(), "--http-port", Integer.toString(httpPort),
                "--tcp-port", Integer.toString(tcpPort), "--kafka-port", Integer.toString(kafkaPort),
                "--zookeeper-port", Integer.toString(zookeeperPort),
                "--set", "listen.host=127.0.0.1", "--set", "advertised.host=127.0.0.1"));
        for (String setting : settings) {
            command.add("--set");
            command.add(setting);
        }
        ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true)
                .redirectOutput(logFile.toFile());
        builder.environment().put("MILLRACE_JAVA_OPTS", javaOpts);
        process = builder.start();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            ensureAlive();
            try {
                if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Millrace not healthy within 120 s; log: " + logFile);
            }
            Thread.sleep(50);
        }
    }

    @Override
    LoadClient client() {
        return new MillraceLoadClient("127.0.0.1:" + tcpPort);
    }
}
