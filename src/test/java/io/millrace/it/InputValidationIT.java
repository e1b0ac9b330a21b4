package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the REST API and the WebSocket gateway answer to inputs a user really sends by mistake (issue 16): a large
 * {@code curl -d} body, a topic name such as {@code ..%2Fx}, JSON too deep, too long or not Unicode, fields of the
 * wrong kind. Each gets its own error code with a message saying what to fix, never {@code UNKNOWN}; and after each
 * the broker still answers {@code /health} and serves a produce and a consume by another client.
 */
class InputValidationIT {

    private static final int MAX_BODY_BYTES = 262_144;
    private static final int MAX_STRING_BYTES = 65_536;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static BrokerProcess broker;
    static Rest rest;

    @BeforeAll
    static void start() {
        broker = BrokerProcess.start("input-validation", Map.of(
                "http.max.body.bytes", Integer.toString(MAX_BODY_BYTES),
                "json.max.string.bytes", Integer.toString(MAX_STRING_BYTES)));
        rest = new Rest(broker.baseUrl());
        rest.createTopic("steady", 1);
    }

    @AfterAll
    static void stop() throws IOException {
        try {
            assertThat(Files.readString(broker.logFile())).as("no client input was taken for a broker bug")
                    .doesNotContain("a broker bug");
        } finally {
            broker.close();
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // REST bodies

    @ParameterizedTest(name = "Content-Type {0}")
    @ValueSource(strings = {"application/x-www-form-urlencoded", "text/plain", "application/json", "none"})
    void aRestBodyIsJsonWhateverItsContentTypeUpToTheBodyLimit(String contentType) {
        String small = new JsonObject().put("value", "small-" + contentType).encode();
        HttpResponse<String> answer = post("/api/topics/steady/records", contentType, small);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);

        // what the user did: curl -d with a body over the 1,024 bytes of Vert.x's form field limit, here exactly at
        // http.max.body.bytes (trailing white space is allowed after JSON)
        JsonArray records = new JsonArray();
        String last = "last-" + UUID.randomUUID();
        for (int i = 0; i < 200; i++) {
            records.add(new JsonObject().put("value", "v".repeat(1000)));
        }
        records.add(new JsonObject().put("value", last));
        String json = new JsonObject().put("records", records).encode();
        String atLimit = json + " ".repeat(MAX_BODY_BYTES - json.length());
        answer = post("/api/topics/steady/records", contentType, atLimit);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        JsonArray offsets = new JsonObject(answer.body()).getJsonArray("offsets");
        assertThat(offsets).hasSize(201);
        long lastOffset = offsets.getJsonObject(200).getLong("offset");
        JsonObject read = rest.get("/api/topics/steady/partitions/0/records?offset=" + lastOffset).json();
        assertThat(read.getJsonArray("records").getJsonObject(0).getString("value")).isEqualTo(last);

        assertBrokerServesOthers();
    }

    @Test
    void aRestBodyOverTheLimitIsRefusedBeforeItIsSent() throws IOException {
        // curl sends large bodies after the server's "100 Continue", so the refusal costs no upload
        RawResponse answer = raw("POST /api/topics/steady/records HTTP/1.1\r\nHost: test\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + (MAX_BODY_BYTES + 1)
                + "\r\nExpect: 100-continue\r\n\r\n", new byte[0]);
        assertThat(answer.status()).isEqualTo(413);
        assertThat(answer.json().getJsonObject("error").getString("code")).isEqualTo("RECORD_TOO_LARGE");
        assertThat(answer.json().getJsonObject("error").getString("message"))
                .contains("http.max.body.bytes=" + MAX_BODY_BYTES);
        assertBrokerServesOthers();
    }

    @Test
    void aChunkedRestBodyIsRefusedOnceItPassesTheLimit() throws IOException {
        ByteArrayOutputStream chunks = new ByteArrayOutputStream();
        byte[] chunk = " ".repeat(16_384).getBytes(StandardCharsets.US_ASCII);
        for (int sent = 0; sent <= MAX_BODY_BYTES; sent += chunk.length) {
            chunks.write(("4000\r\n").getBytes(StandardCharsets.US_ASCII));
            chunks.write(chunk);
            chunks.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        RawResponse answer = raw("POST /api/topics/steady/records HTTP/1.1\r\nHost: test\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", chunks.toByteArray());
        assertThat(answer.status()).isEqualTo(413);
        assertThat(answer.json().getJsonObject("error").getString("code")).isEqualTo("RECORD_TOO_LARGE");
        assertBrokerServesOthers();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            empty body                  | POST | /api/topics/steady/records       |                                      | INVALID_REQUEST
            a JSON array                | POST | /api/topics/steady/records       | [{"value":"v"}]                      | INVALID_REQUEST
            two JSON values             | POST | /api/topics/steady/records       | {"value":"a"} {"value":"b"}          | INVALID_REQUEST
            lone high surrogate value   | POST | /api/topics/steady/records       | {"value":"\\ud800"}                  | INVALID_REQUEST
            lone low surrogate key      | POST | /api/topics/steady/records       | {"key":"k\\udc00","value":"v"}       | INVALID_REQUEST
            lone surrogate field name   | POST | /api/topics                      | {"name":"x","\\ud800":1}             | INVALID_REQUEST
            lone surrogate header       | POST | /api/topics/steady/records       | {"value":"v","headers":{"h":"\\udbff"}} | INVALID_REQUEST
            record value of wrong type  | POST | /api/topics/steady/records       | {"records":[{"value":{}}]}           | INVALID_REQUEST
            bad base64                  | POST | /api/topics/steady/records       | {"valueBase64":"!!"}                 | INVALID_REQUEST
            bad acks                    | POST | /api/topics/steady/records       | {"value":"v","acks":"maybe"}         | INVALID_REQUEST
            negative partition          | POST | /api/topics/steady/records       | {"value":"v","partition":-1}         | UNKNOWN_TOPIC_OR_PARTITION
            partition too large         | POST | /api/topics/steady/records       | {"value":"v","partition":2147483648} | INVALID_REQUEST
            fractional partitions       | POST | /api/topics                      | {"name":"frac","partitions":1.5}     | INVALID_REQUEST
            name of wrong type          | POST | /api/topics                      | {"name":7}                           | INVALID_REQUEST
            invalid name on create      | POST | /api/topics                      | {"name":"../x"}                      | INVALID_TOPIC
            config not an object        | POST | /api/topics                      | {"name":"cfg","config":[1]}          | INVALID_REQUEST
            partitions missing          | POST | /api/topics/steady/partitions    | {}                                   | INVALID_REQUEST
            reset partition not number  | POST | /api/groups/g1/offsets           | {"topic":"steady","partitions":["a"]} | INVALID_REQUEST
            reset negative partition    | POST | /api/groups/g1/offsets           | {"topic":"steady","partitions":[-1]} | INVALID_REQUEST
            reset to of wrong type      | POST | /api/groups/g1/offsets           | {"topic":"steady","to":{"offset":1}} | INVALID_REQUEST
            reset offsets not an array  | POST | /api/groups/g1/offsets           | {"offsets":{"topic":"steady"}}       | INVALID_REQUEST
            reset entry bad partition   | POST | /api/groups/g1/offsets           | {"offsets":[{"topic":"steady","partition":-1,"offset":0}]} | INVALID_REQUEST
            reset entry bad topic       | POST | /api/groups/g1/offsets           | {"offsets":[{"topic":"a/b","partition":0,"offset":0}]} | INVALID_TOPIC
            reset negative offset       | POST | /api/groups/g1/offsets           | {"offsets":[{"topic":"steady","partition":0,"offset":-1}]} | INVALID_REQUEST
            """)
    void aRestClientMistakeGetsItsOwnCode(String kind, String method, String path, String body, String code) {
        HttpResponse<String> answer = send(method, path, body == null ? "" : body);
        assertError(kind, answer.statusCode(), answer.body(), code);
        assertBrokerServesOthers();
    }

    @Test
    void jsonNestedTooDeepIsRefusedNamingTheKey() {
        String deep = "{\"value\":\"v\",\"x\":" + "[".repeat(40) + "]".repeat(40) + "}";
        HttpResponse<String> answer = post("/api/topics/steady/records", "application/json", deep);
        assertError("too deep", answer.statusCode(), answer.body(), "INVALID_REQUEST");
        assertThat(answer.body()).contains("json.max.nesting.depth=32");
        // 32 levels are fine: a produce ignores fields it does not know
        String deepest = "{\"value\":\"v\",\"x\":" + "[".repeat(31) + "]".repeat(31) + "}";
        assertThat(post("/api/topics/steady/records", "application/json", deepest).statusCode()).isEqualTo(200);
        assertBrokerServesOthers();
    }

    @Test
    void aStringOverTheLimitIsRefusedNamingTheKey() {
        String value = "é".repeat(MAX_STRING_BYTES / 2 + 1);
        HttpResponse<String> answer = post("/api/topics/steady/records", "application/json",
                new JsonObject().put("value", value).encode());
        assertError("long string", answer.statusCode(), answer.body(), "INVALID_REQUEST");
        assertThat(answer.body()).contains("json.max.string.bytes=" + MAX_STRING_BYTES);
        assertThat(post("/api/topics/steady/records", "application/json", new JsonObject()
                .put("value", "é".repeat(MAX_STRING_BYTES / 2)).encode()).statusCode()).isEqualTo(200);
        assertBrokerServesOthers();
    }

    // ----------------------------------------------------------------------------------------------------------
    // REST names and query parameters

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', textBlock = """
            DELETE | /api/topics/..%2Fx                                   | INVALID_TOPIC
            DELETE | /api/topics/a%2Fb                                    | INVALID_TOPIC
            GET    | /api/topics/bad%20name                               | INVALID_TOPIC
            GET    | /api/topics/..%2Fx/partitions/0/records              | INVALID_TOPIC
            POST   | /api/topics/..%2Fx/records                           | INVALID_TOPIC
            POST   | /api/topics/..%2Fx/partitions                        | INVALID_TOPIC
            GET    | /api/topics/no-such-topic                            | UNKNOWN_TOPIC_OR_PARTITION
            DELETE | /api/topics/no-such-topic                            | UNKNOWN_TOPIC_OR_PARTITION
            GET    | /api/groups/%s                                       | INVALID_GROUP_ID
            DELETE | /api/groups/%s                                       | INVALID_GROUP_ID
            POST   | /api/groups/%s/offsets                               | INVALID_GROUP_ID
            GET    | /api/topics/steady/partitions/-1/records             | INVALID_REQUEST
            GET    | /api/topics/steady/partitions/one/records            | INVALID_REQUEST
            GET    | /api/topics/steady/partitions/7/records              | UNKNOWN_TOPIC_OR_PARTITION
            GET    | /api/topics/steady/partitions/0/records?offset=abc   | INVALID_REQUEST
            GET    | /api/topics/steady/partitions/0/records?offset=99999999999999999999 | INVALID_REQUEST
            GET    | /api/topics/steady/partitions/0/records?maxRecords=0 | INVALID_REQUEST
            GET    | /api/topics/steady/partitions/0/records?encoding=hex | INVALID_REQUEST
            GET    | /api/no/such/endpoint                                | INVALID_REQUEST
            """)
    void aBadNameOrParameterGetsItsOwnCode(String method, String pathPattern, String code) {
        String path = pathPattern.replace("%s", "g".repeat(256));
        String body = !method.equals("POST") ? "" : path.endsWith("/offsets") ? "{\"topic\":\"steady\"}"
                : "{\"partitions\":3,\"value\":\"v\"}";
        HttpResponse<String> answer = send(method, path, body);
        assertError(method + " " + path, answer.statusCode(), answer.body(), code);
        assertBrokerServesOthers();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/api/topics/%ZZ", "/api/topics/steady/partitions/0/records?offset=%ZZ"})
    void undecodablePercentEscapesAreClientMistakes(String path) throws IOException {
        // the JDK's HTTP client refuses to send these, so they go over a plain socket, as curl would send them
        RawResponse answer = raw("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n", new byte[0]);
        assertError(path, answer.status(), answer.body(), "INVALID_REQUEST");
        assertBrokerServesOthers();
    }

    // ----------------------------------------------------------------------------------------------------------
    // WebSocket

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            lone surrogate value        | {"op":"produce","id":1,"topic":"steady","value":"\\ud800"}             | INVALID_REQUEST
            lone surrogate field name   | {"op":"produce","id":1,"topic":"steady","value":"v","\\udc00":1}      | INVALID_REQUEST
            lone surrogate in topic     | {"op":"describeTopic","id":1,"name":"t\\ud800"}                       | INVALID_REQUEST
            nested too deep             | {"op":"ping","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]} | INVALID_REQUEST
            produce to ../x             | {"op":"produce","id":1,"topic":"../x","value":"v"}                     | INVALID_TOPIC
            describe a/b                | {"op":"describeTopic","id":1,"name":"a/b"}                             | INVALID_TOPIC
            delete ..                   | {"op":"deleteTopic","id":1,"name":".."}                                | INVALID_TOPIC
            add partitions to ../x      | {"op":"addPartitions","id":1,"name":"../x","partitions":3}             | INVALID_TOPIC
            subscribe to ../x           | {"op":"subscribe","id":1,"topic":"../x"}                               | INVALID_TOPIC
            join with topic ../x        | {"op":"joinGroup","id":1,"group":"g","topics":["../x"]}                | INVALID_TOPIC
            subscribe offset null       | {"op":"subscribe","id":1,"topic":"steady","from":{"offset":null}}      | INVALID_REQUEST
            subscribe offset text       | {"op":"subscribe","id":1,"topic":"steady","from":{"offset":"3"}}       | INVALID_REQUEST
            subscribe negative time     | {"op":"subscribe","id":1,"topic":"steady","from":{"timestamp":-5}}     | INVALID_REQUEST
            subscribe encoding number   | {"op":"subscribe","id":1,"topic":"steady","encoding":5}                | INVALID_REQUEST
            subscribe huge credits      | {"op":"subscribe","id":1,"topic":"steady","credits":9223372036854775807} | INVALID_REQUEST
            join autoCommit number      | {"op":"joinGroup","id":1,"group":"g","topics":["steady"],"autoCommit":1} | INVALID_REQUEST
            join autoCommit text        | {"op":"joinGroup","id":1,"group":"g","topics":["steady"],"autoCommit":"yes"} | INVALID_REQUEST
            join reset number           | {"op":"joinGroup","id":1,"group":"g","topics":["steady"],"reset":0}    | INVALID_REQUEST
            join strategy number        | {"op":"joinGroup","id":1,"group":"g","topics":["steady"],"strategy":1} | INVALID_REQUEST
            create name too long        | {"op":"createTopic","id":1,"name":"%s"}                                | INVALID_TOPIC
            produce partition -1        | {"op":"produce","id":1,"topic":"steady","value":"v","partition":-1}    | UNKNOWN_TOPIC_OR_PARTITION
            produce headers wrong type  | {"op":"produce","id":1,"topic":"steady","value":"v","headers":"h"}     | INVALID_REQUEST
            """)
    void aWebSocketClientMistakeGetsItsOwnCodeAndTheSocketStaysUsable(String kind, String text, String code) {
        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            ws.sendRaw(text.replace("%s", "t".repeat(250)));
            JsonObject error = ws.await(m -> "error".equals(m.getString("op")), Duration.ofSeconds(10));
            assertThat(error.getJsonObject("error").getString("code")).as(kind + ": " + error).isEqualTo(code);
            assertThat(error.getJsonObject("error").getString("message")).isNotBlank();
            assertThat(ws.call(new JsonObject().put("op", "ping")).getString("op")).isEqualTo("pong");
        }
        assertBrokerServesOthers();
    }

    @Test
    void aWebSocketStringOverTheLimitIsRefusedNamingTheKey() {
        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            ws.sendRaw(new JsonObject().put("op", "produce").put("topic", "steady")
                    .put("value", "x".repeat(MAX_STRING_BYTES + 1)).encode());
            JsonObject error = ws.await(m -> "error".equals(m.getString("op")), Duration.ofSeconds(10));
            assertThat(error.getValue("id")).as("a message the broker could not read has no id").isNull();
            assertThat(error.getJsonObject("error").getString("code")).isEqualTo("INVALID_REQUEST");
            assertThat(error.getJsonObject("error").getString("message"))
                    .contains("json.max.string.bytes=" + MAX_STRING_BYTES);
        }
        assertBrokerServesOthers();
    }

