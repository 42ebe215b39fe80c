"""Benign demo posters: cartoon faces drawn here, never a real person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from cvis.policy import Actor
from cvis.portal import service
from cvis.portal.settings import PortalSettings
from cvis.store.db import Store


def draw_face(path: Path, hue: int = 0) -> Path:
    """A cartoon face, drawn with Pillow: the only kind of "photograph" demos and tests use."""
    image = Image.new("RGB", (240, 300), (200 + hue % 40, 220, 235))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 50, 200, 250), fill=(240, 200, 160), outline=(60, 40, 20), width=4)
    draw.ellipse((80, 120, 105, 140), fill=(30, 30, 30))
    draw.ellipse((135, 120, 160, 140), fill=(30, 30, 30))
    draw.arc((85, 160, 155, 215), 20, 160, fill=(120, 30, 30), width=5)
    draw.rectangle((40, 30, 200, 70), fill=(90 + hue % 100, 60, 30))
    image.save(path)
    return path


def demo_poster(folder: Path, **changes: Any) -> Path:
    """A poster JSON (the contract's shape) with two drawn faces beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    draw_face(folder / "face.png")
    draw_face(folder / "profile.png", hue=50)
    data: dict[str, Any] = {
        "kind": "fugitive", "title": "Jordan Example",
        "aliases": ["J. Sample", "Jay"],
        "description": "Wanted for failing to register; may travel by bus.",
        "descriptors": {"Height": "5 ft 10 in", "Eyes": "brown", "Marks": "scar on left hand"},
        "charges": ["Failure to register as a sex offender"],
        "photos": [{"path": "face.png", "caption": "Artist's drawing, 2026"}, "profile.png"],
        "field_office": "Albany field office", "areas": [{"zip": "12207", "radius_miles": 25}],
        "reward": "Up to $5,000", "caution": "Do not approach.",
    }
    data.update(changes)
    path = folder / f"poster-{abs(hash(json.dumps(data, sort_keys=True))) % 10_000}.json"
    path.write_text(json.dumps(data))
    return path


def publish_demo_poster(store: Store, folder: Path, actor: Actor,
                        settings: PortalSettings | None = None) -> service.Published:
    """For `cvis demo`: one drawn poster, prepared and published as a person would in the
    analyst application (so it is listed there too)."""
    from cvis.portal import drafts

    settings = settings or PortalSettings(store=store.settings)
    data = json.loads(demo_poster(folder).read_text())
    form = drafts.DraftForm(
        kind=data["kind"], title=data["title"], aliases="\n".join(data["aliases"]),
        description=data["description"],
        descriptors="\n".join(f"{k}: {v}" for k, v in data["descriptors"].items()),
        charges="\n".join(data["charges"]), caution=data["caution"], reward=data["reward"],
        field_office=data["field_office"], areas="12207 25",
        captions="Artist's drawing, 2026\nProfile drawing")
    return drafts.publish(store, settings, actor, drafts.create(store, actor, form))
