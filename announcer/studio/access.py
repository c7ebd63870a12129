"""Who may see and do what with a clip, checked on every answer the studio gives.

- An editor sees the clips they submitted, and nothing else: not other editors' clips, not batch jobs.
- A reviewer or an admin sees every clip (they review them) and the batch jobs on the same store.
- Only the clip's own editor, or an admin, may cancel or retry it; a batch job only an admin.
- Nobody reviews a clip they submitted, unless the studio is set up for a one-person team.
A clip the caller may not see is answered as one that does not exist (404), so ids cannot be probed.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException
from fastapi import Path as PathPart

from .store import User

JobId = Annotated[int, PathPart(ge=1, le=2**53, description="a clip's (or job's) id")]
"""A job id in a URL: a 40-digit one is refused with 422 before the store is asked (SQLite's integers stop at 2**63)."""


def may_see(user: User, clip: dict | None) -> bool:
    """`clip`: the studio's record of the job (None for a batch or schedule job)."""
    if user.may("reviewer"):
        return True
    return clip is not None and clip.get("submitted_by") == user.name


def check_may_see(user: User, clip: dict | None, job_id: int) -> None:
    if not may_see(user, clip):
        raise HTTPException(404, f"no clip {job_id}")


def check_may_manage(user: User, clip: dict | None, job_id: int) -> None:
    """Cancel or retry: the clip's own editor, or an admin."""
    check_may_see(user, clip, job_id)
    if not (user.may("admin") or (clip is not None and clip.get("submitted_by") == user.name)):
        raise HTTPException(403, f"clip {job_id} is {clip.get('submitted_by') if clip else 'a batch job'}'s: only they or an "
                                 f"admin may cancel or retry it")


def check_may_review(user: User, clip: dict | None, job_id: int, one_person_team: bool) -> None:
    check_may_see(user, clip, job_id)
    if not user.may("reviewer"):
        raise HTTPException(403, f"{user.name} is a {user.role}; this needs a reviewer")
    if clip is not None and clip.get("submitted_by") == user.name and not one_person_team:
        raise HTTPException(403, f"{user.name} submitted clip {job_id}: another reviewer must review it (or run the "
                                 f"studio with --one-person-team)")


__all__ = ["JobId", "check_may_manage", "check_may_review", "check_may_see", "may_see"]
