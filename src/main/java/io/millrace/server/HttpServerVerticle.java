package io.millrace.server;

import io.millrace.gateway.ws.WebSocketGateway;
import io.millrace.http.HttpApi;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP server: REST API, health and metrics ({@link HttpApi}) and the WebSocket gateway at {@code /ws}
 * ({@link WebSocketGateway}) on one port. Several instances share the port, one per event loop. Every connection
 * has the idle timeout ({@code ws.idle.timeout.ms}, in whole seconds) and a {@link ReadDeadline} against slow senders.
 */
final class HttpServerVerticle extends VerticleBase {

    private final HttpApi api;
    private final WebSocketGateway webSockets;
    private final HttpServerOptions options;
    private final long shutdownGraceMs;
    private final long requestReadTimeoutMs;
    private final long messageReadTimeoutMs;
    private HttpServer server;

    /**
     * @param options              this instance's own copy: the server keeps it
     * @param shutdownGraceMs      how long {@link #stop()} lets connections finish the answers under way
     * @param requestReadTimeoutMs time from an HTTP request's first byte to its last
     *                             ({@code http.request.read.timeout.ms})
     * @param messageReadTimeoutMs time from a WebSocket message's first byte to its last
     *                             ({@code ws.message.read.timeout.ms})
     */
    HttpServerVerticle(HttpApi api, WebSocketGateway webSockets, HttpServerOptions options, long shutdownGraceMs,
                       long requestReadTimeoutMs, long messageReadTimeoutMs) {
        this.api = api;
        this.webSockets = webSockets;
        this.options = options;
        this.shutdownGraceMs = shutdownGraceMs;
        this.requestReadTimeoutMs = requestReadTimeoutMs;
        this.messageReadTimeoutMs = messageReadTimeoutMs;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        api.mount(router);
        server = vertx.createHttpServer(options)
                .connectionHandler(connection -> ReadDeadline.install(connection, requestReadTimeoutMs,
                        messageReadTimeoutMs))
                .webSocketHandshakeHandler(webSockets.handshakeHandler())
                .webSocketHandler(webSockets.socketHandler())
                .requestHandler(router);
        return server.listen();
    }

    /**
     * Stops accepting connections and lets the open ones end: a request being answered is finished, an idle
     * connection closes at once, a WebSocket answers what it still owes and closes (its shutdown handler); whatever
     * is left after {@code shutdown.grace.ms} is cut.
     */
    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.shutdown(shutdownGraceMs, TimeUnit.MILLISECONDS);
    }

    int actualPort() {
        return server.actualPort();
    }
}
