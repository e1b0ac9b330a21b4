package io.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The console tools (bin/millrace topics|produce|consume) and the SDK example, as a user runs them. */
class ConsoleToolsIT {

    private static final Path HOME = Path.of(System.getProperty("millrace.home", ".")).toAbsolutePath();

    @Test
    void topicsProduceAndConsumeFromTheCommandLine() {
        try (BrokerProcess broker = BrokerProcess.start("console", Map.of())) {
            String bootstrap = "127.0.0.1:" + broker.tcpPort();
            Result created = run("", "topics", "create", "cli-topic", "--partitions", "2", "-b", bootstrap);
            assertThat(created.exit).as(created.output).isZero();
            assertThat(created.output).contains("topic cli-topic");
            assertThat(run("", "topics", "list", "-b", bootstrap).output).contains("cli-topic");

            Result produced = run("alpha:one\nbeta:two\ngamma:three\n", "produce", "-t", "cli-topic",
                    "--key-separator", ":", "-b", bootstrap);
            assertThat(produced.exit).as(produced.output).isZero();

            Result consumed = run("", "consume", "-t", "cli-topic", "--from", "earliest", "-n", "3", "-b", bootstrap);
            assertThat(consumed.exit).as(consumed.output).isZero();
            assertThat(consumed.output).contains("\talpha\tone", "\tbeta\ttwo", "\tgamma\tthree");

            Result described = run("", "topics", "describe", "cli-topic", "-b", bootstrap);
            assertThat(described.output).contains("partition\tleader");
            Result missing = run("", "topics", "describe", "nope", "-b", bootstrap);
            assertThat(missing.exit).isEqualTo(1);
            assertThat(missing.output).contains("UNKNOWN_TOPIC_OR_PARTITION");
        }
    }

    @Test
    void theSdkExampleRunsFromTheClientJar() {
        try (BrokerProcess broker = BrokerProcess.start("sdk-example", Map.of())) {
            String classpath = HOME.resolve("target/millrace-client.jar") + ":" + HOME.resolve("target/lib") + "/*";
            Result result = exec(List.of("java", "-cp", classpath, "io.millrace.client.examples.QuickStart",
                    "127.0.0.1:" + broker.tcpPort(), "example"), "");
            assertThat(result.exit).as(result.output).isZero();
            assertThat(result.output).contains("read 9: key-9 = hello 9");
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result run(String stdin, String... args) {
        List<String> command = new ArrayList<>(List.of(HOME.resolve("bin/millrace").toString()));
        command.addAll(List.of(args));
        return exec(command, stdin);
    }

    private static Result exec(List<String> command, String stdin) {
        try {
            Process process = new ProcessBuilder(command).directory(HOME.toFile()).redirectErrorStream(true).start();
            process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish: " + output);
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
