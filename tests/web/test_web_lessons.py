"""The ``lesson`` message on a session: each chapter's schema refuses bad requests with a message
naming the field, the result is the chapter module's own ``run``, and the run is untouched."""

from __future__ import annotations

import json

from deltaflow.training.config import RunConfig
from deltaflow.web.lessons import CHAPTERS, LESSONS
from deltaflow.web.lessons.vanishing import VanishingRequest, run
from deltaflow.web.limits import Limits
from deltaflow.web.session import Session


def session() -> Session:
    return Session(Limits(), RunConfig.from_dict({"data": {"name": "xor"}, "model": {"hidden": [3]}}))


def ask(s: Session, chapter, request) -> dict:
    (reply,) = s.handle(json.dumps({"type": "lesson", "chapter": chapter, "request": request}))
    return reply


def test_a_lesson_answers_with_its_chapters_run_and_leaves_the_session_as_it_was():
    s = session()
    before = s.state()
    request = {"part": "gradients", "depth": 3}
    reply = ask(s, "vanishing", request)
    assert reply["type"] == "lesson" and reply["chapter"] == "vanishing"
    assert reply["result"] == json.loads(json.dumps(run(VanishingRequest.model_validate(request))))
    after = s.state()
    assert {k: after[k] for k in ("step", "config", "running", "edited")} == \
        {k: before[k] for k in ("step", "config", "running", "edited")}


def test_bad_lessons_are_refused_with_the_field_named_and_the_session_lives_on():
    s = session()
    unknown = ask(s, "telepathy", {})
    assert unknown["type"] == "error" and unknown["about"] == "lesson"
    assert "unknown chapter 'telepathy'" in unknown["message"]
    too_deep = ask(s, "vanishing", {"part": "gradients", "depth": 10_000})
    assert too_deep["type"] == "error" and "vanishing: depth" in too_deep["message"]
    assert "less than or equal to 30" in too_deep["message"]
    extra = ask(s, "vanishing", {"part": "gradients", "rm": "-rf"})
    assert extra["type"] == "error" and "rm" in extra["message"]
    as_text = ask(s, "vanishing", {"part": "gradients", "depth": "3"})  # strict: "3" is not a number
    assert as_text["type"] == "error" and "depth" in as_text["message"]
    assert ask(s, "vanishing", {"part": "gradients", "depth": 2})["type"] == "lesson"


def test_every_chapter_has_a_strict_bounded_schema():
    for chapter in CHAPTERS:
        model, _ = LESSONS[chapter]
        assert model.model_config["extra"] == "forbid" and model.model_config["strict"], chapter
