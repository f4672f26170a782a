"""Hostile and broken input, as a careful tester tries it (issue 11): the table of cases.

Each case is a few edits to a copy of tests/fixtures/minimal (or a file set up beside it), one
real `wst` command, and what a person must see: the one located message, naming the file, the
line and the fix, and the exit code. Nothing else may be an error, and no traceback may show.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
         'link_text = "Online safety tips"\nimage = "images/sid.jpg"\nalt = "A tablet."\n')

Edit = tuple[str, str | None, str]  # (file, text to replace or None to write the file, new text)


@dataclass(frozen=True)
class Case:
    """One bad input, the command a person runs, and what they must see."""

    name: str
    edits: tuple[Edit, ...]
    expected: str                          # a whole line of the output ('…': anything)
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


# The smallest JPEG header the type check reads: start of image, then a 1x1 frame.
JPEG = bytes.fromhex("ffd8ffc0001108000100010301220002110103110100")
PNG_HEADER = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def write_bytes(relative: str, data: bytes) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return setup


def link_outside(root: Path) -> None:
    (root / "content" / "images" / "evil.png").symlink_to(root / "config.toml")


def with_bom(root: Path) -> None:
    path = root / POSTS
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def with_bad_byte(root: Path) -> None:
    path = root / POSTS
    path.write_bytes(path.read_bytes().replace(b"Ask your", b"Ask \xff your"))


def image(written: str) -> tuple[Edit, ...]:
    return ((POSTS, "images/sid.jpg", written),)


REACTIVE = ((CONFIG, "[responsibilities.campaign-posts]", '[responsibilities.reactive-posts]\n'
             'title = "Reactive posts"\naccountable = ["approvers"]\n\n'
             '[responsibilities.campaign-posts]'),)


def post(*args: str) -> tuple[str, ...]:
    return ("post", "--channels", "facebook", "--approved-by", "approver", *args)


SMTP = ('[channels.staff]\nkind = "smtp"\nfrom_address = "wst@example.org"\n'
        'unsubscribe_url = "https://www.wolverhamptonsafeguarding.org.uk/unsubscribe"\n'
        'recipients_file = "{file}"\n\n[roles]')


def smtp_listing(file: str) -> tuple[Edit, ...]:
    return ((CONFIG, "[roles]", SMTP.format(file=file)),)


def store_url(url: str) -> tuple[Edit, ...]:
    return ((CONFIG, "[roles]", f'[store]\nurl = "{url}"\n\n[roles]'),)


def post_text(new: str) -> tuple[Edit, ...]:
    return ((POSTS, TEXT, new),)


def wrong_number(name: str, written: str) -> Case:
    """A wrong child MASH number, written one of the ways people write numbers."""
    return Case(name, post_text(f"Call {written}. {TEXT}"),
                f"{POSTS}:9: error: {ON_THE_DAY}: '{written}' is not an official number; did you "
                f"mean 01902 555392? {OFFICIAL} [official-number; facebook, x]")


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
    wrong_number("number-in-brackets", "(01902) 555 329"),
    wrong_number("number-international", "+44 (0)1902 555329"),
    wrong_number("number-dashes", "01902–555–329"),
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
    # -- files from outside content/, and files that are not what they claim -----------------------
    Case("image-dot-dot", image("../config.toml"),
         f"{POSTS}:10: error: image '../config.toml' goes out of content/ with '..'; write the "
         f"path from content/"),
    Case("image-absolute-outside", image("/etc/hostname"),
         f"{POSTS}:10: error: image '/etc/hostname' is outside content/; put the file in content/ "
         f"and write its path from there"),
    Case("image-link-outside", image("images/evil.png"),
         f"{POSTS}:10: error: image 'images/evil.png' is a link to a file outside content/; copy "
         f"the file into content/ instead of linking to it", setup=link_outside),
    Case("approve-image-link-outside", image("images/evil.png"),
         f"{POSTS}:10: error: image 'images/evil.png' is a link to a file outside content/; copy "
         f"the file into content/ instead of linking to it", setup=link_outside,
         command=("approve", "--campaign", "safer-internet-day", "--by", "approver")),
    Case("image-not-an-image", image("images/notes.png"),
         f"{POSTS}:10: error: image 'images/notes.png' is not a PNG, JPEG, GIF or WebP image (its "
         f"bytes say otherwise); save it as one of those",
         setup=write_bytes("content/images/notes.png", b"[partnership]\nname = 'x'\n")),
    Case("image-wrong-name", image("images/photo.png"),
         f"{POSTS}:10: error: image 'images/photo.png' is a JPEG image but its name ends '.png'; "
         f"rename it to end .jpg so that it is sent as what it is",
         setup=write_bytes("content/images/photo.png", JPEG)),
    Case("image-too-big-for-facebook", image("images/big.png"),
         f"{POSTS}:10: error: {ON_THE_DAY}: image 'images/big.png' is 4.5 MB; Facebook takes at "
         f"most 4 MB: make it smaller [image-size; facebook]",
         setup=write_bytes("content/images/big.png", PNG_HEADER + bytes(4_500_000 - 33))),
    Case("post-image-outside-content", REACTIVE,
         "Error: Invalid value for --image: config.toml is outside content/; copy it into "
         "content/images/ first", code=2,
         command=post("--text", "Worried about a child? Call 01902 555392.",
                      "--image", "config.toml", "--alt", "A poster.")),
    Case("recipients-outside", smtp_listing("../staff.csv"),
         "config.toml:32: error: [channels.staff] recipients_file '../staff.csv' goes out of the "
         "project folder with '..'; write the path from the project folder"),
    Case("recipients-not-addresses", smtp_listing("staff.csv"),
         "config.toml:32: error: [channels.staff] recipients_file 'staff.csv' line 3: "
         "'bob.example.org' is not an email address",
         setup=write_bytes("staff.csv", b"email,name\nann@example.org,Ann\nbob.example.org,Bob\n")),
    Case("concerns-csv-device", (), "/dev/zero: error: is not a regular file (a device or a "
         "pipe?); name a CSV file", command=("record", "concerns", "/dev/zero", "--by", "approver")),
    Case("content-file-too-big", (),
         "content/posts/huge.toml: error: is 2.1 MB; a file may be at most 2.0 MB: make it smaller "
         "or split it", setup=write_bytes("content/posts/huge.toml", b"# " + b"x" * 2_100_000)),
    # -- files that will not load, and problems that were not located ---------------------------
    Case("byte-order-mark", (), "1 events, 1 campaigns, 2 posts, 0 bulletins: 0 error(s), "
         "0 warning(s)", setup=with_bom, code=0),
    Case("not-utf-8", (), f"{POSTS}:9: error: not UTF-8 text (byte 0xff on this line); save the "
         f"file as UTF-8", setup=with_bad_byte),
    Case("multi-line-string-left-open", ((POSTS, 'text = "It is Safer', 'text = """It is Safer'),),
         f'{POSTS}:9: error: malformed TOML: the multi-line string that starts here never ends; '
         f'close it with """; fix the syntax on this line'),
    Case("unknown-section-in-config", ((CONFIG, "[roles]", '[chanels.y]\nkind = "x"\n\n[roles]'),
                                       *post_text(f"Call 01902 555329. {TEXT}")),
         "config.toml:28: error: unknown key 'chanels' (did you mean 'channels'?)", only=False),
    Case("config-typo-hides-nothing", ((CONFIG, 'short_name = "TSP"', 'shortname = "TSP"'),
                                       *post_text(f"Call 01902 555329. {TEXT}")),
         f"{POSTS}:9: error: {ON_THE_DAY}: '01902 555329' is not an official number; did you mean "
         f"01902 555392? {OFFICIAL} [official-number; facebook, x]", only=False),
    Case("post-typo-hides-nothing", ((POSTS, 'id = "two-days-to-go"', 'id = "two-days-to-go"\nimages = "x"'),
                                     *post_text(f"Call 01902 555329. {TEXT}")),
         f"{POSTS}:10: error: {ON_THE_DAY}: '01902 555329' is not an official number; did you "
         f"mean 01902 555392? {OFFICIAL} [official-number; facebook, x]", only=False),
    Case("required-key-misspelt",
         ((CALENDAR, 'title = "Safer Internet Day"\nrule', 'titel = "Safer Internet Day"\nrule'),),
         "schedules/calendar.toml:12: error: unknown key 'event.titel' (did you mean 'title'?)"),
    Case("duplicate-blackout-id", ((CALENDAR, "[[event]]", '[[blackout]]\nid = "b"\ntitle = "A"\n'
                                    'start = 2027-01-01\nend = 2027-01-02\n\n[[blackout]]\nid = "b"\n'
                                    'title = "B"\nstart = 2027-02-01\nend = 2027-02-02\n\n[[event]]'),),
         "schedules/calendar.toml:17: error: duplicate blackout id 'b' (first defined at "
         "schedules/calendar.toml:10); give each blackout its own id"),
    Case("duplicate-audience-id",
         (("content/key-messages.toml", None, '[[audience]]\nid = "parents"\ntitle = "Parents"\n\n'
           '[[audience]]\nid = "parents"\ntitle = "Carers"\n'),),
         "content/key-messages.toml:6: error: duplicate audience id 'parents' (first defined at "
         "content/key-messages.toml:1); give each audience its own id"),
    Case("duplicate-audit-channel-id", (("content/channel-audit.toml", None, '[[channel]]\nid = "fb"\n'
                                         'organisation = "WST"\nname = "Facebook"\naudience = "public"\n\n'
                                         '[[channel]]\nid = "fb"\norganisation = "WST"\nname = "X"\n'
                                         'audience = "public"\n'),),
         "content/channel-audit.toml:8: error: duplicate audit channel id 'fb' (first defined at "
         "content/channel-audit.toml:1); give each audit channel its own id"),
    Case("rule-month-13", ((CALENDAR, "BYMONTH=2;", "BYMONTH=13;"),),
         "schedules/calendar.toml:13: error: 'event.rule' = 'FREQ=YEARLY;BYMONTH=13;BYMONTHDAY=6,7,"
         "8,9,10,11,12;BYDAY=TU': BYMONTH takes months 1 to 12; e.g. "
         "'FREQ=YEARLY;BYMONTH=11;BYDAY=+3MO'"),
    Case("rule-no-day", ((CALENDAR, "BYMONTH=2;BYMONTHDAY=6,7,8,9,10,11,12", "BYMONTH=2;BYMONTHDAY=30"),),
         "schedules/calendar.toml:13: error: 'event.rule' = 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;"
         "BYDAY=TU': this rule gives no day from 2020 to 2040; check its BYMONTH, BYMONTHDAY and "
         "BYDAY"),
    Case("blackout-ends-before-it-starts",
         ((CALENDAR, "[[event]]", '[[blackout]]\nid = "b"\ntitle = "Election"\nstart = 2027-01-02\n'
                                  'end = 2027-01-01\n\n[[event]]'),),
         "schedules/calendar.toml:14: error: [blackout] end 2027-01-01 is before start 2027-01-02; "
         "swap them, or fix the one that is wrong"),
    # -- time --------------------------------------------------------------------------------------
    Case("check-time-skipped-by-the-clocks",
         ((CALENDAR, "BYMONTH=2;BYMONTHDAY=6,7,8,9,10,11,12;BYDAY=TU", "BYMONTH=3;BYDAY=-1SU"),
          (POSTS, "on the day at 09:00", "on the day at 01:30")),
         f"{POSTS}:8: warning: 01:30 on 30 March 2025 does not exist in Europe/London (the clocks go "
         f"forward); moved to 02:00 BST; choose another time of day, or leave it to go out at the "
         f"later time", code=0),
    Case("post-at-skipped-by-the-clocks", REACTIVE,
         "Error: Invalid value for --at: 01:30 on 28 March 2027 does not exist in Europe/London (the "
         "clocks go forward); write 2027-03-28 02:00 or later", code=2,
         command=post("--text", "Worried? Call 01902 555392.", "--at", "2027-03-28 01:30")),
    Case("post-at-twice-on-the-clock", REACTIVE,
         "Error: Invalid value for --at: 01:30 on 31 October 2027 happens twice in Europe/London (the "
         "clocks go back); write it with its offset, e.g. 2027-10-31T01:30+01:00 for the first or "
         "2027-10-31T01:30+00:00 for the second", code=2,
         command=post("--text", "Worried? Call 01902 555392.", "--at", "2027-10-31 01:30")),
    Case("post-at-years-ago", REACTIVE,
         "Error: Invalid value for --at: Sat 28 Mar 2020 11:30 is in the past; leave --at out to "
         "post now, or give a time to come", code=2,
         command=post("--text", "Worried? Call 01902 555392.", "--at", "2020-03-28 11:30")),
    Case("history-backwards", (), "Error: Invalid value for --to: --to 2026-11-01 is before "
         "--from 2026-12-01", code=2, command=("history", "--from", "2026-12-01", "--to", "2026-11-01")),
    # -- words nobody can see ----------------------------------------------------------------------
    Case("post-blank-text", REACTIVE, "Error: Invalid value for --text: a post needs some text "
         "(spaces and invisible characters are not text)", code=2, command=post("--text", "   ")),
    Case("post-invisible-text", REACTIVE, "Error: Invalid value for --text: a post needs some text "
         "(spaces and invisible characters are not text)", code=2,
         command=post("--text", "\u200b\ufeff")),
    Case("post-direction-override", post_text(f"{TEXT} See \u202eku.gro.gnidraugefasnotpmahrevlow"),
         f"{POSTS}:9: error: {ON_THE_DAY}: holds an invisible control character U+202E after "
         f"'child which apps they like. See'; delete it [hidden-character; facebook, x]",
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


def is_error(line: str) -> bool:
    return ": error: " in line or line.startswith(("Error:", "error:"))


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
    expected = re.compile(".*".join(re.escape(part) for part in case.expected.split("…")))
    found = [line for line in lines if expected.fullmatch(line)]
    assert found, shown
    assert "Traceback" not in shown
    if case.only:
        errors = [line for line in lines if is_error(line)]
        assert errors == (found[:1] if is_error(found[0]) else []), shown
    if case.secret:
        assert case.secret not in shown
    assert result.returncode == case.code, shown


def test_an_image_changed_after_its_check_is_held_not_uploaded(project: ProjectDir) -> None:
    """The publish gate reads the image again just before upload: one replaced by something
    else since it was checked (a broken edit leaves the last good project in use) is held."""
    from conftest import Clock

    from pipeline.publisher import Publisher
    from pipeline.services import approvals
    from pipeline.services.actor import Actor
    from pipeline.services.approvals import Selection
    from pipeline.states import HoldReason
    from pipeline.workspace import Workspace

    post = "safer-internet-day/on-the-day/2027-02-09"
    clock = Clock(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))
    with Workspace(project.config, {}, clock=clock) as ws:
        approvals.approve(ws, Actor("approver"), clock.now, Selection((post,)))
        (project.path / "content" / "images" / "sid.jpg").write_text("not an image any more")
        clock.now = ws.catalog.item(f"{post}/x").due
        result = Publisher(ws).publish(f"{post}/x")
        entry = ws.ledger.publications.entry(ws.key(ws.catalog.item(f"{post}/x")))
    assert result.outcome == "held" and entry.hold_reason == HoldReason.CHECK_FAILED
    assert entry.last_error == ("image 'images/sid.jpg' is not a PNG, JPEG, GIF or WebP image "
                                "(its bytes say otherwise); save it as one of those")
