"""Provenance of CLI outputs: the OUTPUT.restorer.json sidecar (fields, hashes, refusals) and the XMP history entry."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from restorer.cli import main
from restorer.core import xmp
from restorer.core.image import load_photo
from restorer.core.maskfile import load_mask
from restorer.core.provenance import mask_sha256, sidecar_path

TITLE_XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" '
    b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:Credit="County Archive">'
    b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Grandma at the pier</rdf:li></rdf:Alt></dc:title>'
    b'<xmpMM:History><rdf:Seq><rdf:li stEvt:action="created" stEvt:softwareAgent="Scanner 2"/></rdf:Seq></xmpMM:History>'
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def _pixels(h: int = 32, w: int = 48) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([(xx * 5) % 256, (yy * 7) % 256, (xx + yy) % 256], -1).astype(np.uint8)


def _mask(path: Path, h: int = 32, w: int = 48) -> Path:
    m = np.zeros((h, w), np.uint8)
    m[10:14, 8:30] = 255
    Image.fromarray(m).save(path)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _source(path: Path, with_xmp: bool = False) -> Path:
    px = _pixels()
    fmt = path.suffix.lower()
    if fmt == ".png":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        if with_xmp:
            info.add_itxt("XML:com.adobe.xmp", TITLE_XMP.decode())
        Image.fromarray(px).save(path, pnginfo=info)
    elif fmt in (".tif", ".tiff"):
        extratags = [(700, 1, len(TITLE_XMP), TITLE_XMP, True)] if with_xmp else []
        tifffile.imwrite(path, px, photometric="rgb", extratags=extratags)
    else:
        Image.fromarray(px).save(path, quality=95, **({"xmp": TITLE_XMP} if with_xmp else {}))
    return path


def test_sidecar_fields_and_hashes_match_the_files(tmp_path: Path, capsys) -> None:
    photo, mask, out = _source(tmp_path / "p.png"), _mask(tmp_path / "m.png"), tmp_path / "out.png"
    code, _, err = _run(["inpaint", photo, "-m", mask, "-o", out, "--model", "telea", "-q"], capsys)
    assert code == 0, err
    side = sidecar_path(out)
    assert side.name == "out.png.restorer.json"
    data = json.loads(side.read_text())
    from importlib.metadata import version

    assert data["version"] == version("restorer")
    assert data["source"] == {"path": str(photo.absolute()), "sha256": _sha(photo)}
    assert data["output"]["sha256"] == _sha(out) and data["output"]["path"] == str(out.absolute())
    (step,) = data["steps"]
    assert step["kind"] == "fill" and step["model"] == "telea" and step["weights_sha256"] is None
    assert step["device"] == "cpu" and step["time"].endswith("+00:00")
    assert step["mask_sha256"] == mask_sha256(load_mask(mask, (32, 48))) and step["mask_pixels"] == 4 * 22
    assert data["xmp_history"] is True


def test_sidecar_names_the_learned_models_weights(tmp_path: Path, capsys) -> None:
    from restorer.models import registry

    learned = next((s for s in registry.all_specs() if s.weights and registry.check(s).ready), None)
    if learned is None:
        pytest.skip("no learned model's weights are installed")
    photo, mask, out = _source(tmp_path / "p.png"), _mask(tmp_path / "m.png"), tmp_path / "out.png"
    code, _, err = _run(["inpaint", photo, "-m", mask, "-o", out, "--model", learned.name, "-q", "--device", "cpu"], capsys)
    assert code == 0, err
    step = json.loads(sidecar_path(out).read_text())["steps"][0]
    assert step["weights_sha256"] == _sha(registry.weights_dir() / learned.weights)


def test_no_sidecar_writes_none_and_no_history(tmp_path: Path, capsys) -> None:
    photo, mask, out = _source(tmp_path / "p.png"), _mask(tmp_path / "m.png"), tmp_path / "out.png"
    code, _, err = _run(["inpaint", photo, "-m", mask, "-o", out, "--model", "telea", "-q", "--no-sidecar"], capsys)
    assert code == 0, err
    assert not sidecar_path(out).exists()
    assert "xmp" not in load_photo(out).meta.extra


def test_an_existing_sidecar_is_refused_without_overwrite(tmp_path: Path, capsys) -> None:
    photo, mask, out = _source(tmp_path / "p.png"), _mask(tmp_path / "m.png"), tmp_path / "out.png"
    sidecar_path(out).write_text("{\"mine\": 1}")
    code, _, err = _run(["inpaint", photo, "-m", mask, "-o", out, "--model", "telea", "-q"], capsys)
    assert code == 1 and "sidecar already exists" in err and "--overwrite" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and sidecar_path(out).read_text() == "{\"mine\": 1}"
    code, _, err = _run(["inpaint", photo, "-m", mask, "-o", out, "--model", "telea", "-q", "--overwrite"], capsys)
    assert code == 0, err
    assert json.loads(sidecar_path(out).read_text())["output"]["sha256"] == _sha(out)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg"])
@pytest.mark.parametrize("with_xmp", [False, True])
def test_xmp_history_is_added_and_other_content_kept(suffix: str, with_xmp: bool, tmp_path: Path, capsys) -> None:
    photo = _source(tmp_path / f"p{suffix}", with_xmp=with_xmp)
    mask, out = _mask(tmp_path / "m.png"), tmp_path / f"out{suffix}"
    code, _, err = _run(["inpaint", photo, "-m", mask, "-o", out, "--model", "telea", "-q"], capsys)
    assert code == 0, err
    packet = load_photo(out).meta.extra["xmp"]
    events = xmp.history(packet)
    assert events[-1]["action"] == "modified" and events[-1]["softwareAgent"].startswith("Restorer ")
    assert events[-1]["when"].endswith("+00:00")
    text = packet.decode()
    assert text.count("<?xpacket begin") == 1 and text.count("xmpMM:History") == 2  # one History, opened and closed
    if with_xmp:
        assert events[0] == {"action": "created", "softwareAgent": "Scanner 2"}
        assert "Grandma at the pier" in text and "County Archive" in text and "dc:title" in text
    if suffix == ".png":  # exactly one XMP chunk in the file
        assert out.read_bytes().count(b"XML:com.adobe.xmp") == 1


def test_a_conversion_is_recorded_as_converted(tmp_path: Path, capsys) -> None:
    photo = _source(tmp_path / "p.jpg", with_xmp=True)
    mask, out = _mask(tmp_path / "m.png"), tmp_path / "out.tif"
    code, _, err = _run(["inpaint", photo, "-m", mask, "-o", out, "--model", "telea", "-q"], capsys)
    assert code == 0, err
    events = xmp.history(load_photo(out).meta.extra["xmp"])
    assert [e["action"] for e in events] == ["created", "converted"]


def test_an_unreadable_xmp_packet_is_kept_as_it_was(tmp_path: Path) -> None:
    from restorer.core.provenance import add_xmp_history

    bad = b"<x:xmpmeta><rdf:RDF>not closed"
    extra = {"xmp": bad}
    note = add_xmp_history(extra, source_format="JPEG", target_format="JPEG")
    assert note and "kept unchanged" in note and extra["xmp"] is bad


def test_a_packet_with_a_doctype_is_never_expanded_or_replaced() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&a;</x:xmpmeta>'
    assert xmp.add_history(bomb, xmp.history_event("modified", "Restorer", "now")) is None


def test_a_compressed_png_xmp_chunk_gets_the_event_and_stays_one_chunk(tmp_path: Path, capsys) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", TITLE_XMP.decode(), zip=True)
    photo = tmp_path / "p.png"
    Image.fromarray(_pixels()).save(photo, pnginfo=info)
    out = tmp_path / "out.png"
    code, _, err = _run(["inpaint", photo, "-m", _mask(tmp_path / "m.png"), "-o", out, "--model", "telea", "-q"], capsys)
    assert code == 0, err
    assert out.read_bytes().count(b"XML:com.adobe.xmp") == 1
    packet = load_photo(out).meta.extra["xmp"]
    assert b"Grandma at the pier" in packet and [e["action"] for e in xmp.history(packet)] == ["created", "modified"]
