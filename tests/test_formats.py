"""Every hash-list format plug-in passes the same contract, fed by its own examples."""

from __future__ import annotations

import hashlib
import io
from typing import ClassVar

import pytest

from cvis.hashsets.formats import FORMATS, detect_format, get_format
from cvis.hashsets.records import KnownRecord, RecordError


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def pdq(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def read_all(format_name: str, text: str) -> list[KnownRecord | RecordError]:
    return list(get_format(format_name).read(io.StringIO(text)))


def records_only(items: list[KnownRecord | RecordError]) -> list[KnownRecord]:
    bad = [i for i in items if isinstance(i, RecordError)]
    assert not bad, bad
    return [i for i in items if isinstance(i, KnownRecord)]


class FormatContract:
    """Subclass per format: an example file, the records it holds, and a malformed example."""

    format_name: ClassVar[str]
    example: ClassVar[str]
    expected: ClassVar[list[KnownRecord]]
    malformed: ClassVar[str]
    malformed_at: ClassVar[int]

    def test_reads_the_example(self) -> None:
        assert records_only(read_all(self.format_name, self.example)) == self.expected

    def test_is_auto_detected(self) -> None:
        assert detect_format(self.example[:8192]).name == self.format_name.rstrip("2")

    def test_round_trip_loses_nothing(self) -> None:
        first = records_only(read_all(self.format_name, self.example))
        out = io.StringIO()
        get_format(self.format_name).write(first, out)
        again = records_only(read_all(self.format_name, out.getvalue()))
        assert again == first
        out2 = io.StringIO()
        get_format(self.format_name).write(again, out2)
        assert out2.getvalue() == out.getvalue(), "writing is deterministic"

    def test_malformed_record_is_reported_with_its_position_and_reading_goes_on(self) -> None:
        items = read_all(self.format_name, self.malformed)
        errors = [i for i in items if isinstance(i, RecordError)]
        assert [e.line for e in errors] == [self.malformed_at]
        assert any(isinstance(i, KnownRecord) for i in items), "the good records still come"


def test_every_registered_format_has_a_contract_test() -> None:
    tested = {c.format_name for c in FormatContract.__subclasses__()}
    assert set(FORMATS) <= tested


class TestVics13(FormatContract):
    format_name = "vics"
    example = (
        '{"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",\n'
        ' "value": [\n'
        f'  {{"MediaID": 17, "Category": 1, "MD5": "{md5("chelsea").upper()}",'
        f' "SHA1": "{sha1("chelsea").upper()}", "MediaSize": 2835, "Series": "Harbour",'
        ' "VictimIdentified": "true", "OffenderIdentified": false, "IsDistributed": true,'
        ' "IsPrecategorized": "false", "Tags": ["t1"], "DateUpdated": "2023-06-07T02:31:49Z",'
        ' "Exifs": [{"Name": "Model", "Value": "X"}],'
        ' "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": "AAEC"},'
        f' {{"HashName": "PDQ", "HashValue": "{pdq("chelsea")}"}}]}},\n'
        f'  {{"MediaID": 18, "Category": "2", "MD5": "{md5("coffee")}"}}\n'
        "]}\n"
    )
    expected: ClassVar[list[KnownRecord]] = [
        KnownRecord(
            media_id="17",
            signals={"md5": md5("chelsea"), "sha1": sha1("chelsea"), "pdq": pdq("chelsea")},
            category=1, series="Harbour", victim_identified=True, offender_identified=False,
            distributed=True, tags=["t1"],
            extra={"MediaSize": 2835, "IsPrecategorized": "false",
                   "DateUpdated": "2023-06-07T02:31:49Z",
                   "Exifs": [{"Name": "Model", "Value": "X"}],
                   "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": "AAEC"}],
                   "_vics_strings": ["VictimIdentified"]},
        ),
        KnownRecord(media_id="18", signals={"md5": md5("coffee")}, category=2),
    ]
    malformed = (
        '{"odata.metadata": "x/1.3.xml#Media", "value": ['
        f'{{"MediaID": 1, "MD5": "{md5("a")}"}}, {{"MediaID": 2, "MD5": "nothex"}},'
        f' {{"MediaID": 3, "MD5": "{md5("b")}"}}]}}'
    )
    malformed_at = 2

    def test_strings_keep_their_spelling_on_export(self) -> None:
        out = io.StringIO()
        get_format("vics").write(self.expected, out)
        assert '"VictimIdentified": "true"' in out.getvalue()
        assert '"IsDistributed": true' in out.getvalue()


