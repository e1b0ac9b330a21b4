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
    private final HttpServerOptions options;
    private HttpServer server;

    /** @param options this instance's own copy: the server keeps it */
    HttpServerVerticle(HttpApi api, WebSocketGateway webSockets, HttpServerOptions options) {
        this.api = api;
        this.webSockets = webSockets;
        this.options = options;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        api.mount(router);
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
