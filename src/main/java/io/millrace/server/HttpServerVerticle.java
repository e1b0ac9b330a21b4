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
 * ({@link WebSocketGateway}) on one port. Several instances share the port, one per event loop. Every connection
 * has the idle timeout ({@code ws.idle.timeout.ms}, in whole seconds) and a {@link ReadDeadline} against slow senders.
 */
final class HttpServerVerticle extends VerticleBase {

    private final HttpApi api;
    private final WebSocketGateway webSockets;
    private final String host;
    private final int port;
    private final int maxFrameBytes;
    private final long idleTimeoutMs;
    private final long requestReadTimeoutMs;
    private final long messageReadTimeoutMs;
    private HttpServer server;

    /**
     * @param requestReadTimeoutMs time from an HTTP request's first byte to its last
     *                             ({@code http.request.read.timeout.ms})
     * @param messageReadTimeoutMs time from a WebSocket message's first byte to its last
     *                             ({@code ws.message.read.timeout.ms})
     */
    HttpServerVerticle(HttpApi api, WebSocketGateway webSockets, String host, int port, int maxFrameBytes,
                       long idleTimeoutMs, long requestReadTimeoutMs, long messageReadTimeoutMs) {
        this.api = api;
        this.webSockets = webSockets;
        this.host = host;
        this.port = port;
        this.maxFrameBytes = maxFrameBytes;
        this.idleTimeoutMs = idleTimeoutMs;
        this.requestReadTimeoutMs = requestReadTimeoutMs;
        this.messageReadTimeoutMs = messageReadTimeoutMs;
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
                .setCompressionSupported(true)
                // Without cleartext HTTP/2 upgrades, Vert.x sets up each HTTP/1.x connection, and so its read
                // deadline, when it connects; with them, only once the first request's headers are in, which leaves a
                // first request sent one byte at a time without a deadline. No client of this port needs h2c.
                .setHttp2ClearTextEnabled(false);
        server = vertx.createHttpServer(options)
                .connectionHandler(connection -> ReadDeadline.install(connection, requestReadTimeoutMs,
                        messageReadTimeoutMs))
                .webSocketHandshakeHandler(webSockets.handshakeHandler())
                .webSocketHandler(webSockets.socketHandler())
                .requestHandler(router);
        return server.listen();
    }

    int actualPort() {
        return server.actualPort();
    }
}
