package io.policylong.connectors.files;

import java.io.Serializable;

/**
 * A small file read whole.
 *
 * @param path the file
 * @param content its bytes, or null when {@code problem} is set
 * @param problem why it was not read, or null
 */
public record SmallFile(String path, byte[] content, String problem) implements Serializable {
    private static final long serialVersionUID = 1L;
}
