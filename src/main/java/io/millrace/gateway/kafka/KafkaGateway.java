package io.millrace.gateway.kafka;

import io.millrace.broker.Broker;
import io.millrace.broker.BrokerMetrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.function.Supplier;

/**
 * The Kafka wire-protocol front-end: a Vert.x {@link NetServer} whose connections each get a {@link KafkaConnection}
 * that answers Apache Kafka's clients and tools with the {@link Broker} every other front-end calls. Deploy it once
 * per event loop with {@link #instances}: the instances listen on one port and Vert.x spreads accepted connections
 * over them.
 */
public final class KafkaGateway extends VerticleBase {

    static final String FRONT_END = "kafka";
    /**
     * What port 0 becomes: Vert.x binds one random port for all servers listening on the same negative port and host
     * (distinct from the TCP gateway's and the HTTP server's, which share that registry).
     */
    private static final int SHARED_RANDOM_PORT = -9092;

    private final Broker broker;
    private final BrokerMetrics metrics;
    private final KafkaSettings settings;
    private final String host;
    private final int port;
    private NetServer server;

    private KafkaGateway(Broker broker, BrokerMetrics metrics, KafkaSettings settings, String host, int port) {
        this.broker = broker;
        this.metrics = metrics;
        this.settings = settings;
        this.host = host;
        this.port = port;
    }

    /**
     * A supplier of gateway verticles for {@code deployVerticle(supplier, options.setInstances(n))}, every instance
     * listening on {@code host:port}.
     *
     * @param port the port to listen on; 0 picks a free port, the same for every instance
     */
    public static Supplier<KafkaGateway> instances(Broker broker, BrokerMetrics metrics, KafkaSettings settings,
                                                   String host, int port) {
        return () -> new KafkaGateway(broker, metrics, settings, host, port);
    }

    @Override
    public Future<?> start() {
        NetServerOptions options = new NetServerOptions()
                .setHost(host)
                .setPort(port == 0 ? SHARED_RANDOM_PORT : port)
                .setTcpNoDelay(true);
        server = vertx.createNetServer(options).connectHandler(this::accept);
        return server.listen();
    }

    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    /** The port the instances listen on; valid once this instance has started. */
    public int actualPort() {
        return server.actualPort();
    }

    private void accept(NetSocket socket) {
        metrics.connectionOpened(FRONT_END);
        KafkaConnection connection = new KafkaConnection(socket,
                new KafkaApis(broker, settings, socket.remoteAddress().host()), settings, metrics);
        socket.closeHandler(v -> {
            metrics.connectionClosed(FRONT_END);
            connection.closed();
        });
        connection.start();
    }
}
