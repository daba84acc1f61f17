/// Orders the nodes of a directed graph so that every edge goes from earlier to later, or returns
/// the nodes of one cycle when there is none. Used for model lineage, where a cycle is an input error.
public enum TopologicalOrder {
    public enum Outcome<Node: Hashable>: Equatable {
        case ordered([Node])
        case cycle([Node])
    }

    /// `edges` maps a node to the nodes that must come after it. Kahn's algorithm; iterative so
    /// that deep lineage cannot overflow the stack.
    public static func sort<Node: Hashable>(nodes: [Node], edges: [Node: [Node]]) -> Outcome<Node> {
        var indegree: [Node: Int] = Dictionary(uniqueKeysWithValues: nodes.map { ($0, 0) })
        for (_, targets) in edges { for t in targets { indegree[t, default: 0] += 1 } }
        var queue = nodes.filter { indegree[$0] == 0 }
        var order: [Node] = []
        order.reserveCapacity(indegree.count)
        var head = 0
        while head < queue.count {
            let n = queue[head]; head += 1
            order.append(n)
            for t in edges[n] ?? [] {
                indegree[t]! -= 1
                if indegree[t] == 0 { queue.append(t) }
            }
        }
        if order.count == indegree.count { return .ordered(order) }
        return .cycle(findCycle(among: Set(indegree.filter { $0.value > 0 }.keys), edges: edges))
    }

    /// Every node Kahn's algorithm left behind has a predecessor that was left behind too, so walking
    /// backwards from any of them must repeat a node; the repeat closes a cycle.
    private static func findCycle<Node: Hashable>(among remaining: Set<Node>, edges: [Node: [Node]]) -> [Node] {
        var predecessors: [Node: Node] = [:]
        for (from, targets) in edges where remaining.contains(from) {
            for t in targets where remaining.contains(t) && predecessors[t] == nil { predecessors[t] = from }
        }
        guard var current = remaining.first else { return [] }
        var position: [Node: Int] = [:]
        var path: [Node] = []
        while position[current] == nil {
            position[current] = path.count
            path.append(current)
            current = predecessors[current]!
        }
        return Array(path[position[current]!...].reversed())
    }
}
