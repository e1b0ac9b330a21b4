package io.millrace.cluster;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.net.ConnectException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the controller which brokers are alive, faster than ZooKeeper alone can.
 *
 * <p>A broker is alive while its ZooKeeper registration is, but a killed broker's session only expires after
 * {@code zookeeper.session.timeout.ms}: seconds of unavailability for every partition it led. Its event-bus port,
 * however, closes the moment the process dies. So this detector holds one idle TCP connection to every other live
 * broker's event-bus port; when that connection closes it dials again a few times, and if the port <em>refuses</em>
 * the connection (nothing listens there any more) the broker is declared dead at once, for the session it had. It
 * counts as alive again only under a new session (a restarted broker registers anew). A port that merely does not
 * answer (a host or network down) proves nothing here: the session timeout decides, which keeps false failovers
 * out of network hiccups. A dead broker that held the controller node loses it at once too, so a new controller is
 * elected without waiting for the session. Both the trade-off and the keys are in docs/OPERATIONS.md.
 *
 * <p>State lives on this verticle's context, except the set of dead sessions, read by the controller.
 */
public final class BrokerFailureDetector extends VerticleBase implements ClusterController.BrokerLiveness {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerFailureDetector.class);
    private static final int REDIALS = 3;
    private static final long REDIAL_DELAY_MS = 50;

    private final int brokerId;
    private final MetadataStore store;
    private final boolean probing;
    private final Runnable onDeath;
    /** Broker id → the session found dead. */
    private final Map<Integer, Long> deadSessions = new ConcurrentHashMap<>();
    /** Broker id → the session of the probe connection currently open or being opened. */
    private final Map<Integer, Long> probed = new HashMap<>();
    private NetClient client;

    /**
     * @param probing  whether to watch event-bus ports at all ({@code broker.failure.probe.enable})
     * @param onDeath  called (on this context) when a broker is found dead
     */
    public BrokerFailureDetector(int brokerId, MetadataStore store, boolean probing, Runnable onDeath) {
        this.brokerId = brokerId;
        this.store = store;
        this.probing = probing;
        this.onDeath = onDeath;
    }

    @Override
    public Future<?> start() {
        client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(2_000).setTcpNoDelay(true));
        return store.watchLiveBrokers(() -> context.runOnContext(v -> probeNewBrokers()));
    }

    @Override
    public Set<Integer> liveBrokers() {
        return store.cachedLiveBrokerInfos().entrySet().stream()
                .filter(e -> !Long.valueOf(e.getValue().session()).equals(deadSessions.get(e.getKey())))
                .map(Map.Entry::getKey).collect(Collectors.toSet());
    }

    private void probeNewBrokers() {
        Map<Integer, MetadataStore.LiveBroker> live = store.cachedLiveBrokerInfos();
        deadSessions.keySet().removeIf(id -> !live.containsKey(id));
        if (!probing) {
            return;
        }
        live.forEach((id, broker) -> {
            if (id != brokerId && broker.info().clusterPort() > 0 && !Long.valueOf(broker.session())
                    .equals(probed.get(id)) && !Long.valueOf(broker.session()).equals(deadSessions.get(id))) {
                probed.put(id, broker.session());
                dial(broker, REDIALS);
            }
        });
    }

    private void dial(MetadataStore.LiveBroker broker, int attemptsLeft) {
        int id = broker.info().id();
        client.connect(broker.info().clusterPort(), broker.info().clusterHost()).onComplete(ar -> {
            if (!Long.valueOf(broker.session()).equals(probed.get(id))) {
                if (ar.succeeded()) {
                    ar.result().close();
                }
                return;
            }
            if (ar.succeeded()) {
                NetSocket socket = ar.result();
                socket.handler(ignored -> {
                });
                socket.closeHandler(v -> {
                    if (Long.valueOf(broker.session()).equals(probed.get(id))) {
                        dial(broker, REDIALS);
                    }
                });
            } else if (ar.cause() instanceof ConnectException && attemptsLeft <= 1) {
                probed.remove(id);
                deadSessions.put(id, broker.session());
                LOG.warn("Broker {} refuses connections on its event-bus port {}:{}: declaring it dead without"
                        + " waiting for its ZooKeeper session to expire", id, broker.info().clusterHost(),
                        broker.info().clusterPort());
                onDeath.run();
                store.removeDeadController(id, broker.session());
            } else if (ar.cause() instanceof ConnectException) {
                vertx.setTimer(REDIAL_DELAY_MS, t -> dial(broker, attemptsLeft - 1));
            } else {
                // Not a refusal (a timeout, an unreachable host): leave it to the session timeout, look again later.
                vertx.setTimer(1_000, t -> {
                    if (Long.valueOf(broker.session()).equals(probed.get(id))) {
                        dial(broker, REDIALS);
                    }
                });
            }
        });
    }
}
