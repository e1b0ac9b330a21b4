package io.millrace.common;

/** When a producer is answered: never, once the leader wrote the batch, or once every in-sync replica has it. */
public enum Acks {
    NONE(0), LEADER(1), ALL(-1);

    private final int wireValue;

    Acks(int wireValue) {
        this.wireValue = wireValue;
    }

    /** The Kafka-style number: 0, 1 or -1 for all. */
    public int wireValue() {
        return wireValue;
    }

    /** Parses 0, 1, -1 or the words "all" / "none" / "leader". */
    public static Acks parse(String text) {
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "0", "none" -> NONE;
            case "1", "leader" -> LEADER;
            case "-1", "all" -> ALL;
            default -> throw new MillraceException(ErrorCode.INVALID_REQUEST,
                    "acks must be 0, 1 or all, was '" + text + "'");
        };
    }

    public static Acks fromWire(int value) {
        return parse(Integer.toString(value));
    }
}
