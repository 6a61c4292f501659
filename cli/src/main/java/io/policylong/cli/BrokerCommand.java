package io.policylong.cli;

import io.policylong.cli.local.LocalKafkaBroker;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code policylong broker}: a local single-node Kafka for trying the Kafka mode on one machine. */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = {"Run a local single-node Kafka (KRaft, broker and controller in one process) from the Kafka "
                + "jars of the build, until interrupted (Ctrl-C). Topics are created on first use.",
            "The data directory is formatted on first start and kept, so records survive a restart. For trying "
                    + "conf/kafka.yaml on one machine, not for production."})
public final class BrokerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", defaultValue = "data/kafka", paramLabel = "DIR",
            description = "Data directory. Default: ${DEFAULT-VALUE}.")
    Path data;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on. Default: "
            + "${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", defaultValue = "9092",
            description = "Client port; the controller uses the next one. Default: ${DEFAULT-VALUE}.")
    int port;

    @Override
    public Integer call() throws Exception {
        LocalKafkaBroker broker = LocalKafkaBroker.start(data, host, port);
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "broker-shutdown"));
        spec.commandLine().getErr().printf("broker: Kafka listening on %s (data in %s); Ctrl-C stops it%n",
                broker.bootstrapServers(), data.toAbsolutePath());
        spec.commandLine().getErr().flush();
        broker.awaitShutdown();
        return 0;
    }
}
