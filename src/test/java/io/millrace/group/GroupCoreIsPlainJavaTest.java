package io.millrace.group;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The coordinator core is plain Java on {@code io.millrace.common}, so that it runs unchanged inside a verticle and
 * inside the seeded simulation. DESIGN.md lets {@code group} import {@code cluster} and below; the Vert.x host may, the
 * core may not. A host class belongs in a sub-package or is named {@code *Verticle}.
 */
class GroupCoreIsPlainJavaTest {

    @Test
    void theCoreDependsOnlyOnTheJdkAndCommon() {
        JavaClasses classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.millrace.group");
        noClasses().that().resideInAPackage("io.millrace.group")
                .and().haveSimpleNameNotEndingWith("Verticle")
                .should().dependOnClassesThat().resideInAnyPackage("io.vertx..", "io.netty..", "reactor..",
                        "io.reactivex..", "io.millrace.cluster..", "io.millrace.partition..", "io.millrace.storage..",
                        "io.millrace.replication..", "io.millrace.record..", "io.millrace.protocol..")
                .check(classes);
    }
}
