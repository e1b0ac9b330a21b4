package io.millrace.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.millrace.broker.BrokerService;
import io.millrace.broker.json.JsonInput;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.config.BrokerConfig;
import io.millrace.config.ConfigKey;
import io.millrace.gateway.kafka.KafkaGateway;
import io.millrace.gateway.kafka.KafkaSettings;
import io.millrace.gateway.tcp.TcpGateway;
import io.millrace.gateway.tcp.TcpSettings;
import io.millrace.gateway.ws.WebSocketGateway;
import io.millrace.gateway.ws.WebSocketSettings;
import io.millrace.http.HttpApi;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Builds and deploys the front-ends from the broker config. */
final class FrontEnds {

    /** Bytes a WebSocket subscription reads per partition fetch. */
    private static final int WS_FETCH_BYTES = 256 * 1024;

    private final BrokerConfig config;
    private final BrokerService broker;
    private final PrometheusMeterRegistry registry;
    /** Server instances per front-end: one per event loop, so that connections are spread over all of them. */
    private final int instances;

    FrontEnds(BrokerConfig config, BrokerService broker, PrometheusMeterRegistry registry, int eventLoops) {
        this.config = config;
        this.broker = broker;
        this.registry = registry;
        this.instances = eventLoops;
    }

    /** Deploys the HTTP server on every event loop; returns its port. */
    int startHttp(Vertx vertx, List<String> deployments) {
        JsonInput json = new JsonInput(config.getInt(ConfigKey.JSON_MAX_NESTING_DEPTH),
                config.getInt(ConfigKey.JSON_MAX_STRING_BYTES));
        HttpApi api = new HttpApi(broker, registry, config.getInt(ConfigKey.HTTP_MAX_BODY_BYTES),
                config.getInt(ConfigKey.HTTP_MAX_STATS_STREAMS), json);
        deployments.add(MillraceServer.await(vertx.deployVerticle(api.statsVerticle()), 30_000));
        WebSocketGateway webSockets = new WebSocketGateway(broker, broker.metrics(), new WebSocketSettings(
                config.getInt(ConfigKey.WS_MAX_FRAME_BYTES), config.getInt(ConfigKey.WS_MAX_CONNECTIONS),
                config.getInt(ConfigKey.WS_MAX_CONNECTIONS_PER_IP), config.getInt(ConfigKey.WS_IDLE_TIMEOUT_MS),
                config.getInt(ConfigKey.WS_MAX_INFLIGHT_REQUESTS), config.getInt(ConfigKey.WS_MAX_SUBSCRIPTIONS),
                config.getInt(ConfigKey.WS_MAX_CREDITS), config.webSocketPushLingerMs(),
                BrokerConfig.MAX_PUSH_LINGER_MS, WS_FETCH_BYTES, json));
        // Port 0 would give each instance its own random port; Vert.x shares one random port among servers that ask
        // for the same negative port (distinct from the TCP gateway's).
        int port = config.getInt(ConfigKey.HTTP_PORT) == 0 ? -8080 : config.getInt(ConfigKey.HTTP_PORT);
        HttpServerOptions options = httpServerOptions(port);
        Handler<HttpConnection> connectionSetup = httpConnectionSetup();
        HttpServerVerticle[] first = new HttpServerVerticle[1];
        deployments.add(listening("HTTP", ConfigKey.HTTP_PORT, vertx.deployVerticle(() -> {
            HttpServerVerticle v = new HttpServerVerticle(api, webSockets, new HttpServerOptions(options),
                    config.getInt(ConfigKey.SHUTDOWN_GRACE_MS), connectionSetup);
            if (first[0] == null) {
                first[0] = v;
            }
            return v;
        }, new DeploymentOptions().setInstances(instances))));
        return first[0].actualPort();
    }

    /**
     * What every new connection to the HTTP port goes through first: the limit of its client address, then the
     * deadlines of an admitted one. One per broker: the count of an address is shared by all the server's instances.
     */
    private Handler<HttpConnection> httpConnectionSetup() {
        long requestReadTimeoutMs = config.getInt(ConfigKey.HTTP_REQUEST_READ_TIMEOUT_MS);
        long messageReadTimeoutMs = config.getInt(ConfigKey.WS_MESSAGE_READ_TIMEOUT_MS);
        long idleTimeoutMs = config.getInt(ConfigKey.HTTP_IDLE_TIMEOUT_MS);
        HttpConnectionsPerAddress perAddress = new HttpConnectionsPerAddress(
                config.getInt(ConfigKey.HTTP_MAX_CONNECTIONS_PER_IP), requestReadTimeoutMs);
        return connection -> {
            if (perAddress.admit(connection)) {
                ConnectionDeadlines.install(connection, requestReadTimeoutMs, messageReadTimeoutMs, idleTimeoutMs);
            }
        };
    }

