package io.policylong.serving;

import java.time.Duration;

/**
 * How a scoring server listens and what it accepts.
 *
 * @param host the address to listen on (loopback by default)
 * @param port the port, 0 for any free one
 * @param modelName the model name of the protocol's paths
 * @param token the bearer token every request but health and metrics must carry, or null for none
 * @param maxRequestBytes the largest request body
 * @param maxRequestTokens the most tokens of one request
 * @param requestTimeout how long a request may wait for its scores when the client sets no deadline
 * @param drain how long a stopping server waits for the requests it has accepted
 */
public record ServerSettings(String host, int port, String modelName, String token, long maxRequestBytes,
        long maxRequestTokens, Duration requestTimeout, Duration drain) {
    public ServerSettings {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port");
        }
        if (modelName == null || !modelName.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("the model name must be letters, digits, '.', '_' or '-', not "
                    + modelName);
        }
        if (token != null && token.isBlank()) {
            throw new IllegalArgumentException("the bearer token is empty");
        }
        if (maxRequestBytes < 1 || maxRequestTokens < 1 || requestTimeout.isNegative() || requestTimeout.isZero()
                || drain.isNegative()) {
            throw new IllegalArgumentException("request limits and the timeout must be positive, the drain time >= 0");
        }
    }
}
