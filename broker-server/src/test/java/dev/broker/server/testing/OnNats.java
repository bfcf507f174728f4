package dev.broker.server.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs a test class's servers ({@link TestBrokers}) as cluster edges over NATS JetStream instead of the embedded
 * database: {@code --nats} to one real {@code nats-server} shared by the whole test run (started on first use,
 * stopped at the end), with one replica and a stream, subjects and bucket of their own ({@code --nats_prefix}) for
 * each test. Put it on a subclass of a contract test to run that test's cases against an edge too:
 * {@code @OnNats class InsertOnNatsTest extends InsertTest { }}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
public @interface OnNats {
}
