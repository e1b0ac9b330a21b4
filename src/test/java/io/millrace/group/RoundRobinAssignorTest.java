package io.millrace.group;

import static io.millrace.group.Fixtures.assignment;
import static io.millrace.group.Fixtures.counts;
import static io.millrace.group.Fixtures.members;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RoundRobinAssignorTest {

    private final Assignor assignor = new RoundRobinAssignor();

    @ParameterizedTest(name = "{0}: {1} over {2}")
    @CsvSource(delimiter = '|', textBlock = """
            3 members, 6 partitions: 2 each  | a:t; b:t; c:t     | t=6      | a=t-0 t-3; b=t-1 t-4; c=t-2 t-5
            dealt across topics              | a:x,y; b:x,y      | x=3, y=3 | a=x-0 x-2 y-1; b=x-1 y-0 y-2
            skips members not subscribed     | a:x; b:x,y; c:x,y | x=3, y=3 | a=x-0; b=x-1 y-0 y-2; c=x-2 y-1
            topics in name order             | a:y,x; b:x,y      | x=1, y=2 | a=x-0 y-1; b=y-0
            more members than partitions     | a:t; b:t; c:t     | t=2      | a=t-0; b=t-1; c=
            topic without partitions yet     | a:t,u; b:t        | t=3      | a=t-0 t-2; b=t-1
            ids sort as strings              | m9:t; m10:t       | t=3      | m10=t-0 t-2; m9=t-1
            owned partitions are ignored     | a:t/t-1; b:t/t-0  | t=2      | a=t-0; b=t-1
            """)
    void dealsPartitionsInTurn(String name, String members, String counts, String expected) {
        assertThat(assignor.assign(members(members), counts(counts))).isEqualTo(assignment(expected));
        assertThat(assignor.protocol()).isEqualTo(RebalanceProtocol.EAGER);
    }
}
