package io.millrace.server;

import io.millrace.gateway.ws.WebSocketGateway;
import io.millrace.http.HttpApi;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/**
 * The HTTP server: REST API, health and metrics ({@link HttpApi}) and the WebSocket gateway at {@code /ws}
 * ({@link WebSocketGateway}) on one port. Several instances share the port, one per event loop.
 */
final class HttpServerVerticle extends VerticleBase {

    private final HttpApi api;
    private final WebSocketGateway webSockets;
    private final String host;
    private final int port;
    private final int maxFrameBytes;
    private final long idleTimeoutMs;
    private HttpServer server;

    HttpServerVerticle(HttpApi api, WebSocketGateway webSockets, String host, int port, int maxFrameBytes,
                       long idleTimeoutMs) {
        this.api = api;
        this.webSockets = webSockets;
        this.host = host;
        this.port = port;
        this.maxFrameBytes = maxFrameBytes;
        this.idleTimeoutMs = idleTimeoutMs;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        api.mount(router);
        HttpServerOptions options = new HttpServerOptions()
                .setHost(host)
                .setPort(port)
                .setMaxWebSocketFrameSize(maxFrameBytes)
                .setMaxWebSocketMessageSize(maxFrameBytes)
                .setIdleTimeout((int) Math.max(1, idleTimeoutMs / 1000))
                .setCompressionSupported(true);
        server = vertx.createHttpServer(options)
                .webSocketHandshakeHandler(webSockets.handshakeHandler())
                .webSocketHandler(webSockets.socketHandler())
                .requestHandler(router);
        return server.listen();
    }

    int actualPort() {
        return server.actualPort();
    }
}
