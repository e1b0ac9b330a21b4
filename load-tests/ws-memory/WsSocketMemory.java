import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a subscribed WebSocket costs a running broker in resident memory: opens {@code sockets} WebSockets that offer
 * permessage-deflate as browsers do, subscribes each to a topic of a few JSON records and waits until each has
 * received them (so that any compressor and decompressor has been used), then closes them all. Prints the broker's
 * RSS (from /proc) before, with the sockets open and after they closed, and the extensions the broker accepted.
 *
 * <pre>
 * java -cp target/millrace.jar load-tests/ws-memory/WsSocketMemory.java HTTP_PORT BROKER_PID SOCKETS
 * </pre>
 * See docs/PERFORMANCE.md ("WebSocket compression and memory") for the procedure and figures.
 */
public class WsSocketMemory {

    private static final String TOPIC = "ws-memory";
    private static final int RECORDS = 20;
    /** Time for the broker to settle (GC, freed buffers) before RSS is read. */
    private static final long SETTLE_MS = 10_000;

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        long pid = Long.parseLong(args[1]);
        int sockets = Integer.parseInt(args[2]);
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + port;
        http.send(HttpRequest.newBuilder(URI.create(base + "/api/topics")).POST(HttpRequest.BodyPublishers.ofString(
                new JsonObject().put("name", TOPIC).put("partitions", 1).encode()))
                .header("content-type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        JsonArray records = new JsonArray();
        for (int i = 0; i < RECORDS; i++) {
            records.add(new JsonObject().put("key", "k" + i).put("value", "{\"order\": " + i
                    + ", \"item\": \"a JSON value that compresses like a typical application record\"}"));
        }
        http.send(HttpRequest.newBuilder(URI.create(base + "/api/topics/" + TOPIC + "/records"))
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("records", records).encode()))
                .header("content-type", "application/json").build(), HttpResponse.BodyHandlers.ofString());

        Vertx vertx = Vertx.vertx();
        WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setTryUsePerMessageCompression(true).setMaxConnections(sockets + 16).setConnectTimeout(30_000));
        Thread.sleep(SETTLE_MS);
        long before = rss(pid);
        List<WebSocket> open = new ArrayList<>();
        List<String> extensions = new ArrayList<>();
        for (int i = 0; i < sockets; i += 100) {
            List<Future<WebSocket>> batch = new ArrayList<>();
            for (int j = i; j < Math.min(sockets, i + 100); j++) {
                batch.add(subscribed(client, port));
            }
            Future.all(batch).await(60, TimeUnit.SECONDS);
            batch.forEach(f -> open.add(f.result()));
        }
        for (WebSocket socket : open) {
            extensions.add(String.valueOf(socket.headers() == null ? null
                    : socket.headers().get("sec-websocket-extensions")));
        }
        Thread.sleep(SETTLE_MS);
        long withSockets = rss(pid);
        Future.all(open.stream().map(WebSocket::close).toList()).await(60, TimeUnit.SECONDS);
        Thread.sleep(SETTLE_MS);
        long afterClose = rss(pid);
        vertx.close().await(30, TimeUnit.SECONDS);

        System.out.printf("sockets %d, extensions accepted: %s%n", sockets,
                extensions.stream().distinct().toList());
        System.out.printf("broker RSS: before %.1f MiB, %d sockets open %.1f MiB (+%.1f KiB per socket), "
                        + "after close %.1f MiB (%+.1f MiB vs before)%n", before / 1048576.0, sockets,
                withSockets / 1048576.0, (withSockets - before) / 1024.0 / sockets, afterClose / 1048576.0,
                (afterClose - before) / 1048576.0);
    }

    /** A socket subscribed to the topic from the start, once it has received every record. */
    private static Future<WebSocket> subscribed(WebSocketClient client, int port) {
        return client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws"))
                .compose(socket -> {
                    Promise<WebSocket> received = Promise.promise();
                    int[] count = new int[1];
                    socket.textMessageHandler(text -> {
                        JsonObject message = new JsonObject(text);
                        if ("records".equals(message.getString("op"))) {
                            count[0] += message.getJsonArray("records").size();
                            if (count[0] >= RECORDS) {
                                received.tryComplete(socket);
                            }
                        } else if ("error".equals(message.getString("op"))) {
                            received.tryFail(message.encode());
                        }
                    });
                    socket.writeTextMessage(new JsonObject().put("op", "subscribe").put("id", 1).put("topic", TOPIC)
                            .put("from", "earliest").put("credits", 1000).encode());
                    return received.future();
                });
    }

    private static long rss(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("No VmRSS for " + pid);
    }
}
