package io.policylong.cli;

import io.policylong.records.JsonlDocuments;
import io.policylong.policy.KafkaPublisher;
import io.policylong.records.Document;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code policylong produce-corpus}: sends JSONL documents to the documents topic. */
@Command(name = "produce-corpus", mixinStandardHelpOptions = true,
        description = {"Send JSONL documents ({\"id\", \"text\", ...}) to a Kafka topic, one message per document, "
                + "keyed by document id. Lines that are not valid documents are reported with file, line and "
                + "reason and not sent; the exit code is then 1."})
public final class ProduceCorpusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--kafka", required = true, paramLabel = "BOOTSTRAP", description = "Kafka bootstrap servers.")
    String bootstrap;

    @Option(names = "--topic", defaultValue = "policylong.documents",
            description = "The documents topic. Default: ${DEFAULT-VALUE}.")
    String topic;

    @Option(names = "--property", paramLabel = "KEY=VALUE",
            description = "A producer property (security settings and the like); repeatable.")
    Map<String, String> properties = Map.of();

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "JSONL files of documents.")
    List<Path> files;

    @Override
    public Integer call() throws Exception {
        AtomicLong rejected = new AtomicLong();
        long sent;
        try (KafkaPublisher publisher = new KafkaPublisher(bootstrap, topic, properties)) {
            List<Future<?>> pending = new ArrayList<>();
            for (Path file : files) {
                List<Document> documents = JsonlDocuments.read(file, problem -> {
                    rejected.incrementAndGet();
                    spec.commandLine().getErr().println(problem);
                });
                for (Document d : documents) {
                    pending.add(publisher.send(d.id(), d.toJson()));
                }
            }
            sent = pending.size();
            for (Future<?> f : pending) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("sending to " + topic + " failed: " + e.getCause().getMessage(),
                            e.getCause());
                }
            }
        }
        spec.commandLine().getErr().printf("produce-corpus: %d documents sent to %s on %s, %d lines rejected%n", sent,
                topic, bootstrap, rejected.get());
        return rejected.get() == 0 ? 0 : 1;
    }
}
