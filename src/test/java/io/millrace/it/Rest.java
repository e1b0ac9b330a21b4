package io.millrace.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small REST client for tests: JSON in, status and JSON out. */
public final class Rest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String baseUrl;

    public Rest(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    public record Response(int status, String body) {
        public JsonObject json() {
            return new JsonObject(body);
        }

        public JsonArray array() {
            return new JsonArray(body);
        }

        /** The error code of an error response. */
        public String errorCode() {
            return json().getJsonObject("error").getString("code");
        }
    }

    public Response get(String path) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + path)).GET());
    }

    public Response delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + path)).DELETE());
    }

    public Response post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl + path))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public Response post(String path, JsonObject body) {
        return post(path, body.encode());
    }

    /** Creates a topic and fails the test if that does not work. */
    public JsonObject createTopic(String name, int partitions) {
        Response r = post("/api/topics", new JsonObject().put("name", name).put("partitions", partitions));
        if (r.status() != 201) {
            throw new AssertionError("create topic " + name + ": " + r);
        }
        return r.json();
    }

    private Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> r = HTTP.send(request.timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
