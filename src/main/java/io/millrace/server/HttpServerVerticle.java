package io.millrace.server;

import io.millrace.gateway.ws.WebSocketGateway;
import io.millrace.http.HttpApi;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP server: REST API, health and metrics ({@link HttpApi}) and the WebSocket gateway at {@code /ws}
 * ({@link WebSocketGateway}) on one port. Several instances share the port, one per event loop. Each new connection
 * is first given to the connection setup: the per-address limit and the {@link ConnectionDeadlines} against slow
 * senders and idle connections.
 */
final class HttpServerVerticle extends VerticleBase {

    private final HttpApi api;
    private final WebSocketGateway webSockets;
    private final HttpServerOptions options;
    private final long shutdownGraceMs;
    private final Handler<HttpConnection> connectionSetup;
    private HttpServer server;

    /**
     * @param options              this instance's own copy: the server keeps it
     * @param shutdownGraceMs      how long {@link #stop()} lets connections finish the answers under way
     * @param connectionSetup      called on each new connection's event loop before anything it sent is read
     */
    HttpServerVerticle(HttpApi api, WebSocketGateway webSockets, HttpServerOptions options, long shutdownGraceMs,
                       Handler<HttpConnection> connectionSetup) {
        this.api = api;
        this.webSockets = webSockets;
        this.options = options;
        this.shutdownGraceMs = shutdownGraceMs;
        this.connectionSetup = connectionSetup;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        api.mount(router);
        server = vertx.createHttpServer(options)
                .connectionHandler(connectionSetup)
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
