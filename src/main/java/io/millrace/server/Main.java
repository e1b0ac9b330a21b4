package io.millrace.server;

import io.millrace.common.MillraceException;
import io.millrace.config.BrokerConfig;
import io.millrace.config.ConfigKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code millrace} command line. */
@Command(name = "millrace", mixinStandardHelpOptions = true, version = "Millrace 0.1.0",
        description = "A Kafka-style event-streaming broker on Vert.x.",
        subcommands = {Main.Start.class, ZooKeeperCommand.class, ConsoleTools.Produce.class,
                ConsoleTools.Consume.class, ConsoleTools.Topics.class, ConsoleTools.PreferredLeaderElection.class,
                ReassignTools.Reassign.class, ReassignTools.Rebalance.class, ReassignTools.Decommission.class})
public final class Main implements Callable<Integer> {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    /** {@code millrace start}: runs one broker until SIGTERM or Ctrl-C. */
    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Start a broker (with an embedded ZooKeeper unless --zookeeper is given).")
    static final class Start implements Callable<Integer> {

        @Option(names = "--config", paramLabel = "FILE",
                description = "Defaults file (JSON); default: conf/millrace.json if present, else the built-in copy.")
        Path configFile;

        @Option(names = "--data-dir", paramLabel = "DIR", description = "Data folder (data.dir).")
        String dataDir;

        @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP/WebSocket port (http.port).")
        Integer httpPort;

        @Option(names = "--tcp-port", paramLabel = "PORT", description = "TCP gateway port (tcp.port).")
        Integer tcpPort;

        @Option(names = "--kafka-port", paramLabel = "PORT", description = "Kafka listener port (kafka.port).")
        Integer kafkaPort;

        @Option(names = "--broker-id", paramLabel = "ID", description = "Broker id (broker.id).")
        Integer brokerId;

        @Option(names = "--zookeeper", paramLabel = "HOST:PORT,...",
                description = "External ZooKeeper ensemble (zookeeper.connect) instead of the embedded one.")
        String zookeeper;

        @Option(names = "--zookeeper-port", paramLabel = "PORT",
                description = "Port of the embedded ZooKeeper (zookeeper.embedded.port).")
        Integer zookeeperPort;

        @Option(names = "--exit-when-ready", hidden = true,
                description = "Start, then shut down cleanly at once (a class-loading training run for AppCDS).")
        boolean exitWhenReady;

        @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
                description = "Override any config key, e.g. --set log.flush.messages=1 (repeatable).")
        Map<String, String> overrides = new LinkedHashMap<>();

        @Override
        public Integer call() throws InterruptedException {
            Map<String, String> flags = new LinkedHashMap<>(overrides);
            put(flags, ConfigKey.DATA_DIR, dataDir);
            put(flags, ConfigKey.HTTP_PORT, httpPort);
            put(flags, ConfigKey.TCP_PORT, tcpPort);
            put(flags, ConfigKey.KAFKA_PORT, kafkaPort);
            put(flags, ConfigKey.BROKER_ID, brokerId);
            put(flags, ConfigKey.ZOOKEEPER_CONNECT, zookeeper);
            put(flags, ConfigKey.ZOOKEEPER_EMBEDDED_PORT, zookeeperPort);
            Optional<Path> file = Optional.ofNullable(configFile)
                    .or(() -> Optional.of(Path.of("conf", "millrace.json")).filter(Files::isRegularFile));
            MillraceServer server;
            try {
                server = MillraceServer.start(BrokerConfig.load(file, System.getenv(), flags));
            } catch (MillraceException e) {
                System.err.println("millrace: " + e.errorCode().name() + ": " + e.getMessage());
                return 1;
            }
            if (exitWhenReady) {
                server.close();
                return 0;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                stopped.countDown();
            }, "millrace-shutdown"));
            stopped.await();
            return 0;
        }

        private static void put(Map<String, String> flags, ConfigKey key, Object value) {
            if (value != null) {
                flags.put(key.key(), value.toString());
            }
        }
    }
}
