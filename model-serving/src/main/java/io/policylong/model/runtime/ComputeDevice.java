package io.policylong.model.runtime;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

/**
 * Chooses where the model runs: {@code auto} takes the first GPU when the engine finds one and the CPU
 * otherwise; {@code cpu}, {@code gpu} and {@code gpu:N} force a device.
 */
public final class ComputeDevice {
    private ComputeDevice() {
    }

    /** Resolves a device specification. */
    public static Device resolve(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("auto")) {
            return Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
        }
        if (s.equals("cpu")) {
            return Device.cpu();
        }
        if (s.equals("gpu") || s.startsWith("gpu:")) {
            int index = 0;
            if (s.startsWith("gpu:")) {
                try {
                    index = Integer.parseInt(s.substring(4));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("device '" + spec + "': GPU index is not a number");
                }
            }
            int gpus = Engine.getInstance().getGpuCount();
            if (index < 0 || index >= gpus) {
                throw new IllegalArgumentException("device '" + spec + "': the engine sees " + gpus + " GPU(s)");
            }
            return Device.gpu(index);
        }
        throw new IllegalArgumentException("device '" + spec + "' is not one of auto, cpu, gpu, gpu:N");
    }
}
