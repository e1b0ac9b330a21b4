package io.millrace.client;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import reactor.netty.tcp.SslProvider;

/**
 * How a {@link MillraceClient} reaches the cluster. Immutable: every {@code with} method returns a changed copy, so
 * one base configuration can be shared and specialised safely.
 *
 * <pre>{@code
 * ClientConfig config = ClientConfig.bootstrap("localhost:7070").withClientId("billing");
 * }</pre>
 */
public final class ClientConfig {

    /** Kafka's default {@code metadata.max.age.ms}: 5 minutes. */
    private static final Duration DEFAULT_METADATA_MAX_AGE = Duration.ofMinutes(5);

    private final List<InetSocketAddress> bootstrap;
    private final String clientId;
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final Duration reconnectBackoff;
    private final Duration reconnectBackoffMax;
    private final int maxFrameBytes;
    private final Consumer<? super SslProvider.SslContextSpec> tls;
    private final Duration metadataMaxAge;

    private ClientConfig(List<InetSocketAddress> bootstrap, String clientId, Duration connectTimeout,
                         Duration requestTimeout, Duration reconnectBackoff, Duration reconnectBackoffMax,
                         int maxFrameBytes, Consumer<? super SslProvider.SslContextSpec> tls) {
        this(bootstrap, clientId, connectTimeout, requestTimeout, reconnectBackoff, reconnectBackoffMax,
                maxFrameBytes, tls, DEFAULT_METADATA_MAX_AGE);
    }

    private ClientConfig(List<InetSocketAddress> bootstrap, String clientId, Duration connectTimeout,
                         Duration requestTimeout, Duration reconnectBackoff, Duration reconnectBackoffMax,
                         int maxFrameBytes, Consumer<? super SslProvider.SslContextSpec> tls,
                         Duration metadataMaxAge) {
        this.metadataMaxAge = metadataMaxAge;
        this.bootstrap = List.copyOf(bootstrap);
        this.clientId = clientId;
        this.connectTimeout = connectTimeout;
        this.requestTimeout = requestTimeout;
        this.reconnectBackoff = reconnectBackoff;
        this.reconnectBackoffMax = reconnectBackoffMax;
        this.maxFrameBytes = maxFrameBytes;
        this.tls = tls;
    }

    /** A configuration with defaults, bootstrapping from {@code "host:port,host:port"}. */
    public static ClientConfig bootstrap(String addresses) {
        List<InetSocketAddress> list = new ArrayList<>();
        for (String part : addresses.split(",")) {
            String hostPort = part.trim();
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0 || colon == hostPort.length() - 1) {
                throw new IllegalArgumentException("Bootstrap address '" + hostPort + "' is not host:port");
            }
            list.add(InetSocketAddress.createUnresolved(hostPort.substring(0, colon),
                    Integer.parseInt(hostPort.substring(colon + 1))));
        }
        if (list.isEmpty()) {
            throw new IllegalArgumentException("At least one bootstrap address is required");
        }
        return new ClientConfig(list, "millrace-client", Duration.ofSeconds(10), Duration.ofSeconds(30),
                Duration.ofMillis(100), Duration.ofSeconds(5), 16 * 1024 * 1024, null);
    }

    public ClientConfig withClientId(String clientId) {
        return new ClientConfig(bootstrap, Objects.requireNonNull(clientId), connectTimeout, requestTimeout,
                reconnectBackoff, reconnectBackoffMax, maxFrameBytes, tls, metadataMaxAge);
    }

    public ClientConfig withConnectTimeout(Duration timeout) {
        return new ClientConfig(bootstrap, clientId, timeout, requestTimeout, reconnectBackoff, reconnectBackoffMax,
                maxFrameBytes, tls, metadataMaxAge);
    }

    /** How long a request may wait for its answer (a fetch's own wait comes on top). */
    public ClientConfig withRequestTimeout(Duration timeout) {
        return new ClientConfig(bootstrap, clientId, connectTimeout, timeout, reconnectBackoff, reconnectBackoffMax,
                maxFrameBytes, tls, metadataMaxAge);
    }

    /**
     * Exponential back-off between attempts to reach a broker and between metadata refreshes after a leader change
     * ({@code reconnect.backoff.ms} / {@code retry.backoff.ms} and {@code reconnect.backoff.max.ms}): from
     * {@code initial}, doubling, up to {@code max}. A broker that refused or lost a connection is not dialled again
     * before its back-off ends. Defaults: 100 ms and 5 s.
     */
    public ClientConfig withReconnectBackoff(Duration initial, Duration max) {
        return new ClientConfig(bootstrap, clientId, connectTimeout, requestTimeout, initial, max, maxFrameBytes,
                tls, metadataMaxAge);
    }

    public ClientConfig withMaxFrameBytes(int maxFrameBytes) {
        return new ClientConfig(bootstrap, clientId, connectTimeout, requestTimeout, reconnectBackoff,
                reconnectBackoffMax, maxFrameBytes, tls, metadataMaxAge);
    }

    /** Connects with TLS, configured by reactor-netty's SSL spec (e.g. trust store, SNI). */
    public ClientConfig withTls(Consumer<? super SslProvider.SslContextSpec> spec) {
        return new ClientConfig(bootstrap, clientId, connectTimeout, requestTimeout, reconnectBackoff,
                reconnectBackoffMax, maxFrameBytes, Objects.requireNonNull(spec), metadataMaxAge);
    }

    /**
     * How long cached topic metadata (leaders, partition counts) is used before it is fetched again even without an
     * error ({@code metadata.max.age.ms}, default 5 minutes). Errors that mean it is stale (NOT_LEADER without a hint,
     * FENCED_LEADER_EPOCH, UNKNOWN_TOPIC_OR_PARTITION, a lost connection) refresh it at once.
     */
    public ClientConfig withMetadataMaxAge(Duration maxAge) {
        if (maxAge.isNegative()) {
            throw new IllegalArgumentException("metadata max age must not be negative");
        }
        return new ClientConfig(bootstrap, clientId, connectTimeout, requestTimeout, reconnectBackoff,
                reconnectBackoffMax, maxFrameBytes, tls, maxAge);
    }

    public Duration metadataMaxAge() {
        return metadataMaxAge;
    }

    public List<InetSocketAddress> bootstrapAddresses() {
        return bootstrap;
    }

    public String clientId() {
        return clientId;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    public Duration reconnectBackoff() {
        return reconnectBackoff;
    }

    public Duration reconnectBackoffMax() {
        return reconnectBackoffMax;
    }

    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    public Optional<Consumer<? super SslProvider.SslContextSpec>> tls() {
        return Optional.ofNullable(tls);
    }
}
