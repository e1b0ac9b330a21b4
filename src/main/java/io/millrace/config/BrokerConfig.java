package io.millrace.config;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.protocol.FrameCodec;
import io.millrace.storage.LogConfig;
import io.millrace.storage.LogLimits;
import io.millrace.storage.OpenFileBudget;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The broker's configuration: every {@link ConfigKey} with a validated, typed value. Immutable.
 *
 * <p>Built in layers: the defaults file ({@code conf/millrace.json}, or the copy inside the jar), then environment
 * variables, then command-line overrides. Unknown keys and unparsable values are rejected with the key's name, so a
 * typo never silently falls back to a default.
 */
public final class BrokerConfig {

    /** The defaults file inside the jar, a copy of {@code conf/millrace.json}. */
    public static final String BUNDLED_DEFAULTS = "/millrace.json";

    /**
     * Heap a broker keeps for itself when {@code max.partitions} is derived: the idle broker (about 13 MiB) and
     * requests, connections and garbage in flight.
     */
    public static final long HEAP_RESERVED_BYTES = 96L * 1024 * 1024;
    /**
     * Heap one partition is reckoned to take when {@code max.partitions} is derived: measured at about 6.7 KiB once
     * written (docs/PERFORMANCE.md, "Many partitions"), rounded up for margin.
     */
    public static final long HEAP_BYTES_PER_PARTITION = 8L * 1024;
    /** Fewest partitions a derived {@code max.partitions} allows, however small the heap. */
    public static final int MIN_DERIVED_PARTITIONS = 1_000;
    /**
     * Most partitions a derived {@code max.partitions} allows, however large the heap: past it other costs (ZooKeeper's
     * tree, start-up time, descriptors) dominate, and an operator should choose the cap.
     */
    public static final int MAX_DERIVED_PARTITIONS = 50_000;

    /** The longest {@code ws.push.linger.ms}: a second's delay is already far past what a live view tolerates. */
    public static final int MAX_PUSH_LINGER_MS = 1_000;

    private final Map<ConfigKey, Object> values;

    private BrokerConfig(Map<ConfigKey, Object> values) {
        this.values = values;
    }

    /**
     * @param defaultsFile a JSON file with every key, or empty for the bundled defaults
     * @param env          the environment ({@code System.getenv()}); only {@code MILLRACE_*} variables are read
     * @param overrides    key → value from the command line
     */
    public static BrokerConfig load(Optional<Path> defaultsFile, Map<String, String> env,
                                    Map<String, String> overrides) {
        JsonObject defaults = defaultsFile.map(BrokerConfig::readFile).orElseGet(BrokerConfig::readBundled);
        Map<String, String> raw = new LinkedHashMap<>();
        for (String key : defaults.fieldNames()) {
            if (ConfigKey.forKey(key).isEmpty()) {
                throw invalid(key, "is not a Millrace config key (see docs/OPERATIONS.md)");
            }
            Object value = defaults.getValue(key);
            raw.put(key, value == null ? "" : value.toString());
        }
        for (ConfigKey key : ConfigKey.values()) {
            String fromEnv = env.get(key.envName());
            if (fromEnv != null) {
                raw.put(key.key(), fromEnv);
            }
        }
        overrides.forEach((key, value) -> {
            if (ConfigKey.forKey(key).isEmpty()) {
                throw invalid(key, "is not a Millrace config key (see docs/OPERATIONS.md)");
            }
            raw.put(key, value);
        });
        Map<ConfigKey, Object> typed = new EnumMap<>(ConfigKey.class);
        for (ConfigKey key : ConfigKey.values()) {
            String text = raw.get(key.key());
            if (text == null) {
                throw invalid(key.key(), "has no value: the defaults file must list every key");
            }
            typed.put(key, parse(key, text.trim()));
        }
        BrokerConfig config = new BrokerConfig(typed);
        config.logDefaults();
        config.eventLoopThreads();
        config.logMaxOpenFiles();
        config.maxPartitions();
        config.webSocketPushLingerMs();
        return config;
    }

