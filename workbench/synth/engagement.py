"""A small generated engagement (data folder and engagement file) for examples and tests.

Examples
--------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> path = write_engagement(root)
>>> path.name, sorted(p.name for p in (root / "data").glob("*.csv"))[:3]
('tiny.yaml', ['catalog.csv', 'framework.csv', 'people.csv'])
"""

from __future__ import annotations

from pathlib import Path

from workbench.synth.generator import generate_organisation, write_organisation

__all__ = ["write_engagement"]


def write_engagement(folder, *, people: int = 30, seed: int = 1, n_waves: int = 1,
                     notebooks: tuple = ("00_explore",), name: str = "tiny") -> Path:
    """Write a generated organisation to ``folder/data`` and an engagement file that runs
    ``notebooks`` on it to ``folder/<name>.yaml``; returns the engagement file's path.

    Parameters
    ----------
    folder : path
        An existing folder (the data go into its ``data`` subfolder, which must be new).
    people, seed, n_waves : int
        Passed to :func:`~workbench.synth.generator.generate_organisation`.
    notebooks : tuple of str
        The notebooks the engagement runs, with their default parameters.
    name : str
        The engagement's name (also its client's, capitalised) and the file's stem.
    """
    folder = Path(folder)
    write_organisation(generate_organisation(people, seed=seed, n_waves=n_waves),
                       folder / "data")
    listed = ", ".join(f"{notebook}: {{}}" for notebook in notebooks)
    path = folder / f"{name}.yaml"
    path.write_text(f"engagement: {name}\nclient: {name.capitalize()}\n"
                    f"data: {{folder: data}}\nnotebooks: {{{listed}}}\n", encoding="utf-8")
    return path
