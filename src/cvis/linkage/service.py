"""The linkage facade the CLI (and later the API) calls; one function per command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cvis.linkage import releases as releases_mod
from cvis.linkage import review as review_mod
from cvis.linkage import runs, validate
from cvis.linkage.home import default_state_dir
from cvis.linkage.mapping import load_mapping
from cvis.linkage.runs import InputSpec, RunRequest, RunResult
from cvis.linkage.state import LinkageState

__all__ = [
    "InputSpec",
    "RunRequest",
    "RunResult",
    "ReleaseListing",
    "check_inputs",
    "decide",
    "leads",
    "list_releases",
    "review_queue",
    "run",
    "state_dir",
]


def state_dir(explicit: Path | None) -> Path:
    """The `--state` directory, else `$CVIS_HOME/linkage`."""
    return Path(explicit) if explicit else default_state_dir()


def check_inputs(request: RunRequest, allow_missing: set[str] | None = None) -> list[str]:
    """Validate every input before anything runs (raises validate.InputError); returns
    notes on the comparisons that will not be made."""
    specs = [request.registry, *request.indices]
    return validate.check_run([(s.name, s.path, load_mapping(s.mapping)) for s in specs],
                              allow_missing or set())


def run(request: RunRequest, out: Path, progress: runs.Progress | None = None
        ) -> tuple[RunResult, dict[str, Path]]:
    """A monthly run; writes links.csv and its companions to `out`."""
    result = runs.execute(request, progress)
    return result, runs.write_outputs(result, out)


def review_queue(state: Path, include_decided: bool = False) -> list[review_mod.ReviewItem]:
    with LinkageState(state, purpose="link review") as st:
        return review_mod.queue(st, include_decided)


def decide(state: Path, key: str, decision: str, reviewer: str, note: str = ""
           ) -> review_mod.ReviewItem:
    with LinkageState(state, purpose="link review decision") as st:
        return review_mod.decide(st, key, decision, reviewer, note)


def decide_many(state: Path, actions: list[tuple[str, str]], reviewer: str, note: str = ""
                ) -> list[review_mod.ReviewItem]:
    """Several decisions at once; refused whole when one key gets both verdicts."""
    review_mod.check_actions(actions)
    with LinkageState(state, purpose="link review decision") as st:
        return [review_mod.decide(st, k, d, reviewer, note) for k, d in dict(actions).items()]


def reopen(state: Path, index: str, record_id: str, reason: str, reviewer: str = "") -> int:
    """Send a link back to review (e.g. the field found the wrong person)."""
    with LinkageState(state, purpose=f"link reopened: {reason}") as st:
        return review_mod.reopen(st, index, record_id, reason, reviewer)


def leads(state: Path, office: str | None = None) -> list[review_mod.Lead]:
    with LinkageState(state, purpose="link leads") as st:
        return review_mod.leads(st, office)


@dataclass(frozen=True)
class ReleaseListing:
    releases: list[releases_mod.Release]
    documents: list[tuple[Path, Path]]


def list_releases(state: Path, days: int = 90, as_of: date | None = None,
                  index: str | None = None, out: Path | None = None) -> ReleaseListing:
    """Upcoming releases of linked inmates; with `out`, their detainer-request drafts."""
    with LinkageState(state, purpose="link releases") as st:
        found = releases_mod.upcoming(st, days, as_of, index)
    docs = releases_mod.write_documents(found, out) if out else []
    return ReleaseListing(found, docs)
