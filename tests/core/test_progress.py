from forensics.progress import _Silent, progress


def test_small_or_unwatched_loads_are_silent(monkeypatch):
    monkeypatch.setenv("FORENSICS_PROGRESS", "0")
    assert isinstance(progress(100 << 20, "reading"), _Silent)
    monkeypatch.setenv("FORENSICS_PROGRESS", "1")
    assert isinstance(progress(1000, "reading"), _Silent)  # too small to be worth a bar


def test_large_watched_load_gets_a_tqdm_bar(monkeypatch):
    monkeypatch.setenv("FORENSICS_PROGRESS", "1")
    with progress(100 << 20, "reading") as bar:
        bar.update(1 << 20)
        from tqdm import tqdm
        assert bar.n == 1 << 20 and isinstance(bar, tqdm)
