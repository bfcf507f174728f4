package dev.broker.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The server's packages, as their main source files' {@code import dev.broker.server.…} lines connect them, form no
 * cycle; and no package imports the top assembly in the root package ({@code BrokerServer}, {@code Main},
 * {@code Transport}), which may import anything. A failure names the cycle and, for each of its edges, a file that
 * makes it.
 */
class PackageDependenciesTest {

    private static final String BASE = "dev.broker.server";
    /** Maven runs the tests in the module's directory. */
    private static final Path SOURCES = Path.of("src/main/java");

    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;");
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?([\\w.]+)(?:\\.\\*)?\\s*;");

    /** Package to the packages it imports, and for each such edge the files that make it. */
    record Graph(Map<String, Set<String>> edges, Map<String, Set<String>> filesByEdge) {

        Set<String> from(String pkg) {
            return edges.getOrDefault(pkg, Set.of());
        }

        String describe(String from, String to) {
            return name(from) + " -> " + name(to) + " " + filesByEdge.get(from + " " + to);
        }
    }

    @Test
    void theServersPackagesFormNoCycle() {
        Graph graph = read(SOURCES);

        List<List<String>> cycles = cycles(graph.edges());

        StringBuilder failure = new StringBuilder();
        for (List<String> cycle : cycles) {
            failure.append("\npackage cycle: ")
                    .append(String.join(" -> ", cycle.stream().map(PackageDependenciesTest::name).toList()));
            for (int i = 0; i + 1 < cycle.size(); i++) {
                failure.append("\n    ").append(graph.describe(cycle.get(i), cycle.get(i + 1)));
            }
        }
        assertTrue(cycles.isEmpty(), failure.toString());
    }

    @Test
    void noPackageImportsTheTopAssembly() {
        Graph graph = read(SOURCES);

        List<String> offenders = new ArrayList<>();
        for (String pkg : graph.edges().keySet()) {
            if (!pkg.equals(BASE) && graph.from(pkg).contains(BASE)) {
                offenders.add(graph.describe(pkg, BASE));
            }
        }
        assertTrue(offenders.isEmpty(), "the root package is the top assembly; imported by " + offenders);
    }

    @Test
    void readsEveryPackageAndItsImports() {
        Graph graph = read(SOURCES);

        // Not vacuous: the module's packages are found, and edges that must exist are seen.
        assertTrue(graph.edges().keySet().containsAll(Set.of(BASE, BASE + ".api", BASE + ".http", BASE + ".pipeline")),
                graph.edges().keySet().toString());
        assertTrue(graph.from(BASE + ".pipeline").contains(BASE + ".http"), graph.edges().toString());
        assertTrue(graph.from(BASE).contains(BASE + ".pipeline"), graph.edges().toString());
    }

    @Test
    void cyclesAreFoundAndNamed() {
        Map<String, Set<String>> edges = new TreeMap<>();
        edges.put("a", Set.of("b"));
        edges.put("b", Set.of("c", "d"));
        edges.put("c", Set.of("a"));
        edges.put("d", Set.of());
        edges.put("e", Set.of("f"));
        edges.put("f", Set.of("e"));

        assertEquals(List.of(List.of("a", "b", "c", "a"), List.of("e", "f", "e")), cycles(edges));
        assertEquals(List.of(), cycles(Map.of("a", Set.of("b"), "b", Set.of("c"))));
    }

    @Test
    void importsNameTheirPackage() {
        assertEquals(BASE + ".http", packageOf(BASE + ".http.HttpResponses"));
        assertEquals(BASE + ".http", packageOf(BASE + ".http"), "a wildcard import");
        assertEquals(BASE + ".config", packageOf(BASE + ".config.Flags.ADMIN_TOKEN"), "a static import");
        assertEquals(BASE + ".tls", packageOf(BASE + ".tls.TestCertificates.KeyFormat"), "a nested class");
        assertEquals(BASE, packageOf(BASE + ".BrokerServer"));
    }

