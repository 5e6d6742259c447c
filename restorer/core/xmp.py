"""XMP packets: add an xmpMM:History event to a photo's packet, keeping everything else it says.

The packet is parsed with xml.etree (expat: no external entities are fetched; a packet with a
DOCTYPE is refused, which also rules out entity expansion), the event is appended to the first
xmpMM:History sequence (or a History is added to the first rdf:Description, or a Description to
rdf:RDF), and the tree is written back with the source's own namespace prefixes. A packet that
cannot be parsed is never replaced: ``add_history`` returns None and the caller keeps it as it was.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

X = "adobe:ns:meta/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_MM = "http://ns.adobe.com/xap/1.0/mm/"
ST_EVT = "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
PREFIXES = {X: "x", RDF: "rdf", XMP_MM: "xmpMM", ST_EVT: "stEvt"}

BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
END = '<?xpacket end="w"?>'
_PI = re.compile(r"<\?xpacket\b[^?]*\?>")
# Room for another tool to edit the packet in place, as the XMP specification recommends.
_PADDING = "\n" + (" " * 99 + "\n") * 20


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def new_packet() -> ET.Element:
    meta = ET.Element(_q(X, "xmpmeta"))
    ET.SubElement(meta, _q(RDF, "RDF"))
    return meta


def _parse(packet: bytes) -> tuple[ET.Element, dict[str, str]] | None:
    """The packet's root element and its prefix for each namespace, or None if it is not XML we read."""
    text = packet.decode("utf-8", "replace") if isinstance(packet, bytes) else str(packet)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None
    body = _PI.sub("", text).strip().lstrip("\ufeff")
    prefixes: dict[str, str] = {}
    try:
        for _, (prefix, uri) in ET.iterparse(io.StringIO(body), events=("start-ns",)):
            prefixes.setdefault(uri, prefix)
        parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
        parser.feed(body)
        root = parser.close()
    except ET.ParseError:
        return None
    return root, prefixes


def history_event(action: str, agent: str, when: str, changed: str | None = None) -> dict[str, str]:
    event = {"action": action, "softwareAgent": agent, "when": when}
    if changed:
        event["changed"] = changed
    return event


def add_history(packet: bytes | None, event: dict[str, str]) -> bytes | None:
    """``packet`` (or a new minimal one when None) with ``event`` appended to its xmpMM:History.

    Returns None when an existing packet cannot be read: the caller keeps it unchanged.
    """
    if packet:
        parsed = _parse(packet)
        if parsed is None:
            return None
        root, prefixes = parsed
    else:
        root, prefixes = new_packet(), {}
    rdf = root if root.tag == _q(RDF, "RDF") else root.find(f".//{_q(RDF, 'RDF')}")
    if rdf is None:
        return None
    seq = None
    for history in rdf.iter(_q(XMP_MM, "History")):
        seq = next((c for c in history if c.tag in (_q(RDF, "Seq"), _q(RDF, "Bag"))), None)
        if seq is None:
            seq = ET.SubElement(history, _q(RDF, "Seq"))
        break
    if seq is None:
        desc = rdf.find(_q(RDF, "Description"))
        if desc is None:
            desc = ET.SubElement(rdf, _q(RDF, "Description"), {_q(RDF, "about"): ""})
        seq = ET.SubElement(ET.SubElement(desc, _q(XMP_MM, "History")), _q(RDF, "Seq"))
    li = ET.SubElement(seq, _q(RDF, "li"), {_q(RDF, "parseType"): "Resource"})
    for key, value in event.items():
        ET.SubElement(li, _q(ST_EVT, key)).text = value
    if packet:
        ET.indent(li, space=" ", level=4)  # only the new event: the source's own layout is kept
    else:
        ET.indent(root, space=" ")
    return _serialize(root, prefixes)


def _serialize(root: ET.Element, prefixes: dict[str, str]) -> bytes:
    names = {**PREFIXES, **{uri: p for uri, p in prefixes.items() if p and not re.fullmatch(r"ns\d+", p)}}
    for uri, prefix in names.items():
        try:
            ET.register_namespace(prefix, uri)
        except ValueError:
            pass
    xml = ET.tostring(root, encoding="unicode")
    return f"{BEGIN}\n{xml}{_PADDING}{END}".encode()


def history(packet: bytes) -> list[dict[str, str]]:
    """The events of a packet's xmpMM:History, oldest first (for tests and the CLI's checks)."""
    parsed = _parse(packet)
    if parsed is None:
        return []
    events = []
    for hist in parsed[0].iter(_q(XMP_MM, "History")):
        for li in hist.iter(_q(RDF, "li")):
            event = {k.split("}")[-1]: v for k, v in li.attrib.items() if k.startswith(f"{{{ST_EVT}}}")}
            event.update({c.tag.split("}")[-1]: (c.text or "") for c in li if str(c.tag).startswith(f"{{{ST_EVT}}}")})
            events.append(event)
    return events
