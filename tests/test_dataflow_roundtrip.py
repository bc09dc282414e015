"""Property-based: a random flow, rendered as a document, parses back to the same flow."""

from __future__ import annotations

from flowdocs import INTRO_NEW, INTRO_OLD, document, section
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.flow.model import Condition, Flow, Link, MergeRule, Pair, PropertyMap
from audit.flow.parser import parse_text

LABELS = ["Alpha", "PowerOffice GO", "Business Central", "HubSpot", ""]
WORDS = ["Customer", "Contactperson", "Supplier", "Address", "Employees", "Salesorders", "Item"]
TYPES = ['"string"', '"integer"', '"float"', '"boolean"', '"list"', '"decimal"', "N/A"]

ident = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z][A-Za-z0-9_]{0,8}){0,2}", fullmatch=True)
entity = st.builds(
    lambda base, extra: base + extra,
    st.sampled_from(WORDS),
    st.sampled_from(["", " (human data)", " (classification data)"]),
)
condition = st.builds(
    Condition,
    value=st.sampled_from(["", "wd:Q20", "wd:Q852835"]),
    path=ident,
)


@st.composite
def properties(draw):
    source, target = draw(ident), draw(ident)
    raw = draw(st.sampled_from(TYPES))
    conds = draw(st.lists(condition, max_size=2, unique=True))
    return PropertyMap(
        source=source,
        target=target,
        datatype=None if raw == "N/A" else raw.strip('"'),
        datatype_raw=raw,
        conditions=tuple(conds),
    )


@st.composite
def flows(draw):
    a = draw(st.sampled_from(LABELS[:-1]))
    b = draw(st.sampled_from(LABELS))
    names = draw(st.lists(st.tuples(entity, entity), max_size=4, unique=True))
    pairs = []
    for x, y in names:
        merge = draw(st.lists(st.tuples(ident, ident), max_size=10))
        every = draw(st.booleans()) or not merge
        props = draw(st.lists(properties(), max_size=6))
        heading = f"{a} {x} to {b} {y}".strip() if b else f"{a} {x} to  {y}"
        pairs.append(
            Pair(
                heading=heading,
                source_entity=x,
                target_entity=y,
                link=Link(every=every),
                merge_rules=tuple(MergeRule(s, t) for s, t in merge),
                properties=tuple(props),
                source_label=a,
                target_label=b,
                two_way=True,
            )
        )
    return Flow(
        title=f"{a} to {b} Dataflow",
        source_system=a,
        target_system=b,
        generated="2024-11-13T00:00:00",
        pairs=tuple(pairs),
    )


def _cell(path: str, conditions: tuple[Condition, ...]) -> str:
    if not conditions:
        return path
    return f"{path} (" + "".join(f"Dependant on having {c.value} in {c.path}" for c in conditions) + ")"


def render(flow: Flow, intro: str, crlf: bool) -> str:
    sections = []
    for p in flow.pairs:
        sections.append(
            section(
                p.heading,
                p.source_label,
                p.source_entity,
                p.target_label,
                p.target_entity,
                every=p.link.every,
                merge=[(r.source, r.target) for r in p.merge_rules] if p.merge_rules else None,
                properties=[
                    # conditions go on the source cell, as Sesam Talk writes most of them
                    (_cell(q.source, q.conditions), q.target, q.datatype_raw)
                    for q in p.properties
                ],
            )
        )
    text = document(flow.source_system, flow.target_system, sections, intro=intro)
    return text.replace("\n", "\r\n") if crlf else text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows(), st.sampled_from([INTRO_NEW, INTRO_OLD]), st.booleans())
def test_rendered_flow_parses_back_to_itself(flow, intro, crlf):
    parsed = parse_text(render(flow, intro, crlf))
    assert parsed.to_dict() == flow.to_dict()
    assert [(p.source_label, p.target_label) for p in parsed.pairs] == [
        (p.source_label, p.target_label) for p in flow.pairs
    ]
