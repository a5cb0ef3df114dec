"""First start on an empty data directory: generate the synthetic demo data set and ingest it."""

from wangtai.paths import DataPaths


def has_data(paths: DataPaths) -> bool:
    """True once an administrator or the demo has put reference data in place."""
    return paths.reference.is_dir() and any(paths.reference.iterdir())


def ensure_demo_data(paths: DataPaths, residents: int = 69_000) -> bool:
    """Generate and ingest the demo when the data directory is empty; returns True if it did."""
    if has_data(paths):
        return False
    from wangtai.demo import generate
    from wangtai.ingest import ingest_all

    paths.ensure()
    generate(paths, residents=residents)
    ingest_all(paths)
    return True
