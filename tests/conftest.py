import os
from pathlib import Path

import pytest

os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
os.environ.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mesh_dir(tmp_path_factory):
    """One folder for the meshes of the whole session (meshes of equal spec are re-used)."""
    return tmp_path_factory.mktemp("meshes")
