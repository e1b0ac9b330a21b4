package io.millrace.http;

import static org.assertj.core.api.Assertions.fail;

import io.millrace.broker.json.JsonArbitraries;
import io.millrace.broker.json.JsonInput;
import io.millrace.broker.json.JsonMapping;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Mutation;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.Size;

/**
 * Property-based fuzzing of the REST API's request bodies, parsed as {@link HttpApi} parses them before it calls the
 * broker: raw body bytes to a JSON object, then a produce body (acks and records), a create-topic body and an offsets
 * reset. Each either yields a value or fails with INVALID_REQUEST (a 400 naming the problem); any other exception
 * would reach the client as a 500 with code UNKNOWN, which is a bug.
 */
class RequestBodyFuzzTest {

    /** As the broker's defaults configure it (json.max.nesting.depth, json.max.string.bytes). */
    private static final JsonInput JSON = new JsonInput(32, 2 * 1024 * 1024);

    @Property(seed = Mutation.SEED)
    void anyBytesAreAJsonObjectOrInvalid(@ForAll @Size(max = 200) byte[] body) {
        parseOrReject(body, json -> { });
    }

    @Property(seed = Mutation.SEED)
    void produceBodies(@ForAll("bodies") byte[] body) {
        parseOrReject(body, json -> {
            JsonMapping.parseAcks(json);
            JsonMapping.parseRecords(json);
        });
    }

    @Property(seed = Mutation.SEED)
    void createTopicBodies(@ForAll("bodies") byte[] body) {
        parseOrReject(body, JsonMapping::parseNewTopic);
    }

    @Property(seed = Mutation.SEED)
    void resetOffsetsBodies(@ForAll("bodies") byte[] body) {
        parseOrReject(body, json -> {
            if (json.getValue("offsets") != null) {
                JsonMapping.parseOffsets(json.getValue("offsets"));
            }
            if (json.getValue("partitions") != null) {
                JsonMapping.parsePartitions(json.getValue("partitions"));
            }
        });
    }

    private static void parseOrReject(byte[] body, Consumer<JsonObject> parse) {
        try {
            parse.accept(JSON.object(Buffer.buffer(body), "The request body"));
        } catch (MillraceException e) {
            if (e.errorCode() != ErrorCode.INVALID_REQUEST) {
                fail(new String(body, StandardCharsets.UTF_8) + " failed with " + e.errorCode(), e);
            }
        } catch (RuntimeException | Error e) {
            fail(new String(body, StandardCharsets.UTF_8) + " escaped as " + e, e);
        }
    }

    /** JSON objects with the fields of every body, a tenth of them damaged. */
    @Provide
    Arbitrary<byte[]> bodies() {
        Arbitrary<byte[]> valid = Arbitraries.oneOf(JsonArbitraries.objects(2),
                        JsonArbitraries.objects(2).map(record -> new JsonObject().put("records",
                                new JsonArray().add(record).add(record.copy().put("key", "k")))))
                .map(json -> json.encode().getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> damaged = Combinators.combine(valid, Mutation.lists(3))
                .as(Mutation::apply);
        return Arbitraries.frequencyOf(Tuple.of(9, valid), Tuple.of(1, damaged));
    }
}