    /** The bundled defaults with the given overrides (for tests and embedding). */
    public static BrokerConfig withOverrides(Map<String, String> overrides) {
        return load(Optional.empty(), Map.of(), overrides);
    }

    private static Object parse(ConfigKey key, String text) {
        try {
            return switch (key.type()) {
                case INT -> Integer.parseInt(text);
                case LONG -> Long.parseLong(text);
                case BOOLEAN -> {
                    if (!text.equals("true") && !text.equals("false")) {
                        throw new NumberFormatException();
                    }
                    yield Boolean.parseBoolean(text);
                }
                case STRING -> text;
            };
        } catch (NumberFormatException e) {
            throw invalid(key.key(), "'" + text + "' is not a valid " + key.type().name().toLowerCase());
        }
    }

    private static JsonObject readFile(Path file) {
        try {
            return new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "Cannot read config file " + file + ": " + e);
        } catch (DecodeException e) {
            throw new MillraceException(ErrorCode.INVALID_CONFIG, "Config file " + file + " is not valid JSON: "
                    + e.getMessage());
        }
    }

    private static JsonObject readBundled() {
        try (InputStream in = BrokerConfig.class.getResourceAsStream(BUNDLED_DEFAULTS)) {
            if (in == null) {
                throw new IllegalStateException("The jar lacks " + BUNDLED_DEFAULTS);
            }
            return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read " + BUNDLED_DEFAULTS, e);
        }
    }

    private static MillraceException invalid(String key, String problem) {
        return new MillraceException(ErrorCode.INVALID_CONFIG, "Config key " + key + " " + problem);
    }

    public int getInt(ConfigKey key) {
        return (Integer) values.get(key);
    }

    public long getLong(ConfigKey key) {
        Object v = values.get(key);
        return v instanceof Integer i ? i : (Long) v;
    }

    public boolean getBoolean(ConfigKey key) {
        return (Boolean) values.get(key);
    }

    public String getString(ConfigKey key) {
        return values.get(key).toString();
    }

    public int brokerId() {
        return getInt(ConfigKey.BROKER_ID);
    }

    public Path dataDir() {
        return Path.of(getString(ConfigKey.DATA_DIR));
    }

    /**
     * Event-loop threads: {@code event.loop.threads}, or one per core when it is 0. Vert.x's own default of two per
     * core only adds thread switches between a connection's loop and its partition's when every loop is busy.
     */
    public int eventLoopThreads() {
        int configured = getInt(ConfigKey.EVENT_LOOP_THREADS);
        if (configured < 0) {
            throw invalid(ConfigKey.EVENT_LOOP_THREADS.key(), "must be 0 (one per core) or more, was " + configured);
        }
        return configured == 0 ? Runtime.getRuntime().availableProcessors() : configured;
    }

    /**
     * Segment files all partition logs may keep open together: {@code log.max.open.files}, or when it is 0 what
     * {@link OpenFileBudget#defaultMaxOpenFiles()} derives from the process's descriptor and mapping limits.
     */
    public int logMaxOpenFiles() {
        int configured = getInt(ConfigKey.LOG_MAX_OPEN_FILES);
        if (configured != 0 && configured < OpenFileBudget.FILES_PER_SEGMENT) {
            throw invalid(ConfigKey.LOG_MAX_OPEN_FILES.key(), "must be 0 (derived from the process's limits) or at"
                    + " least " + OpenFileBudget.FILES_PER_SEGMENT + " (one segment's files), was " + configured);
        }
        return configured == 0 ? OpenFileBudget.defaultMaxOpenFiles() : configured;
    }

    /**
     * Most partitions of all topics together: {@code max.partitions}, or when it is 0 what
     * {@link #maxPartitionsForHeap} derives from this JVM's largest heap ({@code -Xmx}).
     */
    public int maxPartitions() {
        int configured = getInt(ConfigKey.MAX_PARTITIONS);
        if (configured < 0) {
            throw invalid(ConfigKey.MAX_PARTITIONS.key(), "must be 0 (derived from the heap) or more, was "
                    + configured);
        }
        return configured == 0 ? maxPartitionsForHeap(Runtime.getRuntime().maxMemory()) : configured;
    }

    /**
     * The partitions a heap of {@code maxHeapBytes} holds with room to spare: what is left after
     * {@link #HEAP_RESERVED_BYTES} for the broker itself and requests in flight, at {@link #HEAP_BYTES_PER_PARTITION}
     * each, within {@link #MIN_DERIVED_PARTITIONS} and {@link #MAX_DERIVED_PARTITIONS}. At {@code -Xmx256m} that is
     * 20,480.
     */
    public static int maxPartitionsForHeap(long maxHeapBytes) {
        long fits = (maxHeapBytes - HEAP_RESERVED_BYTES) / HEAP_BYTES_PER_PARTITION;
        return (int) Math.max(MIN_DERIVED_PARTITIONS, Math.min(MAX_DERIVED_PARTITIONS, fits));
    }

    /** {@code ws.compression.level}, a zlib level 1-9 (0 would negotiate compression and then not compress). */
    public int webSocketCompressionLevel() {
        int level = getInt(ConfigKey.WS_COMPRESSION_LEVEL);
        if (level < 1 || level > 9) {
            throw invalid(ConfigKey.WS_COMPRESSION_LEVEL.key(), "must be 1 (fastest) to 9 (smallest), was " + level);
        }
        return level;
    }

    /** {@code ws.push.linger.ms}: 0 (push at once) up to {@link #MAX_PUSH_LINGER_MS}. */
    public int webSocketPushLingerMs() {
        int linger = getInt(ConfigKey.WS_PUSH_LINGER_MS);
        if (linger < 0 || linger > MAX_PUSH_LINGER_MS) {
            throw invalid(ConfigKey.WS_PUSH_LINGER_MS.key(), "must be 0 (push at once) to " + MAX_PUSH_LINGER_MS
                    + " ms, was " + linger);
        }
        return linger;
    }

    public Optional<String> externalZookeeper() {
        String connect = getString(ConfigKey.ZOOKEEPER_CONNECT);
        return connect.isBlank() ? Optional.empty() : Optional.of(connect);
    }

    /**
     * The broker-wide defaults for topic configs: every {@code log.*} key without its prefix, in the form
     * {@link LogConfig#from} reads, within {@link #logLimits()} (a {@code log.max.message.bytes} larger than the
     * TCP frame carries becomes what it carries, so that lowering {@code tcp.max.frame.bytes} alone keeps topics
     * usable). Validated, so a bad default fails at start-up rather than at the first create.
     */
    public LogConfig logDefaults() {
        return logLimits().clamp(LogConfig.from(logDefaultsMap()))
                .withMaxProducerStates(getInt(ConfigKey.MAX_PRODUCER_STATES_PER_PARTITION));
    }

    /**
     * What a topic's log config may ask of this broker. {@code max.message.bytes} is bounded by the TCP frame: the
     * SDK's produce and fetch frames carry a batch as it is, so a larger one could be neither written nor read
     * through them. The REST and WebSocket limits do not bound it: those front-ends carry JSON records, and the
     * batch the broker builds from a request is never larger than the request itself.
     */
    public LogLimits logLimits() {
        int frame = getInt(ConfigKey.TCP_MAX_FRAME_BYTES);
        return new LogLimits(frame - FrameCodec.MAX_BATCH_FRAME_OVERHEAD_BYTES, ConfigKey.TCP_MAX_FRAME_BYTES.key()
                + "=" + frame + " less " + FrameCodec.MAX_BATCH_FRAME_OVERHEAD_BYTES + " bytes of frame fields");
    }

    public Map<String, String> logDefaultsMap() {
        Map<String, String> m = new LinkedHashMap<>();
        for (ConfigKey key : ConfigKey.values()) {
            String name = key.key();
            if (name.startsWith("log.") && LogConfig.KEYS.contains(name.substring(4))) {
                m.put(name.substring(4), values.get(key).toString());
            }
        }
        return m;
    }

    /** Every key and value, for logging at start-up. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        values.forEach((k, v) -> m.put(k.key(), v));
        return m;
    }
}
