package io.millrace.group;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * One record of the internal topic {@value OffsetsTopic#NAME}: a group's committed offset for one partition, or a
 * tombstone that deletes it. The topic is the source of truth for committed offsets; the coordinator's cache is
 * rebuilt from it on start-up and failover ({@link GroupCoordinator#loadOffsets}), last write per key winning.
 *
 * <p>This class owns the byte format. Integers are big-endian; a {@code string} is an {@code int16} length {@code n}
 * (0..32767) followed by {@code n} bytes of UTF-8. The layouts are byte for byte Apache Kafka's offset-commit key
 * (version 1) and {@code OffsetCommitValue} version 0, so Kafka's own tools can read the topic.
 * <pre>
 * key, version 1                              value, version 0 (null value = tombstone)
 *   int16   version = 1                         int16   version = 0
 *   string  group id                            int64   offset (next offset the group will read)
 *   string  topic                               string  metadata
 *   int32   partition                           int64   commit timestamp (ms since the epoch)
 * </pre>
 * Key versions 0 and 1 both mean "offset commit" (Kafka wrote 0 first; this class writes 1); versions 2 and above
 * are other kinds of records Kafka keeps in the same topic, which {@link #decode} skips. A value version other than 0
 * is refused rather than guessed at, so a broker never silently drops offsets written by a newer one. Neither part
 * carries a checksum of its own: the record batch's CRC32C covers both.
 *
 * <p>Immutable.
 *
 * @param committed the stored offset, or empty for a tombstone
 */
public record OffsetRecord(String groupId, TopicPartition topicPartition, Optional<CommittedOffset> committed) {

    /** The key version this class writes. */
    public static final short KEY_VERSION = 1;
    /** The value version this class writes and reads. */
    public static final short VALUE_VERSION = 0;

    /** What a record is about: later records with an equal key replace earlier ones. */
    public record Key(String groupId, TopicPartition topicPartition) {

        public Key {
            Objects.requireNonNull(groupId, "groupId");
            Objects.requireNonNull(topicPartition, "topicPartition");
        }
    }

    public OffsetRecord {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(topicPartition, "topicPartition");
        Objects.requireNonNull(committed, "committed");
    }

    public static OffsetRecord commit(String groupId, TopicPartition tp, CommittedOffset committed) {
        return new OffsetRecord(groupId, tp, Optional.of(committed));
    }

    public static OffsetRecord tombstone(String groupId, TopicPartition tp) {
        return new OffsetRecord(groupId, tp, Optional.empty());
    }

    public Key key() {
        return new Key(groupId, topicPartition);
    }

    public boolean isTombstone() {
        return committed.isEmpty();
    }

    /** The record key (layout in the class comment). */
    public byte[] encodeKey() {
        byte[] group = utf8(groupId);
        byte[] topic = utf8(topicPartition.topic());
        return ByteBuffer.allocate(2 + 2 + group.length + 2 + topic.length + 4)
                .putShort(KEY_VERSION)
                .putShort((short) group.length).put(group)
                .putShort((short) topic.length).put(topic)
                .putInt(topicPartition.partition())
                .array();
    }

    /**
     * The record value, or {@code null} for a tombstone. Null rather than an {@code Optional} on purpose: it goes
     * straight into a record's value, where null is what marks a tombstone for compaction.
     */
    public byte[] encodeValue() {
        if (committed.isEmpty()) {
            return null;
        }
        CommittedOffset c = committed.get();
        byte[] metadata = utf8(c.metadata());
        return ByteBuffer.allocate(2 + 8 + 2 + metadata.length + 8)
                .putShort(VALUE_VERSION)
                .putLong(c.offset())
                .putShort((short) metadata.length).put(metadata)
                .putLong(c.commitTimestamp())
                .array();
    }

    /**
     * Decodes a record of the offsets topic.
     *
     * @param key   the record key
     * @param value the record value, null for a tombstone
     * @return the record, or empty when the key is another kind of record (key version 2 and above)
     * @throws MillraceException {@code CORRUPT_RECORD} when the bytes do not match the layout,
     *                           {@code UNSUPPORTED_VERSION} for a value version this broker does not know
     */
    public static Optional<OffsetRecord> decode(byte[] key, byte[] value) {
        Objects.requireNonNull(key, "key");
        try {
            ByteBuffer k = ByteBuffer.wrap(key);
            short keyVersion = k.getShort();
            if (keyVersion < 0) {
                throw corrupt("negative key version " + keyVersion);
            }
            if (keyVersion > KEY_VERSION) {
                return Optional.empty();
            }
            String group = readString(k);
            String topic = readString(k);
            int partition = k.getInt();
            requireConsumed(k, "key");
            if (partition < 0) {
                throw corrupt("negative partition " + partition);
            }
            TopicPartition tp = new TopicPartition(topic, partition);
            if (value == null) {
                return Optional.of(tombstone(group, tp));
            }
            ByteBuffer v = ByteBuffer.wrap(value);
            short valueVersion = v.getShort();
            if (valueVersion != VALUE_VERSION) {
                throw new MillraceException(ErrorCode.UNSUPPORTED_VERSION, "Offset record value version "
                        + valueVersion + " for group " + group + " " + tp + " is not supported by this broker");
            }
            long offset = v.getLong();
            String metadata = readString(v);
            long timestamp = v.getLong();
            requireConsumed(v, "value");
            if (offset < 0) {
                throw corrupt("negative offset " + offset);
            }
            return Optional.of(commit(group, tp, new CommittedOffset(offset, metadata, timestamp)));
        } catch (BufferUnderflowException e) {
            throw corrupt("record is truncated");
        }
    }

    private static byte[] utf8(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > Short.MAX_VALUE) {
            throw new IllegalArgumentException("string of " + bytes.length
                    + " UTF-8 bytes does not fit an int16 length");
        }
        return bytes;
    }

    private static String readString(ByteBuffer buffer) {
        int length = buffer.getShort();
        if (length < 0) {
            throw corrupt("negative string length " + length);
        }
        if (length > buffer.remaining()) {
            throw corrupt("string of " + length + " bytes runs past the end of the record");
        }
        ByteBuffer slice = buffer.slice();
        slice.limit(length);
        buffer.position(buffer.position() + length);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice).toString();
        } catch (CharacterCodingException e) {
            throw corrupt("string is not valid UTF-8");
        }
    }

    private static void requireConsumed(ByteBuffer buffer, String part) {
        if (buffer.hasRemaining()) {
            throw corrupt(buffer.remaining() + " unexpected bytes after the " + part);
        }
    }

    private static MillraceException corrupt(String why) {
        return new MillraceException(ErrorCode.CORRUPT_RECORD, "Invalid " + OffsetsTopic.NAME + " record: " + why);
    }
}
