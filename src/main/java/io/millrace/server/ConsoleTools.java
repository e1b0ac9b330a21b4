package io.millrace.server;

import io.millrace.client.Admin;
import io.millrace.client.ClientConfig;
import io.millrace.client.ConsumerConfig;
import io.millrace.client.ConsumerRecord;
import io.millrace.client.GroupOptions;
import io.millrace.client.MillraceClient;
import io.millrace.client.Producer;
import io.millrace.client.ProducerConfig;
import io.millrace.client.ProducerRecord;
import io.millrace.client.Seek;
import io.millrace.common.ErrorCode;
import io.millrace.common.MillraceException;
import io.millrace.common.TopicPartition;
import io.millrace.protocol.TopicDescription;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import reactor.core.publisher.Flux;

/**
 * Console tools on the Java SDK, like Apache Kafka's: produce from stdin, consume to stdout, manage topics; and a
 * preferred-leader election over the REST API.
 */
final class ConsoleTools {

    private ConsoleTools() {
    }

    /** Options every tool shares. */
    static class Connection {
        @Option(names = {"-b", "--bootstrap"}, paramLabel = "HOST:PORT,...", defaultValue = "localhost:7070",
                description = "Brokers to bootstrap from (TCP port). Default: ${DEFAULT-VALUE}.")
        String bootstrap;

        MillraceClient client(String clientId) {
            return MillraceClient.create(ClientConfig.bootstrap(bootstrap).withClientId(clientId));
        }
    }

    /** Runs a tool, turning broker errors into a one-line message and exit code 1. */
    static int run(Callable<Integer> tool) throws Exception {
        try {
            return tool.call();
        } catch (MillraceException e) {
            System.err.println("millrace: " + e.errorCode().name() + ": " + e.getMessage());
            return 1;
        }
    }

    @Command(name = "produce", mixinStandardHelpOptions = true,
            description = "Send each line of standard input as a record; 'key<separator>value' lines carry a key.")
    static final class Produce extends Connection implements Callable<Integer> {
        @Option(names = {"-t", "--topic"}, required = true) String topic;
        @Option(names = "--acks", defaultValue = "all", description = "0, 1 or all. Default: ${DEFAULT-VALUE}.")
        String acks;
        @Option(names = "--key-separator", paramLabel = "SEP",
                description = "Split each line at the first SEP into key and value (e.g. ':').")
        String keySeparator;
        @Option(names = "--partition", description = "Send every record to this partition.") Integer partition;

        @Override
        public Integer call() throws Exception {
            return run(() -> {
                int ackValue = switch (acks) {
                    case "all", "-1" -> -1;
                    case "1" -> 1;
                    case "0" -> 0;
                    default -> throw new IllegalArgumentException("--acks must be 0, 1 or all");
                };
                try (MillraceClient client = client("console-producer")) {
                    Producer producer = client.producer(ProducerConfig.defaults().withAcks(ackValue));
                    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                    Flux<ProducerRecord> records = Flux.fromStream(in.lines()).map(this::record);
                    long sent = producer.send(records).count().block();
                    producer.close();
                    System.err.println("millrace: sent " + sent + " records to " + topic);
                }
                return 0;
            });
        }

        private ProducerRecord record(String line) {
            String key = null;
            String value = line;
            if (keySeparator != null && line.contains(keySeparator)) {
                int at = line.indexOf(keySeparator);
                key = line.substring(0, at);
                value = line.substring(at + keySeparator.length());
            }
            ProducerRecord r = ProducerRecord.of(topic, key, value);
            return partition == null ? r : r.withPartition(partition);
        }
    }

