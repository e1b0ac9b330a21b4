package io.millrace.gateway.ws;

import io.millrace.broker.Broker;
import io.millrace.broker.BrokerMetrics;
import io.millrace.common.ConnectionsPerAddress;
import io.vertx.core.Handler;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The WebSocket front-end at {@code /ws}: accepts handshakes within {@code ws.max.connections} and
 * {@code ws.max.connections.per.ip}, and gives each socket a {@link WebSocketSession} speaking the JSON protocol of
 * docs/PROTOCOL.md. Thread-safe: the HTTP server may run on several event loops.
 */
public final class WebSocketGateway {

    public static final String PATH = "/ws";
    static final String FRONT_END = "ws";

    private final Broker broker;
    private final BrokerMetrics metrics;
    private final WebSocketSettings settings;
    private final AtomicInteger open = new AtomicInteger();
    private final ConnectionsPerAddress openPerAddress;

    public WebSocketGateway(Broker broker, BrokerMetrics metrics, WebSocketSettings settings) {
        this.broker = broker;
        this.metrics = metrics;
        this.settings = settings;
        this.openPerAddress = new ConnectionsPerAddress(settings.maxConnectionsPerIp());
    }

    /**
     * Decides on each handshake: wrong path → 404, over the connection limit → 503, over the limit of the client's
     * address → 429 (Too Many Requests: that client, not the broker, is asked to back off). An accepted handshake
     * holds its place in its address's count from here, so that two racing handshakes cannot both take the last one;
     * the socket's close, or a failed upgrade, gives it back.
     */
    public Handler<ServerWebSocketHandshake> handshakeHandler() {
        return handshake -> {
            if (!PATH.equals(handshake.path())) {
                handshake.reject(404);
            } else if (open.get() >= settings.maxConnections()) {
                handshake.reject(503);
            } else {
                String address = handshake.remoteAddress().hostAddress();
                if (!openPerAddress.tryOpen(address)) {
                    handshake.reject(429);
                } else {
                    handshake.accept().onFailure(e -> openPerAddress.closed(address));
                }
            }
        };
    }

    public Handler<ServerWebSocket> socketHandler() {
        return socket -> {
            String address = socket.remoteAddress().hostAddress();
            if (open.incrementAndGet() > settings.maxConnections()) {
                open.decrementAndGet();
                openPerAddress.closed(address);
                socket.close((short) 1013, "BROKER_OVERLOADED: ws.max.connections reached; retry later");
                return;
            }
            metrics.connectionOpened(FRONT_END);
            WebSocketSession session = new WebSocketSession(socket, broker, metrics, settings);
            socket.closeHandler(v -> {
                open.decrementAndGet();
                openPerAddress.closed(address);
                metrics.connectionClosed(FRONT_END);
                session.closed();
            });
            socket.shutdownHandler(v -> session.shutdown());
            session.start();
        };
    }

    public int openConnections() {
        return open.get();
    }
}
