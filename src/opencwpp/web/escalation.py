"""Privilege-escalation paths drawn as a graph: principal → technique → principal … → admin.

The paths are the stored `iam_privesc_path` findings (`cwpp iam paths`), so the page reads the
lake and never re-runs the analysis. The layout is layered left to right (a node's column is the
longest chain of steps before it; admin is always last), nodes in a column ordered by their
predecessors' positions to keep edges short. The SVG is built here: names are attacker-
controlled, so every text and attribute goes through `markupsafe.escape`; colours come from CSS
classes (the page's CSP allows no inline style) and nothing is loaded from elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from opencwpp.iam.privesc import ADMIN, CHECK_ID
from opencwpp.lake.lake import Lake
from opencwpp.report import text

NODE_W, NODE_H, COL_GAP, ROW_GAP, PAD = 210, 34, 70, 14, 12
LABEL_CHARS = 30
MAX_PATHS = 60


@dataclass
class Node:
    """A principal, a technique step or admin, and where it is drawn."""

    key: str
    kind: str  # principal | technique | admin
    label: str
    tooltip: str
    href: str = ""
    column: int = 0
    row: int = 0
    preds: list[str] = field(default_factory=list)


def _json(value: Any) -> Any:
    while isinstance(value, str):
        value = json.loads(value)
    return value


def escalation_paths(lake: Lake, limit: int = MAX_PATHS) -> tuple[list[dict[str, Any]], int]:
    """The failing privesc findings' paths (most severe, shortest first) and how many exist."""
    if not lake.table_exists("cwpp_findings"):
        return [], 0
    rows = lake.query(
        "SELECT resource_uid, resource_name, severity_rank, evidence FROM cwpp_findings "
        "WHERE check_id = ? AND status = ? ORDER BY severity_rank DESC, resource_uid",
        [CHECK_ID, "FAIL"],
    )
    paths = []
    for row in rows:
        evidence = _json(row["evidence"]) or {}
        steps = [s for s in evidence.get("path", []) if isinstance(s, dict)]
        if steps:
            paths.append(
                {
                    "principal": row["resource_uid"],
                    "name": row["resource_name"] or "",
                    "steps": steps,
                }
            )
    paths.sort(key=lambda p: len(p["steps"]))
    return paths[:limit], len(paths)


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]


class _Builder:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str], str] = {}  # (from, to) -> css class

    def principal(self, arn: str) -> str:
        if arn == ADMIN:
            self.nodes.setdefault(ADMIN, Node(ADMIN, "admin", "admin", "full administrator"))
            return ADMIN
        key = f"p:{arn}"
        href = f"/resource?uid={quote(arn, safe='')}"
        self.nodes.setdefault(key, Node(key, "principal", _short(arn), arn, href))
        return key

    def technique(self, step: dict[str, Any], target: str) -> str:
        tid = str(step.get("technique", "?"))
        key = f"t:{tid}>{target}"
        tip = f"{tid}: {step.get('technique_title', '')}"
        self.nodes.setdefault(key, Node(key, "technique", tid, tip))
        return key

    def edge(self, a: str, b: str, css: str = "edge") -> None:
        self.edges.setdefault((a, b), css)
        if a not in self.nodes[b].preds:
            self.nodes[b].preds.append(a)

    def add(self, path: dict[str, Any]) -> None:
        current = self.principal(str(path["principal"]))
        for step in path["steps"]:
            target = self.principal(str(step.get("to", ADMIN)))
            tech = self.technique(step, target)
            self.edge(current, tech)
            self.edge(tech, target)
            current = target
        if current != ADMIN:  # the path ends at a principal that is admin already
            self.edge(current, self.principal(ADMIN), "edge is-admin")


def _layout(nodes: dict[str, Node], edges: dict[tuple[str, str], str]) -> int:
    """Columns by longest chain (bounded: a cycle cannot loop), admin last; rows per column."""
    for _ in range(len(nodes)):
        changed = False
        for a, b in edges:
            if nodes[b].column < nodes[a].column + 1 and b != ADMIN:
                nodes[b].column = nodes[a].column + 1
                changed = True
        if not changed:
            break
    last = max((n.column for k, n in nodes.items() if k != ADMIN), default=0) + 1
    if ADMIN in nodes:
        nodes[ADMIN].column = last
    columns: dict[int, list[Node]] = {}
    for node in nodes.values():  # insertion order: paths in their sorted order
        columns.setdefault(node.column, []).append(node)
    for col in sorted(columns):
        members = columns[col]
        if col:
            members.sort(key=lambda n: sum(nodes[p].row for p in n.preds) / max(len(n.preds), 1))
        for row, node in enumerate(members):
            node.row = row
    return max((len(m) for m in columns.values()), default=0)


def _xy(node: Node) -> tuple[float, float]:
    return PAD + node.column * (NODE_W + COL_GAP), PAD + node.row * (NODE_H + ROW_GAP)


def _node_svg(node: Node) -> str:
    x, y = _xy(node)
    label = escape(text.truncate(text.clean(node.label), LABEL_CHARS))
    rx = 17 if node.kind == "technique" else 6
    body = (
        f'<g class="node node-{node.kind}"><title>{escape(text.clean(node.tooltip))}</title>'
        f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="{rx}"/>'
        f'<text x="{x + NODE_W / 2}" y="{y + NODE_H / 2}" text-anchor="middle" '
        f'dominant-baseline="central">{label}</text></g>'
    )
    if node.href:
        return f'<a href="{escape(node.href)}">{body}</a>'
    return body


def _edge_svg(a: Node, b: Node, css: str) -> str:
    x1, y1 = _xy(a)
    x2, y2 = _xy(b)
    x1, y1, y2 = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
    mid = (x1 + x2) / 2
    return (
        f'<path class="{escape(css)}" d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2 - 4},{y2}" '
        'marker-end="url(#esc-arrow)"/>'
    )


def escalation_graph(paths: list[dict[str, Any]]) -> Markup | None:
    """The paths as one inline SVG graph; None when there is no path."""
    if not paths:
        return None
    builder = _Builder()
    for path in paths:
        builder.add(path)
    nodes, edges = builder.nodes, builder.edges
    rows = _layout(nodes, edges)
    columns = max(n.column for n in nodes.values()) + 1
    width = 2 * PAD + columns * NODE_W + (columns - 1) * COL_GAP
    height = 2 * PAD + rows * NODE_H + (rows - 1) * ROW_GAP
    parts = [
        f'<svg class="escalation" id="escalation-graph" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        "<title>Privilege-escalation paths to admin</title>",
        '<defs><marker id="esc-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path class="arrow" d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>",
    ]
    parts += [_edge_svg(nodes[a], nodes[b], css) for (a, b), css in edges.items()]
    parts += [_node_svg(n) for n in nodes.values()]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
