package io.policylong.connectors.cli;

import io.policylong.connectors.kafka.KafkaPublisher;
import io.policylong.connectors.records.Document;
import io.policylong.connectors.records.InvalidRecordException;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
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
        long sent = 0;
        long rejected = 0;
        try (KafkaPublisher publisher = new KafkaPublisher(bootstrap, topic, properties)) {
            List<Future<?>> pending = new ArrayList<>();
            for (Path file : files) {
                try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    String line;
                    long number = 0;
                    while ((line = reader.readLine()) != null) {
                        number++;
                        if (line.isBlank()) {
                            continue;
                        }
                        try {
                            Document d = Document.fromJson(line);
                            pending.add(publisher.send(d.id(), d.toJson()));
                            sent++;
                        } catch (InvalidRecordException e) {
                            rejected++;
                            spec.commandLine().getErr().printf("%s:%d: %s%n", file, number, e.getMessage());
                        }
                    }
                }
            }
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
                topic, bootstrap, rejected);
        return rejected == 0 ? 0 : 1;
    }
}
