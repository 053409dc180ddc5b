"""Dominator tree, retained sizes and shortest retainer paths over a heap graph in CSR form.

The graph is the V8 snapshot's: node ``v``'s out-edges are
``first_edge[v]:first_edge[v + 1]`` into ``edge_to``. Like DevTools'
``buildDominatorTree``, weak edges are not essential, and shortcut edges count
only from the root. The dominator tree is computed with the Semi-NCA variant
of Lengauer–Tarjan (semidominators with path compression, then a nearest-common
-ancestor walk), iteratively in numba: no recursion, so deep heaps do not
overflow the stack.

>>> import numpy as np
>>> # 0 -> 1 -> 3, 0 -> 2 -> 3: node 3 is dominated by the root only
>>> first = np.array([0, 2, 3, 4, 4]); to = np.array([1, 2, 3, 3], dtype=np.int32)
>>> ok = np.ones(4, dtype=np.bool_)
>>> idom, order = dominator_tree(4, first, to, ok, 0)
>>> idom.tolist()
[-1, 0, 0, 0]
>>> retained_sizes(idom, order, np.array([0, 10, 20, 5])).tolist()
[35, 10, 20, 5]
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _dfs_preorder(n, first, to, ok, root):
    """Iterative DFS over essential edges: preorder number per node (-1 unreachable), vertex order, DFS parent."""
    pre = np.full(n, -1, np.int32)
    vertex = np.empty(n, np.int32)
    parent = np.empty(n, np.int32)          # by preorder number
    stack_v = np.empty(n, np.int32)
    stack_e = np.empty(n, first.dtype)     # an edge cursor: int32 while the edges fit
    sp = 0
    pre[root] = 0
    vertex[0] = root
    parent[0] = 0
    cnt = 1
    stack_v[0] = root
    stack_e[0] = first[root]
    sp = 1
    while sp > 0:
        v = stack_v[sp - 1]
        e = stack_e[sp - 1]
        end = first[v + 1]
        pushed = False
        while e < end:
            w = to[e]
            e += 1
            if ok[e - 1] and pre[w] < 0:
                stack_e[sp - 1] = e
                pre[w] = cnt
                vertex[cnt] = w
                parent[cnt] = pre[v]
                cnt += 1
                stack_v[sp] = w
                stack_e[sp] = first[w]
                sp += 1
                pushed = True
                break
        if not pushed:
            sp -= 1
    return pre, vertex[:cnt], parent[:cnt]


@njit(cache=True, nogil=True)
def _snca(n, first, to, ok, pre, vertex, parent, indeg):
    """Semi-NCA immediate dominators, in preorder numbers (``indeg``: zeros, N + 1 long).

    Consumes its inputs to save memory: ``pre`` is overwritten (it becomes the semidominators) and
    ``parent`` becomes the result."""
    N = len(vertex)
    # predecessor lists (by preorder number) over essential edges between reachable nodes
    for i in range(N):
        v = vertex[i]
        for e in range(first[v], first[v + 1]):
            if ok[e]:
                w = pre[to[e]]
                if w >= 0:
                    indeg[w + 1] += 1
    for i in range(N):
        indeg[i + 1] += indeg[i]
    preds = np.empty(indeg[N], np.int32)
    # fill back to front with the end offset indeg[w + 1] as w's cursor (no second offsets array);
    # afterwards indeg[w + 1] holds w's start, so shift everything down by one
    for i in range(N - 1, -1, -1):
        v = vertex[i]
        for e in range(first[v + 1] - 1, first[v] - 1, -1):
            if ok[e]:
                w = pre[to[e]]
                if w >= 0:
                    indeg[w + 1] -= 1
                    preds[indeg[w + 1]] = i
    for w in range(N):
        indeg[w] = indeg[w + 1]
    indeg[N] = len(preds)
    # pre (per node) is not needed past this point: its memory becomes semi (per preorder number, N <= n)
    semi = pre[:N]
    for i in range(N):
        semi[i] = i
    label = np.empty(N, np.int32)   # not arange().astype(): no int64 temporary
    for i in range(N):
        label[i] = i
    ancestor = np.full(N, -1, np.int32)
    path = np.empty(N, np.int32)
    for w in range(N - 1, 0, -1):
        s = semi[w]
        for k in range(indeg[w], indeg[w + 1]):
            u = preds[k]
            # eval(u) with path compression
            if ancestor[u] < 0:
                cand = u
            else:
                depth = 0
                x = u
                while ancestor[ancestor[x]] >= 0:
                    path[depth] = x
                    depth += 1
                    x = ancestor[x]
                for j in range(depth - 1, -1, -1):
                    y = path[j]
                    a = ancestor[y]
                    if semi[label[a]] < semi[label[y]]:
                        label[y] = label[a]
                    ancestor[y] = ancestor[a]
                cand = label[u]
            if semi[cand] < s:
                s = semi[cand]
        semi[w] = s
        ancestor[w] = parent[w]
    idom = parent              # the DFS parents are not needed any more: turn them into idoms in place
    idom[0] = 0
    for w in range(1, N):
        d = idom[w]
        while d > semi[w]:
            d = idom[d]
        idom[w] = d
    return idom


def dominator_tree(n, first, to, ok, root=0):
    """Immediate dominator of every node (-1 for the root and unreachable nodes) and the preorder.

    Returns ``(idom, order)``: ``idom[v]`` is a node index; ``order`` lists the
    reachable nodes so that every node comes after its dominator.
    """
    pre, vertex, parent = _dfs_preorder(n, first, to, ok, root)
    indeg = np.zeros(len(vertex) + 1, np.int32 if len(to) < 2**31 else np.int64)
    idom_pre = _snca(n, first, to, ok, pre, vertex, parent, indeg)   # parent becomes idom_pre; pre is used up
    del indeg, pre
    idom = np.full(n, -1, np.int32)
    idom[vertex] = vertex[idom_pre]
    idom[root] = -1
    return idom, vertex


@njit(cache=True, nogil=True)
def _accumulate(idom, order, sizes):
    ret = np.empty(len(sizes), np.int64)   # one int64 copy, whatever the sizes' type
    for v in range(len(sizes)):
        ret[v] = sizes[v]
    for k in range(len(order) - 1, 0, -1):
        v = order[k]
        d = idom[v]
        if d >= 0:
            ret[d] += ret[v]
    return ret


def retained_sizes(idom, order, self_size):
    """Retained size of every node: its own size plus everything it dominates."""
    return _accumulate(idom, order, np.asarray(self_size))


@njit(cache=True, nogil=True)
def _owners(idom, order, is_owner):
    owner = np.empty(len(idom), np.int32)   # not arange().astype(): no int64 temporary
    for i in range(len(idom)):
        owner[i] = i
    for k in range(1, len(order)):
        v = order[k]
        d = idom[v]
        if d >= 0 and not is_owner[v] and is_owner[owner[d]]:
            owner[v] = owner[d]
    return owner


def owners(idom, order, is_owner):
    """The nearest dominator (or the node itself) that is a user-level owner, per node.

    Internal objects (backing arrays, contexts, hidden system objects) are
    charged to the user-level object that dominates them; an internal object
    with no such dominator owns itself.
    """
    return _owners(idom, order, np.asarray(is_owner, dtype=np.bool_))


@njit(cache=True, nogil=True)
def _bfs(n, first, to, ok, root, via, pred):
    dist = np.full(n, -1, np.int32)
    queue = np.empty(n, np.int32)
    head = 0
    tail = 1
    queue[0] = root
    dist[root] = 0
    while head < tail:
        v = queue[head]
        head += 1
        for e in range(first[v], first[v + 1]):
            if ok[e]:
                w = to[e]
                if dist[w] < 0:
                    dist[w] = dist[v] + 1
                    via[w] = e
                    pred[w] = v
                    queue[tail] = w
                    tail += 1
    return dist


def shortest_paths(n, first, to, ok, root=0):
    """Breadth-first ``(distance, via edge, predecessor node)`` per node from the root (-1: unreachable)."""
    via = np.full(n, -1, np.int64 if len(to) >= 2**31 else np.int32)   # the edge that reached each node
    pred = np.full(n, -1, np.int32)                                      # ... and the node it came from
    dist = _bfs(n, first, to, ok, root, via, pred)
    return dist, via, pred


@njit(cache=True, nogil=True)
def top_marked(idom, order, marked):
    """For every node, the outermost marked dominator (itself included), or -1."""
    top = np.full(len(idom), -1, np.int32)
    for k in range(len(order)):
        v = order[k]
        d = idom[v]
        if d >= 0 and top[d] >= 0:
            top[v] = top[d]
        elif marked[v]:
            top[v] = v
    return top
