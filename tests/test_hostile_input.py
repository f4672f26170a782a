"""Hostile and broken input, as a careful tester tries it (issue 11): the table of cases.

Each case is a few edits to a copy of tests/fixtures/minimal (or a file set up beside it), one
real `wst` command, and what a person must see: the one located message, naming the file, the
line and the fix, and the exit code. Nothing else may be an error, and no traceback may show.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ProjectDir, output_lines

CONFIG = "config.toml"
CALENDAR = "schedules/calendar.toml"
POSTS = "content/posts/safer-internet-day.toml"
BULLETIN = "content/bulletins/2099-02.toml"
TEXT = "It is Safer Internet Day. Ask your child which apps they like."
ALT = 'alt = "A parent and child look at a tablet together."'
OFFICIAL = ("(official: child MASH 01902 555392, adult MASH 01902 551199, out of hours "
            "01902 552999)")
ON_THE_DAY = "post 'safer-internet-day/on-the-day'"
STORY = ('month = "2099-02"\nsubject = "News for February"\npreheader = "What is on"\n\n'
         '[[story]]\ntitle = "Safer Internet Day"\nbody = "Talk to your child about apps."\n'
         'link = "https://www.wolverhamptonsafeguarding.org.uk/online"\n'
         'link_text = "Online safety tips"\nimage = "images/sid.png"\nalt = "A tablet."\n')

Edit = tuple[str, str | None, str]  # (file, text to replace or None to write the file, new text)


@dataclass(frozen=True)
class Case:
    """One bad input, the command a person runs, and what they must see."""

    name: str
    edits: tuple[Edit, ...]
    expected: str                          # a whole line of the output
    command: tuple[str, ...] = ("check",)
    code: int = 1                          # the exit code
    setup: Callable[[Path], None] | None = None
    only: bool = True                      # the only error (no follow-on errors)
    secret: str = ""                       # a value that must not be printed
    env: dict[str, str] = field(default_factory=dict)


def corrupt_store(root: Path) -> None:
    (root / "var").mkdir()
    (root / "var" / "wst.sqlite").write_bytes(b"not a database, just some bytes\n" * 64)


def file_in_the_way(root: Path) -> None:
    (root / "var").write_text("a file where the store's folder should be\n", encoding="utf-8")


def read_only_store(root: Path) -> None:
    """A real store, then config pointing at it through SQLite's read-only URI (as root, file
    modes do not stop writes; the driver answers as for a file this user may not write)."""
    from pipeline.store import open_store

    db = root / "var" / "wst.sqlite"
    open_store(f"sqlite:///{db}").close()
    config = root / CONFIG
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[roles]", f'[store]\nurl = "sqlite:///file:{db}?mode=ro&uri=true"\n\n[roles]'),
        encoding="utf-8")


def store_url(url: str) -> tuple[Edit, ...]:
    return ((CONFIG, "[roles]", f'[store]\nurl = "{url}"\n\n[roles]'),)


def post_text(new: str) -> tuple[Edit, ...]:
    return ((POSTS, TEXT, new),)


CASES = [
    # -- secrets in the wrong place --------------------------------------------------------------
    Case("alerts-password-literal", ((CONFIG, "[roles]", '[alerts]\npassword_env = "hunter2!x"\n\n[roles]'),),
         "config.toml:29: error: 'alerts.password_env' must name an environment variable in "
         "capitals, e.g. password_env = \"WST_ALERTS_PASSWORD\"; never write the value itself "
         "in config.toml", secret="hunter2!x"),
    Case("store-url-password-unparsable", store_url("postgresql://wst:pa55word@db:port/wst"),
         "config.toml:29: error: 'store.url' is not a database URL; write e.g. "
         "sqlite:///var/wst.sqlite or postgresql+psycopg://USER@HOST/DATABASE", secret="pa55word"),
    # -- the official website and numbers --------------------------------------------------------
    Case("partnership-website-http", ((CONFIG, 'website = "https://www', 'website = "http://www'),),
         "config.toml:7: error: 'partnership.website' = 'http://www.wolverhamptonsafeguarding.org.uk':"
         " write the address in full with https://, e.g. "
         "https://www.wolverhamptonsafeguarding.org.uk"),
    Case("official-website-misspelt",
         ((CONFIG, 'website = "www.wolverhamptonsafeguarding.org.uk"',
           'website = "www.wolverhamptonsafegaurding.org.uk"'),
          (POSTS, TEXT, TEXT + " See www.wolverhamptonsafeguarding.org.uk")),
         "config.toml:14: error: [official] website 'www.wolverhamptonsafegaurding.org.uk' and "
         "[partnership] website 'https://www.wolverhamptonsafeguarding.org.uk' differ by a slip: "
         "one is misspelt; make them the same"),
    Case("number-in-brackets", post_text(f"Call (01902) 555 329. {TEXT}"),
         f"{POSTS}:9: error: {ON_THE_DAY}: '(01902) 555 329' is not an official number; did you "
         f"mean 01902 555392? {OFFICIAL} [official-number; facebook, x]"),
    Case("number-international", post_text(f"Call +44 (0)1902 555329. {TEXT}"),
         f"{POSTS}:9: error: {ON_THE_DAY}: '+44 (0)1902 555329' is not an official number; did "
         f"you mean 01902 555392? {OFFICIAL} [official-number; facebook, x]"),
    Case("number-dashes", post_text(f"Call 01902–555–329. {TEXT}"),
         f"{POSTS}:9: error: {ON_THE_DAY}: '01902–555–329' is not an official number; did you "
         f"mean 01902 555392? {OFFICIAL} [official-number; facebook, x]"),
    Case("call-99", post_text(f"In danger? Call 99. {TEXT}"),
         f"{POSTS}:9: error: {ON_THE_DAY}: 'Call 99': 99 is not the emergency number; write 999 "
         f"(immediate danger) [official-number; facebook, x]"),
    Case("number-in-alt-text", ((POSTS, "alt = \"A parent", "alt = \"Call 01902 555329. A parent"),),
         f"{POSTS}:11: error: {ON_THE_DAY} alt text: '01902 555329' is not an official number; "
         f"did you mean 01902 555392? {OFFICIAL} [official-number; facebook, x]"),
    Case("official-site-over-http",
         post_text(f"{TEXT} See http://www.wolverhamptonsafeguarding.org.uk/report"),
         f"{POSTS}:9: error: {ON_THE_DAY}: 'http://www.wolverhamptonsafeguarding.org.uk/report' "
         f"is the official site over http; write https://www.wolverhamptonsafeguarding.org.uk "
         f"[official-website; facebook, x]"),
    Case("look-alike-host",
         post_text(f"{TEXT} https://www.wolverhamptonsafeguarding.org.uk.report-help.net/x"),
         f"{POSTS}:9: error: {ON_THE_DAY}: "
         f"'https://www.wolverhamptonsafeguarding.org.uk.report-help.net/x' only looks like the "
         f"official site (it is wolverhamptonsafeguarding.org.uk.report-help.net); write "
         f"www.wolverhamptonsafeguarding.org.uk [official-website; facebook, x]"),
    Case("any-http-link", post_text(f"{TEXT} See http://example.org/apps"),
         f"{POSTS}:9: error: {ON_THE_DAY}: 'http://example.org/apps' is an http:// link; write "
         f"https:// (only secure links are published) [link-scheme; facebook, x]"),
    # -- live links --------------------------------------------------------------------------------
    Case("post-javascript-link", ((POSTS, ALT, f'link = "javascript:alert(1)"\n{ALT}'),),
         f"{POSTS}:11: error: {ON_THE_DAY}: link 'javascript:alert(1)' (javascript:) would run "
         f"code or open something on the reader's device, not a web page; link to an https:// "
         f"page (links here may be https:) [link-scheme; facebook, x]"),
    Case("post-tel-link", ((POSTS, ALT, f'link = "tel:01902555392"\n{ALT}'),),
         f"{POSTS}:11: error: {ON_THE_DAY}: link 'tel:01902555392' is a tel: link, which cannot go "
         f"here; link to an https:// page and put the number in the text (links here may be "
         f"https:) [link-scheme; facebook, x]"),
    Case("story-javascript-link",
         ((BULLETIN, None, STORY.replace("https://www.wolverhamptonsafeguarding.org.uk/online",
                                         "javascript:alert(document.cookie)")),),
         f"{BULLETIN}:8: error: bulletin 2099-02 story 1 'Safer Internet Day': link "
         f"'javascript:alert(document.cookie)' (javascript:) would run code or open something on "
         f"the reader's device, not a web page; link to an https:// page (links here may be "
         f"https: or mailto: or tel:) [link-scheme]"),
    Case("story-markdown-data-link",
         ((BULLETIN, None, STORY.replace("Talk to your child about apps.",
                                         "Read [our tips](data:text/html,hi).")),),
         f"{BULLETIN}:7: error: bulletin 2099-02 story 1 'Safer Internet Day': link "
         f"'data:text/html,hi' (data:) would run code or open something on the reader's device, "
         f"not a web page; link to an https:// page (links here may be https: or mailto: or tel:) "
         f"[link-scheme]"),
    Case("story-tel-link-wrong-number",
         ((BULLETIN, None, STORY.replace("https://www.wolverhamptonsafeguarding.org.uk/online",
                                         "tel:+441902555329")),),
         f"{BULLETIN}:8: error: bulletin 2099-02 story 1 'Safer Internet Day': '+441902555329' is "
         f"not an official number; did you mean 01902 555392? {OFFICIAL} [official-number]"),
    Case("subject-wrong-number",
         ((BULLETIN, None, STORY.replace("News for February", "Call 01902 555 329")),),
         f"{BULLETIN}:2: error: bulletin 2099-02 subject: '01902 555 329' is not an official "
         f"number; did you mean 01902 555392? {OFFICIAL} [official-number]"),
    # -- identifying details -------------------------------------------------------------------------
    Case("name-age-school", post_text("Jayden, 10, from St Peter's Primary was helped."),
         f"{POSTS}:9: warning: {ON_THE_DAY}: possible identifying detail (a name with an age): "
         f"'Jayden, 10'; remove the name or the age; together they identify a child "
         f"[identifying; facebook, x]", code=0, only=False),
    Case("school-without-school", post_text("Well done to pupils at St Peter's Primary."),
         f"{POSTS}:9: warning: {ON_THE_DAY}: possible identifying detail (a school name): "
         f"'St Peter's Primary'; do not name a child's school [identifying; facebook, x]", code=0,
         only=False),
    # -- tracebacks instead of messages ----------------------------------------------------------
    Case("story-blank-alt", ((BULLETIN, None, STORY.replace('alt = "A tablet."', 'alt = "   "')),),
         f"{BULLETIN}:10: error: story 'Safer Internet Day' has an image but no alt text; write "
         f"alt = \"...\""),
    Case("store-corrupt", (), "Error: the store var/wst.sqlite is not a SQLite database (damaged, "
         "or another kind of file): restore it from a backup, or move it away to start an empty "
         "store", command=("status",), setup=corrupt_store),
    Case("store-folder-is-a-file", (), "Error: cannot make the folder of the store "
         "var/wst.sqlite: a file is in the way (var): move that file, or set [store] url to "
         "another path", command=("status",), setup=file_in_the_way),
    Case("store-read-only", (), "Error: the store var/wst.sqlite is read-only: let this user "
         "write to it and to its folder, or set [store] url to a writable path",
         command=("pause", "--reason", "An incident", "--by", "approver"), setup=read_only_store),
    Case("store-url-unparsable", store_url("not a url at all"),
         "config.toml:29: error: 'store.url' is not a database URL; write e.g. "
         "sqlite:///var/wst.sqlite or postgresql+psycopg://USER@HOST/DATABASE",
         command=("status",)),
    Case("store-url-unknown-database", store_url("nosuch://wst@localhost/wst"),
         "config.toml:29: error: 'store.url' names a kind of database wst cannot use; write e.g. "
         "sqlite:///var/wst.sqlite or postgresql+psycopg://USER@HOST/DATABASE", command=("status",)),
    Case("store-driver-missing", store_url("mysql://wst:pa55word@localhost/wst"),
         "Error: the database driver for mysql://wst:***@localhost/wst is not installed (no module "
         "'MySQLdb'): install it (for PostgreSQL: pip install 'wst-pipeline[postgres]'), or use "
         "sqlite:///var/wst.sqlite", command=("status",), secret="pa55word"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_one_located_message(project: ProjectDir, case: Case) -> None:
    for relative, old, new in case.edits:
        if old is None:
            project.write(relative, new)
        else:
            project.edit(relative, old, new)
    if case.setup:
        case.setup(project.path)
    result = project.wst(*case.command, env={**os.environ, **case.env} if case.env else None)
    lines = output_lines(result)
    shown = "\n".join(lines)
    assert case.expected in lines, shown
    assert "Traceback" not in shown
    if case.only:
        assert [line for line in lines if ": error: " in line or line.startswith("Error:")] \
            == [case.expected], shown
    if case.secret:
        assert case.secret not in shown
    assert result.returncode == case.code, shown
