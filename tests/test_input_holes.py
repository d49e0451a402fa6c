"""The last input holes (issue 19), closed in ``ecg_core.io`` and so in the CLI, the API and the dashboard.

- a gzip file named ``.csv`` is a compressed file (not "UTF-16 text");
- a truncated EDF is refused (edfio reads the complete records there are, without a word);
- a ``.hea`` with the ``.dat`` of another record of the same byte count is refused by the header's
  checksums, and a ``.dat`` longer than its header says is refused too.
"""

from __future__ import annotations

import gzip
import io
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from ecg_core.cli import main
from ecg_core.config import EXAMPLES_DIR
from ecg_core.errors import ECGError
from ecg_core.io import load, load_files

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HEA = EXAMPLES_DIR / "208_excerpt.hea"
OTHER_DAT = EXAMPLES_DIR / "201_af_excerpt.dat"  # another record, the same 324,000 bytes


def gzip_csv() -> dict[str, bytes]:
    return {"208_excerpt.csv": gzip.compress((EXAMPLES_DIR / "208_excerpt.csv").read_bytes())}


def truncated_edf() -> dict[str, bytes]:
    import edfio

    t = np.arange(360 * 30) / 360
    ecg = np.exp(-0.5 * (((t % 0.8) - 0.4) / 0.012) ** 2)
    buf = io.BytesIO()
    edfio.Edf([edfio.EdfSignal(ecg, sampling_frequency=360, label="ECG", physical_range=(-2, 2))],
              data_record_duration=1).write(buf)
    data = buf.getvalue()
    return {"holter.edf": data[: len(data) - 360 * 2 * 10 - 100]}  # 10.1 of its 30 one-second records lost


def foreign_dat() -> dict[str, bytes]:
    return {HEA.name: HEA.read_bytes(), "208_excerpt.dat": OTHER_DAT.read_bytes()}


HOLES = {  # files, words the message must hold
    "gzip named .csv": (gzip_csv, ("compressed (gzip)", "Decompress")),
    "truncated EDF": (truncated_edf, ("truncated", "30 data records", "samples are missing")),
    "dat of another record": (foreign_dat, ("checksum", "another record")),
}


@pytest.mark.parametrize("case", list(HOLES))
def test_library_refuses_each_hole(case):
    make, words = HOLES[case]
    with pytest.raises(ECGError) as err:
        load_files(make())
    assert all(w in str(err.value) for w in words), str(err.value)
    assert "UTF-16" not in str(err.value)


@pytest.mark.parametrize("case", list(HOLES))
def test_cli_reports_each_hole_and_goes_on(case, tmp_path, capsys):
    make, words = HOLES[case]
    src = tmp_path / "in"
    src.mkdir()
    for name, data in make().items():
        (src / name).write_bytes(data)
    first = next(p for p in sorted(src.iterdir()) if p.suffix != ".dat")
    good = tmp_path / "good.hea"
    shutil.copy(HEA, good)
    shutil.copy(HEA.with_suffix(".dat"), tmp_path / "208_excerpt.dat")
    assert main(["detect", str(first), str(good), "--out-dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {first}: ") and all(w in err[0] for w in words), err
    assert (tmp_path / "out" / "good.peaks.csv").exists()


def test_dat_longer_than_its_header_is_refused(tmp_path):
    shutil.copy(HEA, tmp_path / HEA.name)
    (tmp_path / "208_excerpt.dat").write_bytes(HEA.with_suffix(".dat").read_bytes() * 2)
    with pytest.raises(ECGError, match="longer than its header"):
        load(tmp_path / HEA.name)


def test_own_dat_still_loads_and_a_negative_header_checksum_is_understood():
    rec = load(EXAMPLES_DIR / "201_af_excerpt.hea", lead="V1")  # the V1 checksum in its header is -7396
    assert rec.n_samples == 108_000


@pytest.fixture(scope="module")
def api_client():
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings.from_env())) as c:
        yield c


@pytest.mark.parametrize("case", list(HOLES))
def test_api_answers_each_hole_with_a_clear_400(case, api_client):
    make, words = HOLES[case]
    response = api_client.post("/v1/analyze", files=[("file", (n, d)) for n, d in make().items()])
    assert response.status_code == 400, response.text
    assert all(w in response.text for w in words), response.text


@pytest.mark.parametrize("case", list(HOLES))
def test_dashboard_shows_each_hole_as_one_error(case):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    make, words = HOLES[case]
    at.file_uploader(key="analyse_upload").set_value([(n, d, "application/octet-stream") for n, d in make().items()])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(e.value for e in at.error)
    assert all(w in shown for w in words), shown
