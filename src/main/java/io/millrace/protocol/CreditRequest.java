package io.millrace.protocol;

/**
 * Grants a subscription more credit, in records. Not answered; credit for a subscription the server does not know
 * (already closed, or never opened) is ignored. A balance that would pass {@link Integer#MAX_VALUE} stays there.
 *
 * @param subscriptionId the correlation id of the SUBSCRIBE that opened the subscription
 * @param credits        records to add, > 0
 */
public record CreditRequest(int subscriptionId, int credits) implements Request {

    public CreditRequest {
        Require.positive(credits, "credits");
    }

    @Override
    public ApiKey apiKey() {
        return ApiKey.CREDIT;
    }

    void write(WireWriter w) {
        w.int32(subscriptionId);
        w.int32(credits);
    }

    static CreditRequest read(WireReader r) {
        return new CreditRequest(r.int32("subscriptionId"), r.int32("credits"));
    }
}