class TestVics20(FormatContract):
    format_name = "vics2"
    example = (
        '{"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/'
        'Default/$metadata#Media", "value": [\n'
        f'{{"MediaID": 1, "Category": 0, "MD5": "{md5("rocket").upper()}",'
        f' "SHA1": "{sha1("rocket").upper()}", "MediaSize": 10, "IsPrecategorized": "true",'
        ' "VictimIdentified": "False"}\n]}\n'
    )
    expected: ClassVar[list[KnownRecord]] = [
        KnownRecord(media_id="1", signals={"md5": md5("rocket"), "sha1": sha1("rocket")},
                    category=0, victim_identified=False,
                    extra={"MediaSize": 10, "IsPrecategorized": "true",
                           "_vics_strings": ["VictimIdentified"]}),
    ]
    malformed = (
        '{"@odata.context": "x/2.0.xml/Default/$metadata#Media", "value": ['
        f'{{"MediaID": 1, "MD5": "{md5("a")}"}}, {{"MediaID": 2}}]}}'
    )
    malformed_at = 2

    def test_a_truncated_document_is_an_error_not_a_silent_end(self) -> None:
        items = read_all("vics", self.example[:-10])
        assert isinstance(items[-1], RecordError) and "not valid VICS JSON" in items[-1].reason


class TestIcse(FormatContract):
    format_name = "icse"
    header = ("MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;"
              "Series name;Number of submissions;File Available;Media Type;Baseline\n")
    example = (
        header
        + f"{md5('hubble').upper()};{sha1('hubble').upper()};AAEC;IMG-1;Yes;No;;Stars;3;Yes;"
        "Image;No\n"
        + f"{md5('coins')};;;;;;;;1;No;Video;\n"
    )
    expected: ClassVar[list[KnownRecord]] = [
        KnownRecord(media_id="IMG-1", signals={"md5": md5("hubble"), "sha1": sha1("hubble")},
                    series="Stars", victim_identified=False, distributed=True,
                    extra={"PhotoDNA": "AAEC", "Number of submissions": "3",
                           "File Available": "Yes", "Media Type": "Image", "Baseline": "No"}),
        KnownRecord(media_id=md5("coins"), signals={"md5": md5("coins")},
                    extra={"Number of submissions": "1", "File Available": "No",
                           "Media Type": "Video"}),
    ]
    malformed = header + f"{md5('a')};;;1;;;;;;;;\nzz;;;2;;;;;;;;\n{md5('b')};;;3;;;;;;;;\n"
    malformed_at = 3


class TestNcmecXml(FormatContract):
    format_name = "ncmec"
    example = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<hashList version="1">\n'
        f'  <image id="N-1" source="esp-7"><md5>{md5("camera")}</md5><sha1>{sha1("camera")}'
        f"</sha1><pdq>{pdq('camera')}</pdq><classification>A2</classification>"
        "<fileName>x.jpg</fileName></image>\n"
        f'  <video id="N-2"><md5>{md5("clip")}</md5><classification>B1</classification>'
        "<series>Tide</series><victimIdentified>true</victimIdentified><tag>t</tag></video>\n"
        '  <deleted id="N-0"/>\n'
        "</hashList>\n"
    )
    expected: ClassVar[list[KnownRecord]] = [
        KnownRecord(media_id="N-1",
                    signals={"md5": md5("camera"), "sha1": sha1("camera"), "pdq": pdq("camera")},
                    category=1, extra={"@source": "esp-7", "classification": "A2",
                                       "fileName": "x.jpg"}),
        KnownRecord(media_id="N-2", signals={"md5": md5("clip")}, category=1, series="Tide",
                    victim_identified=True, tags=["t"],
                    extra={"media_type": "video", "classification": "B1"}),
        KnownRecord(media_id="N-0", deleted=True),
    ]
    malformed = (
        f'<hashList><image id="1"><md5>{md5("a")}</md5></image><image id="2"><md5>x</md5>'
        f'</image><image id="3"><md5>{md5("b")}</md5></image></hashList>'
    )
    malformed_at = 2

    def test_entity_expansion_is_refused(self) -> None:
        bomb = (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            "<hashList><image id='1'><md5>&lol2;</md5></image></hashList>"
        )
        items = read_all("ncmec", bomb)
        assert len(items) == 1 and isinstance(items[0], RecordError)
        assert "not valid XML" in items[0].reason

    def test_external_entities_are_refused(self, tmp_path: object) -> None:
        xxe = (
            '<?xml version="1.0"?><!DOCTYPE h [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            "<hashList><image id='1'><md5>&x;</md5></image></hashList>"
        )
        items = read_all("ncmec", xxe)
        assert [type(i) for i in items] == [RecordError]


class TestHmaCsv(FormatContract):
    format_name = "hma"
    example = (
        "signal_type,signal_value,media_id,category,series,victim_identified,"
        "offender_identified,distributed,tags,bank_note\n"
        f"pdq,{pdq('moon')},M-1,1,Sky,true,,,a b,seen twice\n"
        f"md5,{md5('moon')},M-1,1,Sky,true,,,a b,seen twice\n"
        f"md5,{md5('page')},,,,,,,,\n"
    )
    expected: ClassVar[list[KnownRecord]] = [
        KnownRecord(media_id="M-1", signals={"pdq": pdq("moon"), "md5": md5("moon")},
                    category=1, series="Sky", victim_identified=True, tags=["a", "b"],
                    extra={"bank_note": "seen twice"}),
        KnownRecord(media_id=md5("page"), signals={"md5": md5("page")}),
    ]
    malformed = f"pdq,{pdq('a')}\npdq,123\npdq,{pdq('b')}\n"
    malformed_at = 2

    def test_bare_rows_without_a_header(self) -> None:
        records = records_only(read_all("hma", f"pdq,{pdq('x')}\nmd5,{md5('y')}\n"))
        assert [r.media_id for r in records] == [pdq("x"), md5("y")]