    @Test
    void aRefusedJoinLeavesNothingBehindSoTheCorrectedJoinWorks() {
        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            JsonObject refused = ws.call(new JsonObject().put("op", "joinGroup").put("group", "corrected")
                    .put("topics", new JsonArray().add("../x")));
            assertThat(refused.getJsonObject("error").getString("code")).isEqualTo("INVALID_TOPIC");
            JsonObject joined = ws.call(new JsonObject().put("op", "joinGroup").put("group", "corrected")
                    .put("topics", new JsonArray().add("steady")));
            assertThat(joined.getString("op")).as(joined.encode()).isEqualTo("result");
            assertThat(joined.getString("subscription")).isNotBlank();
        }
        assertBrokerServesOthers();
    }

    @Test
    void aCreditGrantThatWouldOverflowIsRefused() {
        try (WsClient ws = WsClient.connect(broker.webSocketUri())) {
            JsonObject subscribed = ws.call(new JsonObject().put("op", "subscribe").put("topic", "steady")
                    .put("from", "latest").put("credits", 1));
            String subscription = subscribed.getString("subscription");
            JsonObject error = ws.call(new JsonObject().put("op", "credit").put("subscription", subscription)
                    .put("credits", Long.MAX_VALUE));
            assertThat(error.getJsonObject("error").getString("code")).isEqualTo("INVALID_REQUEST");
            assertThat(error.getJsonObject("error").getString("message")).contains("ws.max.credits");
        }
        assertBrokerServesOthers();
    }

    // ----------------------------------------------------------------------------------------------------------

    /** {@code /health} is 200, and a record produced over REST is read by a WebSocket subscriber. */
    private static void assertBrokerServesOthers() {
        assertThat(broker.healthStatus()).isEqualTo(200);
        String value = "check-" + UUID.randomUUID();
        Rest.Response produced = rest.post("/api/topics/steady/records", new JsonObject().put("value", value)
                .put("acks", "all"));
        assertThat(produced.status()).as(produced.body()).isEqualTo(200);
        long offset = produced.json().getJsonArray("offsets").getJsonObject(0).getLong("offset");
        try (WsClient reader = WsClient.connect(broker.webSocketUri())) {
            JsonObject sub = reader.call(new JsonObject().put("op", "subscribe").put("topic", "steady")
                    .put("from", new JsonObject().put("offset", offset)).put("credits", 1));
            assertThat(sub.getString("op")).as(sub.encode()).isEqualTo("result");
            JsonObject pushed = reader.await(m -> "records".equals(m.getString("op")), Duration.ofSeconds(10));
            assertThat(pushed.getJsonArray("records").getJsonObject(0).getString("value")).isEqualTo(value);
        }
    }

    private static void assertError(String kind, int status, String body, String code) {
        JsonObject error = new JsonObject(body).getJsonObject("error");
        assertThat(error.getString("code")).as(kind + ": " + body).isEqualTo(code);
        assertThat(error.getString("message")).as(kind).isNotBlank();
        assertThat(status).as(kind + ": " + body).isBetween(400, 499);
    }

    private static HttpResponse<String> post(String path, String contentType, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(broker.baseUrl() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (!contentType.equals("none")) {
            request.header("Content-Type", contentType);
        }
        return exchange(request);
    }

    private static HttpResponse<String> send(String method, String path, String body) {
        return exchange(HttpRequest.newBuilder(URI.create(broker.baseUrl() + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .method(method, body.isEmpty() ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)));
    }

    private static HttpResponse<String> exchange(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private record RawResponse(int status, String body) {
        JsonObject json() {
            return new JsonObject(body);
        }
    }

    /**
     * Sends {@code head} and then {@code body} over a plain socket, as curl does, and reads one response (status line,
     * headers, a body of its Content-Length), skipping a {@code 100 Continue}.
     */
    private static RawResponse raw(String head, byte[] body) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", broker.httpPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            InputStream in = socket.getInputStream();
            while (true) {
                String statusLine = line(in);
                int status = Integer.parseInt(statusLine.split(" ")[1]);
                int length = 0;
                for (String header = line(in); !header.isEmpty(); header = line(in)) {
                    if (header.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        length = Integer.parseInt(header.substring("content-length:".length()).trim());
                    }
                }
                if (status == 100) {
                    continue;
                }
                return new RawResponse(status, new String(in.readNBytes(length), StandardCharsets.UTF_8));
            }
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("The broker closed the connection mid-response: " + line);
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }
}