    /** The package graph of the sources under {@code root}. */
    static Graph read(Path root) {
        Map<String, Set<String>> edges = new TreeMap<>();
        Map<String, Set<String>> files = new HashMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path file : paths.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                String pkg = null;
                for (String line : Files.readAllLines(file)) {
                    Matcher declared = PACKAGE.matcher(line);
                    if (declared.find()) {
                        pkg = declared.group(1);
                        edges.computeIfAbsent(pkg, p -> new TreeSet<>());
                        continue;
                    }
                    Matcher imported = IMPORT.matcher(line);
                    if (pkg == null || !imported.find() || !imported.group(1).startsWith(BASE)) {
                        continue;
                    }
                    String target = packageOf(imported.group(1));
                    if (!target.equals(pkg)) {
                        edges.get(pkg).add(target);
                        files.computeIfAbsent(pkg + " " + target, e -> new TreeSet<>())
                                .add(root.relativize(file).toString());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Graph(edges, files);
    }

    /** The package of an imported name: its segments up to the first that starts with a capital. */
    static String packageOf(String imported) {
        StringBuilder pkg = new StringBuilder();
        for (String segment : imported.split("\\.")) {
            if (Character.isUpperCase(segment.charAt(0))) {
                break;
            }
            if (pkg.length() > 0) {
                pkg.append('.');
            }
            pkg.append(segment);
        }
        return pkg.toString();
    }

    /**
     * One cycle through each strongly connected component of more than one package (Tarjan), each from its first
     * package in name order back to it, e.g. {@code [a, b, a]}.
     */
    static List<List<String>> cycles(Map<String, Set<String>> edges) {
        List<List<String>> cycles = new ArrayList<>();
        for (Set<String> component : new Tarjan(edges).components()) {
            if (component.size() > 1) {
                cycles.add(cycleWithin(edges, component));
            }
        }
        cycles.sort((a, b) -> a.get(0).compareTo(b.get(0)));
        return cycles;
    }

    /** A shortest way from the component's first package back to it, inside the component (breadth first). */
    private static List<String> cycleWithin(Map<String, Set<String>> edges, Set<String> component) {
        String start = new TreeSet<>(component).first();
        Map<String, String> cameFrom = new HashMap<>();
        Deque<String> queue = new ArrayDeque<>(List.of(start));
        while (!queue.isEmpty()) {
            String at = queue.poll();
            for (String next : new TreeSet<>(edges.getOrDefault(at, Set.of()))) {
                if (!component.contains(next)) {
                    continue;
                }
                if (next.equals(start)) {
                    List<String> cycle = new ArrayList<>(List.of(start));
                    for (String step = at; !step.equals(start); step = cameFrom.get(step)) {
                        cycle.add(1, step);
                    }
                    cycle.add(start);
                    return cycle;
                }
                if (cameFrom.putIfAbsent(next, at) == null) {
                    queue.add(next);
                }
            }
        }
        throw new IllegalStateException("no cycle in a strongly connected component " + component);
    }

    private static String name(String pkg) {
        return pkg.equals(BASE) ? BASE : pkg.substring(BASE.length() + 1);
    }

    /** Tarjan's strongly connected components. */
    private static final class Tarjan {

        private final Map<String, Set<String>> edges;
        private final Map<String, Integer> index = new HashMap<>();
        private final Map<String, Integer> low = new HashMap<>();
        private final Deque<String> stack = new ArrayDeque<>();
        private final Set<String> onStack = new TreeSet<>();
        private final List<Set<String>> components = new ArrayList<>();

        Tarjan(Map<String, Set<String>> edges) {
            this.edges = edges;
        }

        List<Set<String>> components() {
            for (String node : new TreeSet<>(edges.keySet())) {
                if (!index.containsKey(node)) {
                    visit(node);
                }
            }
            return components;
        }

        private void visit(String node) {
            index.put(node, index.size());
            low.put(node, index.get(node));
            stack.push(node);
            onStack.add(node);
            for (String next : new TreeSet<>(edges.getOrDefault(node, Set.of()))) {
                if (!index.containsKey(next)) {
                    visit(next);
                    low.put(node, Math.min(low.get(node), low.get(next)));
                } else if (onStack.contains(next)) {
                    low.put(node, Math.min(low.get(node), index.get(next)));
                }
            }
            if (low.get(node).equals(index.get(node))) {
                Set<String> component = new TreeSet<>();
                String member;
                do {
                    member = stack.pop();
                    onStack.remove(member);
                    component.add(member);
                } while (!member.equals(node));
                components.add(component);
            }
        }
    }
}
