package io.millrace.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OffsetRecordTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final TopicPartition T3 = new TopicPartition("t", 3);

    @Test
    void keyIsVersionGroupTopicPartition() {
        OffsetRecord record = OffsetRecord.tombstone("g", T3);
        assertThat(HEX.formatHex(record.encodeKey())).isEqualTo(
                "0001" + "0001" + "67" + "0001" + "74" + "00000003");
    }

    @Test
    void valueIsVersionOffsetMetadataTimestamp() {
        OffsetRecord record = OffsetRecord.commit("g", T3, new CommittedOffset(42, "m", 1000));
        assertThat(HEX.formatHex(record.encodeValue())).isEqualTo(
                "0000" + "000000000000002a" + "0001" + "6d" + "00000000000003e8");
    }

    @Test
    void aTombstoneHasANullValue() {
        OffsetRecord tombstone = OffsetRecord.tombstone("g", T3);
        assertThat(tombstone.encodeValue()).isNull();
        assertThat(OffsetRecord.decode(tombstone.encodeKey(), null)).contains(tombstone);
        assertThat(tombstone.isTombstone()).isTrue();
    }

    @Test
    void roundTripsUnicodeAndEmptyStrings() {
        for (OffsetRecord record : List.of(
                OffsetRecord.commit("grüppe-€", new TopicPartition("tópico", 0), new CommittedOffset(0, "", -1)),
                OffsetRecord.commit("g", new TopicPartition("t", Integer.MAX_VALUE),
                        new CommittedOffset(Long.MAX_VALUE, "x".repeat(GroupSettings.METADATA_CHARS_LIMIT), 7)),
                OffsetRecord.commit("𝄞", T3, new CommittedOffset(5, "é𝄞", 1_700_000_000_000L)))) {
            assertThat(OffsetRecord.decode(record.encodeKey(), record.encodeValue())).contains(record);
        }
    }

    @Test
    void keyVersionZeroIsAlsoAnOffsetCommit() {
        byte[] key = OffsetRecord.tombstone("g", T3).encodeKey();
        key[1] = 0;
        assertThat(OffsetRecord.decode(key, null)).contains(OffsetRecord.tombstone("g", T3));
    }

    @Test
    void otherRecordKindsAreSkipped() {
        // Kafka keeps group metadata (key version 2) in the same topic
        byte[] key = HEX.parseHex("0002" + "0001" + "67");
        assertThat(OffsetRecord.decode(key, HEX.parseHex("0003"))).isEmpty();
    }

    @Test
    void anUnknownValueVersionIsRefusedNotGuessed() {
        OffsetRecord record = OffsetRecord.commit("g", T3, new CommittedOffset(42, "m", 1000));
        byte[] value = record.encodeValue();
        value[1] = 3;
        assertThatThrownBy(() -> OffsetRecord.decode(record.encodeKey(), value))
                .isInstanceOfSatisfying(MillraceException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            truncated key          | 00010001                   | 0000000000000000000a0000000000000000000001
            trailing key bytes     | 00010001670001740000000300 | 0000000000000000000a0000000000000000000001
            negative string length | 0001ffff                   | 0000000000000000000a0000000000000000000001
            negative partition     | 000100016700017480000000   | 0000000000000000000a0000000000000000000001
            negative key version   | ffff                       | 0000000000000000000a0000000000000000000001
            truncated value        | 000100016700017400000003   | 00000000000000
            trailing value bytes   | 000100016700017400000003   | 0000000000000000000a00000000000000000000000100
            negative offset        | 000100016700017400000003   | 0000ffffffffffffffff00000000000000000000
            invalid UTF-8          | 00010001ff00017400000003   | 0000000000000000000a0000000000000000000001
            """)
    void malformedBytesAreCorrupt(String name, String key, String value) {
        assertThatThrownBy(() -> OffsetRecord.decode(HEX.parseHex(key), HEX.parseHex(value)))
                .isInstanceOfSatisfying(MillraceException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.CORRUPT_RECORD));
    }

    @Test
    void partitionForIsKafkasRule() {
        Random random = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            String groupId = "group-" + Long.toHexString(random.nextLong());
            int n = 1 + random.nextInt(100);
            assertThat(OffsetsTopic.partitionFor(groupId, n)).isEqualTo(Utils.abs(groupId.hashCode()) % n);
        }
    }

    @Test
    void partitionForUsesAbsNotToPositive() {
        String negative = "group-1";
        int hash = negative.hashCode();
        int i = 1;
        while (hash >= 0 || Math.abs(hash) % 50 == Utils.toPositive(hash) % 50) {
            negative = "group-" + ++i;
            hash = negative.hashCode();
        }
        assertThat(OffsetsTopic.partitionFor(negative, 50)).isEqualTo(Math.abs(hash) % 50)
                .isNotEqualTo(Utils.toPositive(hash) % 50);
        assertThat("polygenelubricants".hashCode()).isEqualTo(Integer.MIN_VALUE);
        assertThat(OffsetsTopic.partitionFor("polygenelubricants", 50)).isZero();
    }

    @Test
    void compactionKeepsTheLastWritePerKeyAndDropsDeletedKeys() {
        TopicPartition t0 = new TopicPartition("t", 0);
        TopicPartition t1 = new TopicPartition("t", 1);
        OffsetRecord a1 = OffsetRecord.commit("a", t0, new CommittedOffset(1, "", 1));
        OffsetRecord b1 = OffsetRecord.commit("b", t0, new CommittedOffset(1, "", 1));
        OffsetRecord a2 = OffsetRecord.commit("a", t1, new CommittedOffset(2, "", 2));
        OffsetRecord a3 = OffsetRecord.commit("a", t0, new CommittedOffset(3, "", 3));
        OffsetRecord bGone = OffsetRecord.tombstone("b", t0);
        OffsetRecord a4 = OffsetRecord.tombstone("a", t1);
        OffsetRecord a5 = OffsetRecord.commit("a", t1, new CommittedOffset(5, "", 5));

        assertThat(OffsetsTopic.compact(List.of(a1, b1, a2, a3, bGone))).containsExactly(a2, a3);
        assertThat(OffsetsTopic.compact(List.of(a1, b1, a2, a3, bGone, a4, a5))).containsExactly(a3, a5);
        assertThat(OffsetsTopic.compact(List.of())).isEmpty();
    }

    @Test
    void decodingAnEncodedCommitGivesItBack() {
        OffsetRecord record = OffsetRecord.commit("g", T3, new CommittedOffset(9, "meta", 123));
        assertThat(OffsetRecord.decode(record.encodeKey(), record.encodeValue())).isEqualTo(Optional.of(record));
        assertThat(record.key()).isEqualTo(new OffsetRecord.Key("g", T3));
    }
}
