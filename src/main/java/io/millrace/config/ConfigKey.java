package io.millrace.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * Every broker config key. Defaults live in {@code conf/millrace.json} (a test keeps that file and this list equal);
 * any key can be overridden by an environment variable ({@link #envName()}) or a command-line flag, in that order of
 * precedence: file, then environment, then flags.
 */
public enum ConfigKey {
    BROKER_ID("broker.id", Type.INT, "Unique id of this broker in the cluster."),
    DATA_DIR("data.dir", Type.STRING, "Folder for partition logs and the embedded ZooKeeper's data."),
    LISTEN_HOST("listen.host", Type.STRING, "Interface the HTTP/WebSocket and TCP servers bind to."),
    ADVERTISED_HOST("advertised.host", Type.STRING, "Host name clients are told to connect to."),
    HTTP_PORT("http.port", Type.INT, "Port of the HTTP server: REST API, WebSocket gateway, dashboard, metrics."),
    TCP_PORT("tcp.port", Type.INT, "Port of the native TCP gateway used by the Java SDK."),
    KAFKA_PORT("kafka.port", Type.INT, "Port of the Kafka wire-protocol listener for Apache Kafka's own clients and tools."),
    KAFKA_ADVERTISED_HOST("kafka.advertised.host", Type.STRING,
            "Host name Kafka clients are told to connect to (Metadata, FindCoordinator, DescribeCluster); empty:"
                    + " advertised.host."),
    KAFKA_MAX_INFLIGHT_PRODUCE_REQUESTS("kafka.max.inflight.produce.requests", Type.INT,
            "Most Produce requests of one Kafka connection worked on at once; at this many unanswered the"
                    + " connection stops reading until one is answered. Other requests are answered one at a time."),
    ZOOKEEPER_CONNECT("zookeeper.connect", Type.STRING,
            "host:port,... of an external ZooKeeper ensemble; empty starts an embedded ZooKeeper server."),
    ZOOKEEPER_EMBEDDED_PORT("zookeeper.embedded.port", Type.INT, "Client port of the embedded ZooKeeper server; 0 picks a free one."),
    ZOOKEEPER_EMBEDDED_HOST("zookeeper.embedded.host", Type.STRING, "Interface the embedded ZooKeeper binds to."),
    ZOOKEEPER_EMBEDDED_RESERVE_BYTES("zookeeper.embedded.reserve.bytes", Type.LONG,
            "Disk space kept aside in the data directory for the embedded ZooKeeper and given to it at start, so that"
                    + " a broker starts on a full disk."),
    ZOOKEEPER_SESSION_TIMEOUT_MS("zookeeper.session.timeout.ms", Type.INT,
            "ZooKeeper session timeout: how long a silent broker stays registered."),
    ZOOKEEPER_CONNECT_TIMEOUT_MS("zookeeper.connect.timeout.ms", Type.INT,
            "How long start-up waits for ZooKeeper before giving up."),
    CLUSTER_HOST("cluster.host", Type.STRING, "Interface of the clustered Vert.x event bus."),
    CLUSTER_PORT("cluster.port", Type.INT, "Port of the clustered event bus; 0 picks a free one."),
    EVENT_LOOP_THREADS("event.loop.threads", Type.INT,
            "Event-loop threads serving connections and partitions; 0 means one per CPU core."),
    NATIVE_TRANSPORT("native.transport", Type.BOOLEAN,
            "Use Linux epoll for sockets when available (falls back to Java NIO elsewhere)."),
    AUTO_CREATE_TOPICS("auto.create.topics.enable", Type.BOOLEAN,
            "Create an unknown topic on its first produce, or when a Kafka client's Metadata request asks for it."),
    SUBSCRIPTION_READ_LOCAL_REPLICA("subscription.read.local.replica", Type.BOOLEAN,
            "A subscription (WebSocket, TCP) to a partition led by another broker reads this broker's replica of it"
                    + " while that replica is in sync, up to the high watermark it has heard from the leader, rather"
                    + " than asking the leader for every read."),
    NUM_PARTITIONS("num.partitions", Type.INT, "Partitions of an auto-created topic, and the default for create."),
    DEFAULT_REPLICATION_FACTOR("default.replication.factor", Type.INT,
            "Replication factor of an auto-created topic, and the default for create."),
    MAX_PARTITIONS("max.partitions", Type.INT,
            "Most partitions of all topics together, each counted once (not per replica); a create or add-partitions"
                    + " over it gets TOO_MANY_PARTITIONS. __consumer_offsets counts but is created regardless. 0:"
                    + " derived from the heap, (max heap - 96 MiB) / 8 KiB within 1,000..50,000 (20,480 at -Xmx256m)."),
    MIN_INSYNC_REPLICAS("min.insync.replicas", Type.INT,
            "Default in-sync replicas an acks=all produce needs (topics may override); 0: 2 for topics of 3 or more"
                    + " replicas, else 1."),
    OFFSETS_TOPIC_REPLICATION_FACTOR("offsets.topic.replication.factor", Type.INT,
            "Replication factor of __consumer_offsets when it is created (at most the live brokers then)."),
    REPLICA_LAG_TIME_MAX_MS("replica.lag.time.max.ms", Type.INT,
            "A follower that has not caught up with its leader's log end for this long leaves the in-sync set."),
    REPLICA_FETCH_MAX_BYTES("replica.fetch.max.bytes", Type.INT, "Most bytes a follower asks its leader for at once."),
    REPLICA_FETCH_WAIT_MAX_MS("replica.fetch.wait.max.ms", Type.INT,
            "How long a caught-up follower's fetch waits at the leader for new records."),
    REPLICA_FETCH_BACKOFF_MS("replica.fetch.backoff.ms", Type.INT,
            "Pause before a follower retries a failed fetch."),
    REPLICATION_THROTTLED_RATE("replication.throttled.rate", Type.LONG,
            "Bytes per second that the replicas a reassignment is adding to this broker may copy from their leaders,"
                    + " all together, until they are in sync; 0: no bound."),
    STORAGE_CHECK_INTERVAL_MS("storage.check.interval.ms", Type.INT,
            "How often the data directory is probed for being full or read-only; writes resume at the first probe"
                    + " that finds it writable again."),
    STORAGE_MIN_FREE_BYTES("storage.min.free.bytes", Type.LONG,
            "The data directory counts as full (produces refused) below this much free space; 0: only when a write"
                    + " fails for want of space."),
    PARTITION_OPEN_RETRY_BACKOFF_MS("partition.open.retry.backoff.ms", Type.INT,
            "First pause before opening again a partition whose log failed to open; doubles after each failure."),
    PARTITION_OPEN_RETRY_BACKOFF_MAX_MS("partition.open.retry.backoff.max.ms", Type.INT,
            "Longest pause between attempts to open a partition whose log failed to open."),
    UNCLEAN_LEADER_ELECTION("unclean.leader.election.enable", Type.BOOLEAN,
            "Let a replica that is not in sync lead when no in-sync replica is alive (loses records; off by default)."),
    AUTO_LEADER_REBALANCE("auto.leader.rebalance.enable", Type.BOOLEAN,
            "Move leadership back to each partition's preferred (first) replica when it is alive and in sync."),
    LEADER_IMBALANCE_CHECK_INTERVAL_MS("leader.imbalance.check.interval.ms", Type.INT,
            "How often the controller moves leadership back to preferred replicas."),
    BROKER_FAILURE_PROBE("broker.failure.probe.enable", Type.BOOLEAN,
            "The controller also watches each broker's event-bus port: a refused connection marks the broker dead"
                    + " at once instead of after its ZooKeeper session expires."),
    FETCH_MAX_WAIT_MS("fetch.max.wait.ms", Type.INT, "Longest a long-poll fetch may wait; longer waits are capped."),
    PARTITION_MAX_FETCH_WAITERS("partition.max.fetch.waiters", Type.INT,
            "Most fetches that may wait on one partition at once; more get BROKER_OVERLOADED."),
    LOG_RETENTION_CHECK_INTERVAL_MS("log.retention.check.interval.ms", Type.INT,
            "How often retention is applied: one broker-wide sweep asks the partitions in turn."),
    LOG_FLUSH_CHECK_INTERVAL_MS("log.flush.check.interval.ms", Type.INT,
            "How often each partition checks the flush.ms policy."),
    LOG_MAX_OPEN_FILES("log.max.open.files", Type.INT,
            "Most segment files all partition logs keep open together (3 per segment: log, offset index, time index;"
                    + " the indexes are memory-mapped); the least recently used idle segments are closed and reopened"
                    + " on their next use. 0: half the process's descriptor limit, at most what keeps the mappings"
                    + " within half of vm.max_map_count."),
    REQUEST_TIMEOUT_MS("request.timeout.ms", Type.INT,
            "Longest the broker waits for a partition to answer a request (fetch waits come on top)."),
    SOCKET_REQUEST_MAX_BYTES("socket.request.max.bytes", Type.INT,
            "Largest Kafka request accepted on kafka.port (Kafka's own key); a larger size field closes that"
                    + " connection, which the client reports as a disconnect."),
    TCP_MAX_FRAME_BYTES("tcp.max.frame.bytes", Type.INT, "Largest TCP frame accepted; larger closes the connection."),
    TCP_MAX_CONNECTIONS("tcp.max.connections", Type.INT, "Most concurrent TCP connections; more are refused."),
    TCP_MAX_CONNECTIONS_PER_IP("tcp.max.connections.per.ip", Type.INT,
            "Most concurrent TCP connections from one client IP address; more are refused with BROKER_OVERLOADED."),
    TCP_IDLE_TIMEOUT_MS("tcp.idle.timeout.ms", Type.INT, "A TCP connection silent this long is closed."),
    TCP_HANDSHAKE_TIMEOUT_MS("tcp.handshake.timeout.ms", Type.INT,
            "A TCP client must complete the handshake within this time."),
    TCP_REQUEST_READ_TIMEOUT_MS("tcp.request.read.timeout.ms", Type.INT,
            "A TCP frame must arrive whole within this time of its first byte, else the connection is closed."),
    TCP_MAX_INFLIGHT_REQUESTS("tcp.max.inflight.requests", Type.INT,
            "Most unanswered requests per TCP connection; the broker stops reading until some complete."),
    TCP_MAX_SUBSCRIPTIONS("tcp.max.subscriptions", Type.INT,
            "Most subscriptions one TCP connection may have open; more get BROKER_OVERLOADED."),
    WS_MAX_FRAME_BYTES("ws.max.frame.bytes", Type.INT, "Largest WebSocket message accepted."),
    WS_MAX_CONNECTIONS("ws.max.connections", Type.INT, "Most concurrent WebSocket connections."),
    WS_MAX_CONNECTIONS_PER_IP("ws.max.connections.per.ip", Type.INT,
            "Most concurrent WebSocket connections from one client IP address; more are refused with HTTP 429."),
    WS_IDLE_TIMEOUT_MS("ws.idle.timeout.ms", Type.INT,
            "A WebSocket from which nothing came this long (no frames, no pongs to the broker's pings) is closed."),
    WS_MESSAGE_READ_TIMEOUT_MS("ws.message.read.timeout.ms", Type.INT,
            "A WebSocket message (all its frames) must arrive within this time of its first byte, else the socket is"
                    + " closed."),
    WS_MAX_INFLIGHT_REQUESTS("ws.max.inflight.requests", Type.INT,
            "Most unanswered requests per WebSocket; more get BROKER_OVERLOADED."),
    WS_MAX_SUBSCRIPTIONS("ws.max.subscriptions", Type.INT, "Most partitions one WebSocket may subscribe to."),
    WS_MAX_CREDITS("ws.max.credits", Type.INT,
            "Most records a WebSocket client may have granted and not yet received, per subscription."),
    WS_PUSH_LINGER_MS("ws.push.linger.ms", Type.INT,
            "How long a record at the end of a partition may wait for more before it is pushed to a WebSocket"
                    + " subscription, so a steady stream goes out as fewer, larger records messages (0 pushes each"
                    + " append at once)."),
    HTTP_MAX_BODY_BYTES("http.max.body.bytes", Type.INT,
            "Largest REST request body; a larger one gets 413 RECORD_TOO_LARGE."),
    JSON_MAX_NESTING_DEPTH("json.max.nesting.depth", Type.INT,
            "Deepest nesting of objects and arrays in a REST body or WebSocket message; deeper gets INVALID_REQUEST."),
    JSON_MAX_STRING_BYTES("json.max.string.bytes", Type.INT,
            "Longest string (UTF-8 bytes, names and values) in a REST body or WebSocket message; longer gets"
                    + " INVALID_REQUEST. Keep it above 4/3 of the largest max.message.bytes, so a value sent as base64"
                    + " still fits."),
    WS_COMPRESSION_ENABLE("ws.compression.enable", Type.BOOLEAN,
            "Accept permessage-deflate from WebSocket clients that offer it; each compressing socket then holds zlib "
                    + "state in native memory (see docs/PERFORMANCE.md). HTTP response compression is separate."),
    WS_COMPRESSION_LEVEL("ws.compression.level", Type.INT,
            "Deflate level (1 fastest .. 9 smallest) of WebSocket messages when ws.compression.enable is on."),
    WS_COMPRESSION_CLIENT_NO_CONTEXT("ws.compression.client.no.context", Type.BOOLEAN,
            "Accept a compressing WebSocket client's offer to reset its compression context after each message "
                    + "(client_no_context_takeover), so the broker frees its inflater between messages."),
    WS_COMPRESSION_SERVER_NO_CONTEXT("ws.compression.server.no.context", Type.BOOLEAN,
            "Grant a WebSocket client's request that the broker reset its compression context after each message "
                    + "(server_no_context_takeover), freeing the deflater between messages."),
    HTTP_REQUEST_READ_TIMEOUT_MS("http.request.read.timeout.ms", Type.INT,
            "An HTTP request (headers and body) must arrive within this time of its first byte, else it is answered"
                    + " 408 and the connection closed."),
    HTTP_IDLE_TIMEOUT_MS("http.idle.timeout.ms", Type.INT,
            "An HTTP connection on which no byte moved either way for this long is closed, except while the broker"
                    + " prepares an answer (a long-poll may wait longer). WebSockets follow ws.idle.timeout.ms."),
    HTTP_MAX_CONNECTIONS_PER_IP("http.max.connections.per.ip", Type.INT,
            "Most concurrent connections to the HTTP port from one client IP address, WebSockets included; more are"
                    + " answered 429 BROKER_OVERLOADED and closed."),
    HTTP_MAX_STATS_STREAMS("http.max.stats.streams", Type.INT,
            "Most dashboards listening to the live stats stream at once; more get BROKER_OVERLOADED (503)."),
    OFFSETS_TOPIC_NUM_PARTITIONS("offsets.topic.num.partitions", Type.INT,
            "Partitions of the internal __consumer_offsets topic, created at start-up if missing; never change it once "
                    + "groups have committed (a group's partition is a hash of its id modulo this count)."),
    OFFSETS_SNAPSHOT_BYTES("offsets.snapshot.bytes", Type.LONG,
            "An offsets partition larger than this is rolled, snapshotted (live commits only) and its older segments "
                    + "deleted, so the offsets topic stays about as large as the live commits."),
    GROUP_MIN_SESSION_TIMEOUT_MS("group.min.session.timeout.ms", Type.INT,
            "Shortest session timeout a group member may ask for; shorter gets INVALID_SESSION_TIMEOUT."),
    GROUP_MAX_SESSION_TIMEOUT_MS("group.max.session.timeout.ms", Type.INT,
            "Longest session timeout a group member may ask for."),
    GROUP_INITIAL_REBALANCE_DELAY_MS("group.initial.rebalance.delay.ms", Type.INT,
            "How long the first rebalance of an empty group waits for more members to join; 0 turns it off."),
    SHUTDOWN_TIMEOUT_MS("shutdown.timeout.ms", Type.INT, "How long a clean shutdown may take before it is forced."),
    SHUTDOWN_GRACE_MS("shutdown.grace.ms", Type.INT,
            "At shutdown, how long HTTP and WebSocket connections may take to receive the answers already under way "
                    + "before they are cut."),
    LOG_SEGMENT_BYTES("log.segment.bytes", Type.INT, "Default segment.bytes of new topics."),
    LOG_SEGMENT_MS("log.segment.ms", Type.LONG, "Default segment.ms of new topics."),
    LOG_SEGMENT_INDEX_BYTES("log.segment.index.bytes", Type.INT, "Default segment.index.bytes of new topics."),
    LOG_INDEX_INTERVAL_BYTES("log.index.interval.bytes", Type.INT, "Default index.interval.bytes of new topics."),
    LOG_RETENTION_MS("log.retention.ms", Type.LONG, "Default retention.ms of new topics."),
    LOG_RETENTION_BYTES("log.retention.bytes", Type.LONG, "Default retention.bytes of new topics."),
    LOG_FLUSH_MESSAGES("log.flush.messages", Type.LONG, "Default flush.messages of new topics."),
    LOG_FLUSH_MS("log.flush.ms", Type.LONG, "Default flush.ms of new topics."),
    LOG_MAX_MESSAGE_BYTES("log.max.message.bytes", Type.INT, "Default max.message.bytes of new topics."),
    LOG_MESSAGE_TIMESTAMP_TYPE("log.message.timestamp.type", Type.STRING,
            "Default message.timestamp.type of new topics."),
    LOG_PRODUCER_ID_EXPIRATION_MS("log.producer.id.expiration.ms", Type.LONG,
            "Default producer.id.expiration.ms of new topics."),
    LOG_MESSAGE_TIMESTAMP_AFTER_MAX_MS("log.message.timestamp.after.max.ms", Type.LONG,
            "Default message.timestamp.after.max.ms of new topics."),
    LOG_MESSAGE_TIMESTAMP_BEFORE_MAX_MS("log.message.timestamp.before.max.ms", Type.LONG,
            "Default message.timestamp.before.max.ms of new topics."),
    MAX_PRODUCER_STATES_PER_PARTITION("max.producer.states.per.partition", Type.INT,
            "Most idempotent producers whose sequence state one partition keeps; beyond it the producer silent"
                    + " longest is forgotten (a retry of its earlier batch is then written again).");

    /** How a value is parsed. */
    public enum Type { INT, LONG, BOOLEAN, STRING }

    private final String key;
    private final Type type;
    private final String description;

    ConfigKey(String key, Type type, String description) {
        this.key = key;
        this.type = type;
        this.description = description;
    }

    public String key() {
        return key;
    }

    public Type type() {
        return type;
    }

    public String description() {
        return description;
    }

    /** The environment variable that overrides this key: {@code MILLRACE_} and the key in capitals, '.' as '_'. */
    public String envName() {
        return "MILLRACE_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    public static Optional<ConfigKey> forKey(String key) {
        return Arrays.stream(values()).filter(k -> k.key.equals(key)).findFirst();
    }
}