    @Command(name = "consume", mixinStandardHelpOptions = true,
            description = "Print records as 'partition offset key value' lines, tab-separated.")
    static final class Consume extends Connection implements Callable<Integer> {
        @Option(names = {"-t", "--topic"}, required = true) String topic;
        @Option(names = {"-p", "--partition"}, description = "Read only these partitions (default: all).")
        List<Integer> partitions = new ArrayList<>();
        @Option(names = "--from", defaultValue = "latest",
                description = "earliest, latest, an offset, or @epochMillis. Default: ${DEFAULT-VALUE}.")
        String from;
        @Option(names = {"-n", "--max-messages"}, description = "Stop after this many records.") Long maxMessages;
        @Option(names = "--timeout-ms", description = "Stop when no record arrived for this long.") Long timeoutMs;
        @Option(names = {"-g", "--group"}, description = "Read as a member of this consumer group: the broker assigns "
                + "the partitions, reading starts at the group's committed offsets (--from earliest or latest applies "
                + "where there is none) and positions are committed every second and on exit.") String group;
        @Option(names = "--strategy", defaultValue = "range",
                description = "range, roundrobin or cooperative-sticky (with --group). Default: ${DEFAULT-VALUE}.")
        String strategy;

        @Override
        public Integer call() throws Exception {
            return run(() -> {
                try (MillraceClient client = client("console-consumer")) {
                    if (group != null) {
                        return consumeAsGroupMember(client);
                    }
                    List<Integer> chosen = partitions;
                    if (chosen.isEmpty()) {
                        TopicDescription t = client.admin().describeTopic(topic).block();
                        chosen = t.partitions().stream().map(TopicDescription.PartitionDescription::partition).toList();
                    }
                    Seek seek = switch (from) {
                        case "earliest" -> Seek.earliest();
                        case "latest" -> Seek.latest();
                        default -> from.startsWith("@") ? Seek.timestamp(Long.parseLong(from.substring(1)))
                                : Seek.offset(Long.parseLong(from));
                    };
                    List<TopicPartition> tps = chosen.stream().map(p -> new TopicPartition(topic, p)).toList();
                    print(limited(client.consumer(ConsumerConfig.defaults()).assign(tps, seek).receive()));
                }
                return 0;
            });
        }

        private int consumeAsGroupMember(MillraceClient client) {
            if (!partitions.isEmpty()) {
                throw new IllegalArgumentException("--partition and --group exclude each other: the group assigns");
            }
            GroupOptions.ResetPolicy reset = switch (from) {
                case "earliest" -> GroupOptions.ResetPolicy.EARLIEST;
                case "latest" -> GroupOptions.ResetPolicy.LATEST;
                default -> throw new IllegalArgumentException("With --group, --from is earliest or latest");
            };
            GroupOptions options = GroupOptions.defaults().withStrategy(strategy).withResetPolicy(reset)
                    .withRebalanceListener(tps -> System.err.println("assigned " + tps),
                            tps -> System.err.println("revoked " + tps));
            print(limited(client.consumer(ConsumerConfig.defaults()).subscribe(List.of(topic), group, options)
                    .receive()));
            return 0;
        }

        /** Ends the stream after --timeout-ms without a record and after --max-messages records, when given. */
        private Flux<ConsumerRecord> limited(Flux<ConsumerRecord> stream) {
            if (timeoutMs != null) {
                stream = stream.timeout(Duration.ofMillis(timeoutMs), Flux.empty());
            }
            if (maxMessages != null) {
                stream = stream.take(maxMessages);
            }
            return stream;
        }

        private static void print(Flux<ConsumerRecord> stream) {
            PrintStream out = System.out;
            stream.doOnNext(r -> out.println(r.partition() + "\t" + r.offset() + "\t"
                    + (r.key() == null ? "" : r.keyAsString()) + "\t" + r.valueAsString())).blockLast();
            out.flush();
        }
    }

    @Command(name = "topics", mixinStandardHelpOptions = true, description = "Create, list, describe, grow or "
            + "delete topics.", subcommands = {})
    static final class Topics extends Connection implements Callable<Integer> {
        @Parameters(index = "0", description = "create | list | describe | add-partitions | delete")
        String action;
        @Parameters(index = "1", arity = "0..1", description = "The topic.") String topic;
        @Option(names = "--partitions", description = "Partition count (create; the new total for add-partitions).")
        Integer partitions;
        @Option(names = "--replication-factor", defaultValue = "1") int replicationFactor;
        @Option(names = "--config", paramLabel = "KEY=VALUE", description = "Topic config (create; repeatable).")
        Map<String, String> config = new LinkedHashMap<>();

