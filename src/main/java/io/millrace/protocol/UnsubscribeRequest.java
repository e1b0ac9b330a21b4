package io.millrace.protocol;

/**
 * Closes a subscription. Answered by an {@link UnsubscribeResponse}; no PUSH for the subscription follows that
 * response on the connection (pushes sent before it may still arrive before it). Closing an unknown subscription
 * succeeds, so a retry is harmless.
 *
 * @param subscriptionId the correlation id of the SUBSCRIBE that opened the subscription
 */
public record UnsubscribeRequest(int subscriptionId) implements Request {

    @Override
    public ApiKey apiKey() {
        return ApiKey.UNSUBSCRIBE;
    }

    void write(WireWriter w) {
        w.int32(subscriptionId);
    }

    static UnsubscribeRequest read(WireReader r) {
        return new UnsubscribeRequest(r.int32("subscriptionId"));
    }
}
