/**
 * The portable dump of a store: JSON lines that move users and events between databases and backends
 * ({@code java -jar broker.jar export} and {@code import}).
 *
 * <pre>
 * {"format":"broker-dump","version":1}
 * {"type":"user","id":"…","username":"…","tenant":"…","password_hash":"$argon2id$…","revoked":false}
 * {"type":"event","id":17,"tenant":"…","name":"…","timestamp":1764000000000,"data":{…}}
 * {"type":"end","users":1,"events":1}
 * </pre>
 *
 * First the header, then every user (ordered by username), then every event of every tenant in id order, then
 * the end line with the counts, which tells a complete dump from a truncated one. {@code data} is the event's
 * data as a JSON value; {@code id} is the event's id in the exporting store, for reference only: an import assigns
 * new ids. Both directions stream, holding a bounded number of users and events at a time.
 */
package dev.broker.server.dump;
