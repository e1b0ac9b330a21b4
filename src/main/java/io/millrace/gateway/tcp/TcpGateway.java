package io.millrace.gateway.tcp;

import io.millrace.broker.Broker;
import io.millrace.broker.BrokerMetrics;
import io.millrace.common.ConnectionsPerAddress;
import io.millrace.common.ErrorCode;
import io.millrace.protocol.ApiError;
import io.millrace.protocol.ApiKey;
import io.millrace.protocol.FrameCodec;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native TCP front-end: a Vert.x {@link NetServer} whose connections each get a {@link TcpConnection} speaking
 * the binary protocol of docs/PROTOCOL.md. Deploy it once per event loop with {@link #instances}: the instances
 * listen on one port, Vert.x spreads accepted connections over them, and they share one connection count.
 *
 * <p>Beyond {@code tcp.max.connections}, or {@code tcp.max.connections.per.ip} from the client's address, a new
 * connection is refused: it is sent a {@code BROKER_OVERLOADED} error response under apiKey HANDSHAKE and correlation
 * id 0 naming the limit, and closed, before anything it sent is read. Connections with no traffic either way for
 * {@code tcp.idle.timeout.ms} are closed by the server; a connection that trickles bytes is closed by its
 * {@link TcpConnection}'s read deadline.
 */
public final class TcpGateway extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(TcpGateway.class);
    static final String FRONT_END = "tcp";
    /**
     * What port 0 becomes. Port 0 would give each instance a port of its own; Vert.x instead binds one random port
     * for all servers listening on the same negative port and host. HTTP servers share that registry, so this is not
     * -1, the obvious choice for them.
     */
    private static final int SHARED_RANDOM_PORT = -7070;

    private final Broker broker;
    private final BrokerMetrics metrics;
    private final TcpSettings settings;
    private final String host;
    private final int port;
    private final AtomicInteger open;
    private final ConnectionsPerAddress openPerAddress;
    private NetServer server;

    private TcpGateway(Broker broker, BrokerMetrics metrics, TcpSettings settings, String host, int port,
                       AtomicInteger open, ConnectionsPerAddress openPerAddress) {
        this.broker = broker;
        this.metrics = metrics;
        this.settings = settings;
        this.host = host;
        this.port = port;
        this.open = open;
        this.openPerAddress = openPerAddress;
    }

    /**
     * A supplier of gateway verticles for {@code deployVerticle(supplier, options.setInstances(n))}: every instance
     * listens on {@code host:port} and counts connections against one shared limit, and one per client address.
     *
     * @param port the port to listen on; 0 picks a free port, the same for every instance
     */
    public static Supplier<TcpGateway> instances(Broker broker, BrokerMetrics metrics, TcpSettings settings,
                                                 String host, int port) {
        AtomicInteger open = new AtomicInteger();
        ConnectionsPerAddress openPerAddress = new ConnectionsPerAddress(settings.maxConnectionsPerIp());
        return () -> new TcpGateway(broker, metrics, settings, host, port, open, openPerAddress);
    }

    @Override
    public Future<?> start() {
        NetServerOptions options = new NetServerOptions()
                .setHost(host)
                .setPort(port == 0 ? SHARED_RANDOM_PORT : port)
                .setTcpNoDelay(true)
                .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, settings.idleTimeoutMs()))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
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
        if (open.incrementAndGet() > settings.maxConnections()) {
            open.decrementAndGet();
            refuse(socket, "This broker has " + settings.maxConnections() + " TCP connections open"
                    + " (tcp.max.connections); retry later or connect to another broker");
            return;
        }
        String address = socket.remoteAddress().hostAddress();
        if (!openPerAddress.tryOpen(address)) {
            open.decrementAndGet();
            refuse(socket, "Your address " + address + " has " + openPerAddress.max() + " TCP connections open to"
                    + " this broker (tcp.max.connections.per.ip); close one, or retry later");
            return;
        }
        metrics.connectionOpened(FRONT_END);
        TcpConnection connection = new TcpConnection(socket, broker, metrics, settings, vertx);
        socket.closeHandler(v -> {
            open.decrementAndGet();
            openPerAddress.closed(address);
            metrics.connectionClosed(FRONT_END);
            connection.closed();
        });
        connection.start();
    }

    private static void refuse(NetSocket socket, String message) {
        LOG.debug("Refusing a TCP connection from {}: {}", socket.remoteAddress(), message);
        socket.handler(ignored -> { }); // drain rather than reset: the refusal should reach the client
        socket.write(BufferInternal.buffer(Unpooled.wrappedBuffer(FrameCodec.encodeErrorResponse(
                ApiKey.HANDSHAKE.id(), 0, new ApiError(ErrorCode.BROKER_OVERLOADED, message)))));
        socket.close();
    }
}
