package dev.broker.server.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Broker's configuration: a value for every flag of {@link Flags}, parsed once at start-up (see
 * {@link ConfigLoader}) and immutable afterwards. Read a value with {@code config.get(Flags.PORT)}; derive a
 * modified copy with {@code config.with(Flags.PORT, 0)}, which keeps tests short.
 */
public final class BrokerConfig {

    /** Every declared flag, in declaration order; null where an optional flag has no value. Never modified. */
    private final Map<Flag<?>, Object> values;

    private BrokerConfig(Map<Flag<?>, Object> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /** The embedded defaults of the contract: port 8080, database {@code db}, admin token {@code letmein}. */
    public static BrokerConfig defaults() {
        Map<Flag<?>, Object> values = new LinkedHashMap<>();
        for (Flag<?> flag : Flags.all()) {
            values.put(flag, flag.defaultValue());
        }
        return new BrokerConfig(values);
    }

    /**
     * The configuration of the flags in {@code given} (values already checked), with every other flag at the value
     * it takes when unset: its default, or what the given values decide for it (the port with {@code secure}).
     */
    static BrokerConfig of(Map<Flag<?>, Object> given) {
        Map<Flag<?>, Object> plain = new LinkedHashMap<>(defaults().values);
        plain.putAll(given);
        BrokerConfig base = new BrokerConfig(plain);
        Map<Flag<?>, Object> values = new LinkedHashMap<>();
        for (Flag<?> flag : Flags.all()) {
            values.put(flag, given.containsKey(flag) ? given.get(flag) : flag.unsetValue(base));
        }
        return new BrokerConfig(values);
    }

    /** The value of {@code flag}; null only for an optional flag that has none (no {@code domain}). */
    @SuppressWarnings("unchecked") // every value was put under its own flag by defaults(), of() or with()
    public <T> T get(Flag<T> flag) {
        if (!values.containsKey(flag)) {
            throw new IllegalArgumentException("not a flag of Flags: " + flag);
        }
        return (T) values.get(flag);
    }

    /**
     * A copy with {@code flag} set to {@code value}, held to the same rules as a value read from the command line.
     *
     * @throws IllegalArgumentException when {@code value} is out of the flag's range or otherwise invalid
     */
    public <T> BrokerConfig with(Flag<T> flag, T value) {
        get(flag); // declared?
        Map<Flag<?>, Object> copy = new LinkedHashMap<>(values);
        copy.put(flag, flag.requireValid(value));
        return new BrokerConfig(copy);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BrokerConfig other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    /** Every setting as {@code name=value}, secrets masked: what {@link ConfigLoader#describe} says. */
    @Override
    public String toString() {
        return "BrokerConfig[" + ConfigLoader.describe(this) + "]";
    }

    /** {@code flag}'s value as text, unmasked. */
    <T> String valueText(Flag<T> flag) {
        return flag.format(get(flag));
    }

    /** True while {@code flag} has its default value. */
    boolean isDefault(Flag<?> flag) {
        return Objects.equals(values.get(flag), flag.defaultValue());
    }
}
