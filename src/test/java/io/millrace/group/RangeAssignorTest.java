package io.millrace.group;

import static io.millrace.group.Fixtures.assignment;
import static io.millrace.group.Fixtures.counts;
import static io.millrace.group.Fixtures.members;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RangeAssignorTest {

    private final Assignor assignor = new RangeAssignor();

    @ParameterizedTest(name = "{0}: {1} over {2}")
    @CsvSource(delimiter = '|', textBlock = """
            3 members, 6 partitions: 2 each  | a:t; b:t; c:t     | t=6      | a=t-0 t-1; b=t-2 t-3; c=t-4 t-5
            7 over 3: the first gets 3       | a:t; b:t; c:t     | t=7      | a=t-0 t-1 t-2; b=t-3 t-4; c=t-5 t-6
            per topic, so extras pile up     | a:x,y; b:x,y      | x=3, y=3 | a=x-0 x-1 y-0 y-1; b=x-2 y-2
            only subscribers of a topic      | a:x; b:x,y        | x=2, y=2 | a=x-0; b=x-1 y-0 y-1
            more members than partitions     | a:t; b:t; c:t     | t=2      | a=t-0; b=t-1; c=
            topic without partitions yet     | a:t; b:u          | t=2      | a=t-0 t-1; b=
            ids sort as strings              | m9:t; m10:t       | t=3      | m10=t-0 t-1; m9=t-2
            owned partitions are ignored     | a:t/t-2; b:t/t-0  | t=3      | a=t-0 t-1; b=t-2
            one member takes everything      | a:x,y             | x=2, y=1 | a=x-0 x-1 y-0
            """)
    void assignsContiguousRangesPerTopic(String name, String members, String counts, String expected) {
        assertThat(assignor.assign(members(members), counts(counts))).isEqualTo(assignment(expected));
        assertThat(assignor.protocol()).isEqualTo(RebalanceProtocol.EAGER);
    }
}
