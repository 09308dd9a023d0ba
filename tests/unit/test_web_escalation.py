"""The escalation graph's SVG: layered left to right, admin last, shared nodes, names escaped."""

import xml.etree.ElementTree as ET
from typing import Any

from opencwpp.web.escalation import escalation_graph

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<img src=x onerror=alert(1)>"
ACC = "111122223333"


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACC}:{kind}/{name}"


def step(src: str, dst: str, technique: str, title: str = "") -> dict[str, Any]:
    return {"from": src, "to": dst, "technique": technique, "technique_title": title}


def nodes(svg: ET.Element) -> dict[str, tuple[str, float, float]]:
    out = {}
    for g in svg.iter(f"{NS}g"):
        rect, label = g.find(f"{NS}rect"), g.find(f"{NS}text")
        assert rect is not None and label is not None and label.text is not None
        out[label.text] = (g.get("class", ""), float(rect.get("x", 0)), float(rect.get("y", 0)))
    return out


def test_no_paths_no_graph() -> None:
    assert escalation_graph([]) is None


def test_multi_hop_paths_share_nodes_and_end_at_admin() -> None:
    ci = arn("role", "ci")
    paths = [
        # alice assumes the ci role, which rewrites its own policy: two hops
        {
            "principal": arn("user", "alice"),
            "steps": [
                step(arn("user", "alice"), ci, "sts-001"),
                step(ci, "admin", "iam-001"),
            ],
        },
        {"principal": ci, "steps": [step(ci, "admin", "iam-001")]},
        # bob passes an admin role to EC2: ends at a principal that is admin already
        {
            "principal": arn("user", "bob"),
            "steps": [step(arn("user", "bob"), arn("role", "box"), "ec2-001")],
        },
    ]
    svg = ET.fromstring(str(escalation_graph(paths)))
    found = nodes(svg)
    assert set(found) == {"alice", "bob", "ci", "box", "sts-001", "iam-001", "ec2-001", "admin"}
    x = {label: v[1] for label, v in found.items()}
    assert x["alice"] < x["sts-001"] < x["ci"] < x["iam-001"] < x["admin"]
    assert x["bob"] < x["ec2-001"] < x["box"] < x["admin"]
    assert x["admin"] == max(x.values())  # admin is always the last column
    assert found["admin"][0] == "node node-admin"
    edges = [p.get("class") for p in svg.iter(f"{NS}path") if p.get("class", "").startswith("edge")]
    # ci's own path reuses the iam-001 → admin node: 5 edges + box "is admin"
    assert sorted(edges) == ["edge"] * 6 + ["edge is-admin"]
    # principals link to their resource page; techniques and admin do not
    hrefs = sorted(a.get("href", "") for a in svg.iter(f"{NS}a"))
    assert len(hrefs) == 4 and all(h.startswith("/resource?uid=arn%3Aaws%3Aiam") for h in hrefs)


def test_hostile_names_are_text_and_the_svg_stays_well_formed() -> None:
    evil = arn("user", HOSTILE)
    quote_breaker = 'x" onmouseover="alert(1)'
    paths = [
        {
            "principal": evil,
            "steps": [step(evil, "admin", quote_breaker, title=f"{HOSTILE} & </title><script>")],
        }
    ]
    markup = str(escalation_graph(paths))
    assert "<img" not in markup and "<script" not in markup
    assert 'onmouseover="' not in markup
    svg = ET.fromstring(markup)
    titles = [t.text or "" for t in svg.iter(f"{NS}title")]
    assert any("</title><script>" in t for t in titles)  # round-trips as text
    labels = set(nodes(svg))
    assert any(label.startswith("<img src=x") for label in labels)  # truncated, as text


def test_a_cycle_between_principals_cannot_hang_the_layout() -> None:
    a, b = arn("user", "a"), arn("user", "b")
    paths = [
        {"principal": a, "steps": [step(a, b, "t1"), step(b, "admin", "t2")]},
        {"principal": b, "steps": [step(b, a, "t3"), step(a, "admin", "t4")]},
    ]
    svg = ET.fromstring(str(escalation_graph(paths)))
    x = {label: v[1] for label, v in nodes(svg).items()}
    assert x["admin"] == max(x.values())