class TestPlain(FormatContract):
    format_name = "plain"
    example = (
        f"# a plain list\n{md5('a').upper()}\n{sha1('b')}\n{pdq('c')}\npdq:{pdq('d')}\n"
        f"# signal: pdq\n{pdq('e')}\n"
    )
    expected: ClassVar[list[KnownRecord]] = [
        KnownRecord(media_id=md5("a"), signals={"md5": md5("a")}),
        KnownRecord(media_id=sha1("b"), signals={"sha1": sha1("b")}),
        KnownRecord(media_id=pdq("c"), signals={"sha256": pdq("c")}),
        KnownRecord(media_id=pdq("d"), signals={"pdq": pdq("d")}),
        KnownRecord(media_id=pdq("e"), signals={"pdq": pdq("e")}),
    ]
    malformed = f"{md5('a')}\n{md5('b')}\n{md5('c')[:-2]}\n{md5('d')}\n"
    malformed_at = 3


class TestJsonLines(FormatContract):
    format_name = "jsonl"
    example = (
        f'{{"media_id": "J1", "signals": {{"md5": "{md5("j").upper()}"}}, "category": "1",'
        ' "series": null, "victim_identified": "yes", "offender_identified": null,'
        ' "distributed": null, "tags": [], "extra": {"k": [1, 2]}}\n'
        '{"media_id": "J0", "signals": {}, "deleted": true}\n'
    )
    expected: ClassVar[list[KnownRecord]] = [
        KnownRecord(media_id="J1", signals={"md5": md5("j")}, category=1,
                    victim_identified=True, extra={"k": [1, 2]}),
        KnownRecord(media_id="J0", deleted=True),
    ]
    malformed = (
        f'{{"media_id": "1", "signals": {{"md5": "{md5("a")}"}}}}\n{{"media_id": 2\n'
        f'{{"media_id": "3", "signals": {{"md5": "{md5("b")}"}}}}\n'
    )
    malformed_at = 2


class TestCvisCsv(FormatContract):
    format_name = "csv"
    example = (
        "media_id,md5,sha1,sha256,pdq,category,series,victim_identified,offender_identified,"
        f"distributed,tags,caid_category\nC1,{md5('c1')},,,{pdq('c1')},1,S,true,,,x|y,A\n"
    )
    expected: ClassVar[list[KnownRecord]] = [
        KnownRecord(media_id="C1", signals={"md5": md5("c1"), "pdq": pdq("c1")}, category=1,
                    series="S", victim_identified=True, tags=["x", "y"],
                    extra={"caid_category": "A"}),
    ]
    malformed = f"media_id,md5\n1,{md5('a')}\n2,\n3,{md5('b')}\n"
    malformed_at = 3


@pytest.mark.parametrize("text", ["", "hello world\n", "<html></html>"])
def test_unknown_content_is_not_guessed(text: str) -> None:
    from cvis.hashsets.formats import UnknownFormatError

    with pytest.raises(UnknownFormatError):
        detect_format(text)


@pytest.mark.parametrize("format_name", ["vics", "ncmec", "csv", "icse", "hma", "plain", "jsonl"])
def test_readers_stream_rather_than_load_the_whole_file(format_name: str) -> None:
    many = [KnownRecord(media_id=str(i), signals={"md5": md5(str(i))}) for i in range(20000)]
    out = io.StringIO()
    get_format(format_name).write(many, out)
    stream = io.StringIO(out.getvalue())
    first = next(iter(get_format(format_name).read(stream)))
    assert isinstance(first, KnownRecord) and first.media_id in ("0", md5("0"))
    assert stream.tell() < len(out.getvalue()) / 2, "the first record came before the end"


class TestVpdqFile(FormatContract):
    format_name = "vpdq"
    example = (
        "# vpdq media_id=V-1\n"
        f"0,100,{pdq('f0')},0.000\n30,87,{pdq('f1')},1.000\n60,12,{pdq('f2')},2.000\n"
        "# vpdq media_id=V-2\n"
        f"0,99,{pdq('g0')},0.000\n"
    )
    expected: ClassVar[list[KnownRecord]] = [
        KnownRecord(media_id="V-1", signals={"vpdq": (
            f'["{pdq("f0")},100,0.000,0", "{pdq("f1")},87,1.000,30", '
            f'"{pdq("f2")},12,2.000,60"]')}),
        KnownRecord(media_id="V-2", signals={"vpdq": f'["{pdq("g0")},99,0.000,0"]'}),
    ]
    malformed = (
        f"# vpdq media_id=A\n0,100,{pdq('a')},0.000\n"
        f"# vpdq media_id=B\n0,100,{pdq('b')},0.000\n1,101,{pdq('b1')},1.000\n"
        f"# vpdq media_id=C\n0,100,{pdq('c')},0.000\n"
    )
    malformed_at = 5  # B is refused whole (quality 101), A and C still come
