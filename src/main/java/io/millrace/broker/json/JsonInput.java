package io.millrace.broker.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.Utf8;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the JSON a client sends (a REST body, a WebSocket message) into a {@link JsonObject}, refusing with
 * {@code INVALID_REQUEST} what the broker will not hold: nesting deeper than {@code json.max.nesting.depth}, a string
 * (value or field name) longer than {@code json.max.string.bytes} UTF-8 bytes, and a string that is not valid
 * Unicode (an unpaired UTF-16 surrogate such as {@code "\ud800"}, which has no UTF-8 form and would be stored as
 * {@code ?}). The whole input must be one JSON value followed by nothing but white space.
 *
 * <p>The values are those Vert.x's own codec produces (a {@code LinkedHashMap} per object, the last of duplicate
 * names wins, {@code Integer}/{@code Long}/{@code BigInteger} and {@code Double} numbers), so the result reads the
 * same as a {@code new JsonObject(text)}. Immutable and thread-safe.
 */
public final class JsonInput {

    /** Config key of {@link #maxNestingDepth()}, named in the error a client sees. */
    public static final String MAX_NESTING_DEPTH_KEY = "json.max.nesting.depth";
    /** Config key of {@link #maxStringBytes()}, named in the error a client sees. */
    public static final String MAX_STRING_BYTES_KEY = "json.max.string.bytes";

    private final int maxNestingDepth;
    private final int maxStringBytes;
    private final JsonFactory factory;

    /**
     * @param maxNestingDepth deepest nesting of objects and arrays; the outermost value is depth 1
     * @param maxStringBytes  longest string in UTF-8 bytes, field names included
     */
    public JsonInput(int maxNestingDepth, int maxStringBytes) {
        if (maxNestingDepth < 1 || maxStringBytes < 1) {
            throw new IllegalArgumentException("JSON limits must be positive, were " + maxNestingDepth + " and "
                    + maxStringBytes);
        }
        this.maxNestingDepth = maxNestingDepth;
        this.maxStringBytes = maxStringBytes;
        // Our checks below come first and name the config key in the error, so Jackson's own limits are set past
        // them. String lengths need no Jackson limit: the input as a whole is already bounded (http.max.body.bytes,
        // ws.max.frame.bytes).
        this.factory = JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(maxNestingDepth + 1)
                .maxStringLength(Integer.MAX_VALUE)
                .maxNameLength(Integer.MAX_VALUE)
                .build()).build();
    }

    public int maxNestingDepth() {
        return maxNestingDepth;
    }

    public int maxStringBytes() {
        return maxStringBytes;
    }

    /** Parses {@code bytes} (UTF-8, as a REST body) as a JSON object; {@code what} names it in errors. */
    public JsonObject object(Buffer bytes, String what) {
        try (JsonParser parser = factory.createParser(bytes.getBytes())) {
            return object(parser, what);
        } catch (IOException e) {
            throw notJson(what, e);
        }
    }

    /** Parses {@code text} (as a WebSocket text message) as a JSON object; {@code what} names it in errors. */
    public JsonObject object(String text, String what) {
        try (JsonParser parser = factory.createParser(text)) {
            return object(parser, what);
        } catch (IOException e) {
            throw notJson(what, e);
        }
    }

    /**
     * Input the parser could not read at all, e.g. bytes whose pattern makes Jackson take them for UTF-32 and then
     * finds no valid character in: the client's to fix, like any other malformed body.
     */
    private static MillraceException notJson(String what, IOException e) {
        return new MillraceException(ErrorCode.INVALID_REQUEST, what + " is not valid JSON: " + e.getMessage());
    }

    private JsonObject object(JsonParser parser, String what) throws IOException {
        try {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw JsonMapping.invalid(what + " is empty; send a JSON object");
            }
            Object value = value(parser, first, 1);
            if (parser.nextToken() != null) {
                throw JsonMapping.invalid(what + " has more after its JSON value (at " + where(parser.currentLocation())
                        + "); send one JSON object");
            }
            if (!(value instanceof JsonObject object)) {
                throw JsonMapping.invalid(what + " must be a JSON object, was " + kind(value));
            }
            return object;
        } catch (JsonProcessingException e) {
            // Syntax errors, bad UTF-8, numbers beyond Jackson's limits: all the client's to fix.
            throw new MillraceException(ErrorCode.INVALID_REQUEST, what + " is not valid JSON: "
                    + e.getOriginalMessage() + (e.getLocation() == null ? "" : " (at " + where(e.getLocation()) + ")"));
        }
    }

    private Object value(JsonParser parser, JsonToken token, int depth) throws IOException {
        if (token == null) {
            // Jackson reports an unclosed object or array itself; this only guards the switch below
            throw JsonMapping.invalid("The JSON ends in the middle of a value");
        }
        switch (token) {
            case START_OBJECT -> {
                checkDepth(depth);
                Map<String, Object> map = new LinkedHashMap<>();
                for (JsonToken t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
                    String name = checked(parser.currentName(), "field name");
                    map.put(name, value(parser, parser.nextToken(), depth + 1));
                }
                return new JsonObject(map);
            }
            case START_ARRAY -> {
                checkDepth(depth);
                JsonArray array = new JsonArray();
                for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
                    array.add(value(parser, t, depth + 1));
                }
                return array;
            }
            case VALUE_STRING -> {
                return checked(parser.getText(), "string");
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return parser.getNumberValue();
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return null;
            }
            default -> throw JsonMapping.invalid("Unexpected JSON token " + token + " at "
                    + where(parser.currentLocation()));
        }
    }

    private void checkDepth(int depth) {
        if (depth > maxNestingDepth) {
            throw JsonMapping.invalid("JSON nested deeper than " + MAX_NESTING_DEPTH_KEY + "=" + maxNestingDepth
                    + " levels of objects and arrays");
        }
    }

    /** {@code text} if it is valid Unicode and within the byte limit; {@code kind} names it in errors. */
    private String checked(String text, String kind) {
        // a UTF-16 unit is at least one UTF-8 byte, so the length in units rules most strings in or out at once
        if (text.length() > maxStringBytes || (long) text.length() * 3 > maxStringBytes
                && Utf8.encodedLength(text) > maxStringBytes) {
            throw tooLong(kind);
        }
        int unpaired = Utf8.unpairedSurrogate(text);
        if (unpaired >= 0) {
            throw JsonMapping.invalid("A JSON " + kind + " holds an unpaired UTF-16 surrogate (\\u"
                    + Integer.toHexString(text.charAt(unpaired)) + " at character " + unpaired + "), which is not"
                    + " Unicode text; send binary data as base64 (keyBase64, valueBase64)");
        }
        return text;
    }

    private MillraceException tooLong(String kind) {
        return JsonMapping.invalid("A JSON " + kind + " is longer than " + MAX_STRING_BYTES_KEY + "="
                + maxStringBytes + " bytes of UTF-8; send large data in several records");
    }

    private static String kind(Object value) {
        if (value instanceof JsonArray) {
            return "an array";
        }
        return value == null ? "null" : value instanceof String ? "a string" : value instanceof Boolean
                ? "a boolean" : "a number";
    }

    private static String where(JsonLocation location) {
        return "line " + location.getLineNr() + ", column " + location.getColumnNr();
    }
}
