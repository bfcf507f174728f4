package dev.broker.server.api;

import io.netty.handler.codec.http.HttpMethod;
import java.util.HashMap;
import java.util.Map;

/** Every endpoint of the contract: its method, its path and whether it needs a user's credential. */
public enum Route {
    CREATE_USER(HttpMethod.POST, "/create_user", false),
    LOGIN(HttpMethod.POST, "/login", false),
    SSE(HttpMethod.GET, "/sse", true),
    INSERT(HttpMethod.POST, "/insert", true),
    VERIFY(HttpMethod.GET, "/verify", true),
    REVOKE_USER(HttpMethod.POST, "/revoke_user", false),
    UNREVOKE_USER(HttpMethod.POST, "/unrevoke_user", false),
    LIST_USERS(HttpMethod.POST, "/list_users", false),
    GET_USER(HttpMethod.POST, "/get_user", false),
    HEALTHZ(HttpMethod.GET, "/healthz", false),
    /** Prometheus metrics; the endpoint checks the admin token itself (a Bearer credential, unless public). */
    METRICS(HttpMethod.GET, "/metrics", false);

    private static final Map<String, Route> BY_PATH = new HashMap<>();

    static {
        for (Route route : values()) {
            BY_PATH.put(route.path, route);
        }
    }

    private final HttpMethod method;
    private final String path;
    private final boolean authenticated;

    Route(HttpMethod method, String path, boolean authenticated) {
        this.method = method;
        this.path = path;
        this.authenticated = authenticated;
    }

    /** The route at this path (without query string), or null. */
    public static Route forPath(String path) {
        return BY_PATH.get(path);
    }

    public HttpMethod method() {
        return method;
    }

    public String path() {
        return path;
    }

    public boolean authenticated() {
        return authenticated;
    }
}
