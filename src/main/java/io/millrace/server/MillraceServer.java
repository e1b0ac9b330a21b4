package io.millrace.server;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.millrace.broker.BrokerMetrics;
import io.millrace.broker.BrokerService;
import io.millrace.broker.BrokerSettings;
import io.millrace.cluster.BrokerFailureDetector;
import io.millrace.cluster.BrokerInfo;
import io.millrace.cluster.ClusterController;
import io.millrace.cluster.ReplicationMetrics;
import io.millrace.cluster.TopicAdmin;
import io.millrace.cluster.MetadataStore;
import io.millrace.cluster.ReplicaManager;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Time;
import io.millrace.config.BrokerConfig;
import io.millrace.config.ConfigKey;
import io.millrace.group.vertx.ClusterOffsetsTopicView;
import io.millrace.group.vertx.GroupCoordinatorVerticle;
import io.millrace.group.GroupSettings;
import io.millrace.partition.LocalCodec;
import io.millrace.partition.PartitionSettings;
import io.millrace.partition.ReplicationThrottle;
import io.millrace.partition.ReplicaEndpoint;
import io.millrace.broker.ForwardingCodec;
import io.millrace.broker.ForwardingEndpoint;
import io.millrace.partition.ReplicationCodec;
import io.millrace.storage.OpenFileBudget;
import io.millrace.storage.StorageHealth;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.zookeeper.ZookeeperClusterManager;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running broker, wired in start-up order: data folder lock → ZooKeeper (embedded or external) → clustered
 * Vert.x → metadata and broker registration → partition verticles → HTTP (REST, WebSocket, metrics) and TCP
 * front-ends. {@link #close()} stops them so that every request waiting on the broker is answered before its
 * connection closes: the broker API first refuses new data requests, the group coordinator and the partitions stop
 * (each answers its waiting fetches with no records, fails what it cannot finish with NOT_LEADER, flushes and leaves
 * its clean-shutdown marker), then the front-ends deliver those answers and close their connections within
 * {@code shutdown.grace.ms}, then the cluster and ZooKeeper.
 */
public final class MillraceServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MillraceServer.class);

    private final BrokerConfig config;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private Vertx vertx;
    private BrokerService broker;
    private int httpPort;
    private int tcpPort;
    private int kafkaPort;
    private final List<String> frontEndDeployments = new ArrayList<>();
    private String replicaManagerDeployment;
    private ReplicaManager replicaManager;
    /** The replication endpoint and the controller's duties: stopped after the partitions. */
    private final List<String> replicationDeployments = new ArrayList<>();
    private String groupDeployment;

    private MillraceServer(BrokerConfig config) {
        this.config = config;
    }

    /** Starts a broker and returns once it serves (or throws, having released what it took). */
    public static MillraceServer start(BrokerConfig config) {
        MillraceServer server = new MillraceServer(config);
        try {
            server.doStart();
            return server;
        } catch (Exception e) {
            server.close();
            if (e instanceof MillraceException m) {
                throw m;
            }
            throw new MillraceException(ErrorCode.UNKNOWN, "Broker failed to start: " + e.getMessage(), e);
        }
    }

    private void doStart() throws Exception {
        long started = System.nanoTime();
        Path dataDir = config.dataDir().toAbsolutePath().normalize();
        Files.createDirectories(dataDir);
        lockDataDir(dataDir);

        long zkTimeout = config.getInt(ConfigKey.ZOOKEEPER_CONNECT_TIMEOUT_MS);
        String zkConnect;
        if (config.externalZookeeper().isPresent()) {
            zkConnect = config.externalZookeeper().get();
        } else {
            EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dataDir.resolve("zookeeper"),
                    config.getString(ConfigKey.ZOOKEEPER_EMBEDDED_HOST),
                    config.getInt(ConfigKey.ZOOKEEPER_EMBEDDED_PORT), zkTimeout,
                    config.getLong(ConfigKey.ZOOKEEPER_EMBEDDED_RESERVE_BYTES));
            toClose.add(zk);
            zkConnect = zk.connectString();
        }
        CuratorFramework curator = CuratorFrameworkFactory.builder()
                .connectString(zkConnect)
                .sessionTimeoutMs(config.getInt(ConfigKey.ZOOKEEPER_SESSION_TIMEOUT_MS))
                .connectionTimeoutMs((int) Math.min(zkTimeout, config.getInt(ConfigKey.ZOOKEEPER_SESSION_TIMEOUT_MS)))
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 2_000))
                .build();
        curator.start();
        toClose.add(0, curator::close);
        if (!curator.blockUntilConnected((int) zkTimeout, TimeUnit.MILLISECONDS)) {
            throw new MillraceException(ErrorCode.STORAGE_ERROR, "Cannot reach ZooKeeper at " + zkConnect
                    + " within " + zkTimeout + " ms (zookeeper.connect.timeout.ms)");
        }

        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ZookeeperClusterManager clusterManager = new ZookeeperClusterManager(curator, UUID.randomUUID().toString());
        VertxOptions options = new VertxOptions()
                .setEventLoopPoolSize(config.eventLoopThreads())
                .setPreferNativeTransport(config.getBoolean(ConfigKey.NATIVE_TRANSPORT))
                .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true))
                .setEventBusOptions(new EventBusOptions().setHost(config.getString(ConfigKey.CLUSTER_HOST))
                        .setPort(config.getInt(ConfigKey.CLUSTER_PORT)));
        vertx = await(Vertx.builder().with(options)
                .withMetrics(new MicrometerMetricsFactory(registry))
                .withClusterManager(clusterManager)
                .buildClustered(), zkTimeout);
        toClose.add(0, () -> await(vertx.close(), config.getInt(ConfigKey.SHUTDOWN_TIMEOUT_MS)));
        vertx.eventBus().registerCodec(new LocalCodec());
        vertx.eventBus().registerCodec(new ReplicationCodec());
        vertx.eventBus().registerCodec(new ForwardingCodec());
        if (options.getPreferNativeTransport() && !vertx.isNativeTransportEnabled()) {
            LOG.warn("native.transport is on but epoll is unavailable here, using Java NIO: {}",
                    String.valueOf(vertx.unavailableNativeTransportCause()));
        }

        MetadataStore store = new MetadataStore(vertx, curator);
        toClose.add(0, store::close);
        await(store.init(), zkTimeout);
        int brokerId = config.brokerId();
        String host = config.getString(ConfigKey.ADVERTISED_HOST);

        WorkerExecutor flushPool = vertx.createSharedWorkerExecutor("millrace-fsync", 2);
        Executor flushExecutor = task -> flushPool.executeBlocking(() -> {
            task.run();
            return null;
        }, false);
        PartitionSettings partitionSettings = new PartitionSettings(config.getInt(ConfigKey.FETCH_MAX_WAIT_MS),
                config.getInt(ConfigKey.PARTITION_MAX_FETCH_WAITERS),
                config.getInt(ConfigKey.LOG_RETENTION_CHECK_INTERVAL_MS),
                config.getInt(ConfigKey.LOG_FLUSH_CHECK_INTERVAL_MS),
                config.getInt(ConfigKey.REPLICA_LAG_TIME_MAX_MS), config.getInt(ConfigKey.REPLICA_FETCH_MAX_BYTES),
                config.getInt(ConfigKey.REPLICA_FETCH_WAIT_MAX_MS), config.getInt(ConfigKey.REPLICA_FETCH_BACKOFF_MS),
                openFileBudget(config, registry),
                new ReplicationThrottle(config.getLong(ConfigKey.REPLICATION_THROTTLED_RATE), Time.SYSTEM));
        if (config.logDefaults().maxMessageBytes() < config.getInt(ConfigKey.LOG_MAX_MESSAGE_BYTES)) {
            LOG.warn("{}={} is more than this broker can carry ({}); new topics default to {}",
                    ConfigKey.LOG_MAX_MESSAGE_BYTES.key(), config.getInt(ConfigKey.LOG_MAX_MESSAGE_BYTES),
                    config.logLimits().reason(), config.logDefaults().maxMessageBytes());
        }
        StorageHealth storage = new StorageHealth(dataDir, config.getLong(ConfigKey.STORAGE_MIN_FREE_BYTES));
        storage.check().ifPresent(problem -> LOG.warn("Data directory {} is {}: {}. Starting anyway: produces are"
                + " refused and partitions that cannot open are retried until it is writable again", dataDir,
                problem.kind().label(), problem.reason()));
        Gauge.builder("millrace.storage.degraded", storage, s -> s.problem().isPresent() ? 1 : 0)
                .description("1 while the data directory is full or read-only (produces refused), else 0")
                .tag("directory", dataDir.toString()).register(registry);
        FunctionCounter.builder("millrace.storage.errors", storage, StorageHealth::failureCount)
                .description("Failed reads, writes and probes of the data directory")
                .tag("directory", dataDir.toString()).register(registry);
        long storageCheckMs = config.getInt(ConfigKey.STORAGE_CHECK_INTERVAL_MS);
        vertx.setPeriodic(storageCheckMs, storageCheckMs, id -> checkStorage(storage));
        ReplicaManager replicas = new ReplicaManager(brokerId, dataDir.resolve("logs"), config.logDefaults(),
                config.logLimits(), partitionSettings, Time.SYSTEM, flushExecutor, store, storage,
                config.getInt(ConfigKey.PARTITION_OPEN_RETRY_BACKOFF_MS),
                config.getInt(ConfigKey.PARTITION_OPEN_RETRY_BACKOFF_MAX_MS));
        TopicAdmin topicAdmin = new TopicAdmin(store, replicas, config.logDefaults(), config.logLimits(),
                config.getInt(ConfigKey.MIN_INSYNC_REPLICAS), maxPartitions(config));
        BrokerSettings brokerSettings = new BrokerSettings(config.getInt(ConfigKey.REQUEST_TIMEOUT_MS),
                config.getInt(ConfigKey.FETCH_MAX_WAIT_MS), config.getBoolean(ConfigKey.AUTO_CREATE_TOPICS),
                config.getInt(ConfigKey.NUM_PARTITIONS), config.getInt(ConfigKey.DEFAULT_REPLICATION_FACTOR),
                config.getBoolean(ConfigKey.SUBSCRIPTION_READ_LOCAL_REPLICA));
        broker = new BrokerService(vertx, brokerId, store, replicas, topicAdmin, brokerSettings, Time.SYSTEM,
                new BrokerMetrics(registry));
        // One instance: the requests of one sending broker are served in the order they were sent.
        replicationDeployments.add(await(vertx.deployVerticle(new ForwardingEndpoint(broker)), zkTimeout));

        replicationDeployments.add(await(vertx.deployVerticle(new ReplicaEndpoint(brokerId, replicas::localPartition)),
                zkTimeout));
        ReplicationMetrics replicationMetrics = new ReplicationMetrics(registry, replicas);
        replicas.metrics(replicationMetrics);
        replicaManager = replicas;
        replicaManagerDeployment = await(vertx.deployVerticle(replicas), zkTimeout);
        FrontEnds frontEnds = new FrontEnds(config, broker, registry, options.getEventLoopPoolSize());
        httpPort = frontEnds.startHttp(vertx, frontEndDeployments);
        tcpPort = frontEnds.startTcp(vertx, frontEndDeployments);
        String kafkaHost = config.getString(ConfigKey.KAFKA_ADVERTISED_HOST).isEmpty() ? host
                : config.getString(ConfigKey.KAFKA_ADVERTISED_HOST);
        kafkaPort = frontEnds.startKafka(vertx, frontEndDeployments);

        // Register last: a broker that other brokers can see is one that can serve.
        int controllerId = await(store.maintainRegistration(
                new BrokerInfo(brokerId, host, httpPort, tcpPort, dataDir.toString(),
                        clusterManager.getNodeInfo().host(), clusterManager.getNodeInfo().port(), kafkaHost,
                        kafkaPort)), zkTimeout);
        ClusterController[] controllerRef = new ClusterController[1];
        BrokerFailureDetector failureDetector = new BrokerFailureDetector(brokerId, store,
                config.getBoolean(ConfigKey.BROKER_FAILURE_PROBE), () -> {
                    controllerRef[0].changed();
                    broker.brokersChanged();
                });
        ClusterController clusterController = new ClusterController(brokerId, store,
                config.getBoolean(ConfigKey.UNCLEAN_LEADER_ELECTION), config.getBoolean(ConfigKey.AUTO_LEADER_REBALANCE),
                config.getInt(ConfigKey.LEADER_IMBALANCE_CHECK_INTERVAL_MS), failureDetector, replicationMetrics);
        controllerRef[0] = clusterController;
        replicationDeployments.add(await(vertx.deployVerticle(failureDetector), zkTimeout));
        replicationDeployments.add(await(vertx.deployVerticle(clusterController), zkTimeout));
        broker.clusterController(clusterController);
        store.watchLiveBrokers(broker::brokersChanged);

        // Groups come last: the offsets topic can only be created once this broker is registered (live).
        GroupSettings groupSettings = new GroupSettings(config.getInt(ConfigKey.GROUP_MIN_SESSION_TIMEOUT_MS),
                config.getInt(ConfigKey.GROUP_MAX_SESSION_TIMEOUT_MS),
                config.getInt(ConfigKey.GROUP_INITIAL_REBALANCE_DELAY_MS), Integer.MAX_VALUE,
                GroupSettings.defaults().maxMetadataChars());
        GroupCoordinatorVerticle groups = new GroupCoordinatorVerticle(brokerId,
                new ClusterOffsetsTopicView(replicas, topicAdmin),
                new GroupCoordinatorVerticle.Settings(config.getInt(ConfigKey.OFFSETS_TOPIC_NUM_PARTITIONS),
                        config.getInt(ConfigKey.OFFSETS_TOPIC_REPLICATION_FACTOR),
                        config.getInt(ConfigKey.REQUEST_TIMEOUT_MS),
                        config.getLong(ConfigKey.OFFSETS_SNAPSHOT_BYTES), 100),
                Time.SYSTEM, groupSettings);
        groupDeployment = await(vertx.deployVerticle(groups), zkTimeout);
        broker.groupCoordinator(groups);
        LOG.info("Millrace broker {} ready in {} ms: http://{}:{} (REST, WebSocket /ws, /metrics), tcp {}:{}, "
                        + "kafka {}:{}, zookeeper {}{}, controller {}, {} event loops on {}", brokerId,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), host, httpPort, host, tcpPort, kafkaHost,
                kafkaPort,
                zkConnect, config.externalZookeeper().isPresent() ? "" : " (embedded)", controllerId,
                config.eventLoopThreads(), vertx.isNativeTransportEnabled() ? "epoll" : "Java NIO");
    }

    /** The cap on partitions of all topics that this broker enforces when it creates or grows topics. */
    private static int maxPartitions(BrokerConfig config) {
        int maxPartitions = config.maxPartitions();
        LOG.info("Creates answered by this broker keep the cluster at most {} partitions ({}={}, max heap {} MiB)",
                maxPartitions, ConfigKey.MAX_PARTITIONS.key(), config.getInt(ConfigKey.MAX_PARTITIONS),
                Runtime.getRuntime().maxMemory() / (1024 * 1024));
        return maxPartitions;
    }

    /** The budget of open segment files every partition of this broker shares, with its metrics. */
    private static OpenFileBudget openFileBudget(BrokerConfig config, PrometheusMeterRegistry registry) {
        OpenFileBudget budget = new OpenFileBudget(config.logMaxOpenFiles());
        LOG.info("Partition logs keep at most {} segment files open ({}={})", budget.maxOpenFiles(),
                ConfigKey.LOG_MAX_OPEN_FILES.key(), config.getInt(ConfigKey.LOG_MAX_OPEN_FILES));
        Gauge.builder("millrace.log.open.segments", budget, OpenFileBudget::openSegments)
                .description("Segments whose files are open (" + OpenFileBudget.FILES_PER_SEGMENT
                        + " descriptors each), bounded by " + ConfigKey.LOG_MAX_OPEN_FILES.key())
                .register(registry);
        FunctionCounter.builder("millrace.log.segment.budget.closes", budget, OpenFileBudget::closes)
                .description("Segments closed because " + ConfigKey.LOG_MAX_OPEN_FILES.key()
                        + " was reached; each reopens on its next use")
                .register(registry);
        return budget;
    }

    public int httpPort() {
        return httpPort;
    }

    public int tcpPort() {
        return tcpPort;
    }

    public int kafkaPort() {
        return kafkaPort;
    }

    public BrokerService broker() {
        return broker;
    }

    public Vertx vertx() {
        return vertx;
    }

    /**
     * Stops the broker cleanly: partitions (waiting requests answered, logs flushed and marked clean), then
     * front-ends (answers delivered, connections closed), then cluster and ZooKeeper.
     */
    @Override
    public void close() {
        long timeout = config.getInt(ConfigKey.SHUTDOWN_TIMEOUT_MS);
        long started = System.nanoTime();
        if (broker != null) {
            LOG.info("Broker {} shutting down", config.brokerId());
            broker.beginShutdown();
        }
        if (replicaManager != null) {
            // Before anything stops: a watch event in the window before exit must not open a partition again.
            replicaManager.beginStop();
        }
        if (vertx != null) {
            undeploy("Group coordinator", groupDeployment == null ? List.of() : List.of(groupDeployment), timeout);
            undeploy("Partitions", replicaManagerDeployment == null ? List.of() : List.of(replicaManagerDeployment),
                    timeout);
            // After the partitions, which answer what waits on them: a front-end closed earlier would cut its
            // connections before those answers reach them.
            undeploy("Front-ends", frontEndDeployments, timeout);
            undeploy("Replication", replicationDeployments, timeout);
        }
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("Shutdown step failed: {}", e.toString());
            }
        }
        toClose.clear();
        LOG.info("Millrace broker {} stopped in {} ms", config.brokerId(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /** Undeploys one stage of the broker, each deployment within {@code timeoutMs}, and logs how long it took. */
    private void undeploy(String stage, List<String> deployments, long timeoutMs) {
        long started = System.nanoTime();
        for (String id : deployments) {
            try {
                await(vertx.undeploy(id), timeoutMs);
            } catch (Exception e) {
                LOG.warn("{} did not stop cleanly: {}", stage, e.toString());
            }
        }
        if (!deployments.isEmpty()) {
            LOG.info("{} stopped in {} ms", stage, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }
    }

    /** Probes the data directory off the event loop, logging only the changes of its state. */
    private void checkStorage(StorageHealth storage) {
        Optional<StorageHealth.Problem> before = storage.problem();
        vertx.executeBlocking(storage::check, false).onSuccess(after -> {
            if (after.isPresent() && before.isEmpty()) {
                LOG.warn("Data directory {} is {}: {}; produces are refused until it is writable again",
                        storage.dir(), after.get().kind().label(), after.get().reason());
            } else if (after.isEmpty() && before.isPresent()) {
                LOG.info("Data directory {} is writable again; produces resume", storage.dir());
            }
        });
    }

    /**
     * Locks the data directory against a second broker. On a read-only file system the lock file cannot be opened
     * for writing: a shared lock on it, still exclusive of another broker's, lets the broker start read-only.
     */
    private void lockDataDir(Path dataDir) throws IOException {
        Path lockFile = dataDir.resolve(".lock");
        FileChannel channel;
        FileLock lock;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            lock = channel.tryLock();
        } catch (FileSystemException e) {
            if (!Files.exists(lockFile)) {
                throw e;
            }
            LOG.warn("Cannot open {} for writing ({}); locking it shared, as the data directory is read-only",
                    lockFile, e.getReason());
            channel = FileChannel.open(lockFile, StandardOpenOption.READ);
            lock = channel.tryLock(0, Long.MAX_VALUE, true);
        }
        if (lock == null) {
            channel.close();
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "Data folder " + dataDir
                    + " is in use by another running broker");
        }
        FileChannel held = channel;
        FileLock heldLock = lock;
        toClose.add(() -> {
            heldLock.release();
            held.close();
        });
    }

    static <T> T await(Future<T> future, long timeoutMs) {
        CompletableFuture<T> cf = future.toCompletionStage().toCompletableFuture();
        try {
            return cf.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof MillraceException m) {
                throw m;
            }
            throw new MillraceException(ErrorCode.UNKNOWN, String.valueOf(cause.getMessage()), cause);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new MillraceException(ErrorCode.REQUEST_TIMED_OUT, "Timed out after " + timeoutMs + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MillraceException(ErrorCode.UNKNOWN, "Interrupted");
        }
    }
}