        @Override
        public Integer call() throws Exception {
            return run(() -> {
                try (MillraceClient client = client("console-admin")) {
                    Admin admin = client.admin();
                    switch (action) {
                        case "list" -> admin.listTopics().block().forEach(System.out::println);
                        case "create" -> print(admin.createTopic(need(topic), partitions == null ? 1 : partitions,
                                replicationFactor, config).block());
                        case "describe" -> print(admin.describeTopic(need(topic)).block());
                        case "add-partitions" -> {
                            if (partitions == null) {
                                throw new IllegalArgumentException("--partitions (the new total) is required");
                            }
                            print(admin.addPartitions(need(topic), partitions).block());
                        }
                        case "delete" -> {
                            admin.deleteTopic(need(topic)).block();
                            System.out.println("deleted " + topic);
                        }
                        default -> throw new IllegalArgumentException("Unknown action '" + action + "'");
                    }
                }
                return 0;
            });
        }

        private static String need(String topic) {
            if (topic == null) {
                throw new IllegalArgumentException("Name the topic");
            }
            return topic;
        }

        private static void print(TopicDescription t) {
            System.out.println("topic " + t.name() + " replicationFactor " + t.replicationFactor() + " config "
                    + t.config());
            System.out.println("partition\tleader\treplicas\tisr\tlogStart\tlogEnd\thighWatermark\tbytes");
            for (TopicDescription.PartitionDescription p : t.partitions()) {
                System.out.println(p.partition() + "\t" + (p.leader().isPresent() ? p.leader().getAsInt() : -1)
                        + "\t" + p.replicas() + "\t" + p.isr() + "\t" + p.logStartOffset() + "\t" + p.logEndOffset()
                        + "\t" + p.highWatermark() + "\t" + p.sizeBytes());
            }
        }
    }

    @Command(name = "preferred-leader-election", mixinStandardHelpOptions = true,
            description = "Move leadership of every partition back to its preferred (first) replica where that "
                    + "replica is alive and in sync, and print how many partitions moved. Any broker takes the "
                    + "request to the controller, which does it.")
    static final class PreferredLeaderElection implements Callable<Integer> {
        @Mixin
        RestOptions rest;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            URI broker = rest.broker();
            try {
                HttpRequest request = HttpRequest.newBuilder(broker.resolve("/api/cluster/preferred-leader-election"))
                        .timeout(Duration.ofMillis(rest.timeoutMs)).POST(HttpRequest.BodyPublishers.noBody()).build();
                int moved = new JsonObject(send(rest.http(), request)).getInteger("partitionsMoved");
                out.println(moved + (moved == 1 ? " partition" : " partitions") + " moved to the preferred leader");
                out.flush();
                return 0;
            } catch (MillraceException e) {
                err.println("millrace: " + e.errorCode().name() + ": " + e.getMessage());
                return 1;
            } catch (IOException e) {
                err.println("millrace: cannot reach " + broker + ": " + e);
                return 1;
            }
        }
    }

    /** The options of the tools that talk to a broker's REST API. */
    static final class RestOptions {
        @Option(names = "--url", defaultValue = "http://localhost:8080",
                description = "HTTP address of any broker. Default: ${DEFAULT-VALUE}.")
        String url;
        @Option(names = "--timeout-ms", defaultValue = "30000",
                description = "Longest wait for each HTTP request. Default: ${DEFAULT-VALUE}.")
        long timeoutMs;

        HttpClient http() {
            return HttpClient.newBuilder().connectTimeout(Duration.ofMillis(timeoutMs)).build();
        }

        URI broker() {
            return URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        }
    }

    /** Sends {@code request}; a broker's error answer becomes a {@link MillraceException} with its code. */
    static String send(HttpClient http, HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 == 2) {
            return response.body();
        }
        JsonObject error;
        try {
            error = new JsonObject(response.body()).getJsonObject("error");
        } catch (RuntimeException notJson) {
            error = null;
        }
        if (error == null) {
            throw new MillraceException(ErrorCode.UNKNOWN, request.method() + " " + request.uri() + " answered "
                    + response.statusCode());
        }
        ErrorCode code;
        try {
            code = ErrorCode.valueOf(error.getString("code"));
        } catch (RuntimeException unknown) {
            code = ErrorCode.UNKNOWN;
        }
        throw new MillraceException(code, error.getString("message"));
    }
}