    /**
     * The HTTP server's options. Response compression (gzip for clients that accept it) and WebSocket compression
     * are separate switches in Vert.x, and Vert.x accepts permessage-deflate by default: each socket that negotiates
     * it holds zlib state in native memory for as long as it is open, so it is off unless
     * {@code ws.compression.enable} turns it on. Vert.x's idle timeout is off: it would cut a long-poll that waits
     * longer than it, and {@link ConnectionDeadlines} keeps idle time (and WebSocketSession a socket's).
     */
    HttpServerOptions httpServerOptions(int port) {
        boolean webSocketCompression = config.getBoolean(ConfigKey.WS_COMPRESSION_ENABLE);
        int compressionLevel = config.webSocketCompressionLevel(); // validated even when off: a bad value fails now
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.getString(ConfigKey.LISTEN_HOST))
                .setPort(port)
                .setMaxWebSocketFrameSize(config.getInt(ConfigKey.WS_MAX_FRAME_BYTES))
                .setMaxWebSocketMessageSize(config.getInt(ConfigKey.WS_MAX_FRAME_BYTES))
                .setIdleTimeout(0)
                .setCompressionSupported(true)
                .setPerMessageWebSocketCompressionSupported(webSocketCompression)
                .setPerFrameWebSocketCompressionSupported(false)
                // Without cleartext HTTP/2 upgrades, Vert.x sets up each HTTP/1.x connection, and so its read
                // deadline, when it connects; with them, only once the first request's headers are in, which leaves a
                // first request sent one byte at a time without a deadline. No client of this port needs h2c.
                .setHttp2ClearTextEnabled(false);
        if (webSocketCompression) {
            options.setWebSocketCompressionLevel(compressionLevel)
                    .setWebSocketPreferredClientNoContext(
                            config.getBoolean(ConfigKey.WS_COMPRESSION_CLIENT_NO_CONTEXT))
                    .setWebSocketAllowServerNoContext(config.getBoolean(ConfigKey.WS_COMPRESSION_SERVER_NO_CONTEXT));
        }
        return options;
    }

    /** Deploys the native TCP gateway on every event loop; returns the port it listens on. */
    int startTcp(Vertx vertx, List<String> deployments) {
        TcpSettings settings = new TcpSettings(config.getInt(ConfigKey.TCP_MAX_FRAME_BYTES),
                config.getInt(ConfigKey.TCP_MAX_CONNECTIONS), config.getInt(ConfigKey.TCP_MAX_CONNECTIONS_PER_IP),
                config.getInt(ConfigKey.TCP_IDLE_TIMEOUT_MS), config.getInt(ConfigKey.TCP_HANDSHAKE_TIMEOUT_MS),
                config.getInt(ConfigKey.TCP_REQUEST_READ_TIMEOUT_MS),
                config.getInt(ConfigKey.TCP_MAX_INFLIGHT_REQUESTS), config.getInt(ConfigKey.TCP_MAX_SUBSCRIPTIONS));
        return deployOnEveryEventLoop(vertx, deployments, "the native TCP protocol", ConfigKey.TCP_PORT,
                TcpGateway.instances(broker, broker.metrics(), settings,
                config.getString(ConfigKey.LISTEN_HOST), config.getInt(ConfigKey.TCP_PORT))).actualPort();
    }

    /** Deploys the Kafka listener on every event loop; returns the port it listens on. */
    int startKafka(Vertx vertx, List<String> deployments) {
        KafkaSettings settings = new KafkaSettings(config.getInt(ConfigKey.SOCKET_REQUEST_MAX_BYTES),
                config.getBoolean(ConfigKey.AUTO_CREATE_TOPICS),
                config.getInt(ConfigKey.KAFKA_MAX_INFLIGHT_PRODUCE_REQUESTS));
        return deployOnEveryEventLoop(vertx, deployments, "the Kafka protocol", ConfigKey.KAFKA_PORT,
                KafkaGateway.instances(broker, broker.metrics(), settings,
                config.getString(ConfigKey.LISTEN_HOST), config.getInt(ConfigKey.KAFKA_PORT))).actualPort();
    }

    /** Deploys one verticle of {@code instances} per event loop; returns the first, which knows the shared port. */
    private <V extends Deployable> V deployOnEveryEventLoop(Vertx vertx, List<String> deployments, String protocol,
                                                            ConfigKey portKey, Supplier<V> instances) {
        List<V> created = new ArrayList<>();
        deployments.add(listening(protocol, portKey, vertx.deployVerticle(() -> {
            V verticle = instances.get();
            created.add(verticle);
            return verticle;
        }, new DeploymentOptions().setInstances(this.instances))));
        return created.get(0);
    }

    /**
     * Waits for the deployment of a listener. When its socket cannot be bound (the port is taken, or privileged, or
     * {@code listen.host} is not an address of this machine), the error names the address and the keys that set it:
     * the system's own message does not say which of the broker's ports it was.
     */
    private String listening(String protocol, ConfigKey portKey, Future<String> deployment) {
        try {
            return MillraceServer.await(deployment, 30_000);
        } catch (MillraceException e) {
            if (!causedBySocketError(e)) {
                throw e;
            }
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "Cannot listen for " + protocol + " on "
                    + config.getString(ConfigKey.LISTEN_HOST) + ":" + config.getInt(portKey) + " ("
                    + portKey.key() + ", " + ConfigKey.LISTEN_HOST.key() + "): " + e.getMessage(), e);
        }
    }

    private static boolean causedBySocketError(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}
