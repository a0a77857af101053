"""The format comes from the bytes, never from the name: each file that is not an .xlsx or an
.ods gets its own French message saying what it is and how to send a workbook instead."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from helpers.workbooks import filled, workbook

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.config import Limits
from ptce_pipeline.reading.sandbox import read_one
from ptce_pipeline.reading.sniff import sniff

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def xlsx(ref) -> bytes:
    return workbook(ref, filled(ref))


def refused(ref, data: bytes) -> I.Issue:
    outcome = read_one(data, ref, Limits())
    assert outcome.content is None and outcome.format is None
    (issue,) = outcome.issues
    assert issue.severity == I.ERREUR
    return issue


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    return out.getvalue()


CT = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def test_real_xls(ref):
    issue = refused(ref, (DATA / "legacy.xls").read_bytes())
    assert issue.code == "legacy-xls"
    assert "Excel 97-2003" in issue.message and "Classeur Excel (.xlsx)" in issue.message


def test_xlsb(ref):
    data = zip_of({"[Content_Types].xml": CT, "xl/workbook.bin": b"\x83\x01\x00"})
    issue = refused(ref, data)
    assert issue.code == "xlsb-format" and ".xlsb" in issue.message and ".xlsx" in issue.message


@pytest.mark.parametrize(
    "data",
    [
        b"Code;Valeur\nIND01;12\nIND02;45,5\n",
        "Code;Libellé;Valeur\nIND01;Nombre d'opérations;12\n".encode("latin-1"),
        "\ufeffCode;Valeur\nIND01;12\n".encode(),
        b"Code,Valeur\r\nIND01,12\r\n",
        b"Code\tValeur\nIND01\t12\n",
    ],
    ids=["semicolon-utf8", "latin1", "bom", "comma", "tab"],
)
def test_csv(ref, data):
    issue = refused(ref, data)
    assert issue.code == "csv-file"
    assert "CSV" in issue.message and ".xlsx ou .ods" in issue.message


def test_encrypted_xlsx(ref, xlsx):
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(xlsx)).encrypt("motdepasse", out)
    issue = refused(ref, out.getvalue())
    assert issue.code == "encrypted-file" and "mot de passe" in issue.message


def test_password_protected_ods(ref):
    manifest = (
        b'<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
        b'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml">'
        b'<manifest:encryption-data manifest:checksum="x"/></manifest:file-entry></manifest:manifest>'
    )
    data = zip_of(
        {
            "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
            "META-INF/manifest.xml": manifest,
            "content.xml": b"\x8a\x01 encrypted bytes",
        }
    )
    assert refused(ref, data).code == "encrypted-file"


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40, "image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image"),
        (
            b'<html xmlns:o="urn:schemas-microsoft-com:office:office"><body><table><tr><td>12'
            b"</td></tr></table></body></html>",
            "page web",
        ),
        (
            b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook xmlns="urn:'
            b'schemas-microsoft-com:office:spreadsheet"></Workbook>',
            "XML 2003",
        ),
        (
            b'<?xml version="1.0"?><office:document office:mimetype="application/vnd.oasis.'
            b'opendocument.spreadsheet"/>',
            ".fods",
        ),
        (b"Bonjour, voici nos chiffres.", "texte"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "gzip"),
        (b"\x00\x01\x02\x03\xfe\xfd" * 20, "non reconnu"),
    ],
    ids=["pdf", "png", "jpeg", "html", "xml2003", "fods", "text", "gzip", "binary"],
)
def test_not_a_workbook(ref, data, what):
    issue = refused(ref, data)
    assert issue.code == "not-a-workbook"
    assert what in issue.message and ".xlsx" in issue.message and ".ods" in issue.message


def test_word_and_other_zips(ref):
    docx = zip_of({"[Content_Types].xml": CT, "word/document.xml": b"<w:document/>"})
    assert "Word" in refused(ref, docx).message
    odt = zip_of({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<a/>"})
    assert "OpenDocument" in refused(ref, odt).message
    other = zip_of({"photo.jpg": b"\xff\xd8\xff"})
    assert "archive ZIP" in refused(ref, other).message


def test_empty_file(ref):
    issue = refused(ref, b"")
    assert issue.code == "empty-file" and "0 octet" in issue.message


@pytest.mark.parametrize("fraction", [0.6, 0.95])
def test_truncated_xlsx(ref, xlsx, fraction):
    issue = refused(ref, xlsx[: int(len(xlsx) * fraction)])
    assert issue.code == "corrupt-file"
    assert "incomplet ou endommagé" in issue.message


def test_xlsm_is_read_and_its_macros_ignored(ref, xlsx):
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    members = {i.filename: src.read(i) for i in src.infolist()}
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 Attribute VB_Name"
    data = zip_of(members)
    assert sniff(data).format == "xlsm"
    outcome = read_one(data, ref, Limits())
    assert outcome.format == "xlsm"
    assert [i.code for i in outcome.content.issues] == ["macros-ignored"]
    assert "jamais exécutées" in outcome.content.issues[0].message
    assert outcome.content.indicators["IND01"].value is not None


def test_xls_renamed_xlsx_is_still_xls(ref):
    """Names are never trusted: read_one only ever sees bytes, and sniff only looks at them."""
    assert sniff((DATA / "legacy.xls").read_bytes()).code == "legacy-xls"


def test_word_97_document(ref):
    """An old Word file is a Compound File too: its directory says what it is."""
    from ptce_pipeline.reading.sniff import cfb_streams

    xls = bytearray((DATA / "legacy.xls").read_bytes())
    assert "Workbook" in cfb_streams(bytes(xls))
    at = bytes(xls).index("Workbook".encode("utf-16-le"))  # the directory entry's name
    name = "WordDocument\0".encode("utf-16-le")
    xls[at : at + len(name)] = name
    xls[at + 64 : at + 66] = len(name).to_bytes(2, "little")
    doc = bytes(xls)
    assert "WordDocument" in cfb_streams(doc)
    issue = refused(ref, doc)
    assert issue.code == "not-a-workbook" and "Word" in issue.message
