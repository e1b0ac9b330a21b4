package io.millrace.broker.json;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;

/**
 * JSON for the fuzz tests of the JSON front-ends (WebSocket and REST): values of every type, biased towards the field
 * names, words and numbers the parsers look for, so that most documents get past the first check. Stateless.
 */
public final class JsonArbitraries {

    /** Every field name a WebSocket message or REST body has. */
    public static final List<String> FIELDS = List.of("id", "op", "topic", "name", "partitions", "partition",
            "records", "key", "value", "keyBase64", "valueBase64", "headers", "timestamp", "acks", "from", "to",
            "credits", "encoding", "subscription", "offsets", "offset", "config", "replicationFactor", "group",
            "topics", "strategy", "sessionTimeoutMs", "rebalanceTimeoutMs", "autoCommit", "reset", "clientId");

    private JsonArbitraries() {
    }

    /** Objects with up to six of {@link #FIELDS}, nested up to {@code depth} levels. */
    public static Arbitrary<JsonObject> objects(int depth) {
        return objects(FIELDS, depth);
    }

    /**
     * Objects with up to six of {@code fields}, nested up to {@code depth} levels, inner objects drawing from the same
     * names: an operation's own fields, so that nested shapes such as {@code "from": {"offset": n}} come up often.
     */
    public static Arbitrary<JsonObject> objects(List<String> fields, int depth) {
        return Arbitraries.maps(Arbitraries.of(fields), values(fields, depth)).ofMaxSize(6)
                .map(map -> new JsonObject(new LinkedHashMap<>(map)));
    }

    /** Any JSON value (null, boolean, number, string, object, array), nested up to {@code depth} levels. */
    public static Arbitrary<Object> values(int depth) {
        return values(FIELDS, depth);
    }

    private static Arbitrary<Object> values(List<String> fields, int depth) {
        Arbitrary<Object> scalars = Arbitraries.oneOf(
                Arbitraries.just((Object) null),
                Arbitraries.of(true, false),
                Arbitraries.integers().between(-3, 10).map(i -> (Object) i),
                Arbitraries.of(Integer.MAX_VALUE, Integer.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE, -1L, 1L << 40),
                Arbitraries.of(0.5, -1.0, 1e300),
                Arbitraries.of("earliest", "latest", "utf8", "base64", "all", "1", "0", "-1", "t", "", "s1", "range",
                        "AAEC", "!!", "cooperative-sticky", "none"),
                Arbitraries.strings().ofMaxLength(12).map(s -> (Object) s));
        if (depth == 0) {
            return scalars;
        }
        Arbitrary<Object> inner = values(fields, depth - 1);
        Arbitrary<Object> objects = Arbitraries.maps(Arbitraries.of(fields), inner).ofMaxSize(4)
                .map(m -> (Object) new JsonObject(new LinkedHashMap<>(m)));
        Arbitrary<Object> arrays = inner.list().ofMaxSize(4).map(l -> (Object) new JsonArray(new ArrayList<>(l)));
        return Arbitraries.frequencyOf(Tuple.of(3, scalars), Tuple.of(1, objects), Tuple.of(1, arrays));
    }
}
