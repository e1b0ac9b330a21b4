package io.millrace.storage;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.record.TimestampType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The policies of one partition log, as named config keys. A topic's config overrides the broker's defaults key by
 * key; {@link #from(Map)} validates every value and names the key it rejects. Immutable.
 *
 * <table>
 * <caption>Keys</caption>
 * <tr><th>key</th><th>default</th><th>meaning</th></tr>
 * <tr><td>segment.bytes</td><td>1073741824</td><td>roll to a new segment before one grows past this size</td></tr>
 * <tr><td>segment.ms</td><td>604800000</td><td>roll a non-empty segment once its first batch is this old</td></tr>
 * <tr><td>segment.index.bytes</td><td>10485760</td><td>maximum size of one segment's offset index; roll when full</td></tr>
 * <tr><td>index.interval.bytes</td><td>4096</td><td>bytes of log between two offset index entries</td></tr>
 * <tr><td>retention.ms</td><td>604800000</td><td>delete segments whose newest record is older; -1 keeps forever</td></tr>
 * <tr><td>retention.bytes</td><td>-1</td><td>delete oldest segments while the log is larger; -1 is unlimited</td></tr>
 * <tr><td>flush.messages</td><td>-1</td><td>fsync after this many records; -1 leaves it to the OS and flush.ms</td></tr>
 * <tr><td>flush.ms</td><td>-1</td><td>fsync when the oldest unflushed record is this old; -1 disables</td></tr>
 * <tr><td>max.message.bytes</td><td>1048588</td><td>largest record batch accepted, header included</td></tr>
 * <tr><td>producer.id.expiration.ms</td><td>86400000</td><td>forget an idempotent producer silent this long</td></tr>
 * <tr><td>message.timestamp.type</td><td>CreateTime</td><td>CreateTime keeps producer timestamps;
 * LogAppendTime stamps each batch with the broker's clock</td></tr>
 * <tr><td>message.timestamp.after.max.ms</td><td>3600000</td><td>under CreateTime, refuse a batch holding a
 * timestamp further ahead of the broker's clock (INVALID_TIMESTAMP)</td></tr>
 * <tr><td>message.timestamp.before.max.ms</td><td>9223372036854775807</td><td>under CreateTime, refuse a batch
 * holding a timestamp further behind the broker's clock; the default never refuses</td></tr>
 * </table>
 *
 * <p>{@link #maxProducerStates()} is not a topic key: it bounds the broker's memory, so only the broker sets it
 * ({@code max.producer.states.per.partition}, through {@link #withMaxProducerStates}) and topic overrides keep it.
 */
public record LogConfig(
        int segmentBytes,
        long segmentMs,
        int segmentIndexBytes,
        int indexIntervalBytes,
        long retentionMs,
        long retentionBytes,
        long flushMessages,
        long flushMs,
        int maxMessageBytes,
        TimestampType timestampType,
        long producerIdExpirationMs,
        long timestampAfterMaxMs,
        long timestampBeforeMaxMs,
        int maxProducerStates) {

    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";
    public static final String SEGMENT_INDEX_BYTES = "segment.index.bytes";
    public static final String INDEX_INTERVAL_BYTES = "index.interval.bytes";
    public static final String RETENTION_MS = "retention.ms";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String FLUSH_MESSAGES = "flush.messages";
    public static final String FLUSH_MS = "flush.ms";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    public static final String MESSAGE_TIMESTAMP_TYPE = "message.timestamp.type";
    public static final String PRODUCER_ID_EXPIRATION_MS = "producer.id.expiration.ms";
    public static final String MESSAGE_TIMESTAMP_AFTER_MAX_MS = "message.timestamp.after.max.ms";
    public static final String MESSAGE_TIMESTAMP_BEFORE_MAX_MS = "message.timestamp.before.max.ms";

    /** Every key this class understands, in documentation order. */
    public static final Set<String> KEYS = Set.of(SEGMENT_BYTES, SEGMENT_MS, SEGMENT_INDEX_BYTES, INDEX_INTERVAL_BYTES,
            RETENTION_MS, RETENTION_BYTES, FLUSH_MESSAGES, FLUSH_MS, MAX_MESSAGE_BYTES, MESSAGE_TIMESTAMP_TYPE,
            PRODUCER_ID_EXPIRATION_MS, MESSAGE_TIMESTAMP_AFTER_MAX_MS, MESSAGE_TIMESTAMP_BEFORE_MAX_MS);

    /** Smallest segment: must hold at least one maximal batch header plus some records. */
    private static final int MIN_SEGMENT_BYTES = 1024;

    public static final LogConfig DEFAULTS = new LogConfig(1 << 30, 7L * 24 * 3600 * 1000, 10 << 20, 4096,
            7L * 24 * 3600 * 1000, -1, -1, -1, 1024 * 1024 + 12, TimestampType.CREATE_TIME, 24L * 3600 * 1000,
            3600L * 1000, Long.MAX_VALUE, 1_000);

    public LogConfig {
        require(segmentBytes >= MIN_SEGMENT_BYTES, SEGMENT_BYTES, "must be at least " + MIN_SEGMENT_BYTES);
        require(segmentMs > 0, SEGMENT_MS, "must be positive");
        require(segmentIndexBytes >= 64, SEGMENT_INDEX_BYTES, "must be at least 64");
        require(indexIntervalBytes >= 0, INDEX_INTERVAL_BYTES, "must not be negative");
        require(retentionMs == -1 || retentionMs >= 0, RETENTION_MS, "must be -1 or a non-negative number");
        require(retentionBytes == -1 || retentionBytes >= 0, RETENTION_BYTES, "must be -1 or a non-negative number");
        require(flushMessages == -1 || flushMessages > 0, FLUSH_MESSAGES, "must be -1 or positive");
        require(flushMs == -1 || flushMs >= 0, FLUSH_MS, "must be -1 or a non-negative number");
        require(maxMessageBytes >= 61, MAX_MESSAGE_BYTES, "must be at least 61 (an empty batch)");
        require(timestampType != null, MESSAGE_TIMESTAMP_TYPE, "must be CreateTime or LogAppendTime");
        require(producerIdExpirationMs > 0, PRODUCER_ID_EXPIRATION_MS, "must be positive");
        require(timestampAfterMaxMs >= 0, MESSAGE_TIMESTAMP_AFTER_MAX_MS, "must not be negative");
        require(timestampBeforeMaxMs >= 0, MESSAGE_TIMESTAMP_BEFORE_MAX_MS, "must not be negative");
        require(maxProducerStates >= 1, "max.producer.states.per.partition", "must be at least 1");
    }

    /** Defaults overridden by the given string values; unknown keys are ignored (they belong to other layers). */
    public static LogConfig from(Map<String, String> overrides) {
        return DEFAULTS.with(overrides);
    }

    /** This config overridden by the given string values. */
    public LogConfig with(Map<String, String> overrides) {
        Map<String, String> v = new LinkedHashMap<>(asMap());
        overrides.forEach((key, value) -> {
            if (KEYS.contains(key)) {
                v.put(key, value);
            }
        });
        return new LogConfig(
                (int) parse(v, SEGMENT_BYTES, Integer.MAX_VALUE),
                parse(v, SEGMENT_MS, Long.MAX_VALUE),
                (int) parse(v, SEGMENT_INDEX_BYTES, Integer.MAX_VALUE),
                (int) parse(v, INDEX_INTERVAL_BYTES, Integer.MAX_VALUE),
                parse(v, RETENTION_MS, Long.MAX_VALUE),
                parse(v, RETENTION_BYTES, Long.MAX_VALUE),
                parse(v, FLUSH_MESSAGES, Long.MAX_VALUE),
                parse(v, FLUSH_MS, Long.MAX_VALUE),
                (int) parse(v, MAX_MESSAGE_BYTES, Integer.MAX_VALUE),
                parseTimestampType(v.get(MESSAGE_TIMESTAMP_TYPE)),
                parse(v, PRODUCER_ID_EXPIRATION_MS, Long.MAX_VALUE),
                parse(v, MESSAGE_TIMESTAMP_AFTER_MAX_MS, Long.MAX_VALUE),
                parse(v, MESSAGE_TIMESTAMP_BEFORE_MAX_MS, Long.MAX_VALUE),
                maxProducerStates);
    }

    /** This config with another broker-wide cap on the idempotent producers a partition keeps state for. */
    public LogConfig withMaxProducerStates(int maxProducerStates) {
        return new LogConfig(segmentBytes, segmentMs, segmentIndexBytes, indexIntervalBytes, retentionMs,
                retentionBytes, flushMessages, flushMs, maxMessageBytes, timestampType, producerIdExpirationMs,
                timestampAfterMaxMs, timestampBeforeMaxMs, maxProducerStates);
    }

    /** Every key with its value as a string, in the form {@link #from(Map)} reads. */
    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(SEGMENT_BYTES, Integer.toString(segmentBytes));
        m.put(SEGMENT_MS, Long.toString(segmentMs));
        m.put(SEGMENT_INDEX_BYTES, Integer.toString(segmentIndexBytes));
        m.put(INDEX_INTERVAL_BYTES, Integer.toString(indexIntervalBytes));
        m.put(RETENTION_MS, Long.toString(retentionMs));
        m.put(RETENTION_BYTES, Long.toString(retentionBytes));
        m.put(FLUSH_MESSAGES, Long.toString(flushMessages));
        m.put(FLUSH_MS, Long.toString(flushMs));
        m.put(MAX_MESSAGE_BYTES, Integer.toString(maxMessageBytes));
        m.put(MESSAGE_TIMESTAMP_TYPE, timestampType == TimestampType.LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime");
        m.put(PRODUCER_ID_EXPIRATION_MS, Long.toString(producerIdExpirationMs));
        m.put(MESSAGE_TIMESTAMP_AFTER_MAX_MS, Long.toString(timestampAfterMaxMs));
        m.put(MESSAGE_TIMESTAMP_BEFORE_MAX_MS, Long.toString(timestampBeforeMaxMs));
        return m;
    }

    private static long parse(Map<String, String> values, String key, long max) {
        String text = values.get(key).trim();
        long value;
        try {
            value = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw invalid(key, "'" + text + "' is not a whole number");
        }
        require(value <= max, key, "must be at most " + max);
        return value;
    }

    private static TimestampType parseTimestampType(String text) {
        return switch (text.trim()) {
            case "CreateTime" -> TimestampType.CREATE_TIME;
            case "LogAppendTime" -> TimestampType.LOG_APPEND_TIME;
            default -> throw invalid(MESSAGE_TIMESTAMP_TYPE, "'" + text + "' is neither CreateTime nor LogAppendTime");
        };
    }

    private static void require(boolean condition, String key, String rule) {
        if (!condition) {
            throw invalid(key, rule);
        }
    }

    private static MillraceException invalid(String key, String rule) {
        return new MillraceException(ErrorCode.INVALID_CONFIG, "Invalid " + key + ": " + rule);
    }
}
