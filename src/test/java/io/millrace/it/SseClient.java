package io.millrace.it;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** Reads a Server-Sent Events stream as a browser's EventSource would: named events with JSON data. */
final class SseClient implements AutoCloseable {

    record Event(String name, JsonObject data) {
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final HttpResponse<Stream<String>> response;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Thread reader;

    private SseClient(HttpResponse<Stream<String>> response) {
        this.response = response;
        this.reader = new Thread(this::read, "sse-reader");
        reader.setDaemon(true);
        reader.start();
    }

    static SseClient open(String url) {
        try {
            return new SseClient(HTTP.send(HttpRequest.newBuilder(URI.create(url))
                    .header("accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofLines()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<Stream<String>> response() {
        return response;
    }

    /** The next event matching {@code match}; events before it are dropped. */
    Event await(Predicate<Event> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                Event next = left <= 0 ? null : events.poll(left, TimeUnit.NANOSECONDS);
                if (next == null) {
                    throw new AssertionError("No matching event within " + timeout);
                }
                if (match.test(next)) {
                    return next;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    Event next(Duration timeout) {
        return await(e -> true, timeout);
    }

    private void read() {
        String name = "message";
        StringBuilder data = new StringBuilder();
        try {
            Iterator<String> lines = response.body().iterator();
            while (lines.hasNext()) {
                String line = lines.next();
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        events.add(new Event(name, new JsonObject(data.toString())));
                    }
                    name = "message";
                    data.setLength(0);
                } else if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data.append(line.substring(6));
                }
            }
        } catch (RuntimeException e) {
            // closed
        }
    }

    @Override
    public void close() {
        response.body().close();
    }
}
