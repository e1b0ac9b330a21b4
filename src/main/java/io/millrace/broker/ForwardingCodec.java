package io.millrace.broker;

import io.millrace.common.TopicPartition;
import io.millrace.common.Acks;
import io.millrace.common.OffsetSpec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * Carries {@link Forwarded} requests and answers between brokers. Inside one broker (which never forwards to itself)
 * the objects would pass by reference.
 *
 * <p>Layout (big-endian): a type byte; a request then has its partition (topic as u16 length + UTF-8, partition i32)
 * and its fields in declaration order; buffers go as i32 length + bytes; acks as its wire value (i8); an offset spec
 * as a kind byte (0 earliest, 1 latest, 2 offset, 3 timestamp) and an i64.
 */
public final class ForwardingCodec implements MessageCodec<Forwarded, Forwarded> {

    public static final String NAME = "millrace.forwarding";
    private static final byte PRODUCE = 1;
    private static final byte FETCH = 2;
    private static final byte CANCEL_FETCH = 3;
    private static final byte LIST_OFFSET = 4;
    private static final byte DELETE_RECORDS = 5;
    private static final byte END_OFFSET_FOR_EPOCH = 6;
    private static final byte GROUP_CALL = 7;
    private static final byte ELECT_PREFERRED_LEADERS = 8;
    private static final byte PRODUCED = 21;
    private static final byte FETCHED = 22;
    private static final byte POSITION = 23;
    private static final byte GROUP_ANSWER = 24;
    private static final byte ELECTED = 25;

    @Override
    public void encodeToWire(Buffer out, Forwarded message) {
        if (message instanceof Forwarded.Produce p) {
            partition(out.appendByte(PRODUCE), p.topicPartition());
            out.appendInt(p.currentLeaderEpoch()).appendByte((byte) p.acks().wireValue());
            out.appendInt(p.batch().length()).appendBuffer(p.batch());
        } else if (message instanceof Forwarded.Fetch f) {
            partition(out.appendByte(FETCH), f.topicPartition());
            out.appendLong(f.offset()).appendInt(f.maxBytes()).appendLong(f.maxWaitMs())
                    .appendInt(f.currentLeaderEpoch()).appendLong(f.fetchId());
        } else if (message instanceof Forwarded.CancelFetch c) {
            partition(out.appendByte(CANCEL_FETCH), c.topicPartition()).appendLong(c.fetchId());
        } else if (message instanceof Forwarded.ListOffset l) {
            partition(out.appendByte(LIST_OFFSET), l.topicPartition());
            OffsetSpec spec = l.spec();
            if (spec instanceof OffsetSpec.AtOffset at) {
                out.appendByte((byte) 2).appendLong(at.offset());
            } else if (spec instanceof OffsetSpec.AtTimestamp at) {
                out.appendByte((byte) 3).appendLong(at.timestamp());
            } else {
                out.appendByte(spec instanceof OffsetSpec.Earliest ? (byte) 0 : (byte) 1).appendLong(0);
            }
            out.appendInt(l.currentLeaderEpoch());
        } else if (message instanceof Forwarded.DeleteRecords d) {
            partition(out.appendByte(DELETE_RECORDS), d.topicPartition()).appendLong(d.offset());
        } else if (message instanceof Forwarded.EndOffsetForEpoch e) {
            partition(out.appendByte(END_OFFSET_FOR_EPOCH), e.topicPartition()).appendInt(e.leaderEpoch())
                    .appendInt(e.currentLeaderEpoch());
        } else if (message instanceof Forwarded.GroupCall g) {
            string(string(out.appendByte(GROUP_CALL), g.groupId()), g.operation());
            string(out.appendLong(g.timeoutMs()), g.arguments().encode());
        } else if (message instanceof Forwarded.GroupAnswer a) {
            string(out.appendByte(GROUP_ANSWER), a.body().encode());
        } else if (message instanceof Forwarded.ElectPreferredLeaders) {
            out.appendByte(ELECT_PREFERRED_LEADERS);
        } else if (message instanceof Forwarded.Elected e) {
            out.appendByte(ELECTED).appendInt(e.partitions());
        } else if (message instanceof Forwarded.Produced p) {
            out.appendByte(PRODUCED).appendLong(p.baseOffset()).appendLong(p.lastOffset())
                    .appendLong(p.logAppendTime()).appendLong(p.logStartOffset());
        } else if (message instanceof Forwarded.Fetched f) {
            out.appendByte(FETCHED).appendLong(f.firstOffset()).appendLong(f.nextOffset())
                    .appendLong(f.highWatermark()).appendLong(f.logStartOffset()).appendLong(f.logEndOffset())
                    .appendInt(f.records().length()).appendBuffer(f.records());
        } else if (message instanceof Forwarded.Position p) {
            out.appendByte(POSITION).appendLong(p.offset()).appendLong(p.timestampOrEpoch());
        } else {
            throw new IllegalArgumentException(NAME + " cannot carry " + message.getClass().getName());
        }
    }

