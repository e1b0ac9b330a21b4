package io.millrace.broker.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonInputTest {

    private final JsonInput input = new JsonInput(4, 16);

    @Test
    void readsWhatVertxReads() {
        String text = "{\"a\":1,\"b\":[true,false,null,\"x\",1.5,12345678901,-0],\"c\":{\"d\":\"é€😀\"},\"a\":2}";
        JsonObject parsed = input.object(text, "The message");
        assertThat(parsed).isEqualTo(new JsonObject(text));
        assertThat(parsed.getValue("a")).isEqualTo(2);
        assertThat(parsed.getJsonArray("b").getValue(5)).isEqualTo(12345678901L);
        assertThat(input.object(Buffer.buffer(text), "The body")).isEqualTo(parsed);
    }

    @Test
    void nestingUpToTheLimitIsAcceptedOneMoreIsRefusedNamingTheKey() {
        assertThat(input.object("{\"a\":[{\"b\":[1]}]}", "The body").getJsonArray("a")).hasSize(1);
        assertInvalid("{\"a\":[{\"b\":[[1]]}]}", "json.max.nesting.depth=4");
        assertInvalid("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", "json.max.nesting.depth=4");
    }

    @Test
    void stringsAreMeasuredInUtf8BytesNamesIncluded() {
        assertThat(input.object("{\"v\":\"" + "x".repeat(16) + "\"}", "m").getString("v")).hasSize(16);
        assertInvalid("{\"v\":\"" + "x".repeat(17) + "\"}", "json.max.string.bytes=16");
        // 8 two-byte characters are 16 bytes; a ninth is too many even though it is only 9 characters
        assertThat(input.object("{\"v\":\"" + "é".repeat(8) + "\"}", "m").getString("v")).hasSize(8);
        assertInvalid("{\"v\":\"" + "é".repeat(9) + "\"}", "json.max.string.bytes=16");
        // a surrogate pair is one 4-byte character
        assertThat(input.object("{\"v\":\"" + "😀".repeat(4) + "\"}", "m").getString("v")).hasSize(8);
        assertInvalid("{\"v\":\"" + "😀".repeat(4) + "x\"}", "json.max.string.bytes=16");
        assertInvalid("{\"" + "k".repeat(17) + "\":1}", "field name is longer than json.max.string.bytes=16");
        assertInvalid("{\"v\":[\"" + "€".repeat(6) + "\"]}", "json.max.string.bytes=16");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"v\":\"\\ud800\"}", "{\"v\":\"a\\udc00b\"}", "{\"v\":\"\\ud800\\ud800\"}", "{\"v\":\"\\udc00\\ud800\"}",
            "{\"v\":\"x\\ud83d\"}", "{\"\\ud800\":1}", "{\"v\":[\"ok\",\"\\udfff\"]}"})
    void unpairedSurrogatesAreRefusedWhereverTheyAre(String text) {
        assertInvalid(text, "unpaired UTF-16 surrogate");
        assertThatThrownBy(() -> input.object(Buffer.buffer(text), "The body")).isInstanceOf(MillraceException.class);
    }

    @Test
    void anEscapedSurrogatePairIsOneCharacter() {
        assertThat(input.object("{\"v\":\"\\ud83d\\ude00\"}", "m").getString("v")).isEqualTo("😀");
    }

    @Test
    void bytesThatAreNotUtf8AreRefused() {
        byte[] invalidStart = "{\"v\":\"?\"}".getBytes(StandardCharsets.US_ASCII);
        invalidStart[6] = (byte) 0xff;
        assertInvalidBytes(invalidStart);
        // a surrogate encoded as if it were a character (CESU-8), which UTF-8 forbids
        byte[] encodedSurrogate = {'{', '"', 'v', '"', ':', '"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"', '}'};
        assertInvalidBytes(encodedSurrogate);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "not json", "[1,2]", "\"text\"", "42", "null", "{\"a\":1} {\"b\":2}",
            "{\"a\":1}x", "{\"a\":", "{\"a\":1,}", "{a:1}", "{\"a\":01}"})
    void anythingButOneObjectIsRefused(String text) {
        assertThatThrownBy(() -> input.object(text, "The message")).isInstanceOf(MillraceException.class)
                .satisfies(e -> assertThat(((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageStartingWith("The message");
    }

    @Test
    void limitsMustBePositive() {
        assertThatThrownBy(() -> new JsonInput(0, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new JsonInput(10, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    private void assertInvalid(String text, String messagePart) {
        assertThatThrownBy(() -> input.object(text, "The body")).isInstanceOf(MillraceException.class)
                .hasMessageContaining(messagePart)
                .satisfies(e -> assertThat(((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST));
    }

    @Test
    void bytesThatLookLikeUtf32AndHoldNoCharacterAreAnInvalidRequest() {
        // Three zero bytes first make Jackson read UTF-32; "phc\"" is then one code point far above U+10FFFF.
        assertInvalidBytes(new byte[] {0, 0, 0, '{', 'p', 'h', 'c', '"'});
    }

    private void assertInvalidBytes(byte[] bytes) {
        assertThatThrownBy(() -> input.object(Buffer.buffer(bytes), "The body")).isInstanceOf(MillraceException.class)
                .satisfies(e -> assertThat(((MillraceException) e).errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST));
    }
}
