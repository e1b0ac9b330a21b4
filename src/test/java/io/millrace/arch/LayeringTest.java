package io.millrace.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Enforces the layering table of DESIGN.md: a package may import only the packages the table lists for it (and,
 * transitively, what those may import). There is no exemption list: a violation is fixed in the code or the table
 * is changed on purpose, in both places.
 */
class LayeringTest {

    private static final String BASE = "io.millrace.";

    /** The "may import" column of DESIGN.md, direct entries only; the closure is computed below. */
    private static final Map<String, List<String>> MAY_IMPORT = new LinkedHashMap<>();

    static {
        MAY_IMPORT.put("common", List.of());
        MAY_IMPORT.put("record", List.of("common"));
        MAY_IMPORT.put("storage", List.of("record"));
        MAY_IMPORT.put("protocol", List.of("record"));
        MAY_IMPORT.put("replication", List.of("record"));
        MAY_IMPORT.put("partition", List.of("storage", "replication", "record"));
        MAY_IMPORT.put("cluster", List.of("partition"));
        MAY_IMPORT.put("group", List.of("cluster"));
        MAY_IMPORT.put("broker", List.of("cluster", "group", "partition"));
        MAY_IMPORT.put("gateway.framing", List.of());
        MAY_IMPORT.put("gateway.ws", List.of("broker", "protocol"));
        MAY_IMPORT.put("gateway.tcp", List.of("broker", "protocol", "gateway.framing"));
        MAY_IMPORT.put("gateway.kafka", List.of("broker", "protocol", "gateway.framing"));
        MAY_IMPORT.put("http", List.of("broker"));
        MAY_IMPORT.put("client", List.of("protocol", "record"));
    }

    /** Packages that must stay free of Vert.x and Netty, so they can be reused by the SDK and tested as plain Java. */
    private static final List<String> PLAIN_JAVA = List.of("common", "record", "storage", "protocol", "replication");

    /** The front-ends of DESIGN.md: one package per protocol, and the HTTP port. */
    private static final List<String> FRONT_ENDS = List.of(BASE + "gateway..", BASE + "http..");

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.millrace");
    }

    static Stream<String> layers() {
        return MAY_IMPORT.keySet().stream();
    }

    static Stream<String> plainJavaLayers() {
        return PLAIN_JAVA.stream();
    }

    @ParameterizedTest(name = "{0} imports only what DESIGN.md allows")
    @MethodSource("layers")
    void layerImportsOnlyWhatItMay(String layer) {
        Set<String> allowed = closure(layer);
        List<String> forbidden = new ArrayList<>();
        for (String other : allPackages()) {
            if (!allowed.contains(other) && !other.equals(layer)) {
                forbidden.add(BASE + other + "..");
            }
        }
        noClasses().that().resideInAPackage(BASE + layer + "..")
                .should().dependOnClassesThat().resideInAnyPackage(forbidden.toArray(String[]::new))
                .allowEmptyShould(true)
                .check(classes);
    }

    @ParameterizedTest(name = "{0} uses neither Vert.x nor Netty")
    @MethodSource("plainJavaLayers")
    void plainJavaLayerUsesNoVertxOrNetty(String layer) {
        noClasses().that().resideInAPackage(BASE + layer + "..")
                .should().dependOnClassesThat().resideInAnyPackage("io.vertx..", "io.netty..", "reactor..")
                .allowEmptyShould(true)
                .check(classes);
    }

    /** DESIGN.md: the Kafka listener alone speaks Kafka, so kafka-clients never leaks into the rest (or the SDK). */
    @org.junit.jupiter.api.Test
    void onlyTheKafkaListenerUsesKafkaClasses() {
        noClasses().that().resideOutsideOfPackage(BASE + "gateway.kafka..")
                .should().dependOnClassesThat().resideInAPackage("org.apache.kafka..")
                .check(classes);
    }

    /**
     * DESIGN.md: front-ends see the broker API's own types only, never a storage or partition class. The layering
     * above would let them reach both through broker; this rule does not, so a fetch result cannot leak a segment file
     * region (which only the broker may create) and the broker can answer from another broker's bytes instead.
     */
    @org.junit.jupiter.api.Test
    void frontEndsUseNoStorageOrPartitionTypes() {
        noClasses().that().resideInAnyPackage(FRONT_ENDS.toArray(String[]::new))
                .should().dependOnClassesThat().resideInAnyPackage(BASE + "storage..", BASE + "partition..")
                .check(classes);
    }

    @org.junit.jupiter.api.Test
    void clientUsesNoVertx() {
        noClasses().that().resideInAPackage(BASE + "client..")
                .should().dependOnClassesThat().resideInAnyPackage("io.vertx..")
                .allowEmptyShould(true)
                .check(classes);
    }

    private static Set<String> allPackages() {
        Set<String> all = new LinkedHashSet<>(MAY_IMPORT.keySet());
        all.add("config");
        all.add("server");
        return all;
    }

    private static Set<String> closure(String layer) {
        Set<String> seen = new LinkedHashSet<>();
        List<String> todo = new ArrayList<>(MAY_IMPORT.get(layer));
        while (!todo.isEmpty()) {
            String next = todo.remove(todo.size() - 1);
            if (seen.add(next)) {
                todo.addAll(MAY_IMPORT.getOrDefault(next, List.of()));
            }
        }
        return seen;
    }
}
