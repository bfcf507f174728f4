package dev.broker.server.api;

import io.netty.handler.codec.http.HttpMethod;
import java.util.HashMap;
import java.util.Map;

/**
 * Every endpoint of the contract and of its documented additions: its method, its path and who may call it
 * ({@link Access}).
 */
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
    BACKUP(HttpMethod.POST, "/backup", false),
    // The console's additions, gated by the admin token in an Authorization header.
    ADMIN_SSE(HttpMethod.GET, "/admin/sse", Access.ADMIN_AS_TENANT),
    ADMIN_INSERT(HttpMethod.POST, "/admin/insert", Access.ADMIN_AS_TENANT),
    ADMIN_STATS(HttpMethod.GET, "/admin/stats", Access.ADMIN),
    /** The console's static files: {@code /console} and every path under {@code /console/}; HEAD too. */
    CONSOLE(HttpMethod.GET, "/console", Access.PUBLIC),
    /** Prometheus metrics; the endpoint checks the admin token itself (a Bearer credential, unless public). */
    METRICS(HttpMethod.GET, "/metrics", false);

    /** Who may call a route. */
    public enum Access {
        /** Anyone (the admin endpoints of the contract check the token in their body themselves). */
        PUBLIC,
        /** A user, by JWT or Basic credential. */
        USER,
        /** The operator, by {@code Authorization: Bearer <admin token>}. */
        ADMIN,
        /** The operator, acting in the tenant named by the query parameter {@code tenant} (as if a user of it). */
        ADMIN_AS_TENANT
    }

    private static final String CONSOLE_PREFIX = "/console/";

    private static final Map<String, Route> BY_PATH = new HashMap<>();

    static {
        for (Route route : values()) {
            BY_PATH.put(route.path, route);
        }
    }

    private final HttpMethod method;
    private final String path;
    private final Access access;

    Route(HttpMethod method, String path, boolean authenticated) {
        this(method, path, authenticated ? Access.USER : Access.PUBLIC);
    }

    Route(HttpMethod method, String path, Access access) {
        this.method = method;
        this.path = path;
        this.access = access;
    }

    /** The route at this path (without query string), or null. */
    public static Route forPath(String path) {
        Route route = BY_PATH.get(path);
        if (route == null && path.startsWith(CONSOLE_PREFIX)) {
            return CONSOLE; // which files exist is the console's business (404 for the others)
        }
        return route;
    }

    /** Whether a request with this method is served here: the route's method, and HEAD for the console's GETs. */
    public boolean accepts(HttpMethod requested) {
        return method.equals(requested) || (this == CONSOLE && HttpMethod.HEAD.equals(requested));
    }

    /** The methods for an {@code Allow} header. */
    public String allowedMethods() {
        return this == CONSOLE ? "GET, HEAD" : method.name();
    }

    public HttpMethod method() {
        return method;
    }

    public String path() {
        return path;
    }

    /** Whether the route needs a user's credential. */
    public boolean authenticated() {
        return access == Access.USER;
    }

    public Access access() {
        return access;
    }
}
