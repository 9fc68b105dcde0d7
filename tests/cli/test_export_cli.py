"""Signed exports: ``vigil camera export`` writes the clip and its signed manifest, and
``vigil export verify`` checks them offline, failing on one changed byte of either."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, make_env
from tests.recorded import add_camera, record
from vigil.audit.log import EntryFilter
from vigil.audit.signing import PUBLIC_KEY_FILE


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def test_an_export_verifies_offline_and_one_changed_byte_fails(tmp_path: Path) -> None:
    env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    camera = add_camera(env, "gate", group="north")
    start = time.time() - 300
    record(env, camera, start, 6)
    env.services.groups.grant(env.local(), "north", "admin")
    data = env.data_dir
    (tmp_path / "pw").write_text(PASSWORD)
    out = tmp_path / "clip.mp4"
    exported = vigil(
        data,
        *("--user", "admin", "--password-file", str(tmp_path / "pw")),
        *("camera", "export", "gate", "--from", _iso(start), "--to", _iso(start + 6)),
        *("--out", str(out), "--for", "Insurer Ltd, claim 77", "--json"),
    )
    assert exported.code == 0, exported.stderr
    manifest_file = Path(exported.json()["manifest"])
    manifest = json.loads(manifest_file.read_text())
    assert manifest["camera"] == "gate"
    assert (manifest["exported_by"], manifest["exported_for"]) == ("admin", "Insurer Ltd, claim 77")
    assert manifest["file_bytes"] == out.stat().st_size
    with env.services.db.read() as session:
        (entry,) = env.services.audit.entries(session, EntryFilter(action="recording.export.file"))
    assert entry.seq == manifest["audit_entry"]
    assert entry.details["file_sha256"] == manifest["file_sha256"]
    env.services.close()

    # Offline: a folder with the clip, its manifest and the public key, and nothing else.
    away = tmp_path / "recipient"
    away.mkdir()
    key = shutil.copy(data / PUBLIC_KEY_FILE, away / "vigil.pub.pem")
    clip = shutil.copy(out, away / "clip.mp4")
    signed = shutil.copy(manifest_file, away / "clip.manifest.json")

    def verify(*extra: str) -> tuple[int, str]:
        result = vigil(away / "no-data-here", "export", "verify", str(clip), str(signed),
                       "--public-key", str(key), *extra)  # fmt: skip
        return result.code, result.stdout + result.stderr

    code, said = verify("--json")
    assert code == 0, said
    assert json.loads(said)["ok"] is True

    original = Path(clip).read_bytes()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    Path(clip).write_bytes(bytes(flipped))
    code, said = verify()
    assert code == 11
    assert "is not the exported file" in said
    Path(clip).write_bytes(original)

    text = Path(signed).read_text()
    Path(signed).write_text(text.replace("Insurer Ltd", "Insurer Ltc"))
    code, said = verify()
    assert code == 11
    assert "signature does not verify" in said
    Path(signed).write_text(text.replace('"gate"', '"gatf"'))
    assert verify()[0] == 11
    Path(signed).write_text(text)
    assert verify()[0] == 0

    # A key given twice, where a reader keeping the first would see another recipient.
    Path(signed).write_text('{"exported_for": "Evil Corp", ' + text.lstrip()[1:])
    code, said = verify()
    assert code == 11
    assert "given twice" in said
    # Pathological JSON is refused as such, never a crash (exit 70).
    for bad in ("[" * 100_000 + "]" * 100_000, '{"n": ' + "9" * 5000 + "}", '{"n": NaN}'):
        Path(signed).write_text(bad)
        code, said = verify()
        assert code == 11, said
        assert "unexpected" not in said
