package io.policylong.cli;

import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process from {@code /proc} (Linux), including native engine allocations. */
final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private ProcessMemory() {
    }

    /** Current resident set size in bytes, or 0 when unknown. */
    static long residentBytes() throws IOException {
        return field("VmRSS:");
    }

    /** Peak resident set size since start or the last {@link #resetPeak()}, or 0 when unknown. */
    static long peakResidentBytes() throws IOException {
        return field("VmHWM:");
    }

    /**
     * Returns memory the C allocator holds but no longer uses to the kernel ({@code malloc_trim}), so that
     * the next peak measures one workload, not what earlier ones left in the allocator. No-op off glibc.
     */
    static void releaseFreeMemory() {
        try {
            NativeLibrary.getInstance("c").getFunction("malloc_trim").invokeInt(new Object[] {0L});
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            // Not glibc: measurements then include retained allocator memory.
        }
    }

    /** Resets the peak to the current size (Linux 4.0+); does nothing where unsupported. */
    static void resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
        } catch (IOException | SecurityException e) {
            // Not available: the peak then covers the whole process lifetime, which the output makes visible.
        }
    }

    private static long field(String name) throws IOException {
        if (!Files.isReadable(STATUS)) {
            return 0;
        }
        for (String line : Files.readAllLines(STATUS)) {
            if (line.startsWith(name)) {
                String[] parts = line.substring(name.length()).trim().split("\\s+");
                return Long.parseLong(parts[0]) * 1024;
            }
        }
        return 0;
    }
}
