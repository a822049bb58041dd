"""agreement-bench: a run's decisions set beside a reference run's."""

from __future__ import annotations

from pathlib import Path

from harness.compare.agreement import agree, decisions, main
from harness.compare.decisions import DECIDED

ADAPTIVE = Path(__file__).parent / "data" / "runs" / "adaptive"


def test_a_run_agrees_with_itself_and_makes_every_decision_it_makes() -> None:
    """The frozen adaptive run against itself: no contradiction, every decision shared."""
    found = decisions(ADAPTIVE)
    made = int(found["decision"].isin(list(DECIDED)).sum())
    result = agree(found, found, "itself")
    assert made > 0 and result.contradicted == []
    assert result.share() == (made, made) and result.made == made


def test_an_opposite_decision_or_another_fastest_model_is_a_contradiction() -> None:
    """Flipping one decision, and naming another fastest model, are both counted; an
    undecided figure contradicts nothing."""
    found = decisions(ADAPTIVE)
    flipped = found.copy()
    gains = flipped.index[flipped["decision"] == "gains"]
    models = flipped.index[(flipped["topic"] == "models") & (flipped["decision"] == "gains")]
    undecided = flipped.index[flipped["decision"] == "equivalent"]
    first = next(i for i in gains if i not in set(models))
    flipped.loc[first, "decision"] = "loses"
    flipped.loc[models[0], "claim"] = "asyncio"
    flipped.loc[undecided, "decision"] = "undecided"
    result = agree(found, flipped, "flipped")
    assert len(result.contradicted) == 2, result.contradicted
    made, of = result.share()
    assert of - made == 2 + len(undecided)


def test_the_bench_prints_its_counts_and_a_missing_folder_is_one_line(
    capsys: object, tmp_path: Path
) -> None:
    """The command prints the reference's decisions and each run's line; a folder that
    holds no run is one line on stderr and exit 2."""
    assert main([str(ADAPTIVE), str(ADAPTIVE)]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "0 contradicted by the reference" in out and "in all: 0 contradictions" in out
    assert main([str(ADAPTIVE), str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err.count("\n") == 1 and err.startswith("agreement-bench: ")