    private static Buffer string(Buffer out, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return out.appendInt(bytes.length).appendBytes(bytes);
    }

    private static Buffer partition(Buffer out, TopicPartition tp) {
        byte[] topic = tp.topic().getBytes(StandardCharsets.UTF_8);
        return out.appendUnsignedShort(topic.length).appendBytes(topic).appendInt(tp.partition());
    }

    @Override
    public Forwarded decodeFromWire(int pos, Buffer in) {
        Reader r = new Reader(in, pos);
        byte type = r.i8();
        return switch (type) {
            case PRODUCE -> {
                TopicPartition tp = r.partition();
                int epoch = r.i32();
                Acks acks = Acks.fromWire(r.i8());
                yield new Forwarded.Produce(tp, r.bytes(), acks, epoch);
            }
            case FETCH -> new Forwarded.Fetch(r.partition(), r.i64(), r.i32(), r.i64(), r.i32(), r.i64());
            case CANCEL_FETCH -> new Forwarded.CancelFetch(r.partition(), r.i64());
            case LIST_OFFSET -> {
                TopicPartition tp = r.partition();
                byte kind = r.i8();
                long value = r.i64();
                OffsetSpec spec = switch (kind) {
                    case 0 -> OffsetSpec.EARLIEST;
                    case 1 -> OffsetSpec.LATEST;
                    case 2 -> new OffsetSpec.AtOffset(value);
                    case 3 -> new OffsetSpec.AtTimestamp(value);
                    default -> throw new IllegalArgumentException(NAME + ": unknown offset spec " + kind);
                };
                yield new Forwarded.ListOffset(tp, spec, r.i32());
            }
            case DELETE_RECORDS -> new Forwarded.DeleteRecords(r.partition(), r.i64());
            case END_OFFSET_FOR_EPOCH -> new Forwarded.EndOffsetForEpoch(r.partition(), r.i32(), r.i32());
            case PRODUCED -> new Forwarded.Produced(r.i64(), r.i64(), r.i64(), r.i64());
            case FETCHED -> {
                long first = r.i64();
                long next = r.i64();
                long hw = r.i64();
                long logStart = r.i64();
                long logEnd = r.i64();
                yield new Forwarded.Fetched(r.bytes(), first, next, hw, logStart, logEnd);
            }
            case POSITION -> new Forwarded.Position(r.i64(), r.i64());
            case GROUP_CALL -> {
                String groupId = r.string();
                String operation = r.string();
                long timeoutMs = r.i64();
                yield new Forwarded.GroupCall(groupId, operation, new JsonObject(r.string()), timeoutMs);
            }
            case GROUP_ANSWER -> new Forwarded.GroupAnswer(new JsonObject(r.string()));
            case ELECT_PREFERRED_LEADERS -> new Forwarded.ElectPreferredLeaders();
            case ELECTED -> new Forwarded.Elected(r.i32());
            default -> throw new IllegalArgumentException(NAME + ": unknown message type " + type);
        };
    }

    /** Reads fields in order from a position that moves on. */
    private static final class Reader {
        private final Buffer in;
        private int pos;

        Reader(Buffer in, int pos) {
            this.in = in;
            this.pos = pos;
        }

        byte i8() {
            return in.getByte(pos++);
        }

        int i32() {
            int v = in.getInt(pos);
            pos += 4;
            return v;
        }

        long i64() {
            long v = in.getLong(pos);
            pos += 8;
            return v;
        }

        Buffer bytes() {
            int length = i32();
            Buffer b = in.getBuffer(pos, pos + length);
            pos += length;
            return b;
        }

        String string() {
            int length = i32();
            String text = in.getString(pos, pos + length, "UTF-8");
            pos += length;
            return text;
        }

        TopicPartition partition() {
            int length = in.getUnsignedShort(pos);
            pos += 2;
            String topic = in.getString(pos, pos + length, "UTF-8");
            pos += length;
            return new TopicPartition(topic, i32());
        }
    }

    @Override
    public Forwarded transform(Forwarded message) {
        return message;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }
}
